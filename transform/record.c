/*
 * transform/record.c
 *   Types one collected record (contract section 4, rules 2-5): known keys
 *   to columns, `date` to answered_at, `time` and `voice_message_duration`
 *   to seconds, q<N> keys to sorted answers, everything else (and every
 *   value that cannot be typed) to extras; builds the raw JSON text of the
 *   record when asked, or when the record is rejected.
 *
 *   Every EtlStr handed out points into the scratch buffers: valid until
 *   the next record.
 */
#include <stdlib.h>
#include <string.h>

#include "common/wvtime.h"
#include "transform/transform.h"
#include "transform/transform_int.h"

#define REASON_VALUE_MAX 64		/* bytes of a bad date quoted in a reason */

/* What a record key means. KC_FIELD + SurveyField for the text columns. */
enum
{
	KC_FIELD = 0,
	KC_DATE = SF_COUNT,
	KC_TIME,
	KC_VM_DURATION,
	KC_QUESTION,
	KC_OTHER
};

typedef struct KnownKey
{
	const char *name;
	size_t		len;
	int			kc;
} KnownKey;

#define KK(s, kc) { s, sizeof(s) - 1, kc }
static const KnownKey known_keys[] = {
	KK("conn_id", SF_CONN_ID),
	KK("agent_id", SF_AGENT_ID),
	KK("agent_name", SF_AGENT_NAME),
	KK("agent_dni", SF_AGENT_DNI),
	KK("skill_id", SF_SKILL_ID),
	KK("skill_name", SF_SKILL_NAME),
	KK("ani", SF_ANI),
	KK("customer_id", SF_CUSTOMER_ID),
	KK("type_interaction", SF_TYPE_INTERACTION),
	KK("result", SF_RESULT),
	KK("voice_message", SF_VOICE_MESSAGE),
	KK("feeling", SF_FEELING),
	KK("date", KC_DATE),
	KK("time", KC_TIME),
	KK("voice_message_duration", KC_VM_DURATION),
};
#undef KK

/* Per-record typing state that is not part of the SurveyRecord. */
typedef struct TypingState
{
	RecordScratch *rs;
	SurveyRecord *rec;
	const RawField *date;		/* the last `date` key, or NULL */
	size_t		n_slots;
	size_t		n_extras;		/* entries written to rs->extras */
	size_t		n_nul;			/* keys noted in _nul_removed */
	size_t		n_bad;			/* keys noted in _invalid_unicode_replaced */
	size_t		n_num;			/* keys noted in _numbers_as_text */
} TypingState;

static int	key_class(const char *key, size_t n, int32_t *qno);
static EtlStr field_text(const RecordScratch *rs, const RawField *f);
static void extras_add(TypingState *ts, const RawField *f);
static void type_duration(TypingState *ts, const RawField *f, bool *has, int32_t *out);
static void answers_finish(TypingState *ts);
static bool date_check(TypingState *ts);
static bool extras_finish(TypingState *ts);
static bool slots_reserve(RecordScratch *rs);
static void type_field(TypingState *ts, const RawField *f, uint32_t order);

