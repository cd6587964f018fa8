/*
 * common/wvtime.c
 *   Wall-clock time in the operation's zone (api.timezone), independent of
 *   the host's zone; strict parsing of the accepted date formats and of
 *   config durations. Pure: never logs.
 *
 *   Local -> epoch is on the transform's hot path (one call per record), so
 *   the zone's UTC offset is cached per local hour: a conversion is then a
 *   days-from-civil computation and one subtraction. Hours in which the
 *   offset changes are never cached.
 *
 *   One rule reads a local wall-clock time that DST makes ambiguous or
 *   impossible, the rule PostgreSQL applies to `timestamp AT TIME ZONE`,
 *   so that the C side (answered_at, window bounds) and the SQL side (the
 *   views' local midnights) always agree:
 *     - a time a fall-back repeats is its LATER occurrence (the offset in
 *       force after the transition): New York's 2026-11-01 01:30 is 01:30
 *       EST (-05), 06:30 UTC;
 *     - a time a spring-forward skips is read with the offset in force
 *       before the transition: New York's 2026-03-08 02:30 is 07:30 UTC,
 *       03:30 EDT; Santiago's nonexistent midnight of 2026-09-06 is the
 *       instant the day begins (01:00 -03).
 *   The later occurrence is also the one that keeps "only finished time is
 *   loaded" true: a wall-clock time is finished only once its last
 *   occurrence has passed. The instants of the earlier occurrence (the
 *   "shadow") are then read from no wall-clock time: no record is ever
 *   dated there, and wvtime_request_range() never asks for them.
 *   glibc's mktime with tm_isdst = -1 depends on the offset of whatever
 *   mktime call came before, which a cache would freeze arbitrarily: not
 *   used.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/wvtime.h"
#include "common/etl.h"

#define ZONE_NAME_MAX 128
#define CACHE_SLOTS 1024		/* power of two: consecutive hours never collide */
#define CACHE_VALID (UINT64_C(1) << 63)
#define CACHE_HOUR_BIAS (INT64_C(1) << 26)	/* keeps year 1 hours >= 0 */
#define CACHE_OFF_BIAS (INT64_C(1) << 17)	/* offsets within +-36 h */

static char zone_name[ZONE_NAME_MAX];

/*
 * offset_cache: slot = hour key mod CACHE_SLOTS; entry = valid bit, hour key
 * (bits 20..46) and biased offset (bits 0..18). One 64-bit word per entry,
 * read and written atomically, so a reader in another thread never sees a
 * torn entry.
 */
static _Atomic uint64_t offset_cache[CACHE_SLOTS];

/* utc_offset_cache: the same layout, keyed by the UTC hour of an instant
 * (epoch -> local, wvtime_local_day). */
static _Atomic uint64_t utc_offset_cache[CACHE_SLOTS];

static int64_t days_from_civil(int64_t y, int m, int d);
static void civil_from_days(int64_t z, int *y, int *m, int *d);
static int64_t wall_as_utc(const WallTime *wt);
static long zone_offset_at(int64_t t);
static int64_t resolve_local(int64_t wall);
static bool zone_file_exists(const char *zone);
static int	parse_digits(const char *s, size_t n, bool *ok);
static bool wall_valid(const WallTime *wt);
static void put_digits(char *out, int v, int width);
static void format_fields(const WallTime *wt, bool compact, char *out);

/*
 * days_from_civil: days since 1970-01-01 of a proleptic Gregorian date
 * (Howard Hinnant's public-domain algorithm).
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe;
	int64_t		doy;
	int64_t		doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* civil_from_days: the inverse of days_from_civil. */
static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t		era;
	int64_t		doe;
	int64_t		yoe;
	int64_t		doy;
	int64_t		mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = (int) (yoe + era * 400 + (*m <= 2));
}

/* wall_as_utc: the wall-clock fields read as if they were UTC. */
static int64_t
wall_as_utc(const WallTime *wt)
{
	return days_from_civil(wt->year, wt->mon, wt->day) * 86400 +
		wt->hour * 3600 + wt->min * 60 + wt->sec;
}

