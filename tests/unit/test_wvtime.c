/*
 * tests/unit/test_wvtime.c
 *   common/wvtime.c: accepted and rejected wall-clock formats, zone
 *   conversions (Bogota, New York and Madrid DST gaps and overlaps), the
 *   windows and API ranges across both DST transitions of Santiago,
 *   Asuncion, New York, Madrid and Mexico City (before 2022), the
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
 * 11-01 02:00 EDT -> 01:00 EST. As PostgreSQL reads them: a skipped time
 * takes the offset before the transition, a repeated time is its later
 * occurrence. */
static void
test_new_york_dst(void **state)
{
	use_zone("America/New_York");
	assert_int_equal(local_epoch("2026-03-08 01:59:59"), utc_epoch(2026, 3, 8, 6, 59, 59));
	assert_int_equal(local_epoch("2026-03-08 03:00:00"), utc_epoch(2026, 3, 8, 7, 0, 0));
	/* the gap: 02:30 read as EST, i.e. 03:30 EDT */
	assert_int_equal(local_epoch("2026-03-08 02:30:00"), utc_epoch(2026, 3, 8, 7, 30, 0));
	assert_int_equal(local_epoch("2026-03-08 02:00:00"), utc_epoch(2026, 3, 8, 7, 0, 0));
	/* the overlap: 01:30 is its later occurrence, EST (-05) */
	assert_int_equal(local_epoch("2026-11-01 01:30:00"), utc_epoch(2026, 11, 1, 6, 30, 0));
	assert_int_equal(local_epoch("2026-11-01 01:00:00"), utc_epoch(2026, 11, 1, 6, 0, 0));
	assert_int_equal(local_epoch("2026-11-01 00:59:59"), utc_epoch(2026, 11, 1, 4, 59, 59));
	assert_int_equal(local_epoch("2026-11-01 02:00:00"), utc_epoch(2026, 11, 1, 7, 0, 0));
	/* the same answers again, now from the cache */
	assert_int_equal(local_epoch("2026-03-08 02:45:00"), utc_epoch(2026, 3, 8, 7, 45, 0));
	assert_int_equal(local_epoch("2026-11-01 01:45:00"), utc_epoch(2026, 11, 1, 6, 45, 0));
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
	/* 10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice; the later wins */
	assert_int_equal(local_epoch("2026-10-25 02:30:00"), utc_epoch(2026, 10, 25, 1, 30, 0));
	assert_int_equal(local_epoch("2026-10-25 03:00:00"), utc_epoch(2026, 10, 25, 2, 0, 0));
}

/*
 * check_round_trip: for every instant from..to (step seconds), reading it
 * as local time and converting back gives the instant, except for the
 * first occurrence of a repeated hour, which maps to the second (one hour
 * later). Also compares with mktime wherever the wall time is not
 * ambiguous (in an overlap glibc's mktime answers by its previous call).
 * Run forwards and backwards so the cache is filled both ways.
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
			time_t		other = tt + 3600;

			wvtime_epoch_to_local(u, &wt);
			got = wvtime_local_to_epoch(&wt);
			localtime_r(&tt, &tm);
			localtime_r(&other, &probe);
			if (probe.tm_hour == tm.tm_hour && probe.tm_mday == tm.tm_mday)
			{
				/* first occurrence of a repeated hour */
				assert_int_equal(got, u + 3600);
				continue;
			}
			assert_int_equal(got, u);
			/* second occurrence: mktime may pick either */
			other = tt - 3600;
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

/* wall_secs: a WallTime as seconds "as if UTC" (wall-clock order). */
static int64_t
wall_secs(const WallTime *w)
{
	return utc_epoch(w->year, w->mon, w->day, w->hour, w->min, w->sec);
}

