/*
 * tests/unit/test_wvtime.c
 *   common/wvtime.c: accepted and rejected wall-clock formats, zone
 *   conversions (Bogota, New York and Madrid DST gaps and overlaps), the
 *   per-hour offset cache against localtime_r and mktime, formats,
 *   durations, $WVETL_NOW, independence from the host's TZ.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "common/etl.h"
#include "common/wvtime.h"

static void use_zone(const char *zone);
static int64_t utc_epoch(int y, int mo, int d, int h, int mi, int s);
static int64_t local_epoch(const char *wall);
static void check_round_trip(int64_t from, int64_t to, int64_t step);

/* use_zone: set the zone or fail the test. */
static void
use_zone(const char *zone)
{
	char		err[ETL_ERRLEN] = "";

	if (!wvtime_set_zone(zone, err))
		fail_msg("wvtime_set_zone(%s): %s", zone, err);
}

/* utc_epoch: an independent reference, via timegm. */
static int64_t
utc_epoch(int y, int mo, int d, int h, int mi, int s)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t) timegm(&tm);
}

/* local_epoch: parse a wall time (must parse) and convert it. */
static int64_t
local_epoch(const char *wall)
{
	WallTime	wt;

	if (!wvtime_parse_wall(wall, strlen(wall), &wt))
		fail_msg("cannot parse %s", wall);
	return wvtime_local_to_epoch(&wt);
}

static void
test_parse_formats(void **state)
{
	static const char *const same[] = {
		"2026-01-18 19:34:31", "2026-01-18T19:34:31",
		"2026-01-18-19:34:31", "20260118193431"
	};
	WallTime	wt;
	size_t		i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
	{
		memset(&wt, 0xff, sizeof(wt));
		assert_true(wvtime_parse_wall(same[i], strlen(same[i]), &wt));
		assert_int_equal(wt.year, 2026);
		assert_int_equal(wt.mon, 1);
		assert_int_equal(wt.day, 18);
		assert_int_equal(wt.hour, 19);
		assert_int_equal(wt.min, 34);
		assert_int_equal(wt.sec, 31);
	}
	assert_true(wvtime_parse_wall("2026-12-31", 10, &wt));
	assert_int_equal(wt.year, 2026);
	assert_int_equal(wt.mon, 12);
	assert_int_equal(wt.day, 31);
	assert_int_equal(wt.hour + wt.min + wt.sec, 0);
	/* explicit length: bytes after n are not looked at */
	assert_true(wvtime_parse_wall("2026-01-18 19:34:31junk", 19, &wt));
	assert_true(wvtime_parse_wall("2024-02-29 23:59:59", 19, &wt));
	assert_true(wvtime_parse_wall("2000-02-29", 10, &wt));
	assert_true(wvtime_parse_wall("0001-01-01", 10, &wt));
}

static void
test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", "2026", "2026-1-18", "2026-01-8", "2026-01-18 19:34",
		"2026-01-18 9:34:31", "2026-13-01", "2026-00-10", "2026-01-00",
		"2026-02-29", "1900-02-29", "2026-04-31", "2026-01-32",
		"2026-01-18 24:00:00", "2026-01-18 23:60:00", "2026-01-18 23:59:60",
		" 2026-01-18", "2026-01-18 ", "2026-01-18 19:34:31Z",
		"2026-01-18 19:34:31.5", "2026/01/18", "2026-01-18x19:34:31",
		"2026-01-18 19-34-31", "2026011819343", "202601181934310",
		"0000-01-01", "+026-01-18", "2026-01-1a", "20261318000000",
		"20260230000000", "2026-01-18\t19:34:31", "abcdefghijklmn",
	};
	WallTime	wt;
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		if (wvtime_parse_wall(bad[i], strlen(bad[i]), &wt))
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_false(wvtime_parse_wall(NULL, 0, &wt));
	/* a NUL inside the counted bytes is just a bad byte */
	assert_false(wvtime_parse_wall("2026-01-18\0" "19:34:31", 19, &wt));
}

static void
test_bogota(void **state)
{
	char		out[32];
	WallTime	wt;
	int64_t		t;

	use_zone("America/Bogota");
	assert_string_equal(wvtime_zone(), "America/Bogota");
	t = local_epoch("2026-01-18 19:34:31");
	assert_int_equal(t, utc_epoch(2026, 1, 19, 0, 34, 31));
	assert_int_equal(t, 1768782871);
	/* no DST: June is -5 as well */
	assert_int_equal(local_epoch("2026-06-15 12:00:00"), utc_epoch(2026, 6, 15, 17, 0, 0));
	wvtime_epoch_to_local(t, &wt);
	assert_int_equal(wt.year, 2026);
	assert_int_equal(wt.day, 18);
	assert_int_equal(wt.hour, 19);
	wvtime_format_compact(t, out);
	assert_string_equal(out, "20260118193431");
	wvtime_format_local(t, out);
	assert_string_equal(out, "2026-01-18 19:34:31");
	wvtime_format_utc(t, out);
	assert_string_equal(out, "2026-01-19 00:34:31+00");
	wvtime_format_utc(-1, out);
	assert_string_equal(out, "1969-12-31 23:59:59+00");
	wvtime_format_utc(0, out);
	assert_string_equal(out, "1970-01-01 00:00:00+00");
	/* far dates go through the same code */
	assert_int_equal(local_epoch("1999-12-31 23:59:59"), utc_epoch(2000, 1, 1, 4, 59, 59));
	assert_int_equal(local_epoch("2100-03-01"), utc_epoch(2100, 3, 1, 5, 0, 0));
}