/* record_scratch_add: a new zeroed field at the end, or NULL (no memory). */
RawField *
record_scratch_add(RecordScratch *rs)
{
	RawField   *f;

	if (rs->n_fields == rs->cap_fields)
	{
		size_t		cap = rs->cap_fields ? rs->cap_fields * 2 : 64;
		RawField   *p = realloc(rs->fields, cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		rs->fields = p;
		rs->cap_fields = cap;
	}
	f = &rs->fields[rs->n_fields++];
	memset(f, 0, sizeof(*f));
	return f;
}

/*
 * record_scratch_reset: empty, keeping memory for the next record. The
 * arena's data is never NULL afterwards (offsets into it are taken even
 * when every key and value is empty), unless out of memory: then
 * arena.failed is set.
 */
void
record_scratch_reset(RecordScratch *rs)
{
	buf_reset(&rs->arena);
	rs->n_fields = 0;
	(void) buf_reserve(&rs->arena, 1);
}

void
record_scratch_free(RecordScratch *rs)
{
	buf_free(&rs->arena);
	buf_free(&rs->extras);
	buf_free(&rs->raw);
	buf_free(&rs->reason);
	buf_free(&rs->nul_keys);
	buf_free(&rs->bad_keys);
	buf_free(&rs->num_keys);
	free(rs->fields);
	free(rs->slots);
	free(rs->answers);
	memset(rs, 0, sizeof(*rs));
}

/* key_class: what the key means; *qno gets N for a question key. Known
 * names are exact and case-sensitive; q<N> is any case. */
static int
key_class(const char *key, size_t n, int32_t *qno)
{
	size_t		i;

	if (n >= 2 && (key[0] == 'q' || key[0] == 'Q'))
	{
		*qno = transform_question_no(key, n);
		if (*qno > 0)
			return KC_QUESTION;
	}
	for (i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
	{
		if (known_keys[i].len == n && known_keys[i].name[0] == key[0] &&
			memcmp(known_keys[i].name, key, n) == 0)
			return known_keys[i].kc;
	}
	return KC_OTHER;
}

/*
 * field_text: the column text of a value (rules 2 and 5): a string unless
 * it is a placeholder, the JSON text of a number, boolean or nested value;
 * NULL for JSON null and placeholders.
 */
static EtlStr
field_text(const RecordScratch *rs, const RawField *f)
{
	EtlStr		s = {rs->arena.data + f->val_off, f->val_len};

	if (f->kind == FK_NULL)
		return ETL_STR_NULL;
	if (f->kind == FK_STRING && transform_is_placeholder(s.ptr, s.len))
		return ETL_STR_NULL;
	return s;
}

/* extras_add: "key":value (as sent) into the extras object; a value
 * holding a number numeric cannot hold notes its key for _numbers_as_text. */
static void
extras_add(TypingState *ts, const RawField *f)
{
	Buf		   *b = &ts->rs->extras;

	buf_putc(b, ts->n_extras++ ? ',' : '{');
	json_append_string(b, ts->rs->arena.data + f->key_off, f->key_len);
	buf_putc(b, ':');
	json_append_value(b, ts->rs, f);
	if (f->cleaned & TEXT_NUMBER_AS_TEXT)
	{
		if (ts->n_num++ > 0)
			buf_putc(&ts->rs->num_keys, ',');
		json_append_string(&ts->rs->num_keys, ts->rs->arena.data + f->key_off, f->key_len);
	}
}

/*
 * type_duration: `time` or `voice_message_duration`. A placeholder or null
 * is "no value"; a value that is not a duration is kept in extras as sent.
 * The later of two equal keys wins.
 */
static void
type_duration(TypingState *ts, const RawField *f, bool *has, int32_t *out)
{
	EtlStr		s = field_text(ts->rs, f);

	*has = false;
	if (s.ptr == NULL)
		return;
	if (f->kind != FK_NESTED && transform_parse_duration(s.ptr, s.len, out))
		*has = true;
	else
		extras_add(ts, f);
}

/* slot_cmp: by question number, then by position in the record. */
static int
slot_cmp(const void *a, const void *b)
{
	const AnswerSlot *x = a;
	const AnswerSlot *y = b;

	if (x->question_no != y->question_no)
		return x->question_no < y->question_no ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * answers_finish: sort the q<N> slots by (N, order), keep the last slot of
 * each N, drop the unanswered, and fill rec->answers. The API sends them
 * in order, which one pass confirms; any other order is sorted by qsort
 * (O(n log n): a record of 100,000 keys in reverse must not take n^2).
 */
static void
answers_finish(TypingState *ts)
{
	AnswerSlot *s = ts->rs->slots;
	SurveyAnswer *out = ts->rs->answers;
	size_t		n = 0;
	size_t		i;

	for (i = 1; i < ts->n_slots && slot_cmp(&s[i - 1], &s[i]) < 0; i++)
		;
	if (i < ts->n_slots)
		qsort(s, ts->n_slots, sizeof(*s), slot_cmp);
	for (i = 0; i < ts->n_slots; i++)
	{
		if (i + 1 < ts->n_slots && s[i + 1].question_no == s[i].question_no)
			continue;			/* a later key with the same N wins */
		if (!s[i].answered)
			continue;
		out[n].question_no = s[i].question_no;
		out[n].text = s[i].text;
		out[n].num = transform_is_decimal(s[i].text.ptr, s[i].text.len) ?
			s[i].text : ETL_STR_NULL;
		n++;
	}
	ts->rec->answers = out;
	ts->rec->n_answers = n;
}

/*
 * date_check: answered_at from `date`; false with a reason in rs->reason
 * when the record has no readable date (it is then rejected).
 */
static bool
date_check(TypingState *ts)
{
	Buf		   *r = &ts->rs->reason;
	EtlStr		s;
	WallTime	wt;

	buf_reset(r);
	s = ts->date ? field_text(ts->rs, ts->date) : ETL_STR_NULL;
	if (s.ptr == NULL)
	{
		buf_puts(r, "missing date");
		return false;
	}
	if (ts->date->kind != FK_NESTED && wvtime_parse_wall(s.ptr, s.len, &wt))
	{
		ts->rec->answered_at = wvtime_local_to_epoch(&wt);
		return true;
	}
	buf_puts(r, "unreadable date ");
	json_append_string(r, s.ptr, utf8_prefix(s.ptr, s.len, REASON_VALUE_MAX));
	if (s.len > REASON_VALUE_MAX)
		buf_puts(r, "...");
	return false;
}

/* extras_finish: close the extras object (with the notes _nul_removed,
 * _invalid_unicode_replaced and _numbers_as_text) or leave it NULL when
 * empty. False when out of memory. */
static bool
extras_finish(TypingState *ts)
{
	Buf		   *b = &ts->rs->extras;

	if (ts->n_nul > 0)
	{
		buf_puts(b, ts->n_extras++ ? ",\"_nul_removed\":[" : "{\"_nul_removed\":[");
		buf_append(b, ts->rs->nul_keys.data, ts->rs->nul_keys.len);
		buf_putc(b, ']');
	}
	if (ts->n_bad > 0)
	{
		buf_puts(b, ts->n_extras++ ? ",\"_invalid_unicode_replaced\":["
				 : "{\"_invalid_unicode_replaced\":[");
		buf_append(b, ts->rs->bad_keys.data, ts->rs->bad_keys.len);
		buf_putc(b, ']');
	}
	if (ts->n_num > 0)
	{
		buf_puts(b, ts->n_extras++ ? ",\"_numbers_as_text\":["
				 : "{\"_numbers_as_text\":[");
		buf_append(b, ts->rs->num_keys.data, ts->rs->num_keys.len);
		buf_putc(b, ']');
	}
	if (ts->n_extras > 0)
	{
		buf_putc(b, '}');
		ts->rec->extras.ptr = b->data;
		ts->rec->extras.len = b->len;
	}
	return !b->failed;
}

/*
 * record_in_window: true when rec's date lies in [from, to); else false,
 * with the reason (the date and the window, local times) in rs->reason,
 * NUL-terminated. A record's instant is its wall time read by the rule of
 * wvtime_local_to_epoch, the same rule that placed the window's bounds, so
 * a record at the window's last second (the API's inclusive date_end) is
 * in, one at its end is out. False with an empty reason: out of memory.
 */
bool
record_in_window(RecordScratch *rs, const SurveyRecord *rec, int64_t from, int64_t to)
{
	char		at[32];
	char		a[32];
	char		b[32];

	if (rec->answered_at >= from && rec->answered_at < to)
		return true;
	wvtime_format_local(rec->answered_at, at);
	wvtime_format_local(from, a);
	wvtime_format_local(to, b);
	buf_reset(&rs->reason);
	buf_printf(&rs->reason, "date %s is outside the window [%s, %s) it came in", at, a, b);
	if (rs->reason.failed)
		buf_reset(&rs->reason);
	buf_cstr(&rs->reason);
	return false;
}

/* record_build_raw: the whole record as compact JSON into rs->raw. */
bool
record_build_raw(RecordScratch *rs)
{
	Buf		   *b = &rs->raw;
	size_t		i;

	buf_reset(b);
	buf_putc(b, '{');
	for (i = 0; i < rs->n_fields; i++)
	{
		const RawField *f = &rs->fields[i];

		if (i > 0)
			buf_putc(b, ',');
		json_append_string(b, rs->arena.data + f->key_off, f->key_len);
		buf_putc(b, ':');
		json_append_value(b, rs, f);
	}
	buf_putc(b, '}');
	return !b->failed;
}

/* slots_reserve: room for one answer slot per field. */
static bool
slots_reserve(RecordScratch *rs)
{
	AnswerSlot *s;
	SurveyAnswer *a;
	size_t		cap = rs->cap_answers;

	if (rs->n_fields <= cap)
		return true;
	while (cap < rs->n_fields)
		cap = cap ? cap * 2 : 64;
	s = realloc(rs->slots, cap * sizeof(*s));
	if (s == NULL)
		return false;
	rs->slots = s;
	a = realloc(rs->answers, cap * sizeof(*a));
	if (a == NULL)
		return false;
	rs->answers = a;
	rs->cap_answers = cap;
	return true;
}

/* type_field: one key/value into the record, the answers or the extras. */
static void
type_field(TypingState *ts, const RawField *f, uint32_t order)
{
	const char *key = ts->rs->arena.data + f->key_off;
	int32_t		qno = -1;
	int			kc = key_class(key, f->key_len, &qno);
	AnswerSlot *slot;

	if (f->cleaned & TEXT_NUL_REMOVED)
	{
		if (ts->n_nul++ > 0)
			buf_putc(&ts->rs->nul_keys, ',');
		json_append_string(&ts->rs->nul_keys, key, f->key_len);
	}
	if (f->cleaned & TEXT_UTF8_REPLACED)
	{
		if (ts->n_bad++ > 0)
			buf_putc(&ts->rs->bad_keys, ',');
		json_append_string(&ts->rs->bad_keys, key, f->key_len);
	}
	if (kc < SF_COUNT)
		ts->rec->field[kc] = field_text(ts->rs, f);
	else if (kc == KC_DATE)
		ts->date = f;
	else if (kc == KC_TIME)
		type_duration(ts, f, &ts->rec->has_duration, &ts->rec->duration_s);
	else if (kc == KC_VM_DURATION)
		type_duration(ts, f, &ts->rec->has_vm_duration, &ts->rec->vm_duration_s);
	else if (kc == KC_QUESTION)
	{
		slot = &ts->rs->slots[ts->n_slots++];
		slot->question_no = qno;
		slot->order = order;
		slot->text = field_text(ts->rs, f);
		slot->answered = slot->text.ptr != NULL;
	}
	else
		extras_add(ts, f);
}

/*
 * record_type: type the collected fields into rec. RECORD_REJECT when the
 * record has no readable date (rs->raw holds its JSON text, rs->reason the
 * why, NUL-terminated); RECORD_NOMEM when a buffer could not grow.
 */
RecordVerdict
record_type(RecordScratch *rs, uint64_t seq, bool want_raw, SurveyRecord *rec)
{
	TypingState ts;
	size_t		i;

	memset(rec, 0, sizeof(*rec));
	rec->seq = seq;
	memset(&ts, 0, sizeof(ts));
	ts.rs = rs;
	ts.rec = rec;
	if (!slots_reserve(rs))
		return RECORD_NOMEM;
	buf_reset(&rs->extras);
	buf_reset(&rs->nul_keys);
	buf_reset(&rs->bad_keys);
	buf_reset(&rs->num_keys);
	for (i = 0; i < rs->n_fields; i++)
		type_field(&ts, &rs->fields[i], (uint32_t) i);
	answers_finish(&ts);
	if (!extras_finish(&ts) || rs->nul_keys.failed || rs->bad_keys.failed ||
		rs->num_keys.failed)
		return RECORD_NOMEM;
	if (!date_check(&ts))
	{
		if (!record_build_raw(rs) || rs->reason.failed)
			return RECORD_NOMEM;
		buf_cstr(&rs->reason);
		return RECORD_REJECT;
	}
	if (want_raw)
	{
		if (!record_build_raw(rs))
			return RECORD_NOMEM;
		rec->raw.ptr = rs->raw.data;
		rec->raw.len = rs->raw.len;
	}
	return RECORD_OK;
}
