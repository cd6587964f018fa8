/*
 * transform/survey.c
 *   The streaming record state machine: yajl SAX callbacks that find the
 *   records in an answer body (envelope or bare array), collect each
 *   record's keys and values into a reused arena, re-serialize nested
 *   values as compact JSON, enforce the size and depth limits, and hand
 *   each finished record to record.c for typing and then to the sinks.
 *
 *   Where things are, by container depth (1 = the top-level value):
 *     {"code":..,"data":[ {record}, ... ], "other": <skipped>}
 *       envelope = depth 1, records array = depth 2, record = depth 3
 *     {"data": {record}}            record = depth 2
 *     [ {record}, ... ]             records array = depth 1, record = 2
 *   A container that is a record's value is "captured": written as JSON
 *   text into the arena as the value. An element of a records array that
 *   is not an object is rejected ("record is not a JSON object").
 *
 *   Numbers arrive as text (yajl_number), never converted (one numeric
 *   cannot hold becomes a string of its text: cb_number). yajl's string
 *   pointers are only valid during the callback: everything is copied.
 *   Every string (key or value) is cleaned first (text_clean): U+0000 and
 *   ill-formed UTF-8 never leave the transform, not even in raw
 *   (PostgreSQL text and jsonb cannot hold them): U+0000 is dropped,
 *   ill-formed UTF-8 becomes U+FFFD, and extras notes the keys.
 *   Personal values (TransformPrivacy) are protected when a record ends,
 *   before it is typed (privacy.c), in the record as sent too.
 *   Errors name a record by its seq ("record 0" is the first).
 *
 *   Limits are checked as values arrive. yajl buffers a string or number
 *   token whole before any callback sees it, so transform_feed also bounds
 *   the bytes fed since the last callback (max_token, derived from
 *   max_field_bytes): a hostile body cannot grow yajl's buffers without
 *   limit, whatever the chunking.
 *
 *   A record's size (record_size, against max_record_bytes) is what it can
 *   cost in memory: its keys and values as JSON text (escapes included, so
 *   that extras and the raw text built from it are no larger), plus
 *   FIELD_COST per key for the per-key arrays. So 16 million empty keys
 *   are refused after 4 MiB, as 16 MiB of control characters are. The
 *   record as sent (want_raw) and the envelope outside the records (keys
 *   the transform skips, bytes that are no record) are bounded by the same
 *   number, checked at each token (event): a body cannot be read without
 *   end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "transform/transform.h"
#include "transform/transform_int.h"

#define DEFAULT_MAX_FIELD (1024 * 1024)
#define DEFAULT_MAX_RECORD (4 * 1024 * 1024)
#define DEFAULT_MAX_DEPTH 32
#define KEY_QUOTE_MAX 64		/* bytes of a key quoted in an error */

/*
 * A value of max_field_bytes decoded bytes may take up to 6 times as many
 * bytes of JSON text (every byte a \u00XX escape); past that, plus a
 * margin for the separators around it, no acceptable token can still be
 * open.
 */
#define TOKEN_TEXT_FACTOR 6
#define TOKEN_MARGIN (64 * 1024)

/* What one key costs besides its bytes: its RawField, and the answer slot
 * and answer typing reserves for every field. */
#define FIELD_COST (sizeof(RawField) + sizeof(AnswerSlot) + sizeof(SurveyAnswer))

/* The envelope key whose value comes next. */
typedef enum EnvKey
{
	EK_NONE = 0,
	EK_CODE,
	EK_MSG,
	EK_ERROR,
	EK_DATA,
	EK_OTHER
} EnvKey;

/* Per level of a captured (nested) value. */
#define LVL_ARRAY 1				/* the container is an array */
#define LVL_COMMA 2				/* a value was written: next needs ',' */

struct Transform
{
	TransformOptions opt;
	RecordSink	on_record;
	RejectSink	on_reject;
	void	   *ctx;
	yajl_handle yh;
	TransformEnvelope env;

	uint64_t	bytes;			/* fed before the current chunk */
	uint64_t	last_event;		/* body offset just past the last callback */
	uint64_t	max_token;		/* bytes allowed without any callback */
	uint64_t	seq;			/* next record's position */
	uint64_t	outside;		/* bytes of the envelope outside its records */
	size_t		rec_escapes;	/* the current record's escapes, see record_size */
	bool		started;		/* the top-level value has begun */
	bool		failed;
	bool		sink_stopped;
	bool		finished;
	char		err[ETL_ERRLEN];

	int			depth;			/* open containers */
	bool		top_map;		/* top-level value is the envelope */
	EnvKey		env_key;
	int			skip_depth;		/* > 0: skipping the container opened there */
	int			records_depth;	/* > 0: depth of the records array */
	int			rec_depth;		/* > 0: depth of the record map */
	bool		elem_capture;	/* capturing a non-object array element */

	/* capture of a nested value into the arena */
	int			cap_level;		/* open containers of the captured value */
	uint8_t    *lvl;			/* LVL_* per captured level */
	size_t		cap_index;		/* the field being captured */

