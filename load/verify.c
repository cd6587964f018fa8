/*
 * load/verify.c
 *   `wvetl verify`: an operation's rollups (rollup_survey, rollup_answer)
 *   for a range of local days, compared cell by cell with what the base
 *   tables give (rollup_day_survey, rollup_day_answer: sql/010_rollups.sql),
 *   and the weeks and months that contain those days with the sums of
 *   their days. Every cell that differs is named. --repair rewrites the
 *   rollups of those days (rollup_rebuild) under the operation's lock, then
 *   compares again.
 *
 *   Days before etl_state.pruned_before are left out: `wvetl prune`
 *   deleted their surveys, and the rollups keep them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

#define VERIFY_MAX_LINES 1000	/* differences printed; the rest counted */

/* The local days of [$2, $3) (epoch seconds, '' for unbounded) in the
 * operation's zone, from the day after the last pruned one: lo, hi (hi
 * exclusive; NULL for unbounded). */
static const char verify_days_sql[] =
	"WITH z AS (SELECT coalesce((SELECT s.timezone FROM etl_state s WHERE s.operation = $1),"
	"   'America/Bogota') AS tz,"
	"  (SELECT (to_jsonb(s) ->> 'pruned_before')::timestamptz FROM etl_state s"
	"   WHERE s.operation = $1) AS pruned)"
	" SELECT greatest((pg_catalog.to_timestamp(nullif($2, '')::bigint) AT TIME ZONE z.tz)::date,"
	"                 (z.pruned AT TIME ZONE z.tz)::date),"
	"  ((pg_catalog.to_timestamp(nullif($3, '')::bigint) - interval '1 second')"
	"   AT TIME ZONE z.tz)::date + 1"
	" FROM z";

/* The periods of rollup r that hold a day of [$2, $3) (dates, NULL:
 * unbounded): the days themselves, and the weeks and months from the one
 * that contains $2. */
#define PERIODS_OF_RANGE(r) \
	" " r ".period_start >= CASE p.period WHEN 'day' THEN coalesce($2::date, '-infinity')" \
	"  ELSE date_trunc(p.period, coalesce($2::date, '-infinity')::timestamp)::date END" \
	" AND " r ".period_start < coalesce($3::date, 'infinity')"

/* Weeks and months as the sums of their day rows. */
#define DAYS_OF_PERIODS(r) \
	" " r ".operation = $1 AND " r ".period = 'day'" \
	" AND " r ".period_start >= date_trunc(p.period, coalesce($2::date, '-infinity')::timestamp)::date" \
	" AND " r ".period_start < coalesce($3::date, 'infinity') + 31" \
	" AND date_trunc(p.period, " r ".period_start::timestamp)::date < coalesce($3::date, 'infinity')"

/* Each row: period, period_start, dim, key_id, question ('' here), value
 * (''), column, the rollup's value, the expected one (NULL: no row). */
static const char verify_survey_sql[] =
	"WITH want AS ("
	"  SELECT 'day' AS period, f.dim, f.period_start, f.key_id, f.surveys::numeric AS surveys,"
	"   f.completed::numeric AS completed, f.with_feeling::numeric AS with_feeling,"
	"   f.positive::numeric AS positive, f.very_positive::numeric AS very_positive"
	"  FROM rollup_day_survey($1, $2::date, $3::date) f"
	"  UNION ALL"
	"  SELECT p.period, r.dim, date_trunc(p.period, r.period_start::timestamp)::date, r.key_id,"
	"   sum(r.surveys), sum(r.completed), sum(r.with_feeling), sum(r.positive),"
	"   sum(r.very_positive)"
	"  FROM rollup_survey r, (VALUES ('week'), ('month')) p(period)"
	"  WHERE" DAYS_OF_PERIODS("r")
	"  GROUP BY 1, 2, 3, 4),"
	" have AS ("
	"  SELECT r.period, r.dim, r.period_start, r.key_id, r.surveys, r.completed, r.with_feeling,"
	"   r.positive, r.very_positive"
	"  FROM rollup_survey r, (VALUES ('day'), ('week'), ('month')) p(period)"
	"  WHERE r.operation = $1 AND r.period = p.period AND" PERIODS_OF_RANGE("r") ")"
	" SELECT period, period_start, dim, key_id, '', '', c.col, c.have::text, c.want::text"
	" FROM have h FULL JOIN want w USING (period, dim, period_start, key_id)"
	" CROSS JOIN LATERAL (VALUES ('surveys', h.surveys, w.surveys),"
	"  ('completed', h.completed, w.completed), ('with_feeling', h.with_feeling, w.with_feeling),"
	"  ('positive', h.positive, w.positive), ('very_positive', h.very_positive, w.very_positive))"
	"  c(col, have, want)"
	" WHERE c.have IS DISTINCT FROM c.want"
	" ORDER BY period_start, period, dim, key_id, c.col";

