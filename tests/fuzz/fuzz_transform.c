/*
 * tests/fuzz/fuzz_transform.c
 *   libFuzzer target over the transform (make fuzz). Each input is a body,
 *   fed twice: whole, and in chunks whose sizes come from a hash of the
 *   input (so the fuzzer varies chunking as it varies bytes). The options
 *   (want_raw, small limits, privacy modes) come from the same hash. Checked on every run:
 *     - both feeds agree: same success, same error (byte offsets aside),
 *       the same records and rejects, in the same order, byte for byte;
 *     - seq numbers count 0, 1, 2... over records and rejects together,
 *       and the envelope's counters equal what the sinks received;
 *     - nothing handed out holds a NUL byte or invalid UTF-8 (but raw text
 *       with want_raw, which is the record as sent: no NUL byte, and JSON
 *       once UTF-8 is not checked); text fields are never placeholders;
 *       answers are sorted, unique, and answer_num is set only for
 *       decimals; extras, raw and reject texts are JSON objects (or, for a
 *       non-object element, JSON values) yajl accepts; a reason is one
 *       line;
 *     - a body the transform accepts is valid JSON for yajl's tree parser.
 *   Any violation aborts (a crash for libFuzzer); ASan and UBSan catch the
 *   rest, LeakSanitizer the leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "common/buf.h"
#include "common/etl.h"
#include "common/wvtime.h"
#include "transform/transform.h"

/* What one feed produced. */
typedef struct FuzzRun
{
	Buf			out;			/* every sink call, serialized */
	uint64_t	next_seq;
	uint64_t	records;
	uint64_t	rejects;
	bool		ok;
	bool		as_sent;		/* want_raw: raw texts are as the body sent them */
	char		err[ETL_ERRLEN];
} FuzzRun;

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond, const char *what);
static bool utf8_valid(const char *s, size_t n);
static void check_text(EtlStr s, const char *what);
static void check_json(const char *s, size_t n, bool object, const char *what);
static void put(Buf *b, EtlStr s);
static bool on_record(void *ctx, const SurveyRecord *rec);
static bool on_reject(void *ctx, const char *raw, size_t len, const char *reason,
					  uint64_t seq);
static void run_feed(const uint8_t *data, size_t size, const TransformOptions *opt,
					 uint64_t chunk_seed, FuzzRun *r);
static void strip_offsets(char *s);

/* check: abort with a message when an invariant does not hold. */
static void
check(bool cond, const char *what)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_transform: invariant broken: %s\n", what);
	abort();
}

/* utf8_valid: well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
static bool
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = p[i];
		size_t		len;
		uint32_t	cp;
		size_t		k;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++)
		{
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
			(cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

/* check_text: a value handed to a sink: no NUL, valid UTF-8. */
static void
check_text(EtlStr s, const char *what)
{
	if (s.ptr == NULL)
		return;
	check(memchr(s.ptr, '\0', s.len) == NULL, what);
	check(utf8_valid(s.ptr, s.len), what);
}

/* check_json: s parses as JSON (an object when asked). */
static void
check_json(const char *s, size_t n, bool object, const char *what)
{
	char	   *copy = malloc(n + 1);
	char		errbuf[128];
	yajl_val	v;

	check(copy != NULL, "out of memory");
	check(memchr(s, '\0', n) == NULL, what);
	memcpy(copy, s, n);
	copy[n] = '\0';
	v = yajl_tree_parse(copy, errbuf, sizeof(errbuf));
	check(v != NULL, what);
	check(!object || YAJL_IS_OBJECT(v), what);
	yajl_tree_free(v);
	free(copy);
}

/* check_sent: raw text as sent: no NUL byte; one JSON value (an object
 * when asked) for a parser that does not check UTF-8. */
static void
check_sent(const char *s, size_t n, bool object, const char *what)
{
	yajl_handle h = yajl_alloc(NULL, NULL, NULL);
	size_t		i = 0;

	check(h != NULL, "out of memory");
	check(memchr(s, '\0', n) == NULL, what);
	yajl_config(h, yajl_dont_validate_strings, 1);
	check(yajl_parse(h, (const unsigned char *) s, n) == yajl_status_ok &&
		  yajl_complete_parse(h) == yajl_status_ok, what);
	while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r'))
		i++;
	check(!object || (i < n && s[i] == '{'), what);
	yajl_free(h);
}

