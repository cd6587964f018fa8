/*
 * tests/unit/test_transform.c
 *   transform/: the pure value parsers, the envelope shapes, typing of
 *   records (contract section 4), extras, U+0000 and ill-formed Unicode,
 *   rejects, limits (with the bound on an unfinished token), JSON errors
 *   with their byte offsets, and the chunk sweep: the fixture
 *   tests/fixtures/chunking.json fed at every chunk size from 1 to 64 bytes
 *   must give exactly what the whole body gives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "common/buf.h"
#include "common/etl.h"
#include "common/wvtime.h"
#include "transform/transform.h"

static const char *const field_names[SF_COUNT] = {
	"conn_id", "agent_id", "agent_name", "agent_dni", "skill_id", "skill_name",
	"ani", "customer_id", "type_interaction", "result", "voice_message", "feeling"
};

/* What the sinks saw, as canonical text (one line per item). */
typedef struct Collect
{
	Buf			out;
	uint64_t	records;
	uint64_t	rejects;
	uint64_t	stop_after;		/* > 0: the record sink stops after this many */
	uint64_t	bytes_fed;		/* what run_body fed before it stopped */
	char		err[ETL_ERRLEN];
	bool		ok;
	bool		stopped;
	TransformEnvelope env;
} Collect;

static void put_esc(Buf *b, const char *s, size_t n);
static void put_str(Buf *b, const char *name, EtlStr s);
static bool collect_record(void *ctx, const SurveyRecord *rec);
static bool collect_reject(void *ctx, const char *raw, size_t len,
						   const char *reason, uint64_t seq);
static bool run_body(const char *body, size_t len, const TransformOptions *opt,
					 size_t chunk, Collect *c);
static bool run_str(const char *body, Collect *c);
static void collect_free(Collect *c);
static void assert_line(const Collect *c, const char *line);
static char *read_file(const char *name, size_t *len);
static int	setup_zone(void **state);
static unsigned long error_offset(const char *err, const char **msg);
static uint64_t feed_until_error(const char *head, char fill, uint64_t max, char *err);

/* put_esc: bytes as is, except control bytes and '\' as \xNN, so the
 * canonical text is one line per item and NUL-safe. */
static void
put_esc(Buf *b, const char *s, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		unsigned char ch = (unsigned char) s[i];

		if (ch < 0x20 || ch == '\\')
			buf_printf(b, "\\x%02x", ch);
		else
			buf_putc(b, (char) ch);
	}
}

static void
put_str(Buf *b, const char *name, EtlStr s)
{
	buf_printf(b, " %s=", name);
	if (s.ptr == NULL)
		buf_puts(b, "NULL");
	else
	{
		buf_putc(b, '|');
		put_esc(b, s.ptr, s.len);
		buf_putc(b, '|');
	}
}

/* collect_record: the whole SurveyRecord as canonical lines. */
static bool
collect_record(void *ctx, const SurveyRecord *rec)
{
	Collect    *c = ctx;
	Buf		   *b = &c->out;
	size_t		i;

	buf_printf(b, "record seq=%llu at=%lld", (unsigned long long) rec->seq,
			   (long long) rec->answered_at);
	if (rec->has_duration)
		buf_printf(b, " time=%d", rec->duration_s);
	else
		buf_puts(b, " time=NULL");
	if (rec->has_vm_duration)
		buf_printf(b, " vm=%d", rec->vm_duration_s);
	else
		buf_puts(b, " vm=NULL");
	buf_putc(b, '\n');
	for (i = 0; i < SF_COUNT; i++)
	{
		put_str(b, field_names[i], rec->field[i]);
		buf_putc(b, '\n');
	}
	for (i = 0; i < rec->n_answers; i++)
	{
		buf_printf(b, " q%d", rec->answers[i].question_no);
		put_str(b, "text", rec->answers[i].text);
		put_str(b, "num", rec->answers[i].num);
		buf_putc(b, '\n');
	}
	put_str(b, "extras", rec->extras);
	buf_putc(b, '\n');
	put_str(b, "raw", rec->raw);
	buf_putc(b, '\n');
	c->records++;
	return c->stop_after == 0 || c->records < c->stop_after;
}

static bool
collect_reject(void *ctx, const char *raw, size_t len, const char *reason, uint64_t seq)
{
	Collect    *c = ctx;

	buf_printf(&c->out, "reject seq=%llu reason=", (unsigned long long) seq);
	put_esc(&c->out, reason, strlen(reason));
	buf_puts(&c->out, " raw=|");
	put_esc(&c->out, raw, len);
	buf_puts(&c->out, "|\n");
	c->rejects++;
	return true;
}

/*
 * run_body: feed body in chunks of `chunk` bytes (0 = whole), then finish.
 * Each chunk is copied into its own malloc'd buffer, freed right after the
 * feed, so ASan catches any pointer kept into a chunk.
 */
static bool
run_body(const char *body, size_t len, const TransformOptions *opt, size_t chunk,
		 Collect *c)
{
	Transform  *t = transform_new(opt, collect_record, collect_reject, c);
	size_t		off = 0;
	bool		ok = true;

	assert_non_null(t);
	if (chunk == 0)
		chunk = len ? len : 1;
	while (ok && off < len)
	{
		size_t		n = len - off < chunk ? len - off : chunk;
		char	   *copy = malloc(n);

		assert_non_null(copy);
		memcpy(copy, body + off, n);
		ok = transform_feed(t, copy, n);
		free(copy);
		off += n;
	}
	if (ok)
		ok = transform_finish(t);
	c->ok = ok;
	c->stopped = transform_sink_stopped(t);
	snprintf(c->err, sizeof(c->err), "%s", ok ? "" : transform_error(t));
	c->env = *transform_envelope(t);
	c->bytes_fed = off;
	assert_int_equal(transform_bytes(t), off);
	buf_cstr(&c->out);
	transform_free(t);
	return ok;
}

static bool
run_str(const char *body, Collect *c)
{
	TransformOptions opt = {.want_raw = true};

	return run_body(body, strlen(body), &opt, 0, c);
}

static void
collect_free(Collect *c)
{
	buf_free(&c->out);
	memset(c, 0, sizeof(*c));
}

