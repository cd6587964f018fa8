/*
 * tests/unit/test_copy_text.c
 *   COPY text-format escaping and row building (load/copy_text.c), without
 *   a database: every escape, NULL, text that looks like \N or \., UTF-8,
 *   long values against a byte-at-a-time reference, and whole rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "load/load.h"
#include "load/load_int.h"

/* field: escape n bytes of s (NULL: SQL NULL) into a fresh buffer. */
static char *
field(const char *s, size_t n)
{
	Buf			b = BUF_INIT;
	char	   *out;

	copy_text_field(&b, (EtlStr) {s, n});
	assert_false(b.failed);
	out = strdup(buf_cstr(&b));
	buf_free(&b);
	return out;
}

static void
check_field(const char *in, size_t n, const char *want)
{
	char	   *got = field(in, n);

	assert_string_equal(got, want);
	free(got);
}

#define CHECK(in, want) check_field(in, sizeof(in) - 1, want)

static void
test_null_and_empty(void **state)
{
	check_field(NULL, 0, "\\N");
	check_field(NULL, 5, "\\N");	/* ptr decides, not len */
	CHECK("", "");
	CHECK("plain", "plain");
}

static void
test_every_escape(void **state)
{
	CHECK("a\\b", "a\\\\b");
	CHECK("\t", "\\t");
	CHECK("\n", "\\n");
	CHECK("\r", "\\r");
	CHECK("\b", "\\b");
	CHECK("\f", "\\f");
	CHECK("\v", "\\v");
	CHECK("x\r\ny", "x\\r\\ny");
	CHECK("\\\\", "\\\\\\\\");
	/* control bytes without a letter pass through, as PostgreSQL's own
	 * COPY TO writes them */
	CHECK("\x01\x1f\x7f", "\x01\x1f\x7f");
}

static void
test_looks_like_markers(void **state)
{
	/* a literal \N is text, not NULL: its backslash is doubled */
	CHECK("\\N", "\\\\N");
	/* \. alone on a line ends COPY data in old protocols: never produced */
	CHECK("\\.", "\\\\.");
	CHECK("\n\\.\n", "\\n\\\\.\\n");
}

static void
test_nul_dropped(void **state)
{
	CHECK("a\0b", "ab");
	CHECK("\0", "");
}

static void
test_utf8_passthrough(void **state)
{
	CHECK("ñandú 日本 😀 \xc2\xa0", "ñandú 日本 😀 \xc2\xa0");
	CHECK("José\tPérez", "José\\tPérez");
}

/* ref_escape: the obvious byte-at-a-time escaper, to compare with. */
static void
ref_escape(Buf *b, const unsigned char *p, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		switch (p[i])
		{
			case '\\': buf_puts(b, "\\\\"); break;
			case '\t': buf_puts(b, "\\t"); break;
			case '\n': buf_puts(b, "\\n"); break;
			case '\r': buf_puts(b, "\\r"); break;
			case '\b': buf_puts(b, "\\b"); break;
			case '\f': buf_puts(b, "\\f"); break;
			case '\v': buf_puts(b, "\\v"); break;
			case '\0': break;
			default: buf_putc(b, (char) p[i]); break;
		}
	}
}

static void
test_long_values(void **state)
{
	size_t		n = 1 << 20;
	unsigned char *in = malloc(n);
	Buf			got = BUF_INIT;
	Buf			want = BUF_INIT;
	uint32_t	x = 12345;
	size_t		i;

	assert_non_null(in);
	for (i = 0; i < n; i++)
	{
		x = x * 1103515245 + 12345;
		/* mostly safe runs, sometimes a byte that needs care */
		in[i] = (x >> 16) % 97 == 0 ? (unsigned char) ((x >> 8) % 16) : (unsigned char) ('a' + (x >> 20) % 26);
	}
	copy_text_field(&got, (EtlStr) {(const char *) in, n});
	ref_escape(&want, in, n);
	assert_false(got.failed);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	assert_true(got.len > n / 2);

	/* appending keeps what is there */
	buf_reset(&got);
	buf_puts(&got, "head|");
	copy_text_field(&got, (EtlStr) {"x\ty", 3});
	assert_string_equal(buf_cstr(&got), "head|x\\ty");
	buf_free(&got);
	buf_free(&want);
	free(in);
}