/* zone_offset_at: the zone's UTC offset (seconds east) at instant t. */
static long
zone_offset_at(int64_t t)
{
	time_t		tt = (time_t) t;
	struct tm	tm;

	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

/*
 * resolve_local: the instant whose wall-clock reading in the zone is wall
 * (given as seconds "as if UTC"). Offsets are sampled well before and well
 * after every candidate instant (no zone is more than 14 h from UTC); when
 * both readings are possible (a fall-back repeats wall) the later instant
 * wins, when neither is (a spring-forward skips it) the offset before the
 * transition: PostgreSQL's rule (file comment).
 */
static int64_t
resolve_local(int64_t wall)
{
	long		o_before = zone_offset_at(wall - 15 * 3600);
	long		o_after = zone_offset_at(wall + 15 * 3600);
	int64_t		t1 = wall - o_before;
	int64_t		t2 = wall - o_after;
	int64_t		later = t1 > t2 ? t1 : t2;
	int64_t		earlier = t1 > t2 ? t2 : t1;

	if (o_before == o_after)
		return t1;
	if (later + zone_offset_at(later) == wall)
		return later;
	if (earlier + zone_offset_at(earlier) == wall)
		return earlier;
	return t1;					/* in the gap: the offset before it */
}

int64_t
wvtime_local_to_epoch(const WallTime *wt)
{
	int64_t		wall = wall_as_utc(wt);
	int64_t		hour = (wall >= 0 ? wall / 3600 : (wall - 3599) / 3600);
	uint64_t	key = (uint64_t) (hour + CACHE_HOUR_BIAS) & ((UINT64_C(1) << 27) - 1);
	size_t		slot = (size_t) (key & (CACHE_SLOTS - 1));
	uint64_t	entry = atomic_load_explicit(&offset_cache[slot], memory_order_relaxed);
	int64_t		start;
	int64_t		off_start;
	int64_t		off_end;

	if ((entry & CACHE_VALID) && ((entry >> 20) & ((UINT64_C(1) << 27) - 1)) == key)
		return wall - ((int64_t) (entry & ((UINT64_C(1) << 19) - 1)) - CACHE_OFF_BIAS);

	/* Miss: resolve the hour's first and last second; cache only when the
	 * hour has one offset throughout (and the key fits its bits). */
	start = hour * 3600;
	off_start = start - resolve_local(start);
	off_end = start + 3599 - resolve_local(start + 3599);
	if (off_start == off_end && off_start > -CACHE_OFF_BIAS && off_start < CACHE_OFF_BIAS &&
		hour + CACHE_HOUR_BIAS >= 0 && hour + CACHE_HOUR_BIAS < (INT64_C(1) << 27))
	{
		entry = CACHE_VALID | (key << 20) | (uint64_t) (off_start + CACHE_OFF_BIAS);
		atomic_store_explicit(&offset_cache[slot], entry, memory_order_relaxed);
		return wall - off_start;
	}
	return resolve_local(wall);
}

/*
 * wvtime_local_day: the local day (days since 1970-01-01) and hour (0..23)
 * of instant t in the zone, as PostgreSQL's (t AT TIME ZONE zone) reads
 * them. Called once per loaded record (load/rollup.c), so the zone's
 * offset is cached per UTC hour; hours in which it changes are not cached.
 */
void
wvtime_local_day(int64_t t, int32_t *day, int *hour)
{
	int64_t		h = t >= 0 ? t / 3600 : (t - 3599) / 3600;
	uint64_t	key = (uint64_t) (h + CACHE_HOUR_BIAS) & ((UINT64_C(1) << 27) - 1);
	size_t		slot = (size_t) (key & (CACHE_SLOTS - 1));
	uint64_t	entry = atomic_load_explicit(&utc_offset_cache[slot], memory_order_relaxed);
	int64_t		off;
	int64_t		local;
	int64_t		d;

	if ((entry & CACHE_VALID) && ((entry >> 20) & ((UINT64_C(1) << 27) - 1)) == key)
		off = (int64_t) (entry & ((UINT64_C(1) << 19) - 1)) - CACHE_OFF_BIAS;
	else
	{
		off = zone_offset_at(h * 3600);
		if (off != zone_offset_at(h * 3600 + 3599))
			off = zone_offset_at(t);
		else if (off > -CACHE_OFF_BIAS && off < CACHE_OFF_BIAS &&
				 h + CACHE_HOUR_BIAS >= 0 && h + CACHE_HOUR_BIAS < (INT64_C(1) << 27))
			atomic_store_explicit(&utc_offset_cache[slot],
								  CACHE_VALID | (key << 20) | (uint64_t) (off + CACHE_OFF_BIAS),
								  memory_order_relaxed);
	}
	local = t + off;
	d = local >= 0 ? local / 86400 : (local - 86399) / 86400;
	*day = (int32_t) d;
	*hour = (int) ((local - d * 86400) / 3600);
}

void
wvtime_epoch_to_local(int64_t t, WallTime *out)
{
	time_t		tt = (time_t) t;
	struct tm	tm;

	if (localtime_r(&tt, &tm) == NULL)
	{
		memset(out, 0, sizeof(*out));
		return;
	}
	out->year = tm.tm_year + 1900;
	out->mon = tm.tm_mon + 1;
	out->day = tm.tm_mday;
	out->hour = tm.tm_hour;
	out->min = tm.tm_min;
	out->sec = tm.tm_sec;
}

/* in_shadow: t is an instant no wall-clock time is read as: the earlier
 * occurrence of a time a fall-back repeats (file comment). */
static bool
in_shadow(int64_t t)
{
	WallTime	w;

	wvtime_epoch_to_local(t, &w);
	return wvtime_local_to_epoch(&w) != t;
}

/*
 * unshadowed: t when it is not in a shadow; else the first instant after
 * the shadow (up) or the last before it (down). In a shadow, t's wall time
 * is read as its later occurrence, t + d, where d is the fall-back's size:
 * the shadow ends in (t, t + d] and began in (t - d, t]; one bisection
 * finds the edge (a shadow is one interval; no zone falls back twice
 * within a few hours).
 */
static int64_t
unshadowed(int64_t t, bool up)
{
	WallTime	w;
	int64_t		d;
	int64_t		lo;
	int64_t		hi;

	wvtime_epoch_to_local(t, &w);
	d = wvtime_local_to_epoch(&w) - t;
	if (d <= 0)
		return t;
	/* invariant, up: lo in the shadow, hi not; down: lo not, hi in it */
	lo = up ? t : t - d;
	hi = up ? t + d : t;
	while (hi - lo > 1)
	{
		int64_t		mid = lo + (hi - lo) / 2;

		if (in_shadow(mid) == up)
			lo = mid;
		else
			hi = mid;
	}
	return up ? hi : lo;
}

/*
 * wvtime_request_range: see wvtime.h. date_ini is the first wall time read
 * as an instant >= from, date_end the last one read as an instant < to:
 * local(from) and local(to - 1) unless those fall in a shadow. Wall time
 * grows with the instant it is read as (outside the gaps a spring-forward
 * skips, which hold no wall time), so the windows of a range ask for
 * adjacent wall-time ranges, none twice.
 */
bool
wvtime_request_range(int64_t from, int64_t to, WallTime *ini, WallTime *end)
{
	int64_t		a;
	int64_t		b;

	if (to <= from)
		return false;
	a = unshadowed(from, true);
	b = unshadowed(to - 1, false);
	if (a > b)
		return false;
	if (ini != NULL)
		wvtime_epoch_to_local(a, ini);
	if (end != NULL)
		wvtime_epoch_to_local(b, end);
	return true;
}

/*
 * wvtime_day_start: the first instant of the local day `days` days after
 * t's local date: its midnight, read by the rule above (a midnight that a
 * spring-forward skips gives the instant the day begins). Computed from
 * the calendar, never by adding 86400 s, so day windows stay on midnights
 * across every DST change.
 */
int64_t
wvtime_day_start(int64_t t, int days)
{
	WallTime	w;
	int64_t		day;

	wvtime_epoch_to_local(t, &w);
	day = days_from_civil(w.year, w.mon, w.day) + days;
	civil_from_days(day, &w.year, &w.mon, &w.day);
	w.hour = w.min = w.sec = 0;
	return wvtime_local_to_epoch(&w);
}

/*
 * zone_file_exists: true when zone names a TZif file under $TZDIR (else
 * /usr/share/zoneinfo), where glibc will look for it. Names are restricted
 * to the characters IANA uses, without "..", so TZ cannot be pointed at an
 * arbitrary file.
 */
static bool
zone_file_exists(const char *zone)
{
	const char *dir = getenv("TZDIR");
	char		path[512];
	char		magic[4];
	FILE	   *f;
	bool		ok;

	if (zone[0] == '/' || strstr(zone, "..") != NULL ||
		strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			   "0123456789/_+-") != strlen(zone))
		return false;
	if (dir == NULL || dir[0] == '\0')
		dir = "/usr/share/zoneinfo";
	if (snprintf(path, sizeof(path), "%s/%s", dir, zone) >= (int) sizeof(path))
		return false;
	f = fopen(path, "rb");
	if (f == NULL)
		return false;
	ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
	fclose(f);
	return ok;
}

