/*
 * load/merge.c
 *   The merge path of a window (window.c stages the records): staged
 *   responses and answers are merged on identity into survey_response and
 *   survey_answer, inside the window's transaction. In-answer repeats: the
 *   later record wins and is counted as a duplicate. A reload or a sync's
 *   lookback without repeats writes only the records whose content_hash
 *   changed. A response_id that stands for two identities is undone under
 *   a savepoint, resolved (collision.c) and merged again. The rollups
 *   (rollup.c) follow every change. SQL that differs on Citus comes from
 *   dialect.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"
#include "load/merge_sql.h"

#define MERGE_WORK_MEM_KB "65536"	/* work_mem in a merge window, at least */

/* With repeats of one identity in the stage: every answer of an updated
 * response goes, and the winners' answers come in (merge_answers_dup_sql). */
static const char merge_upsert_sql[] =
	"WITH" MERGE_UPSERT MERGE_RETURNING
	" d AS ("
	"  DELETE FROM survey_answer a USING u"
	"  WHERE a.response_id = u.response_id AND NOT u.fresh)"
	MERGE_COUNTS;

/*
 * LOAD_MERGE without repeats (a reload, a sync's lookback): only what
 * changed is written. The staged responses whose content_hash differs from
 * their row's (or that have no row) are collected first, with their answers;
 * the rest are left alone (their last_loaded_at and run_id stay those of
 * the load that last changed them), and their answers are never compared.
 * $1 and $2 bound the stage's response_ids, so only the window's part of
 * survey_response is read. A staged identity whose response_id belongs to
 * another identity (collision) differs in its hash too, and is counted
 * (then resolved: merge_stage).
 */
static const char changed_find_sql[] =
	"WITH c AS ("
	"  INSERT INTO wvetl_stage_changed (response_id, fresh, collision)"
	"  SELECT s.response_id, r.response_id IS NULL,"
	"   r.response_id IS NOT NULL AND (r.operation, r.conn_id, r.answered_at, r.agent_id,"
	"    r.skill_id) IS DISTINCT FROM (s.operation, s.conn_id, s.answered_at,"
	"    s.agent_id, s.skill_id)"
	"  FROM wvetl_stage_response s"
	"  LEFT JOIN survey_response r ON r.response_id = s.response_id"
	"   AND r.response_id BETWEEN $1::bigint AND $2::bigint"
	"  WHERE r.content_hash IS DISTINCT FROM s.content_hash"
	"  RETURNING fresh, collision)"
	" SELECT count(*), count(*) FILTER (WHERE fresh), count(*) FILTER (WHERE collision)"
	" FROM c";

/* The changed responses in, with their answers (into a stage of their own,
 * read by the two statements after it). Returns how many responses. */
static const char changed_upsert_sql[] =
	"WITH u AS ("
	"  INSERT INTO survey_response AS r (" RESPONSE_COLS ", first_loaded_at, last_loaded_at)"
	"  SELECT " RESPONSE_COLS ", now(), now() FROM wvetl_stage_response"
	"  WHERE response_id IN (SELECT response_id FROM wvetl_stage_changed)"
	"  ON CONFLICT (response_id) DO UPDATE SET"
	"   agent_name = excluded.agent_name, agent_dni = excluded.agent_dni,"
	"   skill_name = excluded.skill_name, ani = excluded.ani,"
	"   customer_id = excluded.customer_id,"
	"   voice_message_duration_s = excluded.voice_message_duration_s,"
	"   type_interaction = excluded.type_interaction, result = excluded.result,"
	"   duration_s = excluded.duration_s, voice_message = excluded.voice_message,"
	"   feeling = excluded.feeling, extras = excluded.extras,"
	"   last_loaded_at = excluded.last_loaded_at, run_id = excluded.run_id,"
	"   content_hash = excluded.content_hash"
	"  RETURNING 1),"
	" a AS ("
	"  INSERT INTO wvetl_stage_changed_answer"
	"  SELECT response_id, question_no, answer_text, answer_num FROM wvetl_stage_answer"
	"  WHERE response_id IN (SELECT response_id FROM wvetl_stage_changed))"
	" SELECT count(*) FROM u";

/* With duplicates in the window, only the winners' answers go in. */
static const char merge_answers_dup_sql[] =
	"INSERT INTO survey_answer (" ANSWER_COLS ")"
	" SELECT a.response_id, a.question_no, a.answer_text, a.answer_num"
	" FROM wvetl_stage_answer a"
	" JOIN (SELECT response_id, max(seq) AS seq FROM wvetl_stage_response"
	"       GROUP BY response_id) w USING (response_id, seq)";

/* Two identities with one response_id (same second, same 31 hash bits;
 * load/identity.c): the id and both identities. merge_collision_sql finds
 * such a pair in the stage (to be resolved: load/collision.c);
 * merge_collision_table_sql one between the stage and the table, for the
 * message of a collision that resolving did not mend. */
