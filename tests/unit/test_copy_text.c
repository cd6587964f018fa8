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
test_ints(void **state)
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
	buf_free(&b);
}

#define S(lit) ((EtlStr) {lit, sizeof(lit) - 1})

/*
 * Binary COPY tuples (copy_binary.c), read back by a decoder written from
 * PostgreSQL's documented format: a 16-bit field count, then per field a
 * 32-bit length (-1 = NULL) and the bytes, big-endian.
 */
typedef struct Field
{
	bool		null;
	const unsigned char *p;
	uint32_t	len;
} Field;

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t) ((uint64_t) be32(p) << 32 | be32(p + 4));
}

/* decode: the tuple at *pos (advanced past it) into f; its field count. */
static int
decode(const Buf *b, size_t *pos, Field *f, int max)
{
	const unsigned char *p = (const unsigned char *) b->data + *pos;
	int			n = (int) ((uint16_t) (p[0] << 8 | p[1]));
	int			i;

	assert_true(n <= max);
	p += 2;
	for (i = 0; i < n; i++)
	{
		uint32_t	len = be32(p);

		p += 4;
		f[i].null = (len == UINT32_MAX);
		f[i].p = p;
		f[i].len = f[i].null ? 0 : len;
		p += f[i].len;
	}
	*pos = (size_t) ((const char *) p - b->data);
	assert_true(*pos <= b->len);
	return n;
}

static void
assert_text(const Field *f, const char *want)
{
	assert_false(f->null);
	assert_int_equal(f->len, strlen(want));
	assert_memory_equal(f->p, want, f->len);
}

static void
assert_int8(const Field *f, int64_t want)
{
	assert_false(f->null);
	assert_int_equal(f->len, 8);
	assert_true(be64(f->p) == want);
}

static void
assert_int4(const Field *f, int32_t want)
{
	assert_false(f->null);
	assert_int_equal(f->len, 4);
	assert_int_equal((int32_t) be32(f->p), want);
}

/* A record with every kind of value: text with escapes (sent raw), NULLs,
 * both durations, extras JSON, two answers (one numeric). */
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
	Field		f[24];
	size_t		pos = 0;
	int			i;

	(void) state;
	memset(&rec, 0, sizeof(rec));
	for (i = 0; i < SF_COUNT; i++)
		rec.field[i] = ETL_STR_NULL;
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

	copy_binary_text_field(&op, S("op\t1"));
	copy_row_response(&b, 42, op.data, op.len, &rec, 9, -1, NULL);
	assert_int_equal(decode(&b, &pos, f, 24), 20);
	assert_int_equal(pos, b.len);
	assert_int8(&f[0], 42);
	assert_text(&f[1], "op\t1");
	assert_text(&f[2], "c-1");
	assert_text(&f[3], "1001");
	assert_text(&f[4], "Ana\nMaría");
	assert_true(f[5].null);
	assert_text(&f[6], "7");
	assert_true(f[7].null);
	/* 2023-11-14 22:13:20 UTC in microseconds since 2000-01-01 */
	assert_int8(&f[8], (INT64_C(1700000000) - INT64_C(946684800)) * 1000000);
	for (i = 9; i <= 11; i++)
		assert_true(f[i].null);		/* ani, customer_id, no vm duration */
	assert_true(f[12].null && f[13].null);
	assert_int4(&f[14], 75);
	assert_true(f[15].null);
	assert_text(&f[16], "\\N");		/* text that looks like NULL is text */
	assert_int_equal(f[17].len, 1 + 12);	/* jsonb: version 1, then the text */
	assert_int_equal(f[17].p[0], 1);
	assert_memory_equal(f[17].p + 1, "{\"k\":\"a\\tb\"}", 12);
	assert_int8(&f[18], 9);
	assert_true(f[19].null);			/* no hash asked for */

	buf_reset(&b);
	pos = 0;
	copy_row_response(&b, 42, op.data, op.len, &rec, 9, 3, NULL);
	assert_int_equal(decode(&b, &pos, f, 24), 21);
	assert_int8(&f[20], 3);

	buf_reset(&b);
	pos = 0;
	copy_row_answers(&b, 42, &rec, -1, NULL);
	assert_int_equal(decode(&b, &pos, f, 24), 4);
	assert_int8(&f[0], 42);
	assert_int4(&f[1], 1);
	assert_text(&f[2], "5");
	/* numeric 5: 1 digit, weight 0, positive, scale 0, digit 5 */
	assert_int_equal(f[3].len, 10);
	assert_memory_equal(f[3].p, "\0\1\0\0\0\0\0\0\0\5", 10);
	assert_int_equal(decode(&b, &pos, f, 24), 4);
	assert_int4(&f[1], 10);
	assert_text(&f[2], "muy\tbien\\");
	assert_true(f[3].null);
	assert_int_equal(pos, b.len);

	buf_reset(&b);
	pos = 0;
	copy_row_answers(&b, 42, &rec, 7, NULL);
	assert_int_equal(decode(&b, &pos, f, 24), 5);
	assert_int8(&f[4], 7);
	buf_free(&b);
	buf_free(&op);
}