static void
test_ints_and_timestamps(void **state)
{
	Buf			b = BUF_INIT;

	copy_text_int(&b, 0);
	buf_putc(&b, ' ');
	copy_text_int(&b, -1);
	buf_putc(&b, ' ');
	copy_text_int(&b, INT64_MAX);
	buf_putc(&b, ' ');
	copy_text_int(&b, INT64_MIN);
	assert_string_equal(buf_cstr(&b),
						"0 -1 9223372036854775807 -9223372036854775808");
	buf_reset(&b);
	copy_text_timestamp(&b, 0);
	buf_putc(&b, '|');
	copy_text_timestamp(&b, 1700000000);
	buf_putc(&b, '|');
	copy_text_timestamp(&b, 951782399);	/* 2000-02-28 23:59:59, leap year */
	buf_putc(&b, '|');
	copy_text_timestamp(&b, 951868800);	/* 2000-03-01 00:00:00 */
	assert_string_equal(buf_cstr(&b),
						"1970-01-01 00:00:00+00|2023-11-14 22:13:20+00|"
						"2000-02-28 23:59:59+00|2000-03-01 00:00:00+00");
	buf_free(&b);
}

#define S(lit) ((EtlStr) {lit, sizeof(lit) - 1})

/* A record with every kind of value: text needing escapes, NULLs, both
 * durations, extras JSON, two answers (one numeric). */
static void
test_row_with_all_types(void **state)
{
	SurveyAnswer answers[2] = {
		{1, S("5"), S("5")},
		{10, S("muy\tbien\\"), ETL_STR_NULL},
	};
	SurveyRecord rec;
	Buf			b = BUF_INIT;
	Buf			op = BUF_INIT;
	int			f;

	memset(&rec, 0, sizeof(rec));
	for (f = 0; f < SF_COUNT; f++)
		rec.field[f] = ETL_STR_NULL;
	rec.field[SF_CONN_ID] = S("c-1");
	rec.field[SF_AGENT_ID] = S("1001");
	rec.field[SF_AGENT_NAME] = S("Ana\nMaría");
	rec.field[SF_SKILL_ID] = S("7");
	rec.field[SF_FEELING] = S("\\N");
	rec.answered_at = 1700000000;
	rec.has_duration = true;
	rec.duration_s = 75;
	rec.extras = S("{\"k\":\"a\\tb\"}");
	rec.answers = answers;
	rec.n_answers = 2;

	buf_putc(&op, '\t');
	copy_text_field(&op, S("op\t1"));
	copy_row_response(&b, 42, op.data, op.len, &rec, 9, -1, NULL);
	assert_string_equal(buf_cstr(&b),
						"42\top\\t1\tc-1\t1001\tAna\\nMaría\t\\N\t7\t\\N\t"
						"2023-11-14 22:13:20+00\t\\N\t\\N\t\\N\t\\N\t\\N\t75\t\\N\t"
						"\\\\N\t{\"k\":\"a\\\\tb\"}\t9\t\\N\n");
	buf_reset(&b);
	copy_row_response(&b, 42, op.data, op.len, &rec, 9, 3, NULL);
	assert_int_equal(b.len >= 7, 1);
	assert_memory_equal(b.data + b.len - 7, "9\t\\N\t3\n", 7);

	buf_reset(&b);
	copy_row_answers(&b, 42, &rec, -1, NULL);
	assert_string_equal(buf_cstr(&b),
						"42\t1\t5\t5\n"
						"42\t10\tmuy\\tbien\\\\\t\\N\n");
	buf_reset(&b);
	copy_row_answers(&b, 42, &rec, 7, NULL);
	assert_string_equal(buf_cstr(&b),
						"42\t1\t5\t5\t7\n"
						"42\t10\tmuy\\tbien\\\\\t\\N\t7\n");
	/* 20 columns: 19 tabs per response row */
	buf_reset(&b);
	copy_row_response(&b, 1, op.data, op.len, &rec, 1, -1, NULL);
	{
		size_t		i;
		int			tabs = 0;

		for (i = 0; i < b.len; i++)
			tabs += b.data[i] == '\t';
		assert_int_equal(tabs, 19);
	}
	buf_free(&b);
	buf_free(&op);
}