#define COLLISION_WHO(t) \
	"'conn_id ' || coalesce(" t ".conn_id, 'NULL') || ' at ' || " t ".answered_at" \
	" || ' (agent ' || coalesce(" t ".agent_id, 'NULL') || ', skill '" \
	" || coalesce(" t ".skill_id, 'NULL') || ')'"

static const char merge_collision_sql[] =
	"WITH c AS (SELECT response_id FROM wvetl_stage_response GROUP BY response_id"
	"  HAVING count(DISTINCT (operation, conn_id, answered_at, agent_id, skill_id)) > 1"
	"  LIMIT 1)"
	" SELECT response_id, min(w), max(w)"
	" FROM (SELECT s.response_id, " COLLISION_WHO("s") " AS w"
	"       FROM c JOIN wvetl_stage_response s USING (response_id)) x"
	" GROUP BY response_id";

/* After merge_upsert_sql touched fewer rows than it was given: one staged
 * identity whose response_id survey_response holds for another. */
static const char merge_collision_table_sql[] =
	"SELECT s.response_id, " COLLISION_WHO("s") ", " COLLISION_WHO("r")
	" FROM wvetl_stage_response s JOIN survey_response r USING (response_id)"
	" WHERE (r.operation, r.conn_id, r.answered_at, r.agent_id, r.skill_id)"
	"  IS DISTINCT FROM (s.operation, s.conn_id, s.answered_at, s.agent_id, s.skill_id)"
	" LIMIT 1";

/* What one try at merging the stage found. */
typedef enum MergeResult
{
	MERGE_OK = 0,
	MERGE_COLLISION,			/* an id stands for two identities: resolve, retry */
	MERGE_FAILED				/* logged */
} MergeResult;

/* window_merge_check: count the stage's duplicates (rows - distinct
 * response_ids) into c->duplicates, and when there are any, see whether a
 * response_id stands for two staged identities (MERGE_COLLISION). The
 * count is skipped when the window's set of ids (idset.c) saw no id
 * twice: then there are none. */
static MergeResult
window_merge_check(Loader *l, LoadCounts *c, uint64_t *winners)
{
	int64_t		rows;
	int64_t		distinct;
	PGresult   *res;
	bool		shared;

	c->duplicates = 0;
	*winners = l->mode == LOAD_FAST ? l->target[TARGET_DUP_RESPONSE].rows
		: l->target[TARGET_RESPONSE].rows;
	if (l->mode == LOAD_MERGE && l->maybe_repeats == 0 && !l->ids.failed)
		return MERGE_OK;
	res = pg_query(l->conn, "counting staged records",
				   "SELECT count(*), count(DISTINCT response_id) FROM wvetl_stage_response",
				   0, NULL);
	if (res == NULL)
		return MERGE_FAILED;
	rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	distinct = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	c->duplicates = (uint64_t) (rows - distinct);
	*winners = (uint64_t) distinct;
	if (c->duplicates == 0)
		return MERGE_OK;
	res = pg_query(l->conn, "checking staged identities", merge_collision_sql, 0, NULL);
	if (res == NULL)
		return MERGE_FAILED;
	shared = PQntuples(res) > 0;
	PQclear(res);
	return shared ? MERGE_COLLISION : MERGE_OK;
}

/* window_collision_report: log the identity collision that is still
 * there after collision_resolve (one example): never expected. */
static void
window_collision_report(Loader *l)
{
	PGresult   *res;

	res = pg_query(l->conn, "finding the colliding identity", merge_collision_table_sql,
				   0, NULL);
	if (res == NULL)
		return;
	if (PQntuples(res) > 0)
		log_error("load", "response_id %s still stands for two identities after giving the "
				  "later one a free id: %s (staged) and %s (in survey_response); the window "
				  "is not loaded", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
				  PQgetvalue(res, 0, 2));
	else
		log_error("load", "a response_id still stands for two identities after giving the "
				  "later one a free id; the window is not loaded");
	PQclear(res);
}

/* query_counts: run a merge statement that returns one row of three
 * counts. False on failure (logged). */
static bool
query_counts(Loader *l, const char *what, const char *sql, int nparams,
			 const char *const *params, uint64_t out[3])
{
	PGresult   *res = pg_query(l->conn, what, sql, nparams, params);
	int			i;

	if (res == NULL)
		return false;
	for (i = 0; i < 3; i++)
		out[i] = strtoull(PQgetvalue(res, 0, i), NULL, 10);
	PQclear(res);
	return true;
}

/*
 * window_merge_changed: LOAD_MERGE without repeats (see changed_find_sql):
 * write the new and changed responses and their answers, leave the rest.
 * An unchanged record counts as updated, as a rewritten one would.
 */