/*
 * check_windows: the windows of [from, to) in the current zone, day
 * windows (days > 0: wvtime_day_start, as the pipeline plans them) or
 * windows of step seconds, and what each asks the API for:
 *   - a day window starts on a local midnight (or, where a spring-forward
 *     skips midnight, on the day's first instant) and ends on the next:
 *     the local date grows by `days` each window, no drift;
 *   - date_ini is never after date_end;
 *   - every wall time asked reads as an instant inside the window, and
 *     the instants between one window's last wall time and the next one's
 *     first read from no wall time (a repeated hour's earlier occurrence):
 *     so no wall time is asked twice and none is skipped;
 *   - an empty window (no wall time reads into it) lies inside a shadow.
 * Returns the number of windows that ask the API.
 */
static int
check_windows(const char *from_wall, const char *to_wall, int days, int64_t step)
{
	int64_t		from = local_epoch(from_wall);
	int64_t		to = local_epoch(to_wall);
	int64_t		t;
	int64_t		prev_end = from - 1;	/* instant of the last wall asked */
	int			asked = 0;

	for (t = from; t < to;)
	{
		int64_t		end = days > 0 ? wvtime_day_start(t, days) : t + step;
		WallTime	wi;
		WallTime	we;
		WallTime	ws;
		WallTime	wn;
		int64_t		a;
		int64_t		b;
		int64_t		w;

		if (end > to)
			end = to;
		assert_true(end > t);
		if (days > 0)
		{
			wvtime_epoch_to_local(t, &ws);
			wvtime_epoch_to_local(end, &wn);
			/* the local date grows by days (a first window may be shorter) */
			assert_true(end == to ||
						(utc_epoch(wn.year, wn.mon, wn.day, 0, 0, 0) -
						 utc_epoch(ws.year, ws.mon, ws.day, 0, 0, 0)) == (int64_t) days * 86400);
			if (end != to)
			{
				/* on a midnight, or the first instant of a day that has none */
				assert_int_equal(wn.min + wn.sec, 0);
				assert_true(wn.hour == 0 ||
							wvtime_local_to_epoch(&(WallTime) {wn.year, wn.mon, wn.day, 0, 0, 0}) == end);
			}
		}
		if (!wvtime_request_range(t, end, &wi, &we))
		{
			/* nothing reads into it: every instant is a shadow's */
			for (w = t; w < end; w += 60)
			{
				wvtime_epoch_to_local(w, &ws);
				assert_true(wvtime_local_to_epoch(&ws) != w);
			}
			t = end;
			continue;
		}
		asked++;
		a = wvtime_local_to_epoch(&wi);
		b = wvtime_local_to_epoch(&we);
		assert_true(wall_secs(&wi) <= wall_secs(&we));
		assert_true(a >= t && a < end);
		assert_true(b >= t && b < end);
		/* every wall time asked reads into the window (sampled by minute) */
		for (w = wall_secs(&wi); w <= wall_secs(&we); w += (w + 60 <= wall_secs(&we) ? 60 : 1))
		{
			time_t		tt = (time_t) w;
			struct tm	tm;
			WallTime	x;
			int64_t		r;

			gmtime_r(&tt, &tm);
			x = (WallTime) {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				tm.tm_min, tm.tm_sec};
			r = wvtime_local_to_epoch(&x);
			/* a wall time a spring-forward skips is no one's: not checked */
			wvtime_epoch_to_local(r, &ws);
			if (wall_secs(&ws) != w)
				continue;
			assert_true(r >= t && r < end);
		}
		/* between the last wall asked and this first one: shadows only */
		for (w = prev_end + 1; w < a; w++)
		{
			wvtime_epoch_to_local(w, &ws);
			assert_true(wvtime_local_to_epoch(&ws) != w);
		}
		prev_end = b;
		t = end;
	}
	return asked;
}

/*
 * test_dst_windows: the DST zones of Wolkvox's customers across both
 * transitions: Santiago and Asuncion change at midnight (a skipped
 * midnight; a repeated 23:00 hour), New York, Madrid and Mexico City
 * (before 2022) at 02:00 or 03:00. Day windows, hour windows, odd windows
 * (7 minutes, 37 minutes: bounds inside the repeated hour, as a split at
 * the record cap makes them).
 */