	/* want_raw: the current record written again from the original bytes
	 * (U+0000 as \u0000, no Unicode clean-up): the record as sent, for
	 * `wvetl extract` */
	Buf			sent;
	uint8_t    *slvl;			/* LVL_* per open level of the record */
	int			sent_level;		/* > 0 while a record is being written */
	Buf			sent_safe;		/* sent with protected values (sent_protect) */

	bool		privacy_on;		/* some opt.privacy mode is not keep */

	Buf			clean;			/* the current string, when text_clean changed it */
	unsigned	clean_flags;	/* TEXT_* of the current string */

	RecordScratch rs;
	SurveyRecord rec;
};

static bool check_chunk(Transform *t);
static int	cb_null(void *ctx);
static int	cb_boolean(void *ctx, int v);
static int	cb_number(void *ctx, const char *s, size_t n);
static int	cb_string(void *ctx, const unsigned char *s, size_t n);
static int	cb_start_map(void *ctx);
static int	cb_map_key(void *ctx, const unsigned char *s, size_t n);
static int	cb_end_map(void *ctx);
static int	cb_start_array(void *ctx);
static int	cb_end_array(void *ctx);

static int	on_scalar(Transform *t, FieldKind kind, const char *s, size_t n);
static int	on_start(Transform *t, bool is_array);
static int	on_end(Transform *t);
static int	fail(Transform *t, const char *fmt,...) __attribute__((format(printf, 2, 3)));
static const char *key_quote(Transform *t, char *out, size_t outlen);
static int	check_sizes(Transform *t, const RawField *f);
static int	record_value(Transform *t, FieldKind kind, const char *s, size_t n);
static void cap_before_value(Transform *t);
static int	cap_scalar(Transform *t, FieldKind kind, const char *s, size_t n);
static int	cap_start(Transform *t, bool is_array);
static int	cap_end(Transform *t);
static void env_scalar(Transform *t, FieldKind kind, const char *s, size_t n);
static void env_copy(char *dst, size_t size, const char *s, size_t n);
static int	element_scalar(Transform *t, FieldKind kind, const char *s, size_t n);
static int	record_begin(Transform *t);
static int	record_end(Transform *t);
static int	reject_emit(Transform *t, const char *raw, size_t len, const char *reason);
static void set_yajl_error(Transform *t, const char *data, size_t len, bool at_finish);
static Transform *event(void *ctx);
static bool clean_string(Transform *t, const char **s, size_t *n);
static void count_escapes(Transform *t, const char *s, size_t n);
static void sent_scalar(Transform *t, FieldKind kind, const char *s, size_t n);
static void sent_key(Transform *t, const char *s, size_t n);
static void sent_open(Transform *t, bool is_array);
static void sent_begin(Transform *t, bool is_array);
static bool sent_protect(Transform *t);

static const yajl_callbacks callbacks = {
	cb_null,
	cb_boolean,
	NULL,						/* integers and doubles: never, numbers */
	NULL,						/* come as text through yajl_number */
	cb_number,
	cb_string,
	cb_start_map,
	cb_map_key,
	cb_end_map,
	cb_start_array,
	cb_end_array
};

/*
 * transform_new: a transform ready for the first chunk. The sinks may be
 * NULL (records are then only counted). Returns NULL when out of memory.
 */
Transform *
transform_new(const TransformOptions *opt, RecordSink on_record,
			  RejectSink on_reject, void *ctx)
{
	Transform  *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if (opt != NULL)
		t->opt = *opt;
	if (t->opt.max_field_bytes == 0)
		t->opt.max_field_bytes = DEFAULT_MAX_FIELD;
	if (t->opt.max_record_bytes == 0)
		t->opt.max_record_bytes = DEFAULT_MAX_RECORD;
	if (t->opt.max_depth <= 0)
		t->opt.max_depth = DEFAULT_MAX_DEPTH;
	t->max_token = (uint64_t) t->opt.max_field_bytes * TOKEN_TEXT_FACTOR + TOKEN_MARGIN;
	t->privacy_on = transform_privacy_active(&t->opt.privacy);
	t->on_record = on_record;
	t->on_reject = on_reject;
	t->ctx = ctx;
	t->lvl = malloc((size_t) t->opt.max_depth + 1);
	t->slvl = malloc((size_t) t->opt.max_depth + 1);
	/* Default config: UTF-8 validated, one value, no trailing garbage,
	 * no partial values, no comments. */
	t->yh = yajl_alloc(&callbacks, NULL, t);
	if (t->lvl == NULL || t->slvl == NULL || t->yh == NULL)
	{
		transform_free(t);
		return NULL;
	}
	return t;
}

void
transform_free(Transform *t)
{
	if (t == NULL)
		return;
	if (t->yh != NULL)
		yajl_free(t->yh);
	record_scratch_free(&t->rs);
	buf_free(&t->clean);
	buf_free(&t->sent);
	buf_free(&t->sent_safe);
	free(t->lvl);
	free(t->slvl);
	free(t);
}