static MergeResult
window_merge_changed(Loader *l, LoadCounts *c)
{
	char		lo[24];
	char		hi[24];
	const char *params[2] = {lo, hi};
	uint64_t	changed;
	uint64_t	fresh;
	uint64_t	collisions;
	uint64_t	counts[3];
	int64_t		written = 0;

	snprintf(lo, sizeof(lo), "%" PRId64, l->id_min);
	snprintf(hi, sizeof(hi), "%" PRId64, l->id_max);
	if (!query_counts(l, "finding changed survey responses", changed_find_sql, 2, params,
					  counts))
		return MERGE_FAILED;
	changed = counts[0];
	fresh = counts[1];
	collisions = counts[2];
	if (collisions > 0)
		return MERGE_COLLISION;
	log_debug("load", "%" PRIu64 " of %" PRIu64 " staged record(s) new or changed",
			  changed, c->records);
	if (changed > 0)
	{
		if (!rollup_merge_deltas(l, true))
			return MERGE_FAILED;
		if (!pg_query_int64(l->conn, "merging survey responses", changed_upsert_sql,
							0, NULL, &written, NULL))
			return MERGE_FAILED;
		if ((uint64_t) written != changed)
		{
			log_error("load", "merging survey responses: %" PRId64 " row(s) written for %"
					  PRIu64 " changed record(s); the window is not loaded", written, changed);
			return MERGE_FAILED;
		}
		if (!rollup_changed_deltas(l) ||
			!pg_command(l->conn, "removing changed survey answers",
						dialect_sql(l, SQL_CHANGED_ANSWERS_DELETE), 0, NULL) ||
			!pg_command(l->conn, "merging survey answers",
						dialect_sql(l, SQL_CHANGED_ANSWERS_INSERT), 0, NULL))
			return MERGE_FAILED;
	}
	c->inserted = fresh;
	c->updated = c->records - fresh;
	return MERGE_OK;
}

/*
 * window_merge_once: one try at merging the stage (see merge_stage).
 * MERGE_COLLISION when an id stands for two identities: the caller rolls
 * back to its savepoint, resolves and tries again.
 */
static MergeResult
window_merge_once(Loader *l, LoadCounts *c, uint64_t staged)
{
	uint64_t	winners = 0;
	uint64_t	counts[3];
	bool		stage_dups;
	MergeResult r;

	c->inserted = c->updated = c->duplicates = 0;
	if ((r = window_merge_check(l, c, &winners)) != MERGE_OK)
		return r;
	stage_dups = c->duplicates > 0;
	if (l->mode == LOAD_MERGE && !stage_dups)
		return window_merge_changed(l, c);
	if (!rollup_merge_deltas(l, false))
		return MERGE_FAILED;
	if (!query_counts(l, "merging survey responses",
					  stage_dups ? merge_upsert_sql : dialect_sql(l, SQL_MERGE_UPSERT_DIFF), 0, NULL,
					  counts))
		return MERGE_FAILED;
	/* fewer rows than winners: the upsert met an id another identity holds */
	if (counts[0] + counts[1] + counts[2] != winners)
		return MERGE_COLLISION;
	c->inserted = c->records - staged + counts[0];
	c->updated = counts[1];
	c->duplicates += counts[2];
	return pg_command(l->conn, "merging survey answers",
					  stage_dups ? merge_answers_dup_sql
					  : dialect_sql(l, SQL_MERGE_ANSWERS_DIFF),
					  0, NULL) ? MERGE_OK : MERGE_FAILED;
}

/*
 * merge_stage: merge the stage (see load_int.h). c->records is the window's record count,
 * staged of them in the stage (all in LOAD_MERGE), the rest fast-loaded
 * (new rows). Fills inserted, updated, duplicates: a staged record whose
 * row this transaction had inserted is a repeat within the answer, so a
 * duplicate, not an update. Identities stored before under a probed id
 * get it back first (collision_remap); a collision the merge meets is
 * undone (savepoint), resolved (collision_resolve) and the merge tried
 * again: it never refuses the window. False on failure (logged).
 */
bool
merge_stage(Loader *l, LoadCounts *c, uint64_t staged)
{
	MergeResult r;

	/* no ANALYZE of the stage: the planner sizes temp tables from their
	 * pages, and measured on 100k records ANALYZE cost ~150 ms for no
	 * better plan. The merge's joins hash the staged ids; at the default
	 * 4 MB of work_mem they spilled to disk from ~100k records on: raised
	 * (never lowered) until the window's transaction ends. */
	if (!pg_command(l->conn, "setting work_mem for the merge",
					"SELECT set_config('work_mem', '" MERGE_WORK_MEM_KB "kB', true)"
					" FROM pg_settings WHERE name = 'work_mem'"
					" AND setting::bigint < " MERGE_WORK_MEM_KB, 0, NULL))
		return false;
	if (!dialect_merge_setup(l) || !collision_remap(l) ||
		!pg_command(l->conn, "starting the merge", "SAVEPOINT wvetl_merge", 0, NULL))
		return false;
	r = window_merge_once(l, c, staged);
	if (r == MERGE_COLLISION)
	{
		if (!pg_command(l->conn, "undoing the merge", "ROLLBACK TO SAVEPOINT wvetl_merge",
						0, NULL) ||
			!collision_resolve(l))
			return false;
		r = window_merge_once(l, c, staged);
		if (r == MERGE_COLLISION)
			window_collision_report(l);
	}
	return r == MERGE_OK;
}
