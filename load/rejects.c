/*
 * load/rejects.c
 *   `wvetl rejects`: an operation's open rejects (etl_reject rows whose
 *   resolved_at is NULL), by window, as text for an operator or as JSON
 *   lines for a script, and how to retry them: load their windows again
 *   (window.c marks a reject resolved when a load of a window containing
 *   its window no longer rejects the record). Read through a cursor: a
 *   raw record can be megabytes, and rejects many. Reads only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

#define TS_FMT "'YYYY-MM-DD HH24:MI:SS'"
#define REJECTS_FETCH "FETCH 200 FROM wvetl_rejects"
#define RAW_SHOWN "2000"		/* text: characters of a raw record shown */
#define RETRY_SHOWN 20			/* text: retry commands shown ... */
#define RETRY_FETCH "21"		/* ... out of this many: more are said so */

/* $1 operation, $2 its zone, $3 / $4 from / to (epoch seconds; NULL:
 * unbounded): the open rejects whose window meets [from, to). */
#define REJECTS_FROM \
	" FROM etl_reject WHERE operation = $1 AND resolved_at IS NULL" \
	"  AND ($3::bigint IS NULL OR window_to > pg_catalog.to_timestamp($3::bigint))" \
	"  AND ($4::bigint IS NULL OR window_from < pg_catalog.to_timestamp($4::bigint))"
#define LOCAL(col) "to_char(" col " AT TIME ZONE $2, " TS_FMT ")"

static const char zone_sql[] =
	"SELECT coalesce((SELECT timezone FROM etl_state WHERE operation = $1), $2)";

/* ($2 unused but typed: every statement here takes the same four) */
static const char count_sql[] = "SELECT count(*), $2::text" REJECTS_FROM;

static const char text_cursor_sql[] =
	"DECLARE wvetl_rejects NO SCROLL CURSOR FOR"
	" SELECT reject_id, " LOCAL("window_from") ", " LOCAL("window_to") ","
	"  " LOCAL("first_seen") ", " LOCAL("last_seen") ", run_id, reason,"
	"  left(raw_record, " RAW_SHOWN "), octet_length(raw_record)"
	REJECTS_FROM " ORDER BY window_from, reject_id";

/* raw_record as a JSON string: the text exactly as stored (it is the
 * API's JSON, but may not be JSON jsonb can hold: \u0000). */
static const char json_cursor_sql[] =
	"DECLARE wvetl_rejects NO SCROLL CURSOR FOR"
	" SELECT json_build_object('reject_id', reject_id, 'operation', operation,"
	"  'time_zone', $2::text, 'window_from', " LOCAL("window_from") ","
	"  'window_to', " LOCAL("window_to") ", 'first_seen', " LOCAL("first_seen") ","
	"  'last_seen', " LOCAL("last_seen") ", 'run_id', run_id, 'reason', reason,"
	"  'raw_record', raw_record)::text"
	REJECTS_FROM " ORDER BY window_from, reject_id";

/* The windows of those rejects, overlapping or touching ones merged: the
 * ranges a backfill --reload retries them over. */
static const char retry_sql[] =
	"SELECT " LOCAL("min(f)") ", " LOCAL("max(t)") " FROM ("
	"  SELECT f, t, sum(brk) OVER (ORDER BY f, t) AS grp FROM ("
	"   SELECT f, t, CASE WHEN f <= max(t) OVER (ORDER BY f, t"
	"     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS brk"
	"   FROM (SELECT DISTINCT window_from AS f, window_to AS t" REJECTS_FROM ") d) x) y"
	" GROUP BY grp ORDER BY min(f) LIMIT " RETRY_FETCH;