/*
 * wvtime_set_zone: check zone, then point TZ at it and drop the offset
 * cache. "UTC" is accepted even without a tz database.
 */
bool
wvtime_set_zone(const char *zone, char *errbuf)
{
	size_t		i;

	if (zone == NULL || zone[0] == '\0')
	{
		etl_seterr(errbuf, "time zone is empty");
		return false;
	}
	if (strlen(zone) >= ZONE_NAME_MAX)
	{
		etl_seterr(errbuf, "time zone name is too long");
		return false;
	}
	if (strcmp(zone, "UTC") != 0 && !zone_file_exists(zone))
	{
		etl_seterr(errbuf, "unknown time zone \"%s\" (no such zone in the system's tz database)",
				   zone);
		return false;
	}
	if (setenv("TZ", zone, 1) != 0)
	{
		etl_seterr(errbuf, "cannot set TZ: %s", strerror(errno));
		return false;
	}
	tzset();
	snprintf(zone_name, sizeof(zone_name), "%s", zone);
	for (i = 0; i < CACHE_SLOTS; i++)
	{
		atomic_store_explicit(&offset_cache[i], 0, memory_order_relaxed);
		atomic_store_explicit(&utc_offset_cache[i], 0, memory_order_relaxed);
	}
	return true;
}

/* wvtime_zone: the zone set by wvtime_set_zone, or "localtime" before. */
const char *
wvtime_zone(void)
{
	return zone_name[0] ? zone_name : "localtime";
}

