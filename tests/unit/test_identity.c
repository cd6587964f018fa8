/*
 * tests/unit/test_identity.c
 *   load_response_id (load/identity.c): known values (computed independently
 *   with Python's hashlib over the same length-prefixed bytes), NULL versus
 *   text, the length prefix, time order and clamping of the seconds, the top
 *   bit, and which fields take part.
 *
 *   The expected values come from this Python (python3, stdlib only):
 *
 *     import hashlib
 *     def rid(op, conn, at, agent, skill):
 *         def put(v):
 *             if v is None: return b"0:"
 *             b = v.encode(); return str(len(b)).encode() + b":" + b
 *         m = hashlib.md5(put(op) + put(conn) + put(str(at)) + put(agent)
 *                         + put(skill)).digest()
 *         return ((min(max(at, 0), 2**32 - 1) << 31)
 *                 | (int.from_bytes(m[:4], "big") >> 1))
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "load/load.h"

#define S(lit) ((EtlStr) {lit, sizeof(lit) - 1})

/* rec_make: a record with the identity fields given (NULL = SQL NULL). */
static SurveyRecord
rec_make(const char *conn, const char *agent, const char *skill, int64_t at)
{
	SurveyRecord r;
	int			f;

	memset(&r, 0, sizeof(r));
	for (f = 0; f < SF_COUNT; f++)
		r.field[f] = ETL_STR_NULL;
	if (conn)
		r.field[SF_CONN_ID] = (EtlStr) {conn, strlen(conn)};
	if (agent)
		r.field[SF_AGENT_ID] = (EtlStr) {agent, strlen(agent)};
	if (skill)
		r.field[SF_SKILL_ID] = (EtlStr) {skill, strlen(skill)};
	r.answered_at = at;
	return r;
}

static void
test_known_values(void **state)
{
	SurveyRecord a = rec_make("c-1", "1001", "7", 1700000000);
	SurveyRecord b = rec_make(NULL, NULL, NULL, 1700000000);
	SurveyRecord c = rec_make("日本", "x", "y", -1);

	/* rid("wv0010", "c-1", 1700000000, "1001", "7"): 1700000000 << 31 | md5(b"6:wv00103:c-110:17000000004:10011:7")[:4] >> 1 */
	assert_int_equal(load_response_id("wv0010", &a), 3650722203451343636LL);
	assert_int_equal(load_response_id("wv0010", &b), 3650722203319313566LL);
	/* before 1970: the seconds clamp to 0, the hash bits remain */
	assert_int_equal(load_response_id("ñ", &c), 1405823476LL);
	/* stable across calls */
	assert_int_equal(load_response_id("wv0010", &a), load_response_id("wv0010", &a));
}

static void
test_null_is_not_text(void **state)
{
	SurveyRecord n = rec_make(NULL, "1", "2", 100);
	SurveyRecord t = rec_make("0", "1", "2", 100);
	SurveyRecord n2 = rec_make(NULL, "1", "2", 100);

	assert_int_not_equal(load_response_id("op", &n), load_response_id("op", &t));
	/* NULL equals NULL for identity */
	assert_int_equal(load_response_id("op", &n), load_response_id("op", &n2));
}

static void
test_length_prefix(void **state)
{
	SurveyRecord ab_c = rec_make("ab", "c", NULL, 0);
	SurveyRecord a_bc = rec_make("a", "bc", NULL, 0);

	assert_int_equal(load_response_id("op", &ab_c), 1965872402LL);
	assert_int_equal(load_response_id("op", &a_bc), 1177034194LL);
	assert_int_not_equal(load_response_id("op", &ab_c), load_response_id("op", &a_bc));
}

static void
test_fields_that_count(void **state)
{
	SurveyRecord base = rec_make("c", "a", "s", 1000);
	SurveyRecord other = base;
	int64_t		id = load_response_id("op", &base);

	/* every identity field changes the id */
	assert_int_not_equal(id, load_response_id("op2", &base));
	other.answered_at = 1001;
	assert_int_not_equal(id, load_response_id("op", &other));
	other = rec_make("c", "a", "t", 1000);
	assert_int_not_equal(id, load_response_id("op", &other));
	other = rec_make("c", "b", "s", 1000);
	assert_int_not_equal(id, load_response_id("op", &other));

	/* other fields do not */
	other = base;
	other.field[SF_AGENT_NAME] = S("someone");
	other.field[SF_FEELING] = S("happy");
	other.has_duration = true;
	other.duration_s = 5;
	assert_int_equal(id, load_response_id("op", &other));
}

/* Ids sort by second: every id of epoch second s lies in
 * [s << 31, (s + 1) << 31), whatever the identity; the seconds clamp so
 * that the id stays positive. */
static void
test_time_order(void **state)
{
	SurveyRecord r = rec_make("c", "a", "s", 1700000000);
	SurveyRecord later = rec_make("b", "z", "t", 1700000001);
	SurveyRecord huge = rec_make("c", "a", "s", INT64_C(1) << 40);
	int64_t		id = load_response_id("op", &r);

	assert_true(id >= (INT64_C(1700000000) << 31));
	assert_true(id < (INT64_C(1700000001) << 31));
	assert_true(load_response_id("op", &later) >= (INT64_C(1700000001) << 31));
	assert_true(load_response_id("op", &later) > id);
	/* rid("op", "c", 2**40, "a", "s") */
	assert_int_equal(load_response_id("op", &huge), 9223372035640933682LL);
	assert_true(load_response_id("op", &huge) > 0);
}

static void
test_top_bit_clear(void **state)
{
	char		conn[16];
	int			i;

	for (i = 0; i < 2000; i++)
	{
		SurveyRecord r;

		snprintf(conn, sizeof(conn), "c%d", i);
		r = rec_make(conn, "a", "s", i);
		assert_true(load_response_id("op", &r) >= 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_null_is_not_text),
		cmocka_unit_test(test_length_prefix),
		cmocka_unit_test(test_fields_that_count),
		cmocka_unit_test(test_time_order),
		cmocka_unit_test(test_top_bit_clear),
	};

	return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
