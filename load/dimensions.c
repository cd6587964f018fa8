/*
 * load/dimensions.c
 *   The agent and skill dimensions, kept inside each window's transaction:
 *   one statement reads the window's surveys once and upserts both tables
 *   (current name = the name of the latest survey by answered_at; first
 *   and last seen), so a renamed agent has one current name as soon as
 *   the window that renamed it commits.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

/*
 * One pass over the window's surveys (the source, s) folds them into w,
 * one row per (agent_id, skill_id): first and last answered_at, the latest
 * name of each, and how many of the rows this transaction wrote (mine).
 * The latest name is the max of "<answered_at as 12 epoch digits><name>"
 * in byte order: a hash aggregate, no sort (array_agg(... ORDER BY) sorted
 * the window's rows twice and spilled to disk at 100k records); equal
 * times go to the greatest name, so the result does not depend on row
 * order. Then both upserts read w: against the table, a name at least as
 * recent as the stored one replaces it, so loading an older window never
 * brings back an old name. The statement returns sum(mine).
 */
#define DIM_LATEST(col) \
	"max((lpad(extract(epoch FROM answered_at)::bigint::text, 12, '0') || " col ") COLLATE \"C\")"

#define DIM_FOLD(source) \
	"WITH w AS MATERIALIZED (SELECT agent_id, skill_id, min(answered_at) AS first_at," \
	"  max(answered_at) AS last_at, " DIM_LATEST("agent_name") " AS agent_latest," \
	"  " DIM_LATEST("skill_name") " AS skill_latest, count(*) FILTER (WHERE mine) AS mine" \
	"  FROM (" source ") s GROUP BY agent_id, skill_id),"

#define DIM_UPSERT(dim) \
	" " dim "_up AS (" \
	"  INSERT INTO " dim " AS d (operation, " dim "_id, " dim "_name, name_at," \
	"   first_seen, last_seen)" \
	"  SELECT $1, " dim "_id, substr(max(" dim "_latest), 13)," \
	"   to_timestamp(left(max(" dim "_latest), 12)::bigint), min(first_at), max(last_at)" \
	"  FROM w WHERE " dim "_id IS NOT NULL GROUP BY " dim "_id" \
	"  ON CONFLICT (operation, " dim "_id) DO UPDATE SET" \
	"   first_seen = least(d.first_seen, excluded.first_seen)," \
	"   last_seen = greatest(d.last_seen, excluded.last_seen)," \
	"   " dim "_name = CASE WHEN excluded.name_at >= d.name_at OR d.name_at IS NULL" \
	"    THEN excluded." dim "_name ELSE d." dim "_name END," \
	"   name_at = CASE WHEN excluded.name_at >= d.name_at OR d.name_at IS NULL" \
	"    THEN excluded.name_at ELSE d.name_at END" \
	"  RETURNING 1)"

#define DIM_TAIL \
	DIM_UPSERT("agent") "," DIM_UPSERT("skill") \
	" SELECT coalesce(sum(mine), 0) FROM w"

#define DIM_COLS "agent_id, agent_name, skill_id, skill_name, answered_at"

/* LOAD_MERGE: the staging table holds exactly the window's records. */
static const char dim_stage_sql[] =
	DIM_FOLD("SELECT " DIM_COLS ", true AS mine FROM wvetl_stage_response") DIM_TAIL;

/* LOAD_FAST: the window's range, through the (operation, answered_at)
 * index. Rows this transaction wrote have last_loaded_at = now() (the
 * transaction's start) and this run's id. */
static const char dim_range_sql[] =
	DIM_FOLD("SELECT " DIM_COLS ", (run_id = $4::bigint AND last_loaded_at = now()) AS mine"
			 " FROM survey_response WHERE operation = $1"
			 " AND answered_at >= to_timestamp($2::bigint)"
			 " AND answered_at < to_timestamp($3::bigint)") DIM_TAIL;

/* LOAD_FAST with records dated outside the window (the API or a replayed
 * body may send them): every row this transaction wrote, by a scan. */
static const char dim_written_sql[] =
	DIM_FOLD("SELECT " DIM_COLS ", true AS mine FROM survey_response"
			 " WHERE operation = $1 AND run_id = $2::bigint AND last_loaded_at = now()")
	DIM_TAIL;

/*
 * dimensions_update: upsert agent and skill from the open window's
 * surveys, inside its transaction (call after the COPYs and the merge,
 * before COMMIT); written is how many survey_response rows the window
 * inserted or updated. LOAD_MERGE reads the staging table; LOAD_FAST reads
 * the window's range and, when fewer than written of its rows lie in it,
 * every row the transaction wrote. False on failure (logged).
 */
bool
dimensions_update(Loader *l, uint64_t written)
{
	char		from[24];
	char		to[24];
	char		run[24];
	const char *params[4] = {l->operation, from, to, run};
	int64_t		found = 0;

	if (written == 0)
		return true;
	if (l->mode == LOAD_MERGE)
		return pg_query_int64(l->conn, "updating agents and skills", dim_stage_sql,
							  1, params, &found, NULL);
	snprintf(from, sizeof(from), "%" PRId64, l->win_from);
	snprintf(to, sizeof(to), "%" PRId64, l->win_to);
	snprintf(run, sizeof(run), "%" PRId64, l->run_id);
	if (!pg_query_int64(l->conn, "updating agents and skills", dim_range_sql,
						4, params, &found, NULL))
		return false;
	if (found >= 0 && (uint64_t) found >= written)
		return true;
	log_info("load", "%" PRIu64 " record(s) dated outside the window [%" PRId64 ", %" PRId64
			 "): agents and skills read from every row the window wrote",
			 written - (uint64_t) found, l->win_from, l->win_to);
	params[1] = run;
	return pg_query_int64(l->conn, "updating agents and skills", dim_written_sql,
						  2, params, &found, NULL);
}
