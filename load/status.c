/*
 * load/status.c
 *   `wvetl status`: per operation, the watermark (in the operation's own
 *   time zone), row counts, the loaded range and the gaps in it, and the
 *   latest runs, as plain aligned text; for several configured operations,
 *   a table of them side by side first. Every figure is computed in SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

#define TS_FMT "'YYYY-MM-DD HH24:MI:SS'"
#define STATUS_GAPS 20

/* The operation's figures; rejects open (resolved_at NULL, what `wvetl
 * rejects` lists) and resolved (a later load of their window took them). */
static const char summary_sql[] =
	"SELECT (SELECT to_char(watermark AT TIME ZONE $2, " TS_FMT ")"
	"         FROM etl_state WHERE operation = $1),"
	" (SELECT count(*) FROM survey_response WHERE operation = $1),"
	" (SELECT count(*) FROM survey_answer a JOIN survey_response r USING (response_id)"
	"   WHERE r.operation = $1),"
	" (SELECT count(*) FROM etl_reject WHERE operation = $1 AND resolved_at IS NULL),"
	" to_char(min(window_from) AT TIME ZONE $2, " TS_FMT "),"
	" to_char(max(window_to) AT TIME ZONE $2, " TS_FMT "),"
	" count(*),"
	" (SELECT count(*) FROM etl_reject WHERE operation = $1 AND resolved_at IS NOT NULL)"
	" FROM etl_window WHERE operation = $1";

/* A gap: a window starting after every earlier window has ended. */
static const char gaps_sql[] =
	"SELECT to_char(prev_end AT TIME ZONE $2, " TS_FMT "),"
	" to_char(window_from AT TIME ZONE $2, " TS_FMT ")"
	" FROM (SELECT window_from, max(window_to) OVER (ORDER BY window_from, window_to"
	"        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end"
	"       FROM etl_window WHERE operation = $1) w"
	" WHERE window_from > prev_end ORDER BY window_from LIMIT 21";

/* A run still 'running' whose session no longer holds the operation's
 * lock has gone away (killed, host down): shown as such, although only
 * the operation's next run records it as abandoned. */
static const char runs_sql[] =
	"SELECT run_id, command,"
	" CASE WHEN status = 'running' AND backend_pid IS DISTINCT FROM"
	"  (" LOCK_HOLDER_SQL_P("$3", "$1") ") THEN 'abandoned' ELSE status END,"
	" to_char(started_at AT TIME ZONE $2, " TS_FMT "),"
	" coalesce(justify_interval(date_trunc('second', ended_at - started_at))::text, '-'),"
	" records, inserted, updated, duplicates, rejects, api_calls, coalesce(error, '')"
	" FROM etl_run WHERE operation = $1 ORDER BY run_id DESC LIMIT 5";

static const char *const runs_head[] = {
	"run", "command", "status", "started", "duration", "records", "inserted",
	"updated", "dups", "rejects", "calls", "error"
};

#define RUNS_COLS 12

/* status_numeric: right-align the run id and the counts. */
static bool
status_numeric(int col)
{
	return col == 0 || (col >= 5 && col <= 10);
}

/* status_text: s on out, any control character (a terminal escape in an
 * API message, say) shown as '?'. */