/* put: a length-prefixed value (or "N" for NULL) into the run's output. */
static void
put(Buf *b, EtlStr s)
{
	if (s.ptr == NULL)
		buf_puts(b, "N;");
	else
	{
		buf_printf(b, "%zu:", s.len);
		buf_append(b, s.ptr, s.len);
	}
}

static bool
on_record(void *ctx, const SurveyRecord *rec)
{
	FuzzRun    *r = ctx;
	size_t		i;

	check(rec->seq == r->next_seq, "record seq in order");
	r->next_seq++;
	r->records++;
	buf_printf(&r->out, "R%llu %lld %d:%d %d:%d ", (unsigned long long) rec->seq,
			   (long long) rec->answered_at, rec->has_duration, rec->duration_s,
			   rec->has_vm_duration, rec->vm_duration_s);
	for (i = 0; i < SF_COUNT; i++)
	{
		check_text(rec->field[i], "text field: no NUL, valid UTF-8");
		check(rec->field[i].ptr == NULL ||
			  !transform_is_placeholder(rec->field[i].ptr, rec->field[i].len),
			  "a placeholder is NULL");
		put(&r->out, rec->field[i]);
	}
	for (i = 0; i < rec->n_answers; i++)
	{
		const SurveyAnswer *a = &rec->answers[i];

		check(a->question_no > 0, "question number positive");
		check(i == 0 || rec->answers[i - 1].question_no < a->question_no,
			  "answers sorted and unique");
		check(a->text.ptr != NULL, "an answer has text");
		check_text(a->text, "answer text: no NUL, valid UTF-8");
		check(!transform_is_placeholder(a->text.ptr, a->text.len), "no placeholder answer");
		check(a->num.ptr == NULL || transform_is_decimal(a->text.ptr, a->text.len),
			  "answer_num only for decimals");
		buf_printf(&r->out, "q%d", a->question_no);
		put(&r->out, a->text);
		put(&r->out, a->num);
	}
	if (rec->extras.ptr != NULL)
	{
		check_text(rec->extras, "extras: no NUL, valid UTF-8");
		check_json(rec->extras.ptr, rec->extras.len, true, "extras is a JSON object");
	}
	put(&r->out, rec->extras);
	if (rec->raw.ptr != NULL)
	{
		check(r->as_sent, "raw only with want_raw");
		check_sent(rec->raw.ptr, rec->raw.len, true, "raw is a JSON object, no NUL");
	}
	put(&r->out, rec->raw);
	buf_putc(&r->out, '\n');
	return true;
}

static bool
on_reject(void *ctx, const char *raw, size_t len, const char *reason, uint64_t seq)
{
	FuzzRun    *r = ctx;
	EtlStr		s = {raw, len};
	EtlStr		why = {reason, strlen(reason)};

	check(seq == r->next_seq, "reject seq in order");
	r->next_seq++;
	r->rejects++;
	if (r->as_sent)
		check_sent(raw, len, false, "reject raw is JSON, no NUL");
	else
	{
		check_text(s, "reject raw: no NUL, valid UTF-8");
		check_json(raw, len, false, "reject raw is JSON");
	}
	check_text(why, "reason: valid UTF-8");
	check(strchr(reason, '\n') == NULL && why.len > 0, "reason: one line");
	buf_printf(&r->out, "J%llu ", (unsigned long long) seq);
	put(&r->out, why);
	put(&r->out, s);
	buf_putc(&r->out, '\n');
	return true;
}

/*
 * run_feed: feed the body whole (chunk_seed 0) or in chunks of 1..64 bytes,
 * now and then larger, drawn from chunk_seed; then finish.
 */
