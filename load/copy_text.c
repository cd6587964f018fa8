/*
 * load/copy_text.c
 *   COPY text-format fields: escaping as PostgreSQL's CopyAttributeOutText
 *   does, integers and timestamps written straight into the row buffer.
 *   Pure: never logs; buffer growth failures are sticky in Buf.failed.
 */
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "load/load.h"
#include "load/load_int.h"

#define ESC_DROP 1				/* a NUL byte: text cannot hold it */

/*
 * The escape letter for each byte, 0 for bytes copied as they are.
 * PostgreSQL escapes backslash, the delimiter (tab) and the control
 * characters that have a letter; other control bytes and every byte >= 0x80
 * (UTF-8 sequences) pass through unchanged, which COPY FROM accepts.
 */
static const unsigned char copy_escape[256] = {
	[0] = ESC_DROP,
	['\b'] = 'b',
	['\t'] = 't',
	['\n'] = 'n',
	['\v'] = 'v',
	['\f'] = 'f',
	['\r'] = 'r',
	['\\'] = '\\',
};

/*
 * copy_text_field: append value as one COPY text field (no delimiter).
 * A NULL ptr writes \N. Runs of safe bytes go in one append. NUL bytes are
 * dropped (the transform has removed them already; this keeps a stray one
 * from breaking the whole COPY).
 */
void
copy_text_field(Buf *out, EtlStr value)
{
	const unsigned char *p = (const unsigned char *) value.ptr;
	size_t		start = 0;
	size_t		i;

	if (value.ptr == NULL)
	{
		buf_append(out, "\\N", 2);
		return;
	}
	for (i = 0; i < value.len; i++)
	{
		unsigned char esc = copy_escape[p[i]];

		if (esc == 0)
			continue;
		buf_append(out, p + start, i - start);
		if (esc != ESC_DROP)
		{
			char		pair[2] = {'\\', (char) esc};

			buf_append(out, pair, 2);
		}
		start = i + 1;
	}
	buf_append(out, p + start, value.len - start);
}

/*
 * int_to_decimal: v in decimal, written at the end of tmp (no snprintf on
 * the per-record path); returns where the digits start, *len their count.
 */