/*
 * set_yajl_error: "invalid JSON at byte N: <message>" from yajl's
 * non-verbose text (first line, without its "parse error: " prefix or final
 * period). N counts the body's bytes up to and including the token where
 * yajl stopped (yajl_get_bytes_consumed, made absolute), so it does not
 * depend on how the body was chunked. The string yajl allocates is always
 * freed.
 */
static void
set_yajl_error(Transform *t, const char *data, size_t len, bool at_finish)
{
	unsigned char *msg = yajl_get_error(t->yh, 0, (const unsigned char *) data, len);
	const char *m = msg ? (const char *) msg : "unknown error";
	const char *colon = strstr(m, "error: ");
	uint64_t	at = t->bytes + (at_finish ? 0 : yajl_get_bytes_consumed(t->yh));
	int			mlen;

	if (colon != NULL)
		m = colon + strlen("error: ");
	mlen = (int) strcspn(m, "\r\n");
	while (mlen > 0 && (m[mlen - 1] == ' ' || m[mlen - 1] == '.'))
		mlen--;
	if (at_finish && strncmp(m, "premature EOF", 13) == 0)
		etl_seterr(t->err, "truncated body: JSON ends at byte %llu before its end",
				   (unsigned long long) at);
	else
		etl_seterr(t->err, "invalid JSON at byte %llu: %.*s",
				   (unsigned long long) at, mlen, m);
	if (msg != NULL)
		yajl_free_error(t->yh, msg);
}

/*
 * transform_feed: parse the next chunk. False on a JSON error (a raw form
 * feed included), a limit, a record that cannot be typed for lack of
 * memory, or a sink that stopped.
 */
bool
transform_feed(Transform *t, const char *data, size_t len)
{
	yajl_status st;
	const char *ff;

	if (t->failed || t->finished)
	{
		if (!t->failed)
		{
			etl_seterr(t->err, "transform_feed after transform_finish");
			t->failed = true;
		}
		return false;
	}
	if (len == 0)
		return true;
	/* yajl's lexer takes a form feed for white space; JSON does not (RFC
	 * 8259: space, tab, LF, CR), and inside a string it must be escaped.
	 * No byte of a multibyte UTF-8 sequence is 0x0C, so a raw 0x0C
	 * anywhere is malformed JSON. The bytes before it are parsed first,
	 * so that the body's first error is the one reported however it is
	 * cut into chunks. */
	if ((ff = memchr(data, '\f', len)) != NULL)
	{
		size_t		before = (size_t) (ff - data);

		if (before == 0 || transform_feed(t, data, before))
		{
			t->failed = true;
			etl_seterr(t->err, "invalid JSON at byte %llu: a form feed (0x0C) is not "
					   "JSON white space", (unsigned long long) (t->bytes + 1));
		}
		/* every byte of the chunk counts as fed, as on any other error */
		t->bytes += len - before;
		return false;
	}
	st = yajl_parse(t->yh, (const unsigned char *) data, len);
	if (st == yajl_status_ok)
	{
		t->bytes += len;
		return check_chunk(t);
	}
	t->failed = true;
	if (st == yajl_status_error)
		set_yajl_error(t, data, len, false);
	t->bytes += len;
	return false;
}

/*
 * check_chunk: once a chunk is parsed, yajl's open token (the bytes fed
 * since the last callback) is within max_token. False with the error set
 * when it is not. (The other bounds are checked at each token: event.)
 */
static bool
check_chunk(Transform *t)
{
	if (t->bytes - t->last_event <= t->max_token)
		return true;
	etl_seterr(t->err, "no JSON value ends in the %llu bytes after byte %llu: "
			   "a single JSON token is longer than %llu bytes",
			   (unsigned long long) (t->bytes - t->last_event),
			   (unsigned long long) t->last_event,
			   (unsigned long long) t->max_token);
	t->failed = true;
	return false;
}

/* transform_finish: end of body; catches empty and truncated bodies. */
bool
transform_finish(Transform *t)
{
	yajl_status st;

	if (t->failed)
		return false;
	if (t->finished)
		return true;
	t->finished = true;
	st = yajl_complete_parse(t->yh);
	if (st == yajl_status_ok && t->started)
		return true;
	t->failed = true;
	if (!t->started && !t->err[0] && t->bytes == 0)
		etl_seterr(t->err, "empty body");
	else if (!t->started && !t->err[0] && st == yajl_status_error)
		etl_seterr(t->err, "empty body (%llu bytes of blanks)",
				   (unsigned long long) t->bytes);
	else if (st == yajl_status_error)
		set_yajl_error(t, NULL, 0, true);
	return false;
}

const char *
transform_error(const Transform *t)
{
	if (t->sink_stopped)
		return "stopped by the sink";
	return t->err[0] ? t->err : "no error";
}

