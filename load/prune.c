/*
 * load/prune.c
 *   Retention (`wvetl prune`): an operation's surveys, their answers and
 *   its rejects before a time are deleted, in bounded transactions, so
 *   that a prune killed half way leaves a consistent warehouse and a
 *   re-run continues where it stopped. The horizon is recorded first
 *   (etl_state.pruned_before), so that whatever compares the rollups with
 *   the surveys skips the days being deleted even while a prune runs.
 *
 *   What is kept: the rollups (the loader maintains them in a window's
 *   transaction only; these DELETEs never touch them, so the days' trends
 *   survive), etl_window (the windows stay loaded: status shows no gap,
 *   backfill does not load them again unless --reload), etl_run, the
 *   dimensions and survey_question.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

/* prune_i64: v in decimal into out (24 bytes). */
static const char *
prune_i64(char *out, int64_t v)
{
	snprintf(out, 24, "%" PRId64, v);
	return out;
}

/* prune_affected: the rows a DELETE deleted (its command tag), and the
 * result cleared; -1 when it failed (logged). */
static int64_t
prune_affected(PGconn *conn, const char *what, const char *sql, int nparams,
			   const char *const *params)
{
	PGresult   *res = pg_query(conn, what, sql, nparams, params);
	int64_t		n;

	if (res == NULL)
		return -1;
	n = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n;
}

/*
 * prune_note: the run's note, inside the batch's transaction: what the
 * committed batches deleted so far (a killed prune's run says what it
 * did). False on failure (logged).
 */
static bool
prune_note(Loader *l, const PruneCounts *c, const char *state)
{
	char		note[256];

	snprintf(note, sizeof(note), "%s: %" PRIu64 " surveys, %" PRIu64 " answers, %" PRIu64
			 " rejects, %" PRIu64 " archive files deleted", state, c->surveys, c->answers,
			 c->rejects, c->archives);
	return loader_run_note(l, note);
}

/*
 * loader_prune_horizon: see load.h. One statement, committed: the horizon
 * only moves forward. An operation without an etl_state row has nothing
 * loaded by wvetl; nothing is recorded for it.
 */
bool
loader_prune_horizon(Loader *l, int64_t before, int64_t *horizon)
{
	char		b[24];
	const char *params[2] = {l->operation, prune_i64(b, before)};
	bool		isnull = true;

	*horizon = before;
	if (!pg_query_int64(l->conn, "recording the prune horizon",
						"UPDATE etl_state SET pruned_before ="
						" GREATEST(pruned_before, pg_catalog.to_timestamp($2::bigint))"
						" WHERE operation = $1"
						" RETURNING extract(epoch FROM pruned_before)::bigint",
						2, params, horizon, &isnull))
		return false;
	if (isnull)
		*horizon = before;
	return true;
}

/*
 * prune_survey_batch: one transaction: the operation's first `batch`
 * surveys answered before the limit (response_ids below `floor`, which
 * sort by time), their answers, and the run's note. *deleted: the surveys
 * deleted (0: none was left). False on failure (logged; rolled back).
 */
static bool
prune_survey_batch(Loader *l, const char *floor, int batch, PruneCounts *c, int64_t *deleted)
{
	char		n[24];
	char		h[24];
	const char *params[3] = {l->operation, floor, prune_i64(n, batch)};
	const char *del[2] = {l->operation, NULL};
	int64_t		hi = 0;
	int64_t		answers;
	bool		none = true;

	*deleted = 0;
	if (!pg_command(l->conn, "beginning a prune batch", "BEGIN", 0, NULL))
		return false;
	if (!pg_query_int64(l->conn, "finding a prune batch",
						"SELECT max(response_id) FROM (SELECT response_id FROM survey_response"
						" WHERE operation = $1 AND response_id < $2::bigint"
						" ORDER BY response_id LIMIT $3::int) b", 3, params, &hi, &none))
		goto fail;
	if (none)
		return pg_command(l->conn, "ending a prune batch", "COMMIT", 0, NULL);
	del[1] = prune_i64(h, hi);
	/* the answers first: survey_answer has no operation of its own, its
	 * surveys tell (the whole batch commits together anyway) */
	answers = prune_affected(l->conn, "deleting the batch's answers",
							 "DELETE FROM survey_answer a USING survey_response r"
							 " WHERE r.response_id = a.response_id AND r.operation = $1"
							 " AND r.response_id <= $2::bigint AND a.response_id <= $2::bigint",
							 2, del);
	if (answers < 0)
		goto fail;
	*deleted = prune_affected(l->conn, "deleting the batch's surveys",
							  "DELETE FROM survey_response WHERE operation = $1"
							  " AND response_id <= $2::bigint", 2, del);
	if (*deleted < 0)
		goto fail;
	c->surveys += (uint64_t) *deleted;
	c->answers += (uint64_t) answers;
	if (!prune_note(l, c, "running") ||
		!pg_command(l->conn, "committing a prune batch", "COMMIT", 0, NULL))
		goto fail_counted;
	return true;

fail_counted:
	c->surveys -= (uint64_t) *deleted;
	c->answers -= (uint64_t) answers;
fail:
	*deleted = 0;
	(void) pg_command(l->conn, "rolling back a prune batch", "ROLLBACK", 0, NULL);
	return false;
}