static void
test_host_tz_ignored(void **state)
{
	char		out[32];

	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	use_zone("America/Bogota");
	assert_int_equal(local_epoch("2026-01-18 19:34:31"), 1768782871);
	wvtime_format_compact(1768782871, out);
	assert_string_equal(out, "20260118193431");
	/* switching zones drops the cached offsets */
	use_zone("UTC");
	assert_int_equal(local_epoch("2026-01-18 19:34:31"), utc_epoch(2026, 1, 18, 19, 34, 31));
	use_zone("Asia/Tokyo");
	assert_int_equal(local_epoch("2026-01-18 19:34:31"), utc_epoch(2026, 1, 18, 10, 34, 31));
	use_zone("America/Bogota");
	assert_int_equal(local_epoch("2026-01-18 19:34:31"), 1768782871);
}

static void
test_bad_zones(void **state)
{
	char		err[ETL_ERRLEN] = "";

	assert_false(wvtime_set_zone("Mars/Olympus_Mons", err));
	assert_non_null(strstr(err, "Mars/Olympus_Mons"));
	assert_false(wvtime_set_zone("", err));
	assert_false(wvtime_set_zone(NULL, err));
	assert_false(wvtime_set_zone("../../../etc/passwd", err));
	assert_false(wvtime_set_zone("/etc/passwd", err));
	assert_false(wvtime_set_zone("America/Bogota extra", err));
	/* a failed call leaves the zone as it was */
	use_zone("America/Bogota");
	assert_false(wvtime_set_zone("Nowhere", err));
	assert_string_equal(wvtime_zone(), "America/Bogota");
	assert_int_equal(local_epoch("2026-01-18 19:34:31"), 1768782871);
}

/* New York 2026: spring forward 03-08 02:00 EST -> 03:00 EDT; fall back
 * 11-01 02:00 EDT -> 01:00 EST. Gaps and overlaps take the offset before
 * the transition, as PostgreSQL does. */
static void
test_new_york_dst(void **state)
{
	use_zone("America/New_York");
	assert_int_equal(local_epoch("2026-03-08 01:59:59"), utc_epoch(2026, 3, 8, 6, 59, 59));
	assert_int_equal(local_epoch("2026-03-08 03:00:00"), utc_epoch(2026, 3, 8, 7, 0, 0));
	/* the gap: 02:30 read as EST, i.e. 03:30 EDT */
	assert_int_equal(local_epoch("2026-03-08 02:30:00"), utc_epoch(2026, 3, 8, 7, 30, 0));
	assert_int_equal(local_epoch("2026-03-08 02:00:00"), utc_epoch(2026, 3, 8, 7, 0, 0));
	/* the overlap: 01:30 is its first occurrence, EDT */
	assert_int_equal(local_epoch("2026-11-01 01:30:00"), utc_epoch(2026, 11, 1, 5, 30, 0));
	assert_int_equal(local_epoch("2026-11-01 00:59:59"), utc_epoch(2026, 11, 1, 4, 59, 59));
	assert_int_equal(local_epoch("2026-11-01 02:00:00"), utc_epoch(2026, 11, 1, 7, 0, 0));
	/* the same answers again, now from the cache */
	assert_int_equal(local_epoch("2026-03-08 02:45:00"), utc_epoch(2026, 3, 8, 7, 45, 0));
	assert_int_equal(local_epoch("2026-11-01 01:45:00"), utc_epoch(2026, 11, 1, 5, 45, 0));
}

static void
test_madrid_dst(void **state)
{
	use_zone("Europe/Madrid");
	assert_int_equal(local_epoch("2026-01-18 12:00:00"), utc_epoch(2026, 1, 18, 11, 0, 0));
	assert_int_equal(local_epoch("2026-07-18 12:00:00"), utc_epoch(2026, 7, 18, 10, 0, 0));
	/* 03-29 02:00 CET -> 03:00 CEST: 02:30 is in the gap */
	assert_int_equal(local_epoch("2026-03-29 02:30:00"), utc_epoch(2026, 3, 29, 1, 30, 0));
	assert_int_equal(local_epoch("2026-03-29 03:00:00"), utc_epoch(2026, 3, 29, 1, 0, 0));
	/* 10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice; first wins */
	assert_int_equal(local_epoch("2026-10-25 02:30:00"), utc_epoch(2026, 10, 25, 0, 30, 0));
	assert_int_equal(local_epoch("2026-10-25 03:00:00"), utc_epoch(2026, 10, 25, 2, 0, 0));
}