/* rejects_text: s on out, any control character shown as '?'. */
static void
rejects_text(FILE *out, const char *s)
{
	for (; *s != '\0'; s++)
		fputc((unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* rejects_print_text: one fetched batch, a block per reject. */
static void
rejects_print_text(PGresult *res, FILE *out)
{
	for (int r = 0; r < PQntuples(res); r++)
	{
		long long	bytes = strtoll(PQgetvalue(res, r, 8), NULL, 10);

		fprintf(out, "\nreject %s: window [%s, %s), seen %s .. %s, last by run %s\n",
				PQgetvalue(res, r, 0), PQgetvalue(res, r, 1), PQgetvalue(res, r, 2),
				PQgetvalue(res, r, 3), PQgetvalue(res, r, 4), PQgetvalue(res, r, 5));
		fprintf(out, "  reason  ");
		rejects_text(out, PQgetvalue(res, r, 6));
		fprintf(out, "\n  record  ");
		rejects_text(out, PQgetvalue(res, r, 7));
		if (bytes > PQgetlength(res, r, 7))
			fprintf(out, " ... (%lld bytes in all; --json shows it whole)", bytes);
		fputc('\n', out);
	}
}

/* rejects_print_json: one fetched batch, a JSON object per line. */
static void
rejects_print_json(PGresult *res, FILE *out)
{
	for (int r = 0; r < PQntuples(res); r++)
		fprintf(out, "%s\n", PQgetvalue(res, r, 0));
}

/* rejects_list: every reject through the cursor (in a read-only
 * transaction of its own), printed batch by batch. */
static bool
rejects_list(Loader *l, const char *const *params, bool json, FILE *out)
{
	PGresult   *res;
	bool		ok;

	if (!pg_command(l->conn, "reading rejects", "BEGIN READ ONLY", 0, NULL))
		return false;
	ok = pg_command(l->conn, "reading rejects", json ? json_cursor_sql : text_cursor_sql,
					4, params);
	while (ok)
	{
		res = pg_query(l->conn, "reading rejects", REJECTS_FETCH, 0, NULL);
		if (res == NULL)
		{
			ok = false;
			break;
		}
		if (PQntuples(res) == 0)
		{
			PQclear(res);
			break;
		}
		if (json)
			rejects_print_json(res, out);
		else
			rejects_print_text(res, out);
		PQclear(res);
	}
	(void) pg_command(l->conn, "reading rejects", ok ? "COMMIT" : "ROLLBACK", 0, NULL);
	return ok;
}

/* rejects_retry: the commands that retry the rejects listed. */
static bool
rejects_retry(Loader *l, const char *const *params, const char *retry_args, FILE *out)
{
	PGresult   *res = pg_query(l->conn, "finding the rejects' windows", retry_sql, 4, params);
	int			n;

	if (res == NULL)
		return false;
	n = PQntuples(res);
	fprintf(out, "\nTo retry them once their cause is fixed (a newer wvetl, the API's data), "
			"load their windows again;\na reject that loads then, or that the API no longer "
			"sends, is marked resolved:\n");
	for (int r = 0; r < n && r < RETRY_SHOWN; r++)
		fprintf(out, "  wvetl backfill --reload %s--from '%s' --to '%s'\n", retry_args,
				PQgetvalue(res, r, 0), PQgetvalue(res, r, 1));
	if (n > RETRY_SHOWN)
		fprintf(out, "  (more windows: narrow the list with --from and --to)\n");
	fprintf(out, "(windows loaded by `wvetl replay`: replay their file again instead)\n");
	PQclear(res);
	return true;
}

/* loader_rejects: see load.h. */
bool
loader_rejects(Loader *l, int64_t from, int64_t to, bool json, const char *retry_args,
			   FILE *out)
{
	char		f[24];
	char		t[24];
	const char *params[4] = {l->operation, l->timezone, NULL, NULL};
	PGresult   *res;
	char	   *zone = NULL;
	int64_t		n = 0;
	bool		ok = false;

	if (from != INT64_MIN)
	{
		snprintf(f, sizeof(f), "%" PRId64, from);
		params[2] = f;
	}
	if (to != INT64_MAX)
	{
		snprintf(t, sizeof(t), "%" PRId64, to);
		params[3] = t;
	}
	res = pg_query(l->conn, "reading the operation's time zone", zone_sql, 2, params);
	if (res == NULL || (zone = strdup(PQgetvalue(res, 0, 0))) == NULL)
		goto done;
	params[1] = zone;
	if (!pg_query_int64(l->conn, "counting rejects", count_sql, 4, params, &n, NULL))
		goto done;
	if (!json)
		fprintf(out, "operation %s (times in %s): %" PRId64 " open reject(s)%s\n",
				l->operation, zone, n, params[2] || params[3] ? " in that range" : "");
	ok = n == 0 || (rejects_list(l, params, json, out) &&
					(json || rejects_retry(l, params, retry_args, out)));
done:
	PQclear(res);
	free(zone);
	return ok;
}