static const char verify_answer_sql[] =
	"WITH want AS ("
	"  SELECT 'day' AS period, f.dim, f.period_start, f.key_id, f.question_no, f.value,"
	"   f.answer_num, f.answers::numeric AS answers"
	"  FROM rollup_day_answer($1, $2::date, $3::date) f"
	"  UNION ALL"
	"  SELECT p.period, r.dim, date_trunc(p.period, r.period_start::timestamp)::date, r.key_id,"
	"   r.question_no, r.value, max(r.answer_num), sum(r.answers)"
	"  FROM rollup_answer r, (VALUES ('week'), ('month')) p(period)"
	"  WHERE" DAYS_OF_PERIODS("r")
	"  GROUP BY 1, 2, 3, 4, 5, 6),"
	" have AS ("
	"  SELECT r.period, r.dim, r.period_start, r.key_id, r.question_no, r.value, r.answer_num,"
	"   r.answers"
	"  FROM rollup_answer r, (VALUES ('day'), ('week'), ('month')) p(period)"
	"  WHERE r.operation = $1 AND r.period = p.period AND" PERIODS_OF_RANGE("r") ")"
	" SELECT period, period_start, dim, key_id, 'q' || lpad(question_no::text, 2, '0'), value,"
	"  c.col, c.have::text, c.want::text"
	" FROM have h FULL JOIN want w USING (period, dim, period_start, key_id, question_no, value)"
	" CROSS JOIN LATERAL (VALUES ('answers', h.answers, w.answers),"
	"  ('answer_num', h.answer_num, w.answer_num)) c(col, have, want)"
	" WHERE c.have IS DISTINCT FROM c.want"
	"  AND (c.col = 'answers' OR (h.answers IS NOT NULL AND w.answers IS NOT NULL))"
	" ORDER BY period_start, period, dim, key_id, question_no, value, c.col";

/* verify_print: one line per differing cell; returns how many. */
static uint64_t
verify_print(PGresult *res, const char *table, FILE *out, uint64_t *printed)
{
	int			i;

	for (i = 0; i < PQntuples(res); i++)
	{
		const char *period = PQgetvalue(res, i, 0);
		const char *key = PQgetvalue(res, i, 3);
		bool		day = strcmp(period, "day") == 0;

		if (*printed >= VERIFY_MAX_LINES)
			continue;
		(*printed)++;
		fprintf(out, "%s %s %s %s %s%s%s%s%s: %s %s in the rollup, %s %s\n", table, period,
				PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), key[0] ? key : "(none)",
				PQgetvalue(res, i, 4)[0] ? " " : "", PQgetvalue(res, i, 4),
				PQgetvalue(res, i, 5)[0] ? " value " : "", PQgetvalue(res, i, 5),
				PQgetvalue(res, i, 6),
				PQgetisnull(res, i, 7) ? "no row" : PQgetvalue(res, i, 7),
				PQgetisnull(res, i, 8) ? "no row" : PQgetvalue(res, i, 8),
				day ? "from the surveys" : "as the sum of its days");
	}
	return (uint64_t) PQntuples(res);
}

/* verify_compare: both comparisons in one snapshot; *differences: cells
 * that differ. False on failure (logged). */
static bool
verify_compare(Loader *l, const char *const params[3], FILE *out, uint64_t *differences)
{
	PGresult   *res;
	uint64_t	printed = 0;
	bool		ok = false;

	*differences = 0;
	if (!pg_command(l->conn, "beginning the comparison",
					"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL))
		return false;
	if ((res = pg_query(l->conn, "comparing rollup_survey with the surveys",
						verify_survey_sql, 3, params)) == NULL)
		goto done;
	*differences += verify_print(res, "rollup_survey", out, &printed);
	PQclear(res);
	if ((res = pg_query(l->conn, "comparing rollup_answer with the answers",
						verify_answer_sql, 3, params)) == NULL)
		goto done;
	*differences += verify_print(res, "rollup_answer", out, &printed);
	PQclear(res);
	if (*differences > printed)
		fprintf(out, "... and %" PRIu64 " more\n", *differences - printed);
	ok = true;
done:
	(void) pg_command(l->conn, "ending the comparison", "COMMIT", 0, NULL);
	return ok;
}

/*
 * loader_verify: see load.h. from/to: epoch seconds, INT64_MIN/INT64_MAX
 * for unbounded. False on failure (logged).
 */
bool
loader_verify(Loader *l, int64_t from, int64_t to, bool repair, FILE *out,
			  uint64_t *differences)
{
	char		f[24] = "";
	char		t[24] = "";
	const char *days_params[3] = {l->operation, f, t};
	const char *params[3] = {l->operation, NULL, NULL};
	PGresult   *days;
	bool		ok = false;
	uint64_t	found;

	if (from != INT64_MIN)
		snprintf(f, sizeof(f), "%" PRId64, from);
	if (to != INT64_MAX)
		snprintf(t, sizeof(t), "%" PRId64, to);
	if ((days = pg_query(l->conn, "finding the local days", verify_days_sql, 3,
						 days_params)) == NULL)
		return false;
	params[1] = PQgetisnull(days, 0, 0) ? NULL : PQgetvalue(days, 0, 0);
	params[2] = PQgetisnull(days, 0, 1) ? NULL : PQgetvalue(days, 0, 1);
	if (!verify_compare(l, params, out, &found))
		goto done;
	*differences = found;
	fprintf(out, "operation %s, local days %s to %s: %" PRIu64 " rollup cell(s) differ\n",
			l->operation, params[1] ? params[1] : "(first)",
			params[2] ? params[2] : "(last)", found);
	if (found > 0 && repair)
	{
		if (!pg_command(l->conn, "beginning the repair", "BEGIN", 0, NULL))
			goto done;
		if (!pg_command(l->conn, "rewriting the rollups",
						"SELECT rollup_rebuild($1, $2::date, $3::date)", 3, params) ||
			!pg_command(l->conn, "committing the repair", "COMMIT", 0, NULL))
		{
			(void) pg_command(l->conn, "rolling back the repair", "ROLLBACK", 0, NULL);
			goto done;
		}
		if (!verify_compare(l, params, out, differences))
			goto done;
		fprintf(out, "repaired: %" PRIu64 " rollup cell(s) differ now\n", *differences);
	}
	ok = true;
done:
	PQclear(days);
	return ok;
}