/*
 * prune_reject_batch: one transaction: the operation's first `batch`
 * rejects of windows that ended at or before the limit, and the run's
 * note. *deleted: how many (0: none was left). False on failure (logged;
 * rolled back).
 */
static bool
prune_reject_batch(Loader *l, const char *before, int batch, PruneCounts *c, int64_t *deleted)
{
	char		n[24];
	const char *params[3] = {l->operation, before, prune_i64(n, batch)};

	if (!pg_command(l->conn, "beginning a prune batch", "BEGIN", 0, NULL))
		return false;
	*deleted = prune_affected(l->conn, "deleting rejects",
							  "DELETE FROM etl_reject WHERE reject_id IN (SELECT reject_id"
							  " FROM etl_reject WHERE operation = $1"
							  " AND window_to <= pg_catalog.to_timestamp($2::bigint)"
							  " ORDER BY reject_id LIMIT $3::int)", 3, params);
	if (*deleted < 0)
		goto fail;
	c->rejects += (uint64_t) *deleted;
	if (*deleted == 0)
		return pg_command(l->conn, "ending a prune batch", "COMMIT", 0, NULL);
	if (prune_note(l, c, "running") &&
		pg_command(l->conn, "committing a prune batch", "COMMIT", 0, NULL))
		return true;
	c->rejects -= (uint64_t) *deleted;
fail:
	*deleted = 0;
	(void) pg_command(l->conn, "rolling back a prune batch", "ROLLBACK", 0, NULL);
	return false;
}

/*
 * loader_prune_rows: see load.h. Batches of `batch` surveys (with their
 * answers), then of rejects, each its own transaction, until none is
 * left before the limit; stops (false) on a failure or when asked to stop
 * (pipeline's flag: the batch in flight is cancelled and rolled back).
 */
bool
loader_prune_rows(Loader *l, int64_t before, int batch, PruneCounts *c)
{
	char		b[24];
	const char *params[1] = {prune_i64(b, before)};
	char		floor[24];
	int64_t		f = 0;
	int64_t		n = 1;

	if (!pg_query_int64(l->conn, "computing the prune limit",
						"SELECT survey_response_id_floor(pg_catalog.to_timestamp($1::bigint))",
						1, params, &f, NULL))
		return false;
	prune_i64(floor, f);
	while (n > 0)
		if (!prune_survey_batch(l, floor, batch, c, &n))
			return false;
	n = 1;
	while (n > 0)
		if (!prune_reject_batch(l, b, batch, c, &n))
			return false;
	return true;
}

/* loader_prune_note: see load.h. */
bool
loader_prune_note(Loader *l, const PruneCounts *c)
{
	return prune_note(l, c, "done");
}

/* loader_pruned_before: see load.h. */
bool
loader_pruned_before(Loader *l, int64_t *before, bool *found)
{
	const char *params[1] = {l->operation};
	bool		isnull;

	if (!pg_query_int64(l->conn, "reading the prune horizon",
						"SELECT extract(epoch FROM pruned_before)::bigint FROM etl_state"
						" WHERE operation = $1", 1, params, before, &isnull))
		return false;
	*found = !isnull;
	return true;
}