bool
transform_sink_stopped(const Transform *t)
{
	return t->sink_stopped;
}

const TransformEnvelope *
transform_envelope(const Transform *t)
{
	return &t->env;
}

uint64_t
transform_bytes(const Transform *t)
{
	return t->bytes;
}

/* fail: record the error (first one wins) and cancel the parse. */
static int
fail(Transform *t, const char *fmt,...)
{
	va_list		ap;

	if (t->err[0] == '\0')
	{
		va_start(ap, fmt);
		vsnprintf(t->err, sizeof(t->err), fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* key_quote: the current record key, JSON-quoted and cut short, for an
 * error message; "(none)" when there is none. */
static const char *
key_quote(Transform *t, char *out, size_t outlen)
{
	Buf			b = BUF_INIT;
	const RawField *f;
	size_t		n;

	if (t->elem_capture)
		return "an array element";
	if (t->rs.n_fields == 0)
		return "(no key)";
	f = &t->rs.fields[t->rs.n_fields - 1];
	n = utf8_prefix(t->rs.arena.data + f->key_off, f->key_len, KEY_QUOTE_MAX);
	json_append_string(&b, t->rs.arena.data + f->key_off, n);
	snprintf(out, outlen, "%s%s", b.failed ? "\"?\"" : buf_cstr(&b),
			 n < f->key_len ? "..." : "");
	buf_free(&b);
	return out;
}

/*
 * record_size: what the current record costs (see the file's comment):
 * the arena (keys and values decoded; nested values as JSON text), the
 * escapes its top-level strings would take as JSON text (rec_escapes),
 * and FIELD_COST per key.
 */
static size_t
record_size(const Transform *t)
{
	return t->rs.arena.len + t->rec_escapes + t->rs.n_fields * FIELD_COST;
}

/* check_sizes: the field and record limits, after a write into the arena. */
static int
check_sizes(Transform *t, const RawField *f)
{
	char		q[KEY_QUOTE_MAX * 6 + 8];

	if (t->rs.arena.failed)
		return fail(t, "record %llu: out of memory", (unsigned long long) t->seq);
	if (t->rs.arena.len - f->val_off > t->opt.max_field_bytes)
		return fail(t, "record %llu: value of %s is longer than %zu bytes",
					(unsigned long long) t->seq, key_quote(t, q, sizeof(q)),
					t->opt.max_field_bytes);
	if (record_size(t) > t->opt.max_record_bytes)
		return fail(t, "record %llu is larger than %zu bytes (its keys and values as "
					"JSON text, and %zu bytes a key)", (unsigned long long) t->seq,
					t->opt.max_record_bytes, FIELD_COST);
	return 1;
}

/* record_value: a scalar value of the current record's key. */
static int
record_value(Transform *t, FieldKind kind, const char *s, size_t n)
{
	RawField   *f = &t->rs.fields[t->rs.n_fields - 1];
	char		q[KEY_QUOTE_MAX * 6 + 8];

	if (n > t->opt.max_field_bytes)	/* before copying a huge value */
		return fail(t, "record %llu: value of %s is longer than %zu bytes",
					(unsigned long long) t->seq, key_quote(t, q, sizeof(q)),
					t->opt.max_field_bytes);
	f->kind = kind;
	f->val_off = t->rs.arena.len;
	if (kind == FK_STRING)
		f->cleaned |= t->clean_flags;
	buf_append(&t->rs.arena, s, n);
	f->val_len = t->rs.arena.len - f->val_off;
	return check_sizes(t, f);
}

/* cap_before_value: the ',' before a value inside a captured array. */
static void
cap_before_value(Transform *t)
{
	uint8_t    *l;

	if (t->cap_level == 0)
		return;
	l = &t->lvl[t->cap_level - 1];
	if (!(*l & LVL_ARRAY))
		return;					/* in a map the key wrote it */
	if (*l & LVL_COMMA)
		buf_putc(&t->rs.arena, ',');
	*l |= LVL_COMMA;
}

/* cap_scalar: a scalar inside a captured value, as JSON text. */
static int
cap_scalar(Transform *t, FieldKind kind, const char *s, size_t n)
{
	RawField   *f = &t->rs.fields[t->cap_index];

	cap_before_value(t);
	if (kind == FK_STRING)
	{
		f->cleaned |= t->clean_flags;
		json_append_string(&t->rs.arena, s, n);
	}
	else
		buf_append(&t->rs.arena, s, n);
	return check_sizes(t, f);
}

/* cap_start: open a container inside (or as the start of) a capture. */
static int
cap_start(Transform *t, bool is_array)
{
	RawField   *f = &t->rs.fields[t->cap_index];

	cap_before_value(t);
	buf_putc(&t->rs.arena, is_array ? '[' : '{');
	t->lvl[t->cap_level++] = is_array ? LVL_ARRAY : 0;
	return check_sizes(t, f);
}

/* cap_end: close a captured container; the capture ends with its first. */
static int
cap_end(Transform *t)
{
	RawField   *f = &t->rs.fields[t->cap_index];

	t->cap_level--;
	buf_putc(&t->rs.arena, (t->lvl[t->cap_level] & LVL_ARRAY) ? ']' : '}');
	f->val_len = t->rs.arena.len - f->val_off;
	if (!check_sizes(t, f))
		return 0;
	if (t->cap_level > 0)
		return 1;
	if (!t->elem_capture)
		return 1;
	/* A whole non-object element of the records array: reject it. */
	t->elem_capture = false;
	if (t->opt.want_raw)
		return reject_emit(t, t->sent.data, t->sent.len, "record is not a JSON object");
	return reject_emit(t, t->rs.arena.data + f->val_off, f->val_len,
					   "record is not a JSON object");
}

/* env_copy: a NUL-terminated, NUL-free copy cut at a UTF-8 boundary. */
static void
env_copy(char *dst, size_t size, const char *s, size_t n)
{
	size_t		j = 0;
	size_t		i;

	n = utf8_prefix(s, n, size - 1);
	for (i = 0; i < n; i++)
	{
		if (s[i] != '\0')
			dst[j++] = s[i];
	}
	dst[j] = '\0';
}

/* env_scalar: a scalar value of the envelope (code, msg, error, data). */
static void
env_scalar(Transform *t, FieldKind kind, const char *s, size_t n)
{
	switch (t->env_key)
	{
		case EK_CODE:
			t->env.has_code = true;
			env_copy(t->env.code, sizeof(t->env.code), s, n);
			break;
		case EK_MSG:
			env_copy(t->env.msg, sizeof(t->env.msg), s, n);
			break;
		case EK_ERROR:
			env_copy(t->env.error, sizeof(t->env.error), s, n);
			break;
		case EK_DATA:
			t->env.data = kind == FK_NULL ? ENV_DATA_NULL : ENV_DATA_OTHER;
			break;
		default:
			break;
	}
	t->env_key = EK_NONE;
}

/* element_scalar: a scalar element of the records array: rejected. */
static int
element_scalar(Transform *t, FieldKind kind, const char *s, size_t n)
{
	Buf		   *b = &t->rs.raw;

	buf_reset(b);
	if (kind == FK_STRING)
		json_append_string(b, s, n);
	else
		buf_append(b, s, n);
	if (b->failed)
		return fail(t, "record %llu: out of memory", (unsigned long long) t->seq);
	return reject_emit(t, b->data, b->len, "record is not a JSON object");
}

/* on_scalar: route a scalar by where the parser is. */
static int
on_scalar(Transform *t, FieldKind kind, const char *s, size_t n)
{
	if (t->skip_depth > 0)
		return 1;
	t->started = true;
	if (t->cap_level > 0)
		return cap_scalar(t, kind, s, n);
	if (t->rec_depth > 0)
		return record_value(t, kind, s, n);
	if (t->records_depth > 0 && t->depth == t->records_depth)
		return element_scalar(t, kind, s, n);
	if (t->depth == 0)
		return fail(t, "body is not a JSON object or array: a lone %s ends at byte %llu",
					kind == FK_STRING ? "string" : kind == FK_NULL ? "null" : "number or boolean",
					(unsigned long long) t->last_event);
	if (t->top_map && t->depth == 1)
		env_scalar(t, kind, s, n);
	return 1;
}

/* on_start: a map or array opens. */
static int
on_start(Transform *t, bool is_array)
{
	EnvKey		ek;

	t->started = true;
	if (++t->depth > t->opt.max_depth)
	{
		char		q[KEY_QUOTE_MAX * 6 + 8];

		if (t->rec_depth > 0 || t->elem_capture)
			return fail(t, "record %llu: value of %s is nested deeper than %d levels at byte %llu",
						(unsigned long long) t->seq, key_quote(t, q, sizeof(q)),
						t->opt.max_depth, (unsigned long long) t->last_event);
		return fail(t, "JSON is nested deeper than %d levels at byte %llu",
					t->opt.max_depth, (unsigned long long) t->last_event);
	}
	if (t->skip_depth > 0)
		return 1;
	sent_open(t, is_array);
	if (t->cap_level > 0)
		return cap_start(t, is_array);
	if (t->rec_depth > 0)
	{
		/* a record's value is an object or array: capture it as text */
		RawField   *f = &t->rs.fields[t->rs.n_fields - 1];

		f->kind = FK_NESTED;
		f->val_off = t->rs.arena.len;
		t->cap_index = t->rs.n_fields - 1;
		return cap_start(t, is_array);
	}
	if (t->records_depth > 0 && t->depth == t->records_depth + 1)
	{
		sent_begin(t, is_array);
		if (!is_array)
			return record_begin(t);
		/* an array where a record was expected: capture, then reject */
		record_scratch_reset(&t->rs);
		t->rec_escapes = 0;
		if (record_scratch_add(&t->rs) == NULL)
			return fail(t, "out of memory");
		t->elem_capture = true;
		t->cap_index = 0;
		return cap_start(t, true);
	}
	if (t->depth == 1)
	{
		if (is_array)
			t->records_depth = 1;
		else
			t->top_map = true;
		return 1;
	}
	/* the envelope's value */
	ek = t->env_key;
	t->env_key = EK_NONE;
	if (ek == EK_DATA && is_array)
	{
		t->env.data = ENV_DATA_ARRAY;
		t->records_depth = t->depth;
		return 1;
	}
	if (ek == EK_DATA)
	{
		t->env.data = ENV_DATA_OBJECT;
		sent_begin(t, false);
		return record_begin(t);
	}
	t->skip_depth = t->depth;
	return 1;
}

/* on_end: a map or array closes. */
static int
on_end(Transform *t)
{
	int			d = t->depth--;

	if (t->skip_depth > 0)
	{
		if (d == t->skip_depth)
			t->skip_depth = 0;
		return 1;
	}
	if (t->sent_level > 0)
	{
		t->sent_level--;
		buf_putc(&t->sent, (t->slvl[t->sent_level] & LVL_ARRAY) ? ']' : '}');
		if (t->sent_level == 0 && t->sent.failed)
			return fail(t, "record %llu: out of memory", (unsigned long long) t->seq);
	}
	if (t->cap_level > 0)
		return cap_end(t);
	if (t->rec_depth > 0 && d == t->rec_depth)
		return record_end(t);
	if (t->records_depth > 0 && d == t->records_depth)
		t->records_depth = 0;
	return 1;
}

/* record_begin: a record map opens. */
static int
record_begin(Transform *t)
{
	record_scratch_reset(&t->rs);
	t->rec_escapes = 0;
	if (t->rs.arena.failed)
		return fail(t, "record %llu: out of memory", (unsigned long long) t->seq);
	t->rec_depth = t->depth;
	return 1;
}

/* reject_emit: hand a reject to its sink; counts it; the seq moves on. */
static int
reject_emit(Transform *t, const char *raw, size_t len, const char *reason)
{
	uint64_t	seq = t->seq++;

	t->env.rejects++;
	if (t->on_reject != NULL && !t->on_reject(t->ctx, raw, len, reason, seq))
	{
		t->sink_stopped = true;
		return 0;
	}
	return 1;
}

/*
 * record_end: the record map closed: type it, then hand it to the record
 * sink, or to the reject sink when it has no readable date or is dated
 * outside the window (opt.window_from, opt.window_to).
 */
static int
record_end(Transform *t)
{
	RecordVerdict v;
	uint64_t	seq = t->seq;

	t->rec_depth = 0;
	/* personal values are protected before anything is built from them */
	if (t->privacy_on && (!privacy_apply(&t->rs, &t->opt.privacy) ||
						  (t->opt.want_raw && !sent_protect(t))))
		return fail(t, "record %llu: out of memory", (unsigned long long) seq);
	/* with want_raw, rec->raw is the record as sent (t->sent), set below:
	 * the cleaned raw text need not be built (rejects still build it) */
	v = record_type(&t->rs, seq, false, &t->rec);
	if (v == RECORD_OK && t->opt.window_to > t->opt.window_from &&
		!record_in_window(&t->rs, &t->rec, t->opt.window_from, t->opt.window_to))
	{
		if (t->rs.reason.len == 0 || (!t->opt.want_raw && !record_build_raw(&t->rs)))
			v = RECORD_NOMEM;
		else
		{
			v = RECORD_REJECT;
			t->env.outside++;
		}
	}
	if (v == RECORD_NOMEM)
		return fail(t, "record %llu: out of memory", (unsigned long long) seq);
	if (v == RECORD_REJECT && t->opt.want_raw)
		return reject_emit(t, t->sent.data, t->sent.len, t->rs.reason.data);
	if (v == RECORD_REJECT)
		return reject_emit(t, t->rs.raw.data, t->rs.raw.len, t->rs.reason.data);
	if (t->opt.want_raw)
		t->rec.raw = (EtlStr) {t->sent.data, t->sent.len};
	t->seq++;
	t->env.records++;
	if (t->on_record != NULL && !t->on_record(t->ctx, &t->rec))
	{
		t->sink_stopped = true;
		return 0;
	}
	return 1;
}

/*
 * count_escapes: a record's top-level key or string value s (as yajl
 * decoded it, n bytes) goes into the arena decoded; add to rec_escapes
 * what its JSON text takes besides, its escapes, so that record_size
 * covers extras and the raw text built from the arena. Nested values
 * need nothing: the arena holds them as JSON text. (The record as sent,
 * want_raw, is bounded by its own length: transform_feed.)
 */
static void
count_escapes(Transform *t, const char *s, size_t n)
{
	t->rec_escapes += json_escape_extra(s, n);
}

/*
 * clean_string: a decoded string from yajl, without U+0000 and with U+FFFD
 * for ill-formed UTF-8 (text_clean); *s and *n then point into t->clean,
 * valid until the next string. Sets t->clean_flags. False (and the error
 * set) when out of memory.
 */
static bool
clean_string(Transform *t, const char **s, size_t *n)
{
	t->clean_flags = 0;
	if (text_clean_scan(*s, *n) == *n)
		return true;			/* the usual case: nothing to change */
	buf_reset(&t->clean);
	t->clean_flags = text_clean(&t->clean, *s, *n);
	*s = buf_cstr(&t->clean);
	*n = t->clean.len;
	if (t->clean.failed)
		return fail(t, "record %llu: out of memory", (unsigned long long) t->seq);
	return true;
}

/*
 * event: every callback starts here. Notes where in the body yajl is (just
 * past the token it reports: yajl_get_bytes_consumed counts the current
 * chunk's bytes lexed so far, also during a callback), counts the
 * envelope's bytes (t->outside), and checks the bounds that grow between
 * tokens. NULL (the error set) when one is passed: the callback returns 0.
 */
static Transform *
event(void *ctx)
{
	Transform  *t = ctx;
	uint64_t	at = t->bytes + yajl_get_bytes_consumed(t->yh);

	/* the bytes up to this token belong to the envelope unless a records
	 * array or a record is open (the state before this token) */
	if (t->records_depth == 0 && t->rec_depth == 0)
		t->outside += at - t->last_event;
	t->last_event = at;
	/* checked at a token, not at a chunk's end: the same body fails at
	 * the same place however it is cut */
	if (t->outside > t->opt.max_record_bytes)
	{
		fail(t, "the body holds more than %zu bytes outside its records by byte %llu "
			 "(the envelope's code, msg, error and keys wvetl skips)",
			 t->opt.max_record_bytes, (unsigned long long) at);
		return NULL;
	}
	if (t->sent.len > t->opt.max_record_bytes)
	{
		fail(t, "record %llu is larger than %zu bytes as sent",
			 (unsigned long long) t->seq, t->opt.max_record_bytes);
		return NULL;
	}
	return t;
}

static int
cb_null(void *ctx)
{
	Transform  *t = event(ctx);

	if (t == NULL)
		return 0;

	sent_scalar(t, FK_NULL, "null", 4);
	return on_scalar(t, FK_NULL, "null", 4);
}

static int
cb_boolean(void *ctx, int v)
{
	Transform  *t = event(ctx);

	if (t == NULL)
		return 0;

	sent_scalar(t, FK_SCALAR, v ? "true" : "false", v ? 4 : 5);
	return on_scalar(t, FK_SCALAR, v ? "true" : "false", v ? 4 : 5);
}

/*
 * cb_number: a number, as its text. One that PostgreSQL numeric cannot
 * hold (1e200000: JSON has no limit) would fail the whole window's COPY
 * in a jsonb column, so it goes on as a string of the same text, flagged
 * (extras notes it). The record as sent keeps the number.
 */
static int
cb_number(void *ctx, const char *s, size_t n)
{
	Transform  *t = event(ctx);

	if (t == NULL)
		return 0;

	sent_scalar(t, FK_SCALAR, s, n);
	if (transform_number_fits_numeric(s, n))
		return on_scalar(t, FK_SCALAR, s, n);
	t->clean_flags = TEXT_NUMBER_AS_TEXT;
	return on_scalar(t, FK_STRING, s, n);
}

static int
cb_string(void *ctx, const unsigned char *s, size_t n)
{
	Transform  *t = event(ctx);
	const char *v = (const char *) s;

	if (t == NULL)
		return 0;
	if (t->skip_depth > 0)
		return 1;
	sent_scalar(t, FK_STRING, v, n);
	if (t->rec_depth > 0 && t->cap_level == 0)
		count_escapes(t, v, n);
	if (!clean_string(t, &v, &n))
		return 0;
	return on_scalar(t, FK_STRING, v, n);
}

static int
cb_start_map(void *ctx)
{
	Transform  *t = event(ctx);

	return t != NULL && on_start(t, false);
}

static int
cb_start_array(void *ctx)
{
	Transform  *t = event(ctx);

	return t != NULL && on_start(t, true);
}

static int
cb_end_map(void *ctx)
{
	Transform  *t = event(ctx);

	return t != NULL && on_end(t);
}

static int
cb_end_array(void *ctx)
{
	Transform  *t = event(ctx);

	return t != NULL && on_end(t);
}

/*
 * cb_map_key: in a captured value, write the key; in a record, start a new
 * field; in the envelope, remember which value comes next.
 */
static int
cb_map_key(void *ctx, const unsigned char *key, size_t n)
{
	Transform  *t = event(ctx);
	const char *k = (const char *) key;
	RawField   *f;
	uint8_t    *l;
	size_t		sent_before;

	if (t == NULL)
		return 0;
	sent_before = t->sent.len;
	if (t->skip_depth > 0)
		return 1;
	sent_key(t, k, n);
	if (t->rec_depth > 0 && t->cap_level == 0)
		count_escapes(t, k, n);
	if (!clean_string(t, &k, &n))
		return 0;
	if (t->cap_level > 0)
	{
		f = &t->rs.fields[t->cap_index];
		l = &t->lvl[t->cap_level - 1];
		if (*l & LVL_COMMA)
			buf_putc(&t->rs.arena, ',');
		*l |= LVL_COMMA;
		f->cleaned |= t->clean_flags;
		json_append_string(&t->rs.arena, k, n);
		buf_putc(&t->rs.arena, ':');
		return check_sizes(t, f);
	}
	if (t->rec_depth > 0)
	{
		if (n > t->opt.max_field_bytes)
			return fail(t, "record %llu: a key is longer than %zu bytes",
						(unsigned long long) t->seq, t->opt.max_field_bytes);
		f = record_scratch_add(&t->rs);
		if (f == NULL)
			return fail(t, "record %llu: out of memory", (unsigned long long) t->seq);
		f->sent_key_off = sent_before;
		f->sent_val_off = t->sent.len;
		f->key_off = t->rs.arena.len;
		f->cleaned = t->clean_flags;
		buf_append(&t->rs.arena, k, n);
		f->key_len = t->rs.arena.len - f->key_off;
		f->val_off = t->rs.arena.len;
		return check_sizes(t, f);
	}
	if (t->top_map && t->depth == 1)
	{
		if (n == 4 && memcmp(k, "code", 4) == 0)
			t->env_key = EK_CODE;
		else if (n == 3 && memcmp(k, "msg", 3) == 0)
			t->env_key = EK_MSG;
		else if (n == 5 && memcmp(k, "error", 5) == 0)
			t->env_key = EK_ERROR;
		else if (n == 4 && memcmp(k, "data", 4) == 0)
			t->env_key = EK_DATA;
		else
			t->env_key = EK_OTHER;
	}
	return 1;
}

/*
 * The record as sent (want_raw only): sent_begin starts it at the record's
 * own map (or a non-object element's array), sent_open/sent_key/
 * sent_scalar follow every event inside it with the original bytes, and
 * on_end closes its levels. Commas as in the captures (LVL_COMMA).
 */
static void
sent_begin(Transform *t, bool is_array)
{
	if (!t->opt.want_raw)
		return;
	buf_reset(&t->sent);
	t->sent_level = 0;
	buf_putc(&t->sent, is_array ? '[' : '{');
	t->slvl[t->sent_level++] = is_array ? LVL_ARRAY : 0;
}

/* sent_comma: the ',' before a value in an array, or before a key. */
static void
sent_comma(Transform *t, bool key)
{
	uint8_t    *l = &t->slvl[t->sent_level - 1];

	if (!key && !(*l & LVL_ARRAY))
		return;					/* in a map the key wrote it */
	if (*l & LVL_COMMA)
		buf_putc(&t->sent, ',');
	*l |= LVL_COMMA;
}

static void
sent_open(Transform *t, bool is_array)
{
	if (t->sent_level == 0)
		return;
	sent_comma(t, false);
	buf_putc(&t->sent, is_array ? '[' : '{');
	t->slvl[t->sent_level++] = is_array ? LVL_ARRAY : 0;
}

static void
sent_key(Transform *t, const char *s, size_t n)
{
	if (t->sent_level == 0)
		return;
	sent_comma(t, true);
	json_append_string_as_sent(&t->sent, s, n);
	buf_putc(&t->sent, ':');
}

static void
sent_scalar(Transform *t, FieldKind kind, const char *s, size_t n)
{
	if (t->sent_level == 0 || t->skip_depth > 0)
		return;
	sent_comma(t, false);
	if (kind == FK_STRING)
		json_append_string_as_sent(&t->sent, s, n);
	else
		buf_append(&t->sent, s, n);
}

/*
 * sent_protect: the record as sent, with each value privacy_apply replaced
 * written from its field instead (the value's text in sent runs from its
 * sent_val_off to the next key's ',' or the record's closing '}'). Swaps
 * the result into t->sent. False when out of memory.
 */
static bool
sent_protect(Transform *t)
{
	Buf		   *b = &t->sent_safe;
	Buf			tmp;
	size_t		at = 0;

	buf_reset(b);
	for (size_t i = 0; i < t->rs.n_fields; i++)
	{
		const RawField *f = &t->rs.fields[i];

		if (!f->is_protected)
			continue;
		buf_append(b, t->sent.data + at, f->sent_val_off - at);
		json_append_value(b, &t->rs, f);
		at = i + 1 < t->rs.n_fields ? t->rs.fields[i + 1].sent_key_off : t->sent.len - 1;
	}
	buf_append(b, t->sent.data + at, t->sent.len - at);
	if (b->failed)
		return false;
	tmp = t->sent;
	t->sent = t->sent_safe;
	t->sent_safe = tmp;
	return true;
}