/* numeric_send's layout for decimals: ndigits, weight, sign, dscale, then
 * base-10000 digits, zeros at both ends stripped; PostgreSQL's own numeric_in
 * agreement is in test_load_pg (test_numeric_binary). */
static void
test_numeric_layout(void **state)
{
	static const struct
	{
		const char *in;
		const char *want;		/* the field's bytes */
		size_t		len;
	}			cases[] = {
		{"0", "\0\0\0\0\0\0\0\0", 8},
		{"-0.00", "\0\0\0\0\0\0\0\2", 8},
		{"-1.50", "\0\2\0\0\x40\0\0\2\0\1\x13\x88", 12},	/* 1, 5000 */
		{"12345", "\0\2\0\1\0\0\0\0\0\1\x09\x29", 12},	/* 1, 2345 */
		{"0.0001", "\0\1\xff\xff\0\0\0\4\0\1", 10},	/* weight -1 */
		{"+10000", "\0\1\0\1\0\0\0\0\0\1", 10},
	};
	Buf			b = BUF_INIT;
	size_t		i;

	(void) state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		buf_reset(&b);
		copy_binary_numeric(&b, (EtlStr) {cases[i].in, strlen(cases[i].in)});
		assert_false(b.failed);
		assert_int_equal(b.len, 4 + cases[i].len);
		assert_int_equal(be32((const unsigned char *) b.data), cases[i].len);
		assert_memory_equal(b.data + 4, cases[i].want, cases[i].len);
	}
	/* not decimals: the buffer fails (the transform never sends these) */
	buf_reset(&b);
	copy_binary_numeric(&b, S("1."));
	assert_true(b.failed);
	buf_reset(&b);
	copy_binary_numeric(&b, S("1e5"));
	assert_true(b.failed);
	buf_free(&b);
}

/* content_hash: the hash of one record's rows, via the row builders. */
static int64_t
row_hash(const SurveyRecord *rec, int64_t id, int64_t run_id, int64_t seq)
{
	XXH3_state_t *h = XXH3_createState();
	Buf			b = BUF_INIT;
	Buf			op = BUF_INIT;
	Field		f[24];
	size_t		pos = 0;
	int64_t		v;

	assert_non_null(h);
	copy_binary_text_field(&op, S("op"));
	(void) XXH3_64bits_reset(h);
	copy_row_answers(&b, id, rec, seq, h);
	buf_reset(&b);
	copy_row_response(&b, id, op.data, op.len, rec, run_id, seq, h);
	assert_true(decode(&b, &pos, f, 24) >= 20);
	assert_int_equal(f[19].len, 8);
	v = be64(f[19].p);
	XXH3_freeState(h);
	buf_free(&b);
	buf_free(&op);
	return v;
}

/*
 * The content hash: the same for the same values whatever the load (id,
 * run, seq), different when any value or any answer differs.
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
	assert_true(row_hash(&rec, 43, 10, 5) == base);		/* load metadata: no */

	rec.field[SF_FEELING] = S("Positivo");
	assert_true(row_hash(&rec, 42, 9, -1) != base);
	rec.field[SF_FEELING] = ETL_STR_NULL;
	rec.field[SF_ANI] = S("");								/* NULL -> empty */
	assert_true(row_hash(&rec, 42, 9, -1) != base);
	rec.field[SF_ANI] = ETL_STR_NULL;
	rec.has_duration = true;							/* NULL -> 0 */
	assert_true(row_hash(&rec, 42, 9, -1) != base);
	rec.has_duration = false;
	rec.answered_at++;
	assert_true(row_hash(&rec, 42, 9, -1) != base);
	rec.answered_at--;
	rec.extras = ETL_STR_NULL;
	assert_true(row_hash(&rec, 42, 9, -1) != base);
	rec.extras = S("{}");

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
		cmocka_unit_test(test_ints),
		cmocka_unit_test(test_row_with_all_types),
		cmocka_unit_test(test_numeric_layout),
		cmocka_unit_test(test_content_hash),
	};

	return cmocka_run_group_tests_name("copy_text", tests, NULL, NULL);
}