static void
test_dst_windows(void **state)
{
	static const struct
	{
		const char *zone;
		const char *from;
		const char *to;
	}			cases[] = {
		{"America/Santiago", "2026-04-02", "2026-04-08"},
		{"America/Santiago", "2026-09-03", "2026-09-09"},
		{"America/Asuncion", "2023-03-23", "2023-03-29"},
		{"America/Asuncion", "2023-09-28", "2023-10-04"},
		{"America/Asuncion", "2024-10-12", "2024-10-18"},	/* -03 ever since */
		{"America/New_York", "2026-03-06", "2026-03-11"},
		{"America/New_York", "2026-10-30", "2026-11-04"},
		{"Europe/Madrid", "2026-03-27", "2026-03-31"},
		{"Europe/Madrid", "2026-10-23", "2026-10-27"},
		{"America/Mexico_City", "2021-04-02", "2021-04-06"},
		{"America/Mexico_City", "2021-10-29", "2021-11-02"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		int			days;

		use_zone(cases[i].zone);
		/* whole days: one request per local day, none inverted */
		days = check_windows(cases[i].from, cases[i].to, 1, 0);
		assert_int_equal(days, (int) ((local_epoch(cases[i].to) - local_epoch(cases[i].from) +
									   43200) / 86400));
		assert_true(check_windows(cases[i].from, cases[i].to, 2, 0) > 0);
		assert_true(check_windows(cases[i].from, cases[i].to, 0, 3600) > 0);
		assert_true(check_windows(cases[i].from, cases[i].to, 0, 7 * 60) > 0);
		assert_true(check_windows(cases[i].from, cases[i].to, 0, 37 * 60) > 0);
		/* a range that starts mid-day is back on midnights after one window */
		assert_true(check_windows("2021-01-01 13:30:00", "2021-01-04", 1, 0) == 3);
	}
}

/* The days across the transitions, in UTC: what the windows start on. */
static void
test_day_starts(void **state)
{
	use_zone("America/Santiago");
	/* 2026-04-04 has 25 hours (23:00 twice); 2026-09-06 has no midnight */
	assert_int_equal(local_epoch("2026-04-04"), utc_epoch(2026, 4, 4, 3, 0, 0));
	assert_int_equal(wvtime_day_start(local_epoch("2026-04-04"), 1), utc_epoch(2026, 4, 5, 4, 0, 0));
	assert_int_equal(wvtime_day_start(local_epoch("2026-09-05"), 1), utc_epoch(2026, 9, 6, 4, 0, 0));
	assert_int_equal(local_epoch("2026-09-06"), utc_epoch(2026, 9, 6, 4, 0, 0));
	/* from the skipped midnight's day on, still midnights: no drift */
	assert_int_equal(wvtime_day_start(local_epoch("2026-09-06"), 1), utc_epoch(2026, 9, 7, 3, 0, 0));
	assert_int_equal(wvtime_day_start(local_epoch("2026-09-06"), 2), utc_epoch(2026, 9, 8, 3, 0, 0));
	/* Santiago's repeated 23:00: the later occurrence, -04 */
	assert_int_equal(local_epoch("2026-04-04 23:30:00"), utc_epoch(2026, 4, 5, 3, 30, 0));
	use_zone("America/Asuncion");
	assert_int_equal(wvtime_day_start(local_epoch("2023-09-30 12:00:00"), 1),
					 utc_epoch(2023, 10, 1, 4, 0, 0));
	assert_int_equal(wvtime_day_start(local_epoch("2023-10-01 12:00:00"), 1),
					 utc_epoch(2023, 10, 2, 3, 0, 0));
	use_zone("America/Mexico_City");
	assert_int_equal(wvtime_day_start(local_epoch("2021-10-31 12:00:00"), 0),
					 utc_epoch(2021, 10, 31, 5, 0, 0));
	assert_int_equal(wvtime_day_start(local_epoch("2021-10-31 12:00:00"), 1),
					 utc_epoch(2021, 11, 1, 6, 0, 0));
	assert_int_equal(local_epoch("2021-10-31 01:30:00"), utc_epoch(2021, 10, 31, 7, 30, 0));
}

/*
 * test_request_range: what a window asks for at the repeated hour of New
 * York's 2026-11-01 (05:00-06:00 UTC is 01:xx EDT, read as nothing; 06:00-
 * 07:00 UTC is 01:xx EST): never an inverted range, never the hour twice.
 */
static void
test_request_range(void **state)
{
	WallTime	wi;
	WallTime	we;
	char		a[32];
	char		b[32];
	int64_t		h5 = utc_epoch(2026, 11, 1, 5, 0, 0);
	int64_t		h6 = utc_epoch(2026, 11, 1, 6, 0, 0);

	use_zone("America/New_York");
#define RANGE_IS(f, t, ini, end) do { \
		assert_true(wvtime_request_range((f), (t), &wi, &we)); \
		wvtime_format_wall(&wi, false, a); \
		wvtime_format_wall(&we, false, b); \
		assert_string_equal(a, (ini)); \
		assert_string_equal(b, (end)); \
	} while (0)
	/* the whole day */
	RANGE_IS(local_epoch("2026-11-01"), local_epoch("2026-11-02"),
			 "2026-11-01 00:00:00", "2026-11-01 23:59:59");
	/* hours by UTC: the EDT 01:xx hour asks nothing, the EST one asks 01:xx */
	RANGE_IS(h5 - 3600, h5, "2026-11-01 00:00:00", "2026-11-01 00:59:59");
	assert_false(wvtime_request_range(h5, h6, &wi, &we));
	RANGE_IS(h6, h6 + 3600, "2026-11-01 01:00:00", "2026-11-01 01:59:59");
	/* a split inside the shadow: the halves ask adjacent ranges */
	RANGE_IS(h5 - 3600, h5 + 1800, "2026-11-01 00:00:00", "2026-11-01 00:59:59");
	RANGE_IS(h5 + 1800, h6 + 3600, "2026-11-01 01:00:00", "2026-11-01 01:59:59");
	/* split inside the EST hour */
	RANGE_IS(h5, h6 + 1800, "2026-11-01 01:00:00", "2026-11-01 01:29:59");
	RANGE_IS(h6 + 1800, h6 + 3600, "2026-11-01 01:30:00", "2026-11-01 01:59:59");
	/* the spring-forward gap is never asked */
	RANGE_IS(local_epoch("2026-03-08 01:00:00"), local_epoch("2026-03-08 03:00:00"),
			 "2026-03-08 01:00:00", "2026-03-08 01:59:59");
	RANGE_IS(local_epoch("2026-03-08 03:00:00"), local_epoch("2026-03-08 04:00:00"),
			 "2026-03-08 03:00:00", "2026-03-08 03:59:59");
	/* for people, a repeated time says which occurrence */
	wvtime_format_local(h5 + 1800, a);
	assert_string_equal(a, "2026-11-01 01:30:00 -04");
	wvtime_format_local(h6 + 1800, a);
	assert_string_equal(a, "2026-11-01 01:30:00 -05");
	wvtime_format_local(h6 + 3600, a);
	assert_string_equal(a, "2026-11-01 02:00:00");
	wvtime_format_local(h5 - 1, a);
	assert_string_equal(a, "2026-11-01 00:59:59");
	assert_false(wvtime_request_range(10, 10, &wi, &we));
	assert_false(wvtime_request_range(10, 9, NULL, NULL));
#undef RANGE_IS
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
		cmocka_unit_test(test_dst_windows),
		cmocka_unit_test(test_day_starts),
		cmocka_unit_test(test_request_range),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_now),
	};

	return cmocka_run_group_tests_name("wvtime", tests, NULL, NULL);
}
