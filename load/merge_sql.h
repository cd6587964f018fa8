/*
 * load/merge_sql.h
 *   The SQL fragments the merge's statements share: merge.c's statements
 *   that are the same on plain PostgreSQL and on Citus, and dialect.c's
 *   pairs of statements that differ. Private to load/.
 */
#ifndef WVETL_MERGE_SQL_H
#define WVETL_MERGE_SQL_H

#include "load/load_int.h"

#define RESPONSE_COLS COPY_RESPONSE_COLS
#define ANSWER_COLS COPY_ANSWER_COLS

/* A record's identity (load/identity.c), and two rows holding the same one
 * (NULLs equal). */
#define IDENTITY_COLS "operation, conn_id, answered_at, agent_id, skill_id"
#define SAME_IDENTITY(a, b) \
	"(" a ".operation, " a ".conn_id, " a ".answered_at, " a ".agent_id, " a ".skill_id)" \
	" IS NOT DISTINCT FROM (" b ".operation, " b ".conn_id, " b ".answered_at, " \
	b ".agent_id, " b ".skill_id)"

/*
 * MERGE_UPSERT, MERGE_RETURNING and MERGE_COUNTS: the merge of the stage
 * (every record in LOAD_MERGE; the repeated ones in
 * LOAD_FAST). Winners are the last staged record of each response_id
 * (highest seq; a fast-loaded record always came before its staged
 * repeats). The upsert updates an existing row only when its identity
 * columns really match (else it is a hash collision, seen in the count of
 * what the statement touched, and resolved: merge.c's merge_stage and
 * collision.c); answers of updated responses are deleted in
 * the same statement and inserted again by the next one. A response new to
 * the table has no answers to delete: the loader writes both together.
 * The statement returns how many rows it inserted, updated from earlier
 * transactions, and updated from this one (LOAD_FAST's own rows: repeats
 * within the answer). first_loaded_at is now(), the transaction's start,
 * only for rows this transaction inserted.
 *
 * now() is only ever evaluated where the statement starts (the SELECT over
 * the stage, the outer count), never in DO UPDATE SET nor RETURNING: on
 * Citus those run on the workers, whose now() is their own transaction's
 * (and Citus refuses a non-immutable function in DO UPDATE SET).
 */
#define MERGE_UPSERT \
	" w AS (" \
	"  SELECT DISTINCT ON (response_id) *" \
	"  FROM wvetl_stage_response ORDER BY response_id, seq DESC)," \
	" u AS (" \
	"  INSERT INTO survey_response AS r (" RESPONSE_COLS ", first_loaded_at, last_loaded_at)" \
	"  SELECT " RESPONSE_COLS ", now(), now() FROM w" \
	"  ON CONFLICT (response_id) DO UPDATE SET" \
	"   agent_name = excluded.agent_name, agent_dni = excluded.agent_dni," \
	"   skill_name = excluded.skill_name, ani = excluded.ani," \
	"   customer_id = excluded.customer_id," \
	"   voice_message_duration_s = excluded.voice_message_duration_s," \
	"   type_interaction = excluded.type_interaction, result = excluded.result," \
	"   duration_s = excluded.duration_s, voice_message = excluded.voice_message," \
	"   feeling = excluded.feeling, extras = excluded.extras," \
	"   last_loaded_at = excluded.last_loaded_at, run_id = excluded.run_id," \
	"   content_hash = excluded.content_hash" \
	"  WHERE (r.operation, r.conn_id, r.answered_at, r.agent_id, r.skill_id)" \
	"   IS NOT DISTINCT FROM (excluded.operation, excluded.conn_id," \
	"   excluded.answered_at, excluded.agent_id, excluded.skill_id)"
#define MERGE_RETURNING \
	"  RETURNING r.response_id, (r.xmax = 0) AS fresh, r.first_loaded_at),"
#define MERGE_COUNTS \
	" SELECT count(*) FILTER (WHERE fresh)," \
	"  count(*) FILTER (WHERE NOT fresh AND first_loaded_at <> now())," \
	"  count(*) FILTER (WHERE NOT fresh AND first_loaded_at = now())" \
	" FROM u"

#endif							/* WVETL_MERGE_SQL_H */