/* content_hash: the hash of one record's rows, via the row builders. */
static int64_t
row_hash(const SurveyRecord *rec, int64_t id, int64_t run_id, int64_t seq)
{
	XXH3_state_t *h = XXH3_createState();
	Buf			b = BUF_INIT;
	Buf			op = BUF_INIT;
	const char *last;
	int64_t		v;

	assert_non_null(h);
	buf_putc(&op, '\t');
	copy_text_field(&op, S("op"));
	(void) XXH3_64bits_reset(h);
	copy_row_answers(&b, id, rec, seq, h);
	buf_reset(&b);
	copy_row_response(&b, id, op.data, op.len, rec, run_id, seq, h);
	/* the column after run_id */
	buf_cstr(&b);
	last = strstr(b.data, "\t{}\t");
	assert_non_null(last);
	last = strchr(last + 4, '\t');
	assert_non_null(last);
	v = strtoll(last + 1, NULL, 10);
	XXH3_freeState(h);
	buf_free(&b);
	buf_free(&op);
	return v;
}

/*
 * The content hash is XXH3-64 of the record's answer rows (the columns
 * after response_id, each row ended by a newline) followed by the response
 * row's columns operation..extras, as COPY text: the same for the same
 * values whatever the load (id, run, seq), different when any value or
 * any answer differs.
 */
static void
test_content_hash(void **state)
{
	SurveyAnswer answers[2] = {
		{1, S("5"), S("5")},
		{10, S("muy\tbien"), ETL_STR_NULL},
	};
	SurveyAnswer other[2];
	SurveyRecord rec;
	int64_t		base;
	int			f;
	static const char want[] =
		"1\t5\t5\n10\tmuy\\tbien\t\\N\n"
		"\top\tc-1\t\\N\t\\N\t\\N\t\\N\t\\N\t2023-11-14 22:13:20+00\t"
		"\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t{}";

	(void) state;
	memset(&rec, 0, sizeof(rec));
	for (f = 0; f < SF_COUNT; f++)
		rec.field[f] = ETL_STR_NULL;
	rec.field[SF_CONN_ID] = S("c-1");
	rec.answered_at = 1700000000;
	rec.extras = S("{}");
	rec.answers = answers;
	rec.n_answers = 2;

	base = row_hash(&rec, 42, 9, -1);
	assert_true(base == (int64_t) XXH3_64bits(want, sizeof(want) - 1));
	assert_true(row_hash(&rec, 43, 10, 5) == base);		/* load metadata: no */

	rec.field[SF_FEELING] = S("Positivo");
	assert_true(row_hash(&rec, 42, 9, -1) != base);
	rec.field[SF_FEELING] = ETL_STR_NULL;
	rec.has_duration = true;							/* NULL -> 0 */
	assert_true(row_hash(&rec, 42, 9, -1) != base);
	rec.has_duration = false;
	rec.answered_at++;
	assert_true(row_hash(&rec, 42, 9, -1) != base);
	rec.answered_at--;

	memcpy(other, answers, sizeof(other));
	rec.answers = other;
	other[1].num = S("1");
	assert_true(row_hash(&rec, 42, 9, -1) != base);
	other[1].num = ETL_STR_NULL;
	other[1].text = S("muy bien");
	assert_true(row_hash(&rec, 42, 9, -1) != base);
	other[1].text = answers[1].text;
	other[1].question_no = 11;
	assert_true(row_hash(&rec, 42, 9, -1) != base);
	other[1].question_no = 10;
	assert_true(row_hash(&rec, 42, 9, -1) == base);
	rec.n_answers = 1;									/* an answer gone */
	assert_true(row_hash(&rec, 42, 9, -1) != base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_and_empty),
		cmocka_unit_test(test_every_escape),
		cmocka_unit_test(test_looks_like_markers),
		cmocka_unit_test(test_nul_dropped),
		cmocka_unit_test(test_utf8_passthrough),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_ints_and_timestamps),
		cmocka_unit_test(test_row_with_all_types),
		cmocka_unit_test(test_content_hash),
	};

	return cmocka_run_group_tests_name("copy_text", tests, NULL, NULL);
}
