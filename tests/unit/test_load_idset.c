/*
 * tests/unit/test_load_idset.c
 *   The LOAD_FAST window's set of response_ids (load/idset.c): never a
 *   false "new" (an in-answer duplicate would hit a unique violation),
 *   rare false "seen" (each costs one staged row), memory that does not
 *   grow with the window, and reuse across windows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "load/load_int.h"

/* splitmix64: well-spread test ids, cleared top bit like response_ids. */
static int64_t
test_id(uint64_t i)
{
	uint64_t	z = i * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	return (int64_t) (z & INT64_MAX);
}

/* 1M distinct ids: few "seen" by mistake (a 2^26-bit filter with 4
 * probes: 1e-5 at the end, ~3 in all), every one "seen" when added
 * again. */
static void
test_idset_many(void **state)
{
	const uint64_t n = 1000000;
	IdSet		s = {0};
	uint64_t	false_seen = 0;
	uint64_t	i;

	for (i = 0; i < n; i++)
		false_seen += idset_add(&s, test_id(i));
	assert_true(false_seen <= 30);
	assert_int_equal(s.count, n - false_seen);
	for (i = 0; i < n; i++)
		assert_true(idset_add(&s, test_id(i)));
	assert_int_equal(s.count, n - false_seen);
	assert_false(s.failed);
	idset_free(&s);
	assert_null(s.bits);
}

/* Small and odd ids (id 0, whose mix is a zero fingerprint) and repeats in
 * a row. */
static void
test_idset_edges(void **state)
{
	IdSet		s = {0};

	assert_false(idset_add(&s, 0));
	assert_true(idset_add(&s, 0));
	assert_false(idset_add(&s, INT64_MAX));
	assert_true(idset_add(&s, INT64_MAX));
	assert_false(idset_add(&s, 1));
	assert_true(idset_add(&s, 1));
	assert_int_equal(s.count, 3);
	idset_free(&s);
}

/* Time-ordered ids share their high bits (the second answered) and differ
 * in the low ones: they must not look alike to the set, or every record of
 * a busy second would go through staging. 200k ids over 20 seconds: a
 * handful of false "seen" at most (expected ~n^2/2^33 = 5). */
static void
test_idset_time_ordered(void **state)
{
	IdSet		s = {0};
	int			false_seen = 0;

	for (int64_t i = 0; i < 200000; i++)
	{
		int64_t		id = ((INT64_C(1767225600) + i / 10000) << 31) | ((i * 2654435761) & 0x7FFFFFFF);

		if (idset_add(&s, id))
			false_seen++;
	}
	assert_true(false_seen < 30);
	idset_free(&s);
}

/* reset empties the set and keeps its table for the next window. */
static void
test_idset_reset(void **state)
{
	IdSet		s = {0};
	uint8_t    *table;
	int64_t		i;

	idset_reset(&s);			/* an empty, never-used set */
	for (i = 0; i < 5000; i++)
		assert_false(idset_add(&s, test_id((uint64_t) i)));
	table = s.bits;
	idset_reset(&s);
	assert_int_equal(s.count, 0);
	assert_ptr_equal(s.bits, table);
	for (i = 0; i < 5000; i++)
		assert_false(idset_add(&s, test_id((uint64_t) i)));
	assert_ptr_equal(s.bits, table);
	idset_free(&s);
	idset_free(&s);				/* freeing twice is harmless */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idset_many),
		cmocka_unit_test(test_idset_edges),
		cmocka_unit_test(test_idset_time_ordered),
		cmocka_unit_test(test_idset_reset),
	};

	return cmocka_run_group_tests_name("load_idset", tests, NULL, NULL);
}