static void
run_feed(const uint8_t *data, size_t size, const TransformOptions *opt,
		 uint64_t chunk_seed, FuzzRun *r)
{
	Transform  *t = transform_new(opt, on_record, on_reject, r);
	uint64_t	x = chunk_seed;
	size_t		off = 0;
	bool		ok = true;
	const TransformEnvelope *env;

	check(t != NULL, "transform_new");
	while (ok && off < size)
	{
		size_t		n = size - off;

		if (chunk_seed != 0)
		{
			size_t		want;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			want = (x % 8 == 0) ? 1 + (size_t) (x >> 8) % 4096 : 1 + (size_t) (x >> 8) % 64;
			if (want < n)
				n = want;
		}
		ok = transform_feed(t, (const char *) data + off, n);
		off += n;
	}
	check(transform_bytes(t) == off, "transform_bytes counts what was fed");
	if (ok)
		ok = transform_finish(t);
	r->ok = ok;
	snprintf(r->err, sizeof(r->err), "%s", ok ? "" : transform_error(t));
	check(ok || r->err[0] != '\0', "a failure has a message");
	check(strcmp(r->err, "no error") != 0, "a failure says why");
	env = transform_envelope(t);
	check(env->records == r->records && env->rejects == r->rejects,
		  "envelope counters equal the sink calls");
	check(!transform_sink_stopped(t), "the sinks never stop");
	check(utf8_valid(env->msg, strlen(env->msg)) && utf8_valid(env->error, strlen(env->error)) &&
		  utf8_valid(env->code, strlen(env->code)), "envelope texts are valid UTF-8");
	buf_printf(&r->out, "E%d|%s|%s|%s|%d\n", env->has_code, env->code, env->msg, env->error,
			   (int) env->data);
	transform_free(t);
}

/* strip_offsets: "at byte 123" -> "at byte #", for comparing messages of
 * differently chunked feeds (an error at a token that straddles chunks is
 * reported at the chunk where yajl saw it). */
static void
strip_offsets(char *s)
{
	char	   *p = s;

	while ((p = strstr(p, "at byte ")) != NULL)
	{
		char	   *d = p + strlen("at byte ");
		char	   *e = d;

		while (*e >= '0' && *e <= '9')
			e++;
		if (e > d)
		{
			*d = '#';
			memmove(d + 1, e, strlen(e) + 1);
		}
		p = d;
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char		err[ETL_ERRLEN];

	if (!wvtime_set_zone("America/Bogota", err))
	{
		fprintf(stderr, "fuzz_transform: %s\n", err);
		exit(1);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TransformOptions opt = {0};
	FuzzRun		whole = {.out = BUF_INIT};
	FuzzRun		chunked = {.out = BUF_INIT};
	uint64_t	h = 1469598103934665603ULL;	/* FNV-1a */
	size_t		i;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ULL;
	opt.want_raw = (h >> 60) & 1;
	if ((h >> 61) & 1)
	{
		/* small limits, so that their paths are reached too */
		opt.max_field_bytes = 16 + (h >> 32) % 64;
		opt.max_record_bytes = 256 + (h >> 40) % 1024;
		opt.max_depth = 2 + (int) ((h >> 50) % 8);
	}
	/* personal data protected (hash or drop) in a third of the runs */
	opt.privacy.mode[SF_ANI] = (PrivacyMode) ((h >> 20) % 3);
	opt.privacy.mode[SF_AGENT_DNI] = (PrivacyMode) ((h >> 22) % 3);
	opt.privacy.key = (const unsigned char *) "fuzz-key-0123456789";
	opt.privacy.key_len = 19;

	whole.as_sent = chunked.as_sent = opt.want_raw;
	run_feed(data, size, &opt, 0, &whole);
	run_feed(data, size, &opt, h | 1, &chunked);
	check(!whole.out.failed && !chunked.out.failed, "out of memory");
	strip_offsets(whole.err);
	strip_offsets(chunked.err);
	if (whole.ok != chunked.ok || strcmp(whole.err, chunked.err) != 0 ||
		whole.out.len != chunked.out.len ||
		(whole.out.len > 0 && memcmp(whole.out.data, chunked.out.data, whole.out.len) != 0))
	{
		fprintf(stderr, "whole: ok=%d err=%s records=%llu rejects=%llu\n"
				"chunked: ok=%d err=%s records=%llu rejects=%llu\n",
				whole.ok, whole.err, (unsigned long long) whole.records,
				(unsigned long long) whole.rejects, chunked.ok, chunked.err,
				(unsigned long long) chunked.records, (unsigned long long) chunked.rejects);
		check(false, "whole and chunked feeds agree");
	}
	/* what the transform accepts is JSON (a NUL byte cannot be in valid
	 * JSON text, so the NUL-terminated copy is the whole body) */
	if (whole.ok)
	{
		check(memchr(data, '\0', size) == NULL, "an accepted body has no NUL byte");
		check_json((const char *) data, size, false, "an accepted body is valid JSON");
	}
	buf_free(&whole.out);
	buf_free(&chunked.out);
	return 0;
}