/* assert_line: line (without "\n") is one of the collected lines. */
static void
assert_line(const Collect *c, const char *line)
{
	const char *text = c->out.data ? c->out.data : "";
	const char *p = text;
	size_t		n = strlen(line);

	while ((p = strstr(p, line)) != NULL)
	{
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	fprintf(stderr, "line not found:\n%s\nin:\n%s\n", line, text);
	fail();
}

/* read_file: a fixture, from the repository root or next to this file. */
static char *
read_file(const char *name, size_t *len)
{
	char		path[1024];
	const char *dirs[] = {"tests/fixtures", "../fixtures", "../../tests/fixtures"};
	size_t		i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
	{
		FILE	   *f;
		char	   *data;
		long		size;

		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		f = fopen(path, "rb");
		if (f == NULL)
			continue;
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fseek(f, 0, SEEK_SET);
		data = malloc((size_t) size + 1);
		assert_non_null(data);
		assert_int_equal(fread(data, 1, (size_t) size, f), (size_t) size);
		data[size] = '\0';
		fclose(f);
		*len = (size_t) size;
		return data;
	}
	return NULL;
}

static int
setup_zone(void **state)
{
	char		err[ETL_ERRLEN];

	return wvtime_set_zone("America/Bogota", err) ? 0 : -1;
}

/* ---- pure helpers ---- */

static void
test_placeholders(void **state)
{
	assert_true(transform_is_placeholder("", 0));
	assert_true(transform_is_placeholder("-", 1));
	assert_true(transform_is_placeholder("--", 2));
	assert_true(transform_is_placeholder(" ", 1));
	assert_true(transform_is_placeholder(" \t  ", 4));
	assert_false(transform_is_placeholder("---", 3));
	assert_false(transform_is_placeholder("- ", 2));
	assert_false(transform_is_placeholder(" -", 2));
	assert_false(transform_is_placeholder("0", 1));
	assert_false(transform_is_placeholder("a", 1));
	assert_false(transform_is_placeholder("\n", 1));
	assert_false(transform_is_placeholder("null", 4));
	/* counted: the bytes after n do not matter, NUL is a byte */
	assert_true(transform_is_placeholder("-x", 1));
	assert_false(transform_is_placeholder("\0", 1));
}

static void
test_question_keys(void **state)
{
	assert_int_equal(transform_question_no("q01", 3), 1);
	assert_int_equal(transform_question_no("q10", 3), 10);
	assert_int_equal(transform_question_no("Q7", 2), 7);
	assert_int_equal(transform_question_no("q0007", 5), 7);
	assert_int_equal(transform_question_no("q2147483647", 11), 2147483647);
	assert_int_equal(transform_question_no("q00000000000000000042", 21), 42);
	assert_int_equal(transform_question_no("q2147483648", 11), -1);
	assert_int_equal(transform_question_no("q99999999999", 12), -1);
	assert_int_equal(transform_question_no("q0", 2), -1);
	assert_int_equal(transform_question_no("q000", 4), -1);
	assert_int_equal(transform_question_no("q", 1), -1);
	assert_int_equal(transform_question_no("qabc", 4), -1);
	assert_int_equal(transform_question_no("q1a", 3), -1);
	assert_int_equal(transform_question_no("q-1", 3), -1);
	assert_int_equal(transform_question_no("q+1", 3), -1);
	assert_int_equal(transform_question_no("q 1", 3), -1);
	assert_int_equal(transform_question_no("x1", 2), -1);
	assert_int_equal(transform_question_no("q1\0", 3), -1);
	assert_int_equal(transform_question_no("", 0), -1);
}

static void
test_durations(void **state)
{
	static const struct
	{
		const char *s;
		int32_t		v;
	}			good[] = {
		{"00:00:00", 0}, {"01:46:57", 6417}, {"1:00:00", 3600}, {"100:00:01", 360001},
		{"25:59:59", 93599}, {"05:07", 307}, {"5:07", 307}, {"59:59", 3599},
		{"0", 0}, {"90", 90}, {"007", 7}, {"2147483647", 2147483647},
		{"596523:14:07", 2147483647},
	};
	static const char *const bad[] = {
		"", "-5", "+5", "1.5", "abc", "00:60:00", "00:00:60", "60:00", "1:2:3",
		"01:02:3", "01:2:03", "::", "1::", ":00:00", "01:00:00:00", " 90", "90 ",
		"2147483648", "596523:14:08", "99999999999:00:00", "1e3", "0x10", "01:02:03x",
	};
	int32_t		v;
	size_t		i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
	{
		v = -1;
		if (!transform_parse_duration(good[i].s, strlen(good[i].s), &v))
			fail_msg("rejected \"%s\"", good[i].s);
		assert_int_equal(v, good[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		if (transform_parse_duration(bad[i], strlen(bad[i]), &v))
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static void
test_decimals(void **state)
{
	static const char *const good[] = {"0", "5", "-3", "+2", "4.5", "-0.25", "007", "12.50"};
	static const char *const bad[] = {
		"", "-", "+", "1.", ".5", "1.2.3", "1e3", "1E3", " 1", "1 ", "0x1", "NaN",
		"inf", "1,5", "--1", "+-1", "5 "
	};
	size_t		i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(transform_is_decimal(good[i], strlen(good[i])));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		if (transform_is_decimal(bad[i], strlen(bad[i])))
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

/* Beyond PostgreSQL numeric's 16383 fraction digits it is not a decimal. */
static void
test_decimal_numeric_limits(void **state)
{
	size_t		n = 2 + 16384;
	char	   *s = malloc(n);

	assert_non_null(s);
	memset(s, '1', n);
	s[1] = '.';
	assert_false(transform_is_decimal(s, n));
	assert_true(transform_is_decimal(s, n - 1));
	free(s);
}

/* What PostgreSQL numeric (and jsonb) can hold, as numeric_in decides. */
static void
test_number_fits_numeric(void **state)
{
	static const char *const good[] = {
		"0", "-0", "5", "-3", "4.5", "1e1000", "1e131071", "12e131070", "1E+5",
		"1e-16383", "1.5e-16382", "0e200000", "-1.25e-3", "0.000001"
	};
	static const char *const bad[] = {
		"1e131072", "12e131071", "1e200000", "-1e-200000", "1e-16384",
		"1.5e-16383", "0.0e-16383", "0e-200000", "1e99999999999999999999",
		"", "-", "1.", ".5", "1e", "1e+", "NaN", "0x1", "1 "
	};
	size_t		i;
	size_t		n = 131073;
	char	   *s = malloc(n + 3);

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!transform_number_fits_numeric(good[i], strlen(good[i])))
			fail_msg("refused \"%s\"", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (transform_number_fits_numeric(bad[i], strlen(bad[i])))
			fail_msg("accepted \"%s\"", bad[i]);
	/* 131072 digits before the point fit, 131073 do not; a scale of
	 * 16383 fits, 16384 does not (trailing zeros count) */
	assert_non_null(s);
	memset(s, '1', n);
	assert_false(transform_number_fits_numeric(s, n));
	assert_true(transform_number_fits_numeric(s, n - 1));
	memset(s, '0', 16386);
	s[1] = '.';
	assert_false(transform_number_fits_numeric(s, 16386));
	assert_true(transform_number_fits_numeric(s, 16385));
	free(s);
}

/* A number numeric cannot hold: a string of its text in extras (noted),
 * in answers (answer_num NULL) and in nested values; as sent in raw. */
static void
test_numbers_as_text(void **state)
{
	Collect		c = {0};

	assert_true(run_str("[{\"date\":\"2026-01-18\",\"big\":1e200000,\"ok\":1e5,"
						"\"n\":{\"a\":[-1e-99999,2]},\"q1\":1e200000,\"q2\":7,"
						"\"agent_name\":1e200000}]", &c));
	assert_line(&c, " agent_name=|1e200000|");
	assert_line(&c, " extras=|{\"big\":\"1e200000\",\"ok\":1e5,"
				"\"n\":{\"a\":[\"-1e-99999\",2]},\"_numbers_as_text\":[\"big\",\"n\"]}|");
	assert_line(&c, " q1 text=|1e200000| num=NULL");
	assert_line(&c, " q2 text=|7| num=|7|");
	assert_line(&c, " raw=|{\"date\":\"2026-01-18\",\"big\":1e200000,\"ok\":1e5,"
				"\"n\":{\"a\":[-1e-99999,2]},\"q1\":1e200000,\"q2\":7,"
				"\"agent_name\":1e200000}|");
	collect_free(&c);
}

/* ---- the chunk sweep ---- */

static void
test_chunk_sweep(void **state)
{
	TransformOptions opt = {.want_raw = true};
	Collect		whole = {0};
	size_t		len = 0;
	char	   *body = read_file("chunking.json", &len);
	size_t		chunk;

	assert_non_null(body);
	assert_true(run_body(body, len, &opt, 0, &whole));
	assert_int_equal(whole.records, 3);
	assert_int_equal(whole.rejects, 2);
	assert_string_equal(whole.env.code, "200");
	assert_true(whole.env.has_code);
	assert_string_equal(whole.env.msg, " 5 records were found \xc3\xa9\n");
	assert_string_equal(whole.env.error, "null");
	assert_int_equal(whole.env.data, ENV_DATA_ARRAY);

	/* record 0: every fixed field, durations, answers, escapes */
	assert_line(&whole, "record seq=0 at=1768782871 time=6417 vm=42");
	assert_line(&whole, " agent_name=|Jos\xc3\xa9 \xc3\x91" "and\xc3\xba \xf0\x9f\x98\x80 D\xc3\xaf" "az \xf0\x9f\x98\x80|");
	assert_line(&whole, " skill_name=|Soporte \xe4\xb8\xad\xe6\x96\x87 \xe2\x82\xac \xe4\xb8\xad|");
	assert_line(&whole, " customer_id=NULL");
	assert_line(&whole, " voice_message=|path/to/file \\x5c \"q\" \\x08\\x0c\\x0d\\x1f|");
	assert_line(&whole, " q1 text=|5| num=|5|");
	assert_line(&whole, " q2 text=|4.5| num=|4.5|");
	assert_line(&whole, " q5 text=|muy bien\\x09gracias| num=NULL");
	assert_line(&whole, " q8 text=|10| num=|10|");
	assert_line(&whole, " q9 text=|-3| num=|-3|");
	assert_line(&whole, " q10 text=|1e3| num=NULL");
	assert_null(strstr(whole.out.data, " q3 text=|-|"));
	assert_null(strstr(whole.out.data, " q6 "));

	/* record 1: numbers, booleans, nested, extras, later q wins, NUL */
	assert_line(&whole, "record seq=1 at=1768798799 time=NULL vm=90");
	assert_line(&whole, " agent_id=|1002|");
	assert_line(&whole, " agent_name=|Ana\\x0aMar\xc3\xad" "a|");
	assert_line(&whole, " result=|abandon|");
	assert_line(&whole, " q1 text=|4| num=|4|");
	assert_line(&whole, " q2 text=|true| num=NULL");
	assert_line(&whole, " q4 text=|12.50| num=|12.50|");
	assert_line(&whole, " extras=|{\"time\":\"abc\",\"custom\":{\"k\":[1,-2.5e-3,\"\xc3\xbc\","
				"{\"z\":null}],\"e\":{},\"ab\":\"c\"},\"tags\":[],"
				"\"_nul_removed\":[\"custom\",\"result\"]}|");
	/* raw: the record as sent, U+0000 included (wvetl extract) */
	assert_line(&whole, " raw=|{\"agent_id\":1002,\"agent_name\":\"Ana\\x5cnMar\xc3\xad" "a\","
				"\"date\":\"2026-01-18T23:59:59\",\"conn_id\":\"a.b.c\",\"time\":\"abc\","
				"\"voice_message_duration\":90,\"q1\":\"3\",\"q01\":\"4\",\"Q2\":true,"
				"\"q3\":null,\"q4\":12.50,\"custom\":{\"k\":[1,-2.5e-3,\"\xc3\xbc\","
				"{\"z\":null}],\"e\":{},\"a\\x5cu0000b\":\"c\\x5cu0000\"},\"tags\":[],"
				"\"feeling\":\"neutral\",\"result\":\"\\x5cu0000abandon\"}|");

	/* record 2 is rejected; 3 is loaded; 4 is rejected */
	assert_line(&whole, "reject seq=2 reason=unreadable date \"2026-13-40 00:00:00\" "
				"raw=|{\"agent_id\":\"1003\",\"date\":\"2026-13-40 00:00:00\",\"conn_id\":\"bad\","
				"\"q01\":\"1\",\"note\":\"r\xc3\xa9ject \xf0\x9d\x84\x9e\"}|");
	assert_line(&whole, "record seq=3 at=1768798862 time=307 vm=NULL");
	assert_line(&whole, " conn_id=|zz|");
	assert_line(&whole, " skill_name=|\xf0\x9d\x84\x9e music|");
	assert_line(&whole, " q7 text=|7| num=|7|");
	assert_line(&whole, " extras=|{\"qabc\":\"x\",\"q0\":\"y\",\"q99999999999\":\"z\","
				"\"time_extra\":1E2,\"_nul_removed\":[\"conn_id\"]}|");
	assert_line(&whole, "reject seq=4 reason=missing date raw=|{\"conn_id\":\"nodate\","
				"\"agent_name\":\"\xc3\xa9\"}|");

	for (chunk = 1; chunk <= 64; chunk++)
	{
		Collect		part = {0};

		assert_true(run_body(body, len, &opt, chunk, &part));
		if (strcmp(part.out.data, whole.out.data) != 0)
		{
			fprintf(stderr, "chunk size %zu differs:\n%s\n--- whole ---\n%s\n", chunk,
					part.out.data, whole.out.data);
			fail();
		}
		assert_memory_equal(&part.env, &whole.env, sizeof(part.env));
		collect_free(&part);
	}
	collect_free(&whole);
	free(body);
}

/* ---- envelope shapes ---- */

static void
test_envelope_variants(void **state)
{
	Collect		c = {0};

	assert_true(run_str("{\"code\":200,\"error\":null,\"msg\":\"1 records were found\","
						"\"data\":[{\"date\":\"2026-01-18 19:34:31\"}]}", &c));
	assert_string_equal(c.env.code, "200");
	assert_true(c.env.has_code);
	assert_string_equal(c.env.msg, "1 records were found");
	assert_int_equal(c.env.data, ENV_DATA_ARRAY);
	assert_int_equal(c.env.records, 1);
	collect_free(&c);

	assert_true(run_str("{\"code\":\" \",\"error\":\"x\",\"data\":{\"date\":\"2026-01-18\"}}", &c));
	assert_string_equal(c.env.code, " ");
	assert_string_equal(c.env.error, "x");
	assert_int_equal(c.env.data, ENV_DATA_OBJECT);
	assert_int_equal(c.env.records, 1);
	assert_line(&c, "record seq=0 at=1768712400 time=NULL vm=NULL");
	collect_free(&c);

	assert_true(run_str("{\"code\":404,\"msg\":\"Validate dates entered\",\"data\":null}", &c));
	assert_string_equal(c.env.code, "404");
	assert_string_equal(c.env.msg, "Validate dates entered");
	assert_int_equal(c.env.data, ENV_DATA_NULL);
	assert_int_equal(c.env.records, 0);
	collect_free(&c);

	assert_true(run_str("{\"code\":\"404\",\"msg\":\"Validate dates entered\"}", &c));
	assert_int_equal(c.env.data, ENV_DATA_MISSING);
	assert_string_equal(c.env.error, "");
	collect_free(&c);

	assert_true(run_str("{\"data\":\"none\"}", &c));
	assert_int_equal(c.env.data, ENV_DATA_OTHER);
	assert_false(c.env.has_code);
	collect_free(&c);

	assert_true(run_str("{\"data\":[]}", &c));
	assert_int_equal(c.env.data, ENV_DATA_ARRAY);
	assert_int_equal(c.env.records, 0);
	collect_free(&c);

	/* a bare array of records (a replayed data array) */
	assert_true(run_str("[{\"date\":\"2026-01-18 19:34:31\"},{\"date\":\"2026-01-18 19:34:32\"}]", &c));
	assert_int_equal(c.env.records, 2);
	assert_line(&c, "record seq=1 at=1768782872 time=NULL vm=NULL");
	collect_free(&c);

	/* long msg: cut at a UTF-8 boundary, NUL-terminated */
	{
		char		body[2048];
		size_t		n = (size_t) snprintf(body, sizeof(body), "{\"msg\":\"a");
		int			i;

		for (i = 0; i < 600; i++)
			n += (size_t) snprintf(body + n, sizeof(body) - n, "\xc3\xa9");
		snprintf(body + n, sizeof(body) - n, "\"}");
		assert_true(run_str(body, &c));
		assert_int_equal(strlen(c.env.msg), 511);
		assert_int_equal((unsigned char) c.env.msg[509], 0xc3);
		assert_int_equal((unsigned char) c.env.msg[510], 0xa9);
		collect_free(&c);
	}
}

/* Other top-level keys are skipped whatever their size or content, even
 * when they hold something that looks like records. */
static void
test_skip_big_values(void **state)
{
	Buf			b = BUF_INIT;
	Collect		c = {0};
	int			i;

	buf_puts(&b, "{\"code\":200,\"big\":{\"data\":[{\"date\":\"2026-01-18\"}],\"list\":[");
	for (i = 0; i < 50000; i++)
		buf_printf(&b, "%s{\"date\":\"2026-01-18\",\"k\":[[%d,\"x\\u0000\"],{}]}", i ? "," : "", i);
	buf_puts(&b, "]},\"data\":[{\"date\":\"2026-01-18 00:00:01\"}],\"after\":[[[[[1]]]]]}");
	assert_true(b.len > 1000000);
	assert_true(run_body(b.data, b.len, NULL, 4096, &c));
	assert_int_equal(c.env.records, 1);
	assert_int_equal(c.env.rejects, 0);
	assert_line(&c, "record seq=0 at=1768712401 time=NULL vm=NULL");
	collect_free(&c);
	buf_free(&b);
}

/* ---- typing ---- */

static void
test_fixed_fields_json_values(void **state)
{
	Collect		c = {0};

	assert_true(run_str("[{\"date\":\"2026-01-18 19:34:31\",\"conn_id\":123.40,"
						"\"agent_id\":-7,\"agent_name\":true,\"agent_dni\":false,"
						"\"skill_id\":null,\"skill_name\":{\"a\":[1,\"b\"]},\"ani\":[],"
						"\"customer_id\":\"--\",\"type_interaction\":\" \\t \","
						"\"result\":\" x \",\"feeling\":\"-\"}]", &c));
	assert_line(&c, " conn_id=|123.40|");
	assert_line(&c, " agent_id=|-7|");
	assert_line(&c, " agent_name=|true|");
	assert_line(&c, " agent_dni=|false|");
	assert_line(&c, " skill_id=NULL");
	assert_line(&c, " skill_name=|{\"a\":[1,\"b\"]}|");
	assert_line(&c, " ani=|[]|");
	assert_line(&c, " customer_id=NULL");
	assert_line(&c, " type_interaction=NULL");
	assert_line(&c, " result=| x |");
	assert_line(&c, " feeling=NULL");
	assert_line(&c, " extras=NULL");
	collect_free(&c);

	/* known keys are case-sensitive; the later of two equal keys wins */
	assert_true(run_str("[{\"date\":\"2026-01-18\",\"Conn_ID\":\"a\",\"conn_id\":\"b\","
						"\"conn_id\":\"c\"}]", &c));
	assert_line(&c, " conn_id=|c|");
	assert_line(&c, " extras=|{\"Conn_ID\":\"a\"}|");
	collect_free(&c);
}

static void
test_durations_in_records(void **state)
{
	Collect		c = {0};

	assert_true(run_str("[{\"date\":\"2026-01-18\",\"time\":\"-\",\"voice_message_duration\":null},"
						"{\"date\":\"2026-01-18\",\"time\":3600,\"voice_message_duration\":\"01:00\"},"
						"{\"date\":\"2026-01-18\",\"time\":\"1:2\",\"voice_message_duration\":1.5},"
						"{\"date\":\"2026-01-18\",\"time\":{\"h\":1},\"voice_message_duration\":\"\"}]",
						&c));
	assert_line(&c, "record seq=0 at=1768712400 time=NULL vm=NULL");
	assert_line(&c, "record seq=1 at=1768712400 time=3600 vm=60");
	assert_line(&c, "record seq=2 at=1768712400 time=NULL vm=NULL");
	assert_line(&c, " extras=|{\"time\":\"1:2\",\"voice_message_duration\":1.5}|");
	assert_line(&c, "record seq=3 at=1768712400 time=NULL vm=NULL");
	assert_line(&c, " extras=|{\"time\":{\"h\":1}}|");
	collect_free(&c);
}

static void
test_answers(void **state)
{
	Collect		c = {0};

	/* out of order, duplicates (later wins, even when it is a placeholder),
	 * any case, leading zeros, non-questions to extras */
	assert_true(run_str("[{\"date\":\"2026-01-18\",\"q10\":\"x\",\"Q02\":\"2\",\"q1\":\"1\","
						"\"q002\":\"+2.0\",\"q3\":\"3\",\"q03\":\" \",\"q4\":4,\"q5\":null,"
						"\"q6\":\"\\u0000\",\"q7\":\"5\\u00007\",\"q0\":\"0\",\"question\":\"?\","
						"\"q8\":[1]}]", &c));
	assert_line(&c, " q1 text=|1| num=|1|");
	assert_line(&c, " q2 text=|+2.0| num=|+2.0|");
	assert_line(&c, " q4 text=|4| num=|4|");
	assert_line(&c, " q7 text=|57| num=|57|");
	assert_line(&c, " q8 text=|[1]| num=NULL");
	assert_line(&c, " q10 text=|x| num=NULL");
	assert_null(strstr(c.out.data, " q3 "));
	assert_null(strstr(c.out.data, " q5 "));
	assert_null(strstr(c.out.data, " q6 "));	/* "" once NUL is removed */
	assert_line(&c, " extras=|{\"q0\":\"0\",\"question\":\"?\",\"_nul_removed\":[\"q6\",\"q7\"]}|");
	/* the order of answers is by question number */
	assert_true(strstr(c.out.data, " q1 ") < strstr(c.out.data, " q2 "));
	assert_true(strstr(c.out.data, " q8 ") < strstr(c.out.data, " q10 "));
	collect_free(&c);
}

static void
test_nul_handling(void **state)
{
	Collect		c = {0};

	assert_true(run_str("[{\"date\":\"2026-01-18\",\"agent_name\":\"\\u0000a\\u0000b\\u0000\","
						"\"x\\u0000y\":\"v\",\"deep\":[{\"k\\u0000\":\"\\u0000\"}],"
						"\"feeling\":\"\\u0000\"}]", &c));
	assert_line(&c, " agent_name=|ab|");
	assert_line(&c, " feeling=NULL");
	assert_line(&c, " extras=|{\"xy\":\"v\",\"deep\":[{\"k\":\"\"}],"
				"\"_nul_removed\":[\"agent_name\",\"xy\",\"deep\",\"feeling\"]}|");
	/* raw is the record as sent (wvetl extract): U+0000 kept, escaped */
	assert_line(&c, " raw=|{\"date\":\"2026-01-18\",\"agent_name\":\"\\x5cu0000a\\x5cu0000b\\x5cu0000\","
				"\"x\\x5cu0000y\":\"v\",\"deep\":[{\"k\\x5cu0000\":\"\\x5cu0000\"}],"
				"\"feeling\":\"\\x5cu0000\"}|");
	/* no NUL byte anywhere in what the sinks got */
	assert_null(strstr(c.out.data, "\\x00"));
	collect_free(&c);
}

/*
 * What yajl lets through but PostgreSQL cannot hold: a lone low surrogate
 * escape (yajl decodes \\uDC00..\\uDFFF into UTF-8 bytes of a surrogate)
 * and raw sequences whose structure alone yajl's lexer checks (overlong,
 * surrogate, above U+10FFFF). Each maximal ill-formed subpart becomes
 * U+FFFD, in keys, values, nested values, rejects and the envelope, and
 * extras names the keys; the fix is the same at every chunk size.
 */
static void
test_invalid_unicode(void **state)
{
#define R "\xef\xbf\xbd"				/* U+FFFD */
	const char *body = "{\"msg\":\"m\xc0\x80\",\"data\":["
		"{\"date\":\"2026-01-18\",\"agent_name\":\"a\\udd83b\","
		"\"skill_name\":\"\xed\xa0\x80|\xe0\x80\x80|\xf4\x90\x80\x80|\xf5\x80\x80\x80\","
		"\"k\xc1\xbf\":\"v\",\"n\":[\"\\udfff\",{\"\\udc00\":1}],"
		"\"q01\":\"\\u0000x\\udc00\",\"feeling\":\"\xed\x9f\xbf \xf0\x9f\x98\x80\"},"
		"{\"date\":\"\\udc01\"},\"\\udfaa\"]}";
	TransformOptions opt = {.want_raw = true};
	Collect		whole = {0};
	size_t		chunk;

	assert_true(run_body(body, strlen(body), &opt, 0, &whole));
	assert_string_equal(whole.env.msg, "m" R R);
	assert_line(&whole, " agent_name=|a" R R R "b|");
	assert_line(&whole, " skill_name=|" R R R "|" R R R "|" R R R R "|" R R R R "|");
	assert_line(&whole, " q1 text=|x" R R R "| num=NULL");
	/* the last code points before the surrogates and an emoji: kept */
	assert_line(&whole, " feeling=|\xed\x9f\xbf \xf0\x9f\x98\x80|");
	assert_line(&whole, " extras=|{\"k" R R "\":\"v\",\"n\":[\"" R R R "\",{\"" R R R "\":1}],"
				"\"_nul_removed\":[\"q01\"],\"_invalid_unicode_replaced\":"
				"[\"agent_name\",\"skill_name\",\"k" R R "\",\"n\",\"q01\"]}|");
	/* the reject's raw is as sent: the lone surrogate as its escape */
	assert_line(&whole, "reject seq=1 reason=unreadable date \"" R R R "\" raw=|{\"date\":\"\\x5cudc01\"}|");
	assert_line(&whole, "reject seq=2 reason=record is not a JSON object raw=|\"" R R R "\"|");
	for (chunk = 1; chunk <= 16; chunk++)
	{
		Collect		part = {0};

		assert_true(run_body(body, strlen(body), &opt, chunk, &part));
		assert_string_equal(part.out.data, whole.out.data);
		collect_free(&part);
	}
	collect_free(&whole);
#undef R
}

static void
test_rejects(void **state)
{
	Collect		c = {0};

	assert_true(run_str("{\"data\":[{\"date\":\"2026-01-18\",\"conn_id\":\"1\"},"
						"{\"conn_id\":\"2\"},"
						"{\"conn_id\":\"3\",\"date\":\"\"},"
						"{\"conn_id\":\"4\",\"date\":\"  \"},"
						"{\"conn_id\":\"5\",\"date\":null},"
						"{\"conn_id\":\"6\",\"date\":\"18/01/2026\"},"
						"{\"conn_id\":\"7\",\"date\":{\"d\":1}},"
						"{\"conn_id\":\"8\",\"date\":\"2026-01-18\\n\\\"x\"},"
						"\"text\",null,[1,{\"a\":[]}],"
						"{\"conn_id\":\"9\",\"date\":20260118000000}]}", &c));
	assert_int_equal(c.env.records, 2);
	assert_int_equal(c.env.rejects, 10);
	assert_line(&c, "reject seq=1 reason=missing date raw=|{\"conn_id\":\"2\"}|");
	assert_line(&c, "reject seq=2 reason=missing date raw=|{\"conn_id\":\"3\",\"date\":\"\"}|");
	assert_line(&c, "reject seq=3 reason=missing date raw=|{\"conn_id\":\"4\",\"date\":\"  \"}|");
	assert_line(&c, "reject seq=4 reason=missing date raw=|{\"conn_id\":\"5\",\"date\":null}|");
	assert_line(&c, "reject seq=5 reason=unreadable date \"18/01/2026\" "
				"raw=|{\"conn_id\":\"6\",\"date\":\"18/01/2026\"}|");
	assert_line(&c, "reject seq=6 reason=unreadable date \"{\\x5c\"d\\x5c\":1}\" "
				"raw=|{\"conn_id\":\"7\",\"date\":{\"d\":1}}|");
	/* the reason stays one line: the value is JSON-escaped in it */
	assert_line(&c, "reject seq=7 reason=unreadable date \"2026-01-18\\x5cn\\x5c\"x\" "
				"raw=|{\"conn_id\":\"8\",\"date\":\"2026-01-18\\x5cn\\x5c\"x\"}|");
	assert_line(&c, "reject seq=8 reason=record is not a JSON object raw=|\"text\"|");
	assert_line(&c, "reject seq=9 reason=record is not a JSON object raw=|null|");
	assert_line(&c, "reject seq=10 reason=record is not a JSON object raw=|[1,{\"a\":[]}]|");
	assert_line(&c, "record seq=11 at=1768712400 time=NULL vm=NULL");
	collect_free(&c);
}

static void
test_raw_only_when_asked(void **state)
{
	TransformOptions opt = {.want_raw = false};
	Collect		c = {0};
	const char *body = "[{\"date\":\"2026-01-18\"},{\"x\":1}]";

	assert_true(run_body(body, strlen(body), &opt, 0, &c));
	assert_line(&c, " raw=NULL");
	assert_line(&c, "reject seq=1 reason=missing date raw=|{\"x\":1}|");
	collect_free(&c);
}

/*
 * test_window_bounds: a record dated outside the window the body answers is
 * rejected with that reason, exactly at the bounds: the window's first
 * second and its last (the API's inclusive date_end, to - 1 s) are in, the
 * second before and the window's end are out; a half of a split window
 * likewise. With want_raw the raw text is the record as sent.
 */
static void
test_window_bounds(void **state)
{
	/* [2026-01-18 00:00, 2026-01-19 00:00) in Bogota (UTC-5) */
	TransformOptions opt = {.window_from = 1768712400, .window_to = 1768798800};
	Collect		c = {0};
	const char *body = "[{\"date\":\"2026-01-17 23:59:59\",\"conn_id\":\"a\"},"
		"{\"date\":\"2026-01-18 00:00:00\",\"conn_id\":\"b\"},"
		"{\"date\":\"2026-01-18 23:59:59\",\"conn_id\":\"c\"},"
		"{\"date\":\"20260119000000\",\"conn_id\":\"d\"}]";

	assert_true(run_body(body, strlen(body), &opt, 0, &c));
	assert_int_equal(c.env.records, 2);
	assert_int_equal(c.env.rejects, 2);
	assert_int_equal(c.env.outside, 2);
	assert_line(&c, "reject seq=0 reason=date 2026-01-17 23:59:59 is outside the window "
				"[2026-01-18 00:00:00, 2026-01-19 00:00:00) it came in "
				"raw=|{\"date\":\"2026-01-17 23:59:59\",\"conn_id\":\"a\"}|");
	assert_line(&c, "record seq=1 at=1768712400 time=NULL vm=NULL");
	assert_line(&c, "record seq=2 at=1768798799 time=NULL vm=NULL");
	assert_line(&c, "reject seq=3 reason=date 2026-01-19 00:00:00 is outside the window "
				"[2026-01-18 00:00:00, 2026-01-19 00:00:00) it came in "
				"raw=|{\"date\":\"20260119000000\",\"conn_id\":\"d\"}|");
	collect_free(&c);

	/* the first half of the day split at the record cap: [00:00, 12:00) */
	opt.window_to = 1768712400 + 43200;
	opt.want_raw = true;
	body = "[{\"date\":\"2026-01-18 11:59:59\"},{\"date\":\"2026-01-18T12:00:00\"}]";
	assert_true(run_body(body, strlen(body), &opt, 1, &c));
	assert_int_equal(c.env.records, 1);
	assert_int_equal(c.env.outside, 1);
	assert_line(&c, "record seq=0 at=1768755599 time=NULL vm=NULL");
	assert_line(&c, "reject seq=1 reason=date 2026-01-18 12:00:00 is outside the window "
				"[2026-01-18 00:00:00, 2026-01-18 12:00:00) it came in "
				"raw=|{\"date\":\"2026-01-18T12:00:00\"}|");
	collect_free(&c);
}

/* ---- personal data (privacy.*) ---- */

/* RFC 4231, test case 2: the HMAC-SHA256 the hash mode writes. */
static void
test_privacy_hash(void **state)
{
	char		out[TRANSFORM_HASH_LEN + 1];
	const char *data = "what do ya want for nothing?";

	transform_privacy_hash((const unsigned char *) "Jefe", 4, data, strlen(data), out);
	assert_string_equal(out, "hmac:5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	assert_true(transform_is_protected(out, strlen(out)));
	out[10] = 'A';				/* upper-case hex is not the form written */
	assert_false(transform_is_protected(out, strlen(out)));
	assert_false(transform_is_protected("hmac:12", 7));
	assert_false(transform_is_protected("3001234567", 10));
}

/* One body through a transform with privacy, at every chunk size; the
 * output of the whole feed is returned in *whole. */
static void
privacy_run(const char *body, const TransformOptions *opt, Collect *whole)
{
	assert_true(run_body(body, strlen(body), opt, 0, whole));
	for (size_t chunk = 1; chunk <= 24; chunk++)
	{
		Collect		part = {0};

		assert_true(run_body(body, strlen(body), opt, chunk, &part));
		assert_string_equal(part.out.data, whole->out.data);
		collect_free(&part);
	}
}

static void
test_privacy_records(void **state)
{
	const char *key = "k3y-for-tests-only";
	TransformOptions opt = {.want_raw = true};
	const char *body = "{\"data\":[{\"date\":\"2026-01-18\",\"ani\":\"3001234567\","
		"\"customer_id\":3001234567,\"agent_dni\":\"-\",\"ANI\":\"3001234567\","
		"\"deep\":{\"ani\":\"x\"},\"feeling\":\"ok\"},"
		"{\"ani\":\"3001234567\",\"conn_id\":\"2\"},"
		"{\"date\":\"2026-01-18\",\"agent_dni\":{\"n\":\"7654321\"},\"ani\":null}]}";
	char		h[TRANSFORM_HASH_LEN + 1];
	char		line[512];
	Collect		c = {0};
	Collect		again = {0};

	opt.privacy.mode[SF_ANI] = PRIVACY_HASH;
	opt.privacy.mode[SF_CUSTOMER_ID] = PRIVACY_HASH;
	opt.privacy.mode[SF_AGENT_DNI] = PRIVACY_DROP;
	opt.privacy.key = (const unsigned char *) key;
	opt.privacy.key_len = strlen(key);
	transform_privacy_hash(opt.privacy.key, opt.privacy.key_len, "3001234567", 10, h);

	privacy_run(body, &opt, &c);
	/* a string and a number with the same text hash alike */
	snprintf(line, sizeof(line), " ani=|%s|", h);
	assert_line(&c, line);
	snprintf(line, sizeof(line), " customer_id=|%s|", h);
	assert_line(&c, line);
	/* a placeholder stays a placeholder (NULL), dropped values are NULL */
	assert_line(&c, " agent_dni=NULL");
	/* another case of the key goes to extras, protected; a key of that
	 * name inside another value is not the record's */
	snprintf(line, sizeof(line), " extras=|{\"ANI\":\"%s\",\"deep\":{\"ani\":\"x\"}}|", h);
	assert_line(&c, line);
	snprintf(line, sizeof(line), " raw=|{\"date\":\"2026-01-18\",\"ani\":\"%s\","
			 "\"customer_id\":\"%s\",\"agent_dni\":\"-\",\"ANI\":\"%s\","
			 "\"deep\":{\"ani\":\"x\"},\"feeling\":\"ok\"}|", h, h, h);
	assert_line(&c, line);
	/* a reject's raw text is protected too */
	snprintf(line, sizeof(line), "reject seq=1 reason=missing date raw=|{\"ani\":\"%s\","
			 "\"conn_id\":\"2\"}|", h);
	assert_line(&c, line);
	/* a nested value is dropped whole; null stays null */
	assert_line(&c, " raw=|{\"date\":\"2026-01-18\",\"agent_dni\":null,\"ani\":null}|");
	/* the clear values are nowhere */
	assert_null(strstr(c.out.data, "3001234567"));
	assert_null(strstr(c.out.data, "7654321"));

	/* the protected records, fed again (a replayed archive), give the
	 * same output: a value already protected is kept */
	{
		Buf			body2 = BUF_INIT;
		const char *p = c.out.data;
		const char *q;
		size_t		n = 0;

		buf_putc(&body2, '[');
		while ((p = strstr(p, "raw=|")) != NULL)
		{
			p += 5;
			q = strchr(p, '|');
			if (n++ > 0)
				buf_putc(&body2, ',');
			buf_append(&body2, p, (size_t) (q - p));
			p = q;
		}
		buf_putc(&body2, ']');
		privacy_run(buf_cstr(&body2), &opt, &again);
		assert_string_equal(again.out.data, c.out.data);
		buf_free(&body2);
	}
	collect_free(&c);
	collect_free(&again);

	/* without want_raw, the reject's raw is built from protected fields */
	opt.want_raw = false;
	privacy_run(body, &opt, &c);
	snprintf(line, sizeof(line), "reject seq=1 reason=missing date raw=|{\"ani\":\"%s\","
			 "\"conn_id\":\"2\"}|", h);
	assert_line(&c, line);
	assert_null(strstr(c.out.data, "3001234567"));
	collect_free(&c);
}

/* A value cleaned of U+0000 hashes as its cleaned text and leaves no
 * _nul_removed note: the protected text, replayed, gives the same extras. */
static void
test_privacy_cleaned(void **state)
{
	TransformOptions opt = {.want_raw = true};
	char		h[TRANSFORM_HASH_LEN + 1];
	char		line[512];
	Collect		c = {0};

	opt.privacy.mode[SF_ANI] = PRIVACY_HASH;
	opt.privacy.key = (const unsigned char *) "k";
	opt.privacy.key_len = 1;
	transform_privacy_hash(opt.privacy.key, 1, "300", 3, h);
	privacy_run("[{\"date\":\"2026-01-18\",\"ani\":\"3\\u000000\",\"x\":\"\\u0000\"}]", &opt, &c);
	snprintf(line, sizeof(line), " ani=|%s|", h);
	assert_line(&c, line);
	assert_line(&c, " extras=|{\"x\":\"\",\"_nul_removed\":[\"x\"]}|");
	snprintf(line, sizeof(line), " raw=|{\"date\":\"2026-01-18\",\"ani\":\"%s\",\"x\":\"\\x5cu0000\"}|", h);
	assert_line(&c, line);
	collect_free(&c);
}

/* ---- limits ---- */

static void
test_limits(void **state)
{
	TransformOptions opt = {.max_field_bytes = 16, .max_record_bytes = 200, .max_depth = 6};
	Collect		c = {0};
	const char *body;

	body = "[{\"date\":\"2026-01-18\"},{\"agent_name\":\"12345678901234567\"}]";
	assert_false(run_body(body, strlen(body), &opt, 3, &c));
	assert_string_equal(c.err, "record 1: value of \"agent_name\" is longer than 16 bytes");
	assert_false(c.stopped);
	assert_int_equal(c.env.records, 1);
	collect_free(&c);

	body = "[{\"agent_name\":\"1234567890123456\"}]";	/* exactly the limit */
	assert_true(run_body(body, strlen(body), &opt, 0, &c));
	collect_free(&c);

	body = "[{\"nested\":[1,2,3,4,5,6,7,8,9]}]";
	assert_false(run_body(body, strlen(body), &opt, 0, &c));
	assert_string_equal(c.err, "record 0: value of \"nested\" is longer than 16 bytes");
	collect_free(&c);

	body = "[{\"k12345678901234567\":1}]";
	assert_false(run_body(body, strlen(body), &opt, 0, &c));
	assert_string_equal(c.err, "record 0: a key is longer than 16 bytes");
	collect_free(&c);

	body = "[{\"a\":[[[[[1]]]]]}]";
	assert_false(run_body(body, strlen(body), &opt, 1, &c));
	assert_string_equal(c.err, "record 0: value of \"a\" is nested deeper than 6 levels at byte 11");
	collect_free(&c);

	body = "{\"other\":[[[[[[[1]]]]]]]}";
	assert_false(run_body(body, strlen(body), &opt, 0, &c));
	assert_non_null(strstr(c.err, "nested deeper than 6 levels"));
	collect_free(&c);

	body = "[{\"a\":\"1234567890\",\"b\":\"1234567890\",\"c\":\"1234567890\",\"d\":\"1234567890\","
		"\"e\":\"1234567890\",\"f\":\"1234567890\",\"g\":\"1234567890\",\"h\":\"1234567890\","
		"\"i\":\"1234567890\",\"j\":\"1234567890\",\"k\":\"1234567890\",\"l\":\"1234567890\","
		"\"m\":\"1234567890\",\"n\":\"1234567890\",\"o\":\"1234567890\",\"p\":\"1234567890\","
		"\"q\":\"1234567890\",\"r\":\"1234567890\",\"s\":\"1234567890\"}]";
	assert_false(run_body(body, strlen(body), &opt, 0, &c));
	assert_non_null(strstr(c.err, "record 0 is larger than 200 bytes (its keys and values as JSON text"));
	collect_free(&c);
}

/* body_of: head, then piece n times, then tail, into b (reset first). */
static void
body_of(Buf *b, const char *head, const char *piece, size_t n, const char *tail)
{
	buf_reset(b);
	buf_puts(b, head);
	for (size_t i = 0; i < n; i++)
		buf_puts(b, piece);
	buf_puts(b, tail);
}

/*
 * What a hostile body cannot make the transform hold, at default limits:
 * a record of a million empty keys, or of strings of control characters
 * (small decoded, six times larger as JSON), ends at 4 MiB; a record of
 * 20,000 question keys in reverse fits and its answers come out sorted
 * (100,000 keys do not fit the 4 MiB, with what each key costs);
 * an envelope key the transform skips ends at 4 MiB of it, not at the
 * end of the body.
 */
static void
test_record_budget(void **state)
{
	Buf			b = BUF_INIT;
	Collect		c = {0};
	char		piece[32];

	(void) state;
	body_of(&b, "[{\"date\":\"2026-01-18\"", ",\"\":0", 1000000, "}]");
	assert_false(run_body(b.data, b.len, NULL, 65536, &c));
	assert_non_null(strstr(c.err, "record 0 is larger than 4194304 bytes"));
	collect_free(&c);

	buf_reset(&b);
	buf_puts(&b, "[{\"date\":\"2026-01-18\"");
	for (int k = 0; k < 20; k++)
	{
		buf_printf(&b, ",\"k%d\":\"", k);
		for (int i = 0; i < 100000; i++)
			buf_puts(&b, "\\u0001");
		buf_putc(&b, '"');
	}
	buf_puts(&b, "}]");
	assert_false(run_body(b.data, b.len, NULL, 65536, &c));
	assert_non_null(strstr(c.err, "record 0 is larger than 4194304 bytes"));
	collect_free(&c);

	buf_reset(&b);
	buf_puts(&b, "[{\"date\":\"2026-01-18\"");
	for (int q = 20000; q >= 1; q--)
	{
		snprintf(piece, sizeof(piece), ",\"q%d\":\"%d\"", q, q % 10);
		buf_puts(&b, piece);
	}
	buf_puts(&b, ",\"q7\":\"later\"}]");
	assert_true(run_body(b.data, b.len, NULL, 65536, &c));
	assert_int_equal(c.records, 1);
	assert_line(&c, " q1 text=|1| num=|1|");
	assert_line(&c, " q7 text=|later| num=NULL");
	assert_line(&c, " q20000 text=|0| num=|0|");
	/* ascending: q2 comes right after q1 */
	assert_non_null(strstr(c.out.data, " q1 text=|1| num=|1|\n q2 text=|2| num=|2|\n"));
	collect_free(&c);

	body_of(&b, "{\"x\":[", "0,", 3000000, "0],\"data\":[]}");
	assert_false(run_body(b.data, b.len, NULL, 65536, &c));
	assert_non_null(strstr(c.err, "the body holds more than 4194304 bytes outside its records by byte"));
	assert_true(c.bytes_fed < 4194304 + 65536 + 65536);
	collect_free(&c);
	buf_free(&b);
}

/* Default limits: a 2 MiB value fails cleanly; 40 levels too. */
static void
test_default_limits(void **state)
{
	Buf			b = BUF_INIT;
	Collect		c = {0};
	size_t		i;

	buf_puts(&b, "[{\"date\":\"2026-01-18\",\"agent_name\":\"");
	for (i = 0; i < 2 * 1024 * 1024; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\"}]");
	assert_false(run_body(b.data, b.len, NULL, 65536, &c));
	assert_string_equal(c.err, "record 0: value of \"agent_name\" is longer than 1048576 bytes");
	collect_free(&c);

	buf_reset(&b);
	buf_puts(&b, "[{\"date\":\"2026-01-18\",\"deep\":");
	for (i = 0; i < 40; i++)
		buf_putc(&b, '[');
	for (i = 0; i < 40; i++)
		buf_putc(&b, ']');
	buf_puts(&b, "}]");
	assert_false(run_body(b.data, b.len, NULL, 0, &c));
	assert_string_equal(c.err, "record 0: value of \"deep\" is nested deeper than 32 levels at byte 60");
	collect_free(&c);
	buf_free(&b);
}

/*
 * feed_until_error: feed head, then `fill` in chunks of 64 KiB until the
 * transform refuses a chunk or `max` bytes were fed; returns the bytes fed
 * (the refused chunk included) and leaves the error in err.
 */
static uint64_t
feed_until_error(const char *head, char fill, uint64_t max, char *err)
{
	Transform  *t = transform_new(NULL, NULL, NULL, NULL);
	char	   *chunk = malloc(65536);
	uint64_t	fed = strlen(head);

	assert_non_null(t);
	assert_non_null(chunk);
	memset(chunk, fill, 65536);
	err[0] = '\0';
	if (transform_feed(t, head, strlen(head)))
	{
		while (fed < max)
		{
			fed += 65536;
			if (!transform_feed(t, chunk, 65536))
				break;
		}
	}
	if (fed < max)
		snprintf(err, ETL_ERRLEN, "%s", transform_error(t));
	assert_int_equal(transform_bytes(t), fed);
	free(chunk);
	transform_free(t);
	return fed;
}

/*
 * yajl buffers an unfinished token whole: a string (or number) that never
 * ends must be refused once no value of max_field_bytes could still be in
 * it (6 bytes of JSON text per byte, plus a 64 KiB margin), not after the
 * whole body. Wherever it stands: a record value, a key, the envelope.
 */
static void
test_endless_token(void **state)
{
	const uint64_t max_token = 6 * 1024 * 1024 + 65536;
	static const struct
	{
		const char *head;
		char		fill;
		uint64_t	event_at;	/* just past the last token before it */
	}			cases[] = {
		{"[{\"date\":\"2026-01-18\",\"agent_name\":\"", 'x', 34},
		{"{\"code\":200,\"data\":[{\"q01\":", '7', 26},
		{"{\"msg\":\"", 'y', 6},
		{"[{\"", 'k', 2},
		{"{\"other\":[\"", 'z', 10},
	};
	char		err[ETL_ERRLEN];
	char		want[ETL_ERRLEN];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		uint64_t	fed = feed_until_error(cases[i].head, cases[i].fill,
										   (uint64_t) 64 * 1024 * 1024, err);

		/* refused in the first chunk that crosses the bound */
		if (fed <= max_token || fed > max_token + cases[i].event_at + 65536)
			fail_msg("case %zu: refused after %llu bytes (%s)", i,
					 (unsigned long long) fed, err);
		snprintf(want, sizeof(want), "no JSON value ends in the %llu bytes after byte %llu: "
				 "a single JSON token is longer than %llu bytes",
				 (unsigned long long) (fed - cases[i].event_at),
				 (unsigned long long) cases[i].event_at, (unsigned long long) max_token);
		assert_string_equal(err, want);
	}
}

/* The token bound never refuses a value that the field limit accepts: a
 * value of exactly max_field_bytes, every byte a \u00XX escape. */
static void
test_longest_escaped_value(void **state)
{
	TransformOptions opt = {.max_field_bytes = 256 * 1024};
	Buf			b = BUF_INIT;
	Collect		c = {0};
	size_t		i;

	buf_puts(&b, "[{\"date\":\"2026-01-18\",\"agent_name\":\"");
	for (i = 0; i < opt.max_field_bytes; i++)
		buf_puts(&b, "\\u0001");
	buf_puts(&b, "\"}]");
	assert_true(run_body(b.data, b.len, &opt, 65536, &c));
	assert_int_equal(c.env.records, 1);
	collect_free(&c);
	/* one byte more is the field limit's error, not the token bound's */
	b.len -= 3;
	buf_puts(&b, "\\u0001\"}]");
	assert_false(run_body(b.data, b.len, &opt, 65536, &c));
	assert_string_equal(c.err, "record 0: value of \"agent_name\" is longer than 262144 bytes");
	collect_free(&c);
	buf_free(&b);
}

/* ---- errors ---- */

/*
 * error_offset: N of "invalid JSON at byte N: msg"; *msg gets the rest.
 */
static unsigned long
error_offset(const char *err, const char **msg)
{
	const char *colon = strstr(err, ": ");
	unsigned long n = 0;

	assert_non_null(colon);
	assert_int_equal(sscanf(err, "invalid JSON at byte %lu:", &n), 1);
	*msg = colon + 2;
	return n;
}

/*
 * Whole bodies: the exact offset (yajl's, made absolute: just past the
 * offending byte or token, or at the start of the token for some grammar
 * errors).
 * Chunked: the same message; the offset may be later by at most the length
 * of the offending token, when that token straddles a chunk boundary (yajl
 * then cannot say where in the previous chunk it began).
 */
static void
test_invalid_json_offsets(void **state)
{
	static const struct
	{
		const char *body;
		const char *err;
	}			cases[] = {
		{"[{\"date\":\"2026-01-18\"} {\"x\":1}]",
		"invalid JSON at byte 24: after array element, I expect ',' or ']'"},
		{"{\"a\" 1}", "invalid JSON at byte 6: object key and value must be separated by a colon (':')"},
		{"[{\"a\":tru}]", "invalid JSON at byte 9: invalid string in json text"},
		{"[1]x", "invalid JSON at byte 4: trailing garbage"},
		{"[\"\xff\"]", "invalid JSON at byte 3: invalid bytes in UTF8 string"},
		{"{\"a\":1,}", "invalid JSON at byte 8: invalid object key (must be a string)"},
		{"{\"a\":\"a\" 123}", "invalid JSON at byte 9: after key and value, inside map, I expect ',' or '}'"},
		/* yajl would take it for a blank; JSON does not */
		{"[{\"date\":\"2026-01-18\"},\f{}]", "invalid JSON at byte 24: a form feed (0x0C) is not JSON white space"},
		{"[\"a\fb\"]", "invalid JSON at byte 4: a form feed (0x0C) is not JSON white space"},
	};
	size_t		i;
	size_t		chunk;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		const char *want_msg;
		unsigned long want_at = error_offset(cases[i].err, &want_msg);

		for (chunk = 0; chunk <= 8; chunk++)
		{
			TransformOptions opt = {0};
			Collect		c = {0};
			const char *msg;
			unsigned long at;

			assert_false(run_body(cases[i].body, strlen(cases[i].body), &opt, chunk, &c));
			assert_false(c.stopped);
			if (chunk == 0 && strcmp(c.err, cases[i].err) != 0)
				fail_msg("case %zu: \"%s\" != \"%s\"", i, c.err, cases[i].err);
			at = error_offset(c.err, &msg);
			assert_string_equal(msg, want_msg);
			if (at < want_at || at > want_at + 4)
				fail_msg("case %zu chunk %zu: at %lu, whole at %lu", i, chunk, at, want_at);
			collect_free(&c);
		}
	}
}

static void
test_truncated_and_empty(void **state)
{
	Collect		c = {0};
	const char *body = "{\"data\":[{\"date\":\"2026-01-18\"},{\"date\":\"2026";

	assert_false(run_str(body, &c));
	assert_int_equal(strlen(body), 44);
	assert_string_equal(c.err, "truncated body: JSON ends at byte 44 before its end");
	assert_int_equal(c.env.records, 1);	/* the first was complete */
	collect_free(&c);

	assert_false(run_str("[", &c));
	assert_string_equal(c.err, "truncated body: JSON ends at byte 1 before its end");
	collect_free(&c);

	assert_false(run_str("", &c));
	assert_string_equal(c.err, "empty body");
	collect_free(&c);

	assert_false(run_str(" \n\t", &c));
	assert_non_null(strstr(c.err, "empty body"));
	collect_free(&c);

	assert_false(run_str("123", &c));
	assert_string_equal(c.err, "body is not a JSON object or array: a lone number or boolean ends at byte 3");
	collect_free(&c);

	assert_false(run_str(" \"text\"", &c));
	assert_string_equal(c.err, "body is not a JSON object or array: a lone string ends at byte 7");
	collect_free(&c);

	assert_false(run_str("null", &c));
	assert_string_equal(c.err, "body is not a JSON object or array: a lone null ends at byte 4");
	collect_free(&c);
}

static void
test_sink_stop(void **state)
{
	Collect		c = {.stop_after = 2};
	const char *body = "[{\"date\":\"2026-01-18\"},{\"date\":\"2026-01-18\"},{\"date\":\"2026-01-18\"}]";
	TransformOptions opt = {0};

	assert_false(run_body(body, strlen(body), &opt, 5, &c));
	assert_true(c.stopped);
	assert_int_equal(c.records, 2);
	assert_string_equal(c.err, "stopped by the sink");
	collect_free(&c);
}

static void
test_feed_after_finish(void **state)
{
	Transform  *t = transform_new(NULL, NULL, NULL, NULL);

	assert_true(transform_feed(t, "[{\"date\":\"2026-01-18\"}]", 23));
	assert_true(transform_finish(t));
	assert_int_equal(transform_envelope(t)->records, 1);
	assert_false(transform_feed(t, "[]", 2));
	assert_false(transform_sink_stopped(t));
	assert_int_equal(transform_bytes(t), 23);
	transform_free(t);
	transform_free(NULL);
}

/* ---- corpora (shared/testdata: a missing corpus fails the test) ---- */

/* corpus_path: rel inside the corpora directory: $WVETL_TESTDATA (which
 * tests/run-unit.sh sets from tests/testdata.sh), else ../shared/testdata. */
static const char *
corpus_path(char *out, size_t size, const char *rel)
{
	const char *dir = getenv("WVETL_TESTDATA");

	snprintf(out, size, "%s/%s", dir != NULL && dir[0] ? dir : "../shared/testdata", rel);
	return out;
}

/* Every n_* case of JSONTestSuite ends in an error (the form feed yajl
 * would accept too), every case runs clean under ASan, fed whole and byte
 * by byte with the same outcome. */
static void
test_json_test_suite(void **state)
{
	/* none: yajl takes a form feed for blank space, the transform does not */
	static const char *const yajl_lenient[] = {NULL};
	char		where[4096];
	const char *dirname = corpus_path(where, sizeof(where), "JSONTestSuite/test_parsing");
	DIR		   *dir = opendir(dirname);
	struct dirent *de;
	int			n_cases = 0;
	int			n_accepted = 0;

	if (dir == NULL)
		fail_msg("%s not found: set WVETL_TESTDATA (see tests/testdata.sh)", dirname);
	while ((de = readdir(dir)) != NULL)
	{
		char		path[1024];
		FILE	   *f;
		char	   *data;
		long		size;
		Collect		whole = {0};
		Collect		bytes = {0};
		bool		ok;
		size_t		k;
		bool		lenient = false;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirname, de->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fseek(f, 0, SEEK_SET);
		data = malloc((size_t) size + 1);
		assert_true(fread(data, 1, (size_t) size, f) == (size_t) size);
		fclose(f);
		ok = run_body(data, (size_t) size, NULL, 0, &whole);
		run_body(data, (size_t) size, NULL, 1, &bytes);
		if (whole.ok != bytes.ok ||
			strcmp(strchr(whole.err, ':') ? strchr(whole.err, ':') : whole.err,
				   strchr(bytes.err, ':') ? strchr(bytes.err, ':') : bytes.err) != 0)
			fail_msg("%s: whole \"%s\" vs byte by byte \"%s\"", de->d_name, whole.err, bytes.err);
		for (k = 0; yajl_lenient[k] != NULL; k++)
			lenient |= strcmp(yajl_lenient[k], de->d_name) == 0;
		if (de->d_name[0] == 'n' && ok && !lenient)
		{
			fprintf(stderr, "%s accepted\n", de->d_name);
			n_accepted++;
		}
		collect_free(&whole);
		collect_free(&bytes);
		free(data);
		n_cases++;
	}
	closedir(dir);
	assert_int_equal(n_accepted, 0);
	assert_true(n_cases > 300);
}

/* Every naughty string, put in agent_name and in q01, arrives byte for
 * byte (placeholders aside); strings are encoded with yajl_gen. */
static void
test_naughty_strings(void **state)
{
	size_t		len;
	char	   *text = NULL;
	char		path[4096];
	FILE	   *f = fopen(corpus_path(path, sizeof(path), "blns/blns.json"), "rb");
	yajl_val	tree;
	yajl_gen	g;
	const unsigned char *out;
	size_t		outlen;
	Collect		c = {0};
	Buf			want = BUF_INIT;
	size_t		i;
	char		errbuf[256];

	if (f == NULL)
		fail_msg("%s not found: set WVETL_TESTDATA (see tests/testdata.sh)", path);
	fseek(f, 0, SEEK_END);
	len = (size_t) ftell(f);
	fseek(f, 0, SEEK_SET);
	text = malloc(len + 1);
	assert_true(fread(text, 1, len, f) == len);
	text[len] = '\0';
	fclose(f);
	tree = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	assert_non_null(tree);
	assert_true(YAJL_IS_ARRAY(tree));
	g = yajl_gen_alloc(NULL);
	yajl_gen_array_open(g);
	for (i = 0; i < tree->u.array.len; i++)
	{
		const char *s = YAJL_GET_STRING(tree->u.array.values[i]);
		EtlStr		v = {s, strlen(s)};

		yajl_gen_map_open(g);
		yajl_gen_string(g, (const unsigned char *) "date", 4);
		yajl_gen_string(g, (const unsigned char *) "2026-01-18", 10);
		yajl_gen_string(g, (const unsigned char *) "agent_name", 10);
		yajl_gen_string(g, (const unsigned char *) s, strlen(s));
		yajl_gen_string(g, (const unsigned char *) "q01", 3);
		yajl_gen_string(g, (const unsigned char *) s, strlen(s));
		yajl_gen_map_close(g);
		if (transform_is_placeholder(s, strlen(s)))
			v = ETL_STR_NULL;
		buf_printf(&want, "seq=%zu", i);
		put_str(&want, "agent_name", v);
		buf_putc(&want, '\n');
	}
	yajl_gen_array_close(g);
	yajl_gen_get_buf(g, &out, &outlen);
	{
		TransformOptions opt = {0};
		Buf			got = BUF_INIT;
		const char *p;

		assert_true(run_body((const char *) out, outlen, &opt, 777, &c));
		assert_int_equal(c.env.records, tree->u.array.len);
		/* rebuild "seq=N agent_name=..." lines from the collected text */
		p = c.out.data;
		for (i = 0; (p = strstr(p, "record seq=")) != NULL; i++)
		{
			const char *name = strstr(p, "\n agent_name=");

			assert_non_null(name);
			buf_printf(&got, "seq=%zu", i);
			buf_append(&got, name + 1, (size_t) (strchr(name + 1, '\n') - name));
			p = name;
		}
		assert_string_equal(buf_cstr(&got), buf_cstr(&want));
		buf_free(&got);
	}
	yajl_gen_free(g);
	yajl_tree_free(tree);
	collect_free(&c);
	buf_free(&want);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_question_keys),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_decimals),
		cmocka_unit_test(test_decimal_numeric_limits),
		cmocka_unit_test(test_number_fits_numeric),
		cmocka_unit_test(test_numbers_as_text),
		cmocka_unit_test(test_chunk_sweep),
		cmocka_unit_test(test_envelope_variants),
		cmocka_unit_test(test_skip_big_values),
		cmocka_unit_test(test_fixed_fields_json_values),
		cmocka_unit_test(test_durations_in_records),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_nul_handling),
		cmocka_unit_test(test_invalid_unicode),
		cmocka_unit_test(test_privacy_hash),
		cmocka_unit_test(test_privacy_records),
		cmocka_unit_test(test_privacy_cleaned),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_raw_only_when_asked),
		cmocka_unit_test(test_window_bounds),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_default_limits),
		cmocka_unit_test(test_record_budget),
		cmocka_unit_test(test_endless_token),
		cmocka_unit_test(test_longest_escaped_value),
		cmocka_unit_test(test_invalid_json_offsets),
		cmocka_unit_test(test_truncated_and_empty),
		cmocka_unit_test(test_sink_stop),
		cmocka_unit_test(test_feed_after_finish),
		cmocka_unit_test(test_json_test_suite),
		cmocka_unit_test(test_naughty_strings),
	};

	return cmocka_run_group_tests_name("transform", tests, setup_zone, NULL);
}