/*
 * check_round_trip: for every instant from..to (step seconds), reading it
 * as local time and converting back gives the instant, except for the
 * second occurrence of an overlap hour, which maps to the first (one
 * hour earlier). Also compares with mktime wherever the wall time is not
 * ambiguous (in an overlap glibc's mktime answers by its previous call). Run forwards and backwards so the cache is filled both ways.
 */
static void
check_round_trip(int64_t from, int64_t to, int64_t step)
{
	int			pass;

	for (pass = 0; pass < 2; pass++)
	{
		int64_t		t;

		for (t = from; t <= to; t += step)
		{
			int64_t		u = pass ? to - (t - from) : t;
			time_t		tt = (time_t) u;
			struct tm	tm;
			struct tm	probe;
			WallTime	wt;
			int64_t		got;
			time_t		other = tt - 3600;

			wvtime_epoch_to_local(u, &wt);
			got = wvtime_local_to_epoch(&wt);
			localtime_r(&tt, &tm);
			localtime_r(&other, &probe);
			if (tm.tm_isdst == 0 && probe.tm_isdst > 0 &&
				probe.tm_hour == tm.tm_hour && probe.tm_mday == tm.tm_mday)
			{
				/* second occurrence of an overlap hour */
				assert_int_equal(got, u - 3600);
				continue;
			}
			assert_int_equal(got, u);
			/* first occurrence of an overlap hour: mktime may pick either */
			other = tt + 3600;
			localtime_r(&other, &probe);
			if (probe.tm_hour == tm.tm_hour && probe.tm_mday == tm.tm_mday)
				continue;
			tm.tm_isdst = -1;
			assert_int_equal((int64_t) mktime(&tm), u);
		}
	}
}

static void
test_cache_across_transitions(void **state)
{
	use_zone("America/New_York");
	check_round_trip(utc_epoch(2026, 3, 7, 0, 0, 0), utc_epoch(2026, 3, 9, 12, 0, 0), 59);
	check_round_trip(utc_epoch(2026, 10, 31, 0, 0, 0), utc_epoch(2026, 11, 2, 12, 0, 0), 61);
	use_zone("Europe/Madrid");
	check_round_trip(utc_epoch(2026, 3, 28, 0, 0, 0), utc_epoch(2026, 3, 30, 12, 0, 0), 67);
	check_round_trip(utc_epoch(2026, 10, 24, 0, 0, 0), utc_epoch(2026, 10, 26, 12, 0, 0), 53);
	use_zone("America/Bogota");
	check_round_trip(utc_epoch(2025, 12, 31, 0, 0, 0), utc_epoch(2026, 1, 3, 0, 0, 0), 97);
	/* a whole year hour by hour, twice: a warm cache answers the same */
	use_zone("America/New_York");
	check_round_trip(utc_epoch(2026, 1, 1, 0, 30, 0), utc_epoch(2027, 1, 1, 0, 0, 0), 3600);
}

static void
test_durations(void **state)
{
	static const struct
	{
		const char *s;
		double		v;
	}			good[] = {
		{"90", 90}, {"90s", 90}, {"5m", 300}, {"1h", 3600}, {"31d", 31 * 86400},
		{"1.5s", 1.5}, {"0", 0}, {"0s", 0}, {"0.5m", 30}, {"2.25h", 8100},
		{"007", 7},
	};
	static const char *const bad[] = {
		"", "-5", "+5", "5x", "5 m", " 5", "5 ", "1.", ".5", "abc", "5ms",
		"1e3", "1.5.2", "m", "5mm", "5S", "1,5s", "inf", "nan",
	};
	double		v;
	size_t		i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
	{
		v = -1;
		if (!wvtime_parse_duration(good[i].s, &v))
			fail_msg("rejected \"%s\"", good[i].s);
		assert_float_equal(v, good[i].v, 1e-9);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		if (wvtime_parse_duration(bad[i], &v))
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_false(wvtime_parse_duration(NULL, &v));
}

static void
test_now(void **state)
{
	int64_t		before = (int64_t) time(NULL);
	int64_t		now;

	use_zone("America/Bogota");
	unsetenv("WVETL_NOW");
	now = wvtime_now();
	assert_true(now >= before && now <= (int64_t) time(NULL));
	setenv("WVETL_NOW", "2026-01-18 19:34:31", 1);
	assert_int_equal(wvtime_now(), 1768782871);
	setenv("WVETL_NOW", "20260118193431", 1);
	assert_int_equal(wvtime_now(), 1768782871);
	setenv("WVETL_NOW", "garbage", 1);
	now = wvtime_now();
	assert_true(now >= before);
	unsetenv("WVETL_NOW");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_formats),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_bogota),
		cmocka_unit_test(test_host_tz_ignored),
		cmocka_unit_test(test_bad_zones),
		cmocka_unit_test(test_new_york_dst),
		cmocka_unit_test(test_madrid_dst),
		cmocka_unit_test(test_cache_across_transitions),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_now),
	};

	return cmocka_run_group_tests_name("wvtime", tests, NULL, NULL);
}