static void
status_text(FILE *out, const char *s)
{
	for (; *s != '\0'; s++)
		fputc((unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* status_runs: the latest runs as an aligned table; the error column is
 * last, whole (its cause is at its end: "window [...]: HTTP 400 ..."). */
static bool
status_runs(Loader *l, FILE *out, const char *const *params)
{
	const char *run_params[3] = {params[0], params[1], l->schema};
	PGresult   *res = pg_query(l->conn, "reading recent runs", runs_sql, 3, run_params);
	int			width[RUNS_COLS];
	int			r;
	int			c;

	if (res == NULL)
		return false;
	if (PQntuples(res) == 0)
	{
		fprintf(out, "  runs        none\n");
		PQclear(res);
		return true;
	}
	for (c = 0; c < RUNS_COLS; c++)
	{
		width[c] = (int) strlen(runs_head[c]);
		for (r = 0; r < PQntuples(res); r++)
			if (PQgetlength(res, r, c) > width[c])
				width[c] = PQgetlength(res, r, c);
	}
	fprintf(out, "  recent runs\n   ");
	for (c = 0; c < RUNS_COLS; c++)
		fprintf(out, status_numeric(c) ? " %*s" : " %-*s",
				c + 1 < RUNS_COLS ? width[c] : 0, runs_head[c]);
	fputc('\n', out);
	for (r = 0; r < PQntuples(res); r++)
	{
		fprintf(out, "   ");
		for (c = 0; c + 1 < RUNS_COLS; c++)
			fprintf(out, status_numeric(c) ? " %*s" : " %-*s", width[c], PQgetvalue(res, r, c));
		if (PQgetlength(res, r, RUNS_COLS - 1) > 0)
			fputc(' ', out);
		status_text(out, PQgetvalue(res, r, RUNS_COLS - 1));
		fputc('\n', out);
	}
	PQclear(res);
	return true;
}

/* status_gaps: ranges between loaded windows, within the loaded range. */
static bool
status_gaps(Loader *l, FILE *out, const char *const *params)
{
	PGresult   *res = pg_query(l->conn, "finding gaps", gaps_sql, 2, params);
	int			r;

	if (res == NULL)
		return false;
	if (PQntuples(res) == 0)
		fprintf(out, "  gaps        none\n");
	for (r = 0; r < PQntuples(res) && r < STATUS_GAPS; r++)
		fprintf(out, "  %-11s %s .. %s\n", r == 0 ? "gaps" : "",
				PQgetvalue(res, r, 0), PQgetvalue(res, r, 1));
	if (PQntuples(res) > STATUS_GAPS)
		fprintf(out, "              (more gaps not shown)\n");
	PQclear(res);
	return true;
}

/* status_operation_in: everything `status` shows for one operation, in the
 * zone its data was loaded in (else zone). */
static bool
status_operation_in(Loader *l, FILE *out, const char *operation, const char *zone)
{
	const char *params[2] = {operation, zone};
	const char *tz_params[2] = {operation, zone};
	PGresult   *res;
	char	   *tz = NULL;
	bool		ok = false;

	res = pg_query(l->conn, "reading the operation's time zone",
				   "SELECT coalesce((SELECT timezone FROM etl_state WHERE operation = $1), $2)",
				   2, tz_params);
	if (res == NULL || (tz = strdup(PQgetvalue(res, 0, 0))) == NULL)
		goto done;
	PQclear(res);
	params[1] = tz;
	if ((res = pg_query(l->conn, "summarizing the operation", summary_sql, 2, params)) == NULL)
		goto done;
	fprintf(out, "operation %s (times in %s)\n", operation, tz);
	fprintf(out, "  watermark   %s\n", PQgetisnull(res, 0, 0) ? "none" : PQgetvalue(res, 0, 0));
	fprintf(out, "  rows        %s responses, %s answers, %s rejects",
			PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
	if (strcmp(PQgetvalue(res, 0, 3), "0") != 0)
		fprintf(out, " open (wvetl rejects lists them)");
	if (strcmp(PQgetvalue(res, 0, 7), "0") != 0)
		fprintf(out, ", %s resolved", PQgetvalue(res, 0, 7));
	fputc('\n', out);
	if (PQgetisnull(res, 0, 4))
		fprintf(out, "  loaded      nothing\n");
	else
		fprintf(out, "  loaded      %s .. %s in %s window(s)\n",
				PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 6));
	ok = status_gaps(l, out, params) && status_runs(l, out, params);
done:
	PQclear(res);
	free(tz);
	return ok;
}

/* status_operation: status_operation_in the loader's zone. */
static bool
status_operation(Loader *l, FILE *out, const char *operation)
{
	return status_operation_in(l, out, operation, l->timezone);
}

/*
 * loader_status: see load.h. Shows the loader's operation, or every
 * operation known to the warehouse when it has none. Reads only: the
 * caller has found the schema set up and current (loader_schema_state).
 */
bool
loader_status(Loader *l, FILE *out)
{
	const char *params[1] = {l->operation};
	PGresult   *res;
	int			r;
	bool		ok = true;

	res = pg_query(l->conn, "listing operations",
				   "SELECT operation FROM (SELECT operation FROM etl_state"
				   " UNION SELECT operation FROM etl_run"
				   " UNION SELECT operation FROM etl_window) o"
				   " WHERE $1 = '' OR operation = $1 ORDER BY 1", 1, params);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 0)
		fprintf(out, "operation %s: nothing loaded yet\n",
				l->operation[0] ? l->operation : "(none)");
	for (r = 0; r < PQntuples(res) && ok; r++)
	{
		if (r > 0)
			fputc('\n', out);
		ok = status_operation(l, out, PQgetvalue(res, r, 0));
	}
	PQclear(res);
	return ok;
}

/* One operation's line in the side-by-side table ($1 operation, $2 its
 * configured zone, $3 the schema): its zone (the one its data was loaded
 * in, else the configured one), watermark, rows, rejects, latest run. */
static const char overview_sql[] =
	"WITH z AS (SELECT coalesce((SELECT timezone FROM etl_state WHERE operation = $1), $2) AS tz)"
	" SELECT $1, z.tz,"
	" coalesce((SELECT to_char(watermark AT TIME ZONE z.tz, " TS_FMT ")"
	"           FROM etl_state WHERE operation = $1), 'none'),"
	" (SELECT count(*) FROM survey_response WHERE operation = $1),"
	" (SELECT count(*) FROM etl_reject WHERE operation = $1 AND resolved_at IS NULL),"
	" coalesce(r.run_id::text, '-'), coalesce(r.command, '-'),"
	" coalesce(CASE WHEN r.status = 'running' AND r.backend_pid IS DISTINCT FROM"
	"  (" LOCK_HOLDER_SQL_P("$3", "$1") ") THEN 'abandoned' ELSE r.status END, '-'),"
	" coalesce(to_char(r.started_at AT TIME ZONE z.tz, " TS_FMT "), '-')"
	" FROM z LEFT JOIN LATERAL (SELECT run_id, command, status, backend_pid, started_at"
	"  FROM etl_run WHERE operation = $1 ORDER BY run_id DESC LIMIT 1) r ON true";

static const char *const overview_head[] = {
	"operation", "time zone", "watermark", "responses", "rejects", "last run", "command",
	"status", "started"
};

#define OVERVIEW_COLS 9

/*
 * status_overview: the operations side by side, one line each, aligned;
 * counts right-aligned.
 */
static bool
status_overview(Loader *l, const char *const *ops, const char *const *zones, int n,
				FILE *out)
{
	PGresult  **res = calloc((size_t) n, sizeof(PGresult *));
	int			width[OVERVIEW_COLS];
	bool		ok = res != NULL;

	for (int c = 0; c < OVERVIEW_COLS; c++)
		width[c] = (int) strlen(overview_head[c]);
	for (int i = 0; ok && i < n; i++)
	{
		const char *params[3] = {ops[i], zones[i], l->schema};

		res[i] = pg_query(l->conn, "summarizing the operations", overview_sql, 3, params);
		ok = res[i] != NULL;
		for (int c = 0; ok && c < OVERVIEW_COLS; c++)
			if (PQgetlength(res[i], 0, c) > width[c])
				width[c] = PQgetlength(res[i], 0, c);
	}
	width[OVERVIEW_COLS - 1] = 0;	/* the last column: no trailing blanks */
	for (int c = 0; ok && c < OVERVIEW_COLS; c++)
		fprintf(out, c == 3 || c == 4 || c == 5 ? "%*s%s" : "%-*s%s", width[c],
				overview_head[c], c + 1 < OVERVIEW_COLS ? "  " : "\n");
	for (int i = 0; ok && i < n; i++)
		for (int c = 0; c < OVERVIEW_COLS; c++)
			fprintf(out, c == 3 || c == 4 || c == 5 ? "%*s%s" : "%-*s%s", width[c],
					PQgetvalue(res[i], 0, c), c + 1 < OVERVIEW_COLS ? "  " : "\n");
	for (int i = 0; res != NULL && i < n; i++)
		PQclear(res[i]);
	free(res);
	return ok;
}

/*
 * loader_status_operations: see load.h. The side-by-side table, then each
 * operation's details as loader_status shows them. Reads only, as
 * loader_status.
 */
bool
loader_status_operations(Loader *l, const char *const *ops, const char *const *zones, int n,
						 FILE *out)
{
	bool		ok = status_overview(l, ops, zones, n, out);

	for (int i = 0; ok && i < n; i++)
	{
		fputc('\n', out);
		ok = status_operation_in(l, out, ops[i], zones[i]);
	}
	return ok;
}

/* Every operation the warehouse knows, with the zone its data was loaded
 * in ($1 when it has no etl_state row yet). */
static const char all_operations_sql[] =
	"SELECT o.operation, coalesce(s.timezone, $1)"
	" FROM (SELECT operation FROM etl_state UNION SELECT operation FROM etl_run"
	"       UNION SELECT operation FROM etl_window) o"
	" LEFT JOIN etl_state s USING (operation) ORDER BY 1";

/*
 * loader_status_all: see load.h. Every operation the warehouse knows (its
 * runs, windows or watermark), side by side, then each one's details, as
 * loader_status_operations shows configured ones. Reads only.
 */
bool
loader_status_all(Loader *l, FILE *out)
{
	const char *params[1] = {l->timezone};
	PGresult   *res = pg_query(l->conn, "listing operations", all_operations_sql, 1, params);
	const char **names = NULL;
	const char **zones = NULL;
	int			n;
	bool		ok = false;

	if (res == NULL)
		return false;
	n = PQntuples(res);
	if (n == 0)
	{
		fprintf(out, "schema %s: no operation has been loaded yet\n", l->schema);
		PQclear(res);
		return true;
	}
	names = calloc((size_t) n, sizeof(char *));
	zones = calloc((size_t) n, sizeof(char *));
	if (names == NULL || zones == NULL)
		log_error("load", "out of memory");
	else
	{
		for (int i = 0; i < n; i++)
		{
			names[i] = PQgetvalue(res, i, 0);
			zones[i] = PQgetvalue(res, i, 1);
		}
		ok = loader_status_operations(l, names, zones, n, out);
	}
	free(names);
	free(zones);
	PQclear(res);
	return ok;
}