const char *
int_to_decimal(char tmp[INT_DECIMAL_MAX], int64_t v, size_t *len)
{
	char	   *end = tmp + INT_DECIMAL_MAX;
	char	   *p = end;
	uint64_t	u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;

	do
	{
		*--p = (char) ('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	*len = (size_t) (end - p);
	return p;
}

/* copy_text_int: append v in decimal. */
void
copy_text_int(Buf *out, int64_t v)
{
	char		tmp[INT_DECIMAL_MAX];
	size_t		len;
	const char *p = int_to_decimal(tmp, v, &len);

	buf_append(out, p, len);
}

/* put2: two decimal digits of v (0..99) at p. */
static void
put2(char *p, int v)
{
	p[0] = (char) ('0' + v / 10);
	p[1] = (char) ('0' + v % 10);
}

/*
 * copy_text_timestamp: append epoch as "YYYY-MM-DD HH:MM:SS+00", which a
 * timestamptz column reads the same whatever the session's TimeZone and
 * DateStyle. Years outside 0..9999 (never seen from the API) fall back to
 * the decimal year gmtime gives.
 */
void
copy_text_timestamp(Buf *out, int64_t epoch)
{
	time_t		t = (time_t) epoch;
	struct tm	tm;
	char		s[32];
	int			year;

	if (gmtime_r(&t, &tm) == NULL)
	{
		out->failed = true;
		return;
	}
	year = tm.tm_year + 1900;
	if (year < 0 || year > 9999)
	{
		buf_printf(out, "%d-%02d-%02d %02d:%02d:%02d+00", year, tm.tm_mon + 1,
				   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		return;
	}
	put2(s, year / 100);
	put2(s + 2, year % 100);
	s[4] = '-';
	put2(s + 5, tm.tm_mon + 1);
	s[7] = '-';
	put2(s + 8, tm.tm_mday);
	s[10] = ' ';
	put2(s + 11, tm.tm_hour);
	s[13] = ':';
	put2(s + 14, tm.tm_min);
	s[16] = ':';
	put2(s + 17, tm.tm_sec);
	memcpy(s + 19, "+00", 3);
	buf_append(out, s, 22);
}

/* copy_text_opt_int: v, or \N when absent. */
static void
copy_text_opt_int(Buf *out, bool present, int64_t v)
{
	if (present)
		copy_text_int(out, v);
	else
		buf_append(out, "\\N", 2);
}

/*
 * content_hash_add: feed the bytes b gained since offset from to the
 * content hash (nothing when there is no hash or the buffer failed: the
 * window fails on the buffer anyway).
 */
static void
content_hash_add(XXH3_state_t *h, const Buf *b, size_t from)
{
	if (h != NULL && !b->failed && b->len > from)
		(void) XXH3_64bits_update(h, b->data + from, b->len - from);
}

/*
 * copy_row_response: append one survey_response COPY row, columns in the
 * order of COPY_RESPONSE_COLS (load_int.h), then seq when seq >= 0 (the
 * staging table's extra column), then the newline. op_field is the
 * operation already escaped, with its leading tab (the same for every row
 * of a window, so it is escaped once).
 *
 * content_hash is h's digest once the columns operation..extras are fed
 * to it; h already holds the record's answers (copy_row_answers), so the
 * hash covers every value the record writes, and nothing of the load
 * (run_id, seq). With h NULL the column is \N.
 */
void
copy_row_response(Buf *b, int64_t id, const char *op_field, size_t op_field_len,
				  const SurveyRecord *rec, int64_t run_id, int64_t seq,
				  XXH3_state_t *h)
{
	const EtlStr *f = rec->field;
	static const SurveyField before_ts[] = {
		SF_CONN_ID, SF_AGENT_ID, SF_AGENT_NAME, SF_AGENT_DNI, SF_SKILL_ID, SF_SKILL_NAME
	};
	size_t		i;
	size_t		from;

	copy_text_int(b, id);
	from = b->len;
	buf_append(b, op_field, op_field_len);
	for (i = 0; i < sizeof(before_ts) / sizeof(before_ts[0]); i++)
	{
		buf_putc(b, '\t');
		copy_text_field(b, f[before_ts[i]]);
	}
	buf_putc(b, '\t');
	copy_text_timestamp(b, rec->answered_at);
	buf_putc(b, '\t');
	copy_text_field(b, f[SF_ANI]);
	buf_putc(b, '\t');
	copy_text_field(b, f[SF_CUSTOMER_ID]);
	buf_putc(b, '\t');
	copy_text_opt_int(b, rec->has_vm_duration, rec->vm_duration_s);
	buf_putc(b, '\t');
	copy_text_field(b, f[SF_TYPE_INTERACTION]);
	buf_putc(b, '\t');
	copy_text_field(b, f[SF_RESULT]);
	buf_putc(b, '\t');
	copy_text_opt_int(b, rec->has_duration, rec->duration_s);
	buf_putc(b, '\t');
	copy_text_field(b, f[SF_VOICE_MESSAGE]);
	buf_putc(b, '\t');
	copy_text_field(b, f[SF_FEELING]);
	buf_putc(b, '\t');
	copy_text_field(b, rec->extras);
	content_hash_add(h, b, from);
	buf_putc(b, '\t');
	copy_text_int(b, run_id);
	buf_putc(b, '\t');
	if (h != NULL)
		copy_text_int(b, (int64_t) XXH3_64bits_digest(h));
	else
		buf_append(b, "\\N", 2);
	if (seq >= 0)
	{
		buf_putc(b, '\t');
		copy_text_int(b, seq);
	}
	buf_putc(b, '\n');
}

/* copy_row_answers: append one survey_answer COPY row per answer of rec
 * (COPY_ANSWER_COLS order, then seq when seq >= 0), feeding each row's
 * columns after response_id to h (when not NULL) for the content hash. */
void
copy_row_answers(Buf *b, int64_t id, const SurveyRecord *rec, int64_t seq,
				 XXH3_state_t *h)
{
	size_t		i;

	for (i = 0; i < rec->n_answers; i++)
	{
		const SurveyAnswer *a = &rec->answers[i];
		size_t		from;

		copy_text_int(b, id);
		buf_putc(b, '\t');
		from = b->len;
		copy_text_int(b, a->question_no);
		buf_putc(b, '\t');
		copy_text_field(b, a->text);
		buf_putc(b, '\t');
		copy_text_field(b, a->num);
		/* a newline ends each answer in the hash, so that answers
		 * ("1\tx", "2\ty") and one answer spanning them cannot agree */
		content_hash_add(h, b, from);
		if (h != NULL)
			(void) XXH3_64bits_update(h, "\n", 1);
		if (seq >= 0)
		{
			buf_putc(b, '\t');
			copy_text_int(b, seq);
		}
		buf_putc(b, '\n');
	}
}
