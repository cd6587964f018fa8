/*
 * common/wvtime.h
 *   Wall-clock time in the operation's zone, independent of the host's.
 *   wvtime_set_zone() points the process's zone (TZ) at api.timezone once;
 *   after it, local <-> epoch conversions use that zone. Pure functions:
 *   they never log.
 */
#ifndef WVETL_WVTIME_H
#define WVETL_WVTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* Broken-down wall-clock time, no zone. */
typedef struct WallTime
{
	int			year, mon, day, hour, min, sec;	/* mon 1..12 */
} WallTime;

/* Use zone (IANA name, e.g. America/Bogota) for all local conversions.
 * Fails (errbuf) if the zone is unknown to the system's tz database. */
bool		wvtime_set_zone(const char *zone, char *errbuf);
const char *wvtime_zone(void);

/* Parse "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS", "YYYY-MM-DDTHH:MM:SS",
 * "YYYY-MM-DD-HH:MM:SS" or "YYYYmmddHHiiss" (exactly; n bytes, not NUL
 * terminated). Validates ranges. */
bool		wvtime_parse_wall(const char *s, size_t n, WallTime *out);

/* Local wall-clock time in the zone -> seconds since epoch, by PostgreSQL's
 * rule for `timestamp AT TIME ZONE`: a time a DST fall-back repeats is its
 * later occurrence (New York's 2026-11-01 01:30 is -05); a time a
 * spring-forward skips takes the offset in force before the transition
 * (New York's 2026-03-08 02:30 is 03:30 EDT). Deterministic. Fast: caches
 * the zone offset per hour. */
int64_t		wvtime_local_to_epoch(const WallTime *wt);
void		wvtime_epoch_to_local(int64_t t, WallTime *out);
/* The local day (days since 1970-01-01) and hour (0..23) of instant t.
 * Fast: caches the zone offset per hour. */
void		wvtime_local_day(int64_t t, int32_t *day, int *hour);

/* The wall-clock range to ask the API for the window [from, to): the
 * first and last wall times (inclusive, to the second) that read as an
 * instant in it. False when none does (to <= from, or a window within the
 * earlier occurrence of a repeated hour): then nothing is to be asked.
 * Never gives *ini after *end; adjacent windows get adjacent ranges, so a
 * repeated hour is asked once. ini or end may be NULL. */
bool		wvtime_request_range(int64_t from, int64_t to, WallTime *ini, WallTime *end);

/* The first instant of the local day `days` days after t's local date
 * (its midnight; where a spring-forward skips midnight, the instant the
 * day begins). From the calendar, never by adding 86400 s. */
int64_t		wvtime_day_start(int64_t t, int days);

/* A WallTime as YYYYmmddHHiiss (compact) or YYYY-MM-DD HH:MM:SS; out must
 * hold 32 bytes. */
void		wvtime_format_wall(const WallTime *wt, bool compact, char *out);

/* Formats (out must hold 32 bytes):
 *   compact: YYYYmmddHHiiss in the zone (the API's date_ini/date_end)
 *   local:   YYYY-MM-DD HH:MM:SS in the zone, for people: when a DST
 *            fall-back repeats that time, followed by the UTC offset of
 *            the occurrence meant ("2026-11-01 01:30:00 -04")
 *   utc:     YYYY-MM-DD HH:MM:SS+00 (COPY input for timestamptz) */
void		wvtime_format_compact(int64_t t, char *out);
void		wvtime_format_local(int64_t t, char *out);
void		wvtime_format_utc(int64_t t, char *out);

/* The dates a Wolkvox operation can have: from 2000-01-01 (local) to the
 * end of 2099. Times outside them (sync.start, --from, --to, a lookback
 * reaching before them) are configuration errors: a typo, not history. */
#define WVTIME_SERVICE_FROM "2000-01-01"
#define WVTIME_SERVICE_UNTIL "2100-01-01"
bool		wvtime_in_service(int64_t t);

/* Parse a duration "90", "90s", "5m", "1h", "31d", "1.5s" -> seconds. */
bool		wvtime_parse_duration(const char *s, double *out);

/* Now, seconds since epoch (a hook for tests: $WVETL_NOW overrides it,
 * as a local wall-clock time in any accepted format). */
int64_t		wvtime_now(void);

#endif							/* WVETL_WVTIME_H */
