/*
 * tests/unit/test_sql_split.c
 *   load/sql_split.c: a script's statements, with the ';' inside comments,
 *   strings, E'' strings, quoted identifiers and dollar quotes left alone;
 *   blank and comment-only tails and empty statements give nothing; every
 *   sql/ and sql/citus/ migration splits into statements that each start
 *   with a keyword (upper case, as the files write them).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "load/load_int.h"

/* split: the statements of s joined by " | ". Caller frees. */
static char *
split(const char *s)
{
	char	   *out = calloc(1, strlen(s) * 2 + 8);
	size_t		pos = 0;
	size_t		start;
	size_t		len;
	bool		first = true;

	while (sql_split_next(s, &pos, &start, &len))
	{
		if (!first)
			strcat(out, " | ");
		strncat(out, s + start, len);
		first = false;
	}
	return out;
}

static void
check(const char *s, const char *want)
{
	char	   *got = split(s);

	assert_string_equal(got, want);
	free(got);
}

static void
test_plain(void **state)
{
	(void) state;
	check("SELECT 1; SELECT 2;", "SELECT 1 | SELECT 2");
	check("SELECT 1", "SELECT 1");
	check("", "");
	check("  ;; \n -- just a comment\n", "");
	check("CREATE TABLE t (a int);\n\nCREATE INDEX ON t (a);\n-- tail\n",
		  "CREATE TABLE t (a int) | CREATE INDEX ON t (a)");
}

static void
test_quotes(void **state)
{
	(void) state;
	check("COMMENT ON TABLE t IS 'a; b''s; c'; SELECT 2", "COMMENT ON TABLE t IS 'a; b''s; c' | SELECT 2");
	check("SELECT E'x\\'; y'; SELECT 3", "SELECT E'x\\'; y' | SELECT 3");
	check("SELECT 'x\\'; SELECT 4", "SELECT 'x\\' | SELECT 4");
	check("SELECT 1 AS \"a;b\"; SELECT 5", "SELECT 1 AS \"a;b\" | SELECT 5");
	check("-- a; comment\nSELECT 6; /* x; /* nested; */ y; */ SELECT 7",
		  "SELECT 6 | SELECT 7");
}

static void
test_dollar(void **state)
{
	(void) state;
	check("DO $$ BEGIN PERFORM 1; END $$; SELECT 8", "DO $$ BEGIN PERFORM 1; END $$ | SELECT 8");
	check("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $x$ $body$; SELECT 9",
		  "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $x$ $body$ | SELECT 9");
	check("SELECT $1::int; SELECT 10", "SELECT $1::int | SELECT 10");
}

/* every statement of the project's migrations starts with a keyword */
static void
test_migrations(void **state)
{
	const char *files[] = {
		"sql/001_init.sql", "sql/003_bi.sql", "sql/citus/901_distribute.sql",
		"sql/citus/902_views.sql", "sql/citus/903_reader_access.sql"
	};

	(void) state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++)
	{
		FILE	   *fp = fopen(files[f], "r");
		char	   *text = calloc(1, 1 << 20);
		size_t		pos = 0;
		size_t		start;
		size_t		len;
		int			n = 0;

		assert_non_null(fp);
		assert_true(fread(text, 1, (1 << 20) - 1, fp) > 0);
		fclose(fp);
		while (sql_split_next(text, &pos, &start, &len))
		{
			assert_true(text[start] >= 'A' && text[start] <= 'Z');
			n++;
		}
		assert_true(n > 0);
		free(text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_dollar),
		cmocka_unit_test(test_migrations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