/* parse_digits: n ASCII digits as an int; *ok = false on anything else. */
static int
parse_digits(const char *s, size_t n, bool *ok)
{
	int			v = 0;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
		{
			*ok = false;
			return 0;
		}
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* wall_valid: ranges, days per month including leap years. */
static bool
wall_valid(const WallTime *wt)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			dim;
	bool		leap;

	if (wt->year < 1 || wt->mon < 1 || wt->mon > 12)
		return false;
	leap = (wt->year % 4 == 0 && wt->year % 100 != 0) || wt->year % 400 == 0;
	dim = mdays[wt->mon - 1] + (wt->mon == 2 && leap);
	return wt->day >= 1 && wt->day <= dim &&
		wt->hour >= 0 && wt->hour <= 23 &&
		wt->min >= 0 && wt->min <= 59 &&
		wt->sec >= 0 && wt->sec <= 59;
}

/*
 * wvtime_parse_wall: the exact formats listed in wvtime.h, nothing else
 * (no surrounding blanks, no fractional seconds, no zone suffix).
 */
bool
wvtime_parse_wall(const char *s, size_t n, WallTime *out)
{
	WallTime	wt = {0, 0, 0, 0, 0, 0};
	bool		ok = true;

	if (s == NULL)
		return false;
	if (n == 14)
	{
		wt.year = parse_digits(s, 4, &ok);
		wt.mon = parse_digits(s + 4, 2, &ok);
		wt.day = parse_digits(s + 6, 2, &ok);
		wt.hour = parse_digits(s + 8, 2, &ok);
		wt.min = parse_digits(s + 10, 2, &ok);
		wt.sec = parse_digits(s + 12, 2, &ok);
	}
	else if (n == 10 || n == 19)
	{
		if (s[4] != '-' || s[7] != '-')
			return false;
		wt.year = parse_digits(s, 4, &ok);
		wt.mon = parse_digits(s + 5, 2, &ok);
		wt.day = parse_digits(s + 8, 2, &ok);
		if (n == 19)
		{
			if ((s[10] != ' ' && s[10] != 'T' && s[10] != '-') ||
				s[13] != ':' || s[16] != ':')
				return false;
			wt.hour = parse_digits(s + 11, 2, &ok);
			wt.min = parse_digits(s + 14, 2, &ok);
			wt.sec = parse_digits(s + 17, 2, &ok);
		}
	}
	else
		return false;
	if (!ok || !wall_valid(&wt))
		return false;
	*out = wt;
	return true;
}

/* put_digits: v as exactly width decimal digits (v >= 0, clamped). */
static void
put_digits(char *out, int v, int width)
{
	int			i;

	if (v < 0)
		v = 0;
	for (i = width - 1; i >= 0; i--)
	{
		out[i] = (char) ('0' + v % 10);
		v /= 10;
	}
}

/* format_fields: YYYYmmddHHiiss (compact) or YYYY-MM-DD HH:MM:SS. */
static void
format_fields(const WallTime *wt, bool compact, char *out)
{
	char	   *p = out;

	put_digits(p, wt->year, 4);
	p += 4;
	if (!compact)
		*p++ = '-';
	put_digits(p, wt->mon, 2);
	p += 2;
	if (!compact)
		*p++ = '-';
	put_digits(p, wt->day, 2);
	p += 2;
	if (!compact)
		*p++ = ' ';
	put_digits(p, wt->hour, 2);
	p += 2;
	if (!compact)
		*p++ = ':';
	put_digits(p, wt->min, 2);
	p += 2;
	if (!compact)
		*p++ = ':';
	put_digits(p, wt->sec, 2);
	p += 2;
	*p = '\0';
}

void
wvtime_format_wall(const WallTime *wt, bool compact, char *out)
{
	format_fields(wt, compact, out);
}

void
wvtime_format_compact(int64_t t, char *out)
{
	WallTime	wt;

	wvtime_epoch_to_local(t, &wt);
	format_fields(&wt, true, out);
}

/* wvtime_format_local: see wvtime.h. A wall time is repeated when the
 * instant an hour away (either way) reads the same. */
void
wvtime_format_local(int64_t t, char *out)
{
	WallTime	wt;
	WallTime	other;
	long		off;
	int			d;
	int			h;
	int			m;

	wvtime_epoch_to_local(t, &wt);
	format_fields(&wt, false, out);
	for (d = -1; d <= 1; d += 2)
	{
		wvtime_epoch_to_local(t + d * 3600, &other);
		if (memcmp(&wt, &other, sizeof(wt)) != 0)
			continue;
		off = zone_offset_at(t);
		h = (int) (labs(off) / 3600 % 100);
		m = (int) (labs(off) % 3600 / 60);
		if (m != 0)
			snprintf(out + 19, 13, " %c%02d:%02d", off < 0 ? '-' : '+', h, m);
		else
			snprintf(out + 19, 13, " %c%02d", off < 0 ? '-' : '+', h);
		break;
	}
}

/* wvtime_format_utc: computed directly, whatever the zone. */
void
wvtime_format_utc(int64_t t, char *out)
{
	WallTime	wt;
	int64_t		days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t		secs = t - days * 86400;

	civil_from_days(days, &wt.year, &wt.mon, &wt.day);
	wt.hour = (int) (secs / 3600);
	wt.min = (int) (secs / 60 % 60);
	wt.sec = (int) (secs % 60);
	format_fields(&wt, false, out);
	memcpy(out + 19, "+00", 4);
}

/* wvtime_in_service: t's local date lies in [2000-01-01, 2100-01-01). */
bool
wvtime_in_service(int64_t t)
{
	WallTime	w;

	wvtime_epoch_to_local(t, &w);
	return w.year >= 2000 && w.year < 2100;
}

/*
 * wvtime_parse_duration: digits with an optional fraction, then an optional
 * unit s, m, h or d (none = seconds). Parsed by hand, not with strtod, so a
 * locale with a decimal comma cannot change the meaning of "1.5s".
 */
bool
wvtime_parse_duration(const char *s, double *out)
{
	double		v = 0;
	double		scale = 1;
	size_t		i = 0;
	size_t		int_digits = 0;
	size_t		frac_digits = 0;

	if (s == NULL)
		return false;
	for (; s[i] >= '0' && s[i] <= '9'; i++, int_digits++)
		v = v * 10 + (s[i] - '0');
	if (s[i] == '.')
	{
		for (i++; s[i] >= '0' && s[i] <= '9'; i++, frac_digits++)
			v += (s[i] - '0') * (scale /= 10);
		if (frac_digits == 0)
			return false;
	}
	if (int_digits == 0 || int_digits > 15)
		return false;
	switch (s[i])
	{
		case '\0':
			break;
		case 's':
			i++;
			break;
		case 'm':
			v *= 60;
			i++;
			break;
		case 'h':
			v *= 3600;
			i++;
			break;
		case 'd':
			v *= 86400;
			i++;
			break;
		default:
			return false;
	}
	if (s[i] != '\0')
		return false;
	*out = v;
	return true;
}

/*
 * wvtime_now: time(NULL), unless $WVETL_NOW holds a wall-clock time in the
 * zone (any format wvtime_parse_wall accepts); an unreadable value is
 * ignored.
 */
int64_t
wvtime_now(void)
{
	const char *env = getenv("WVETL_NOW");
	WallTime	wt;

	if (env != NULL && wvtime_parse_wall(env, strlen(env), &wt))
		return wvtime_local_to_epoch(&wt);
	return (int64_t) time(NULL);
}
