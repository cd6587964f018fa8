/*
 * load/dialect.c
 *   The one place where wvetl's SQL differs between plain PostgreSQL and
 *   Citus (database.citus = on): the pairs of statements, chosen once per
 *   connection (l->dialect), and how each reports a unique violation.
 *   Everything else the loader sends is the same on both.
 *
 *   What Citus refuses, and the shape used instead (see README "Running
 *   on Citus"):
 *   - a temporary table (the window's stage, on the coordinator) inside a
 *     correlated subquery of a DELETE on a distributed table: the stage is
 *     read once into a MATERIALIZED CTE, which Citus ships to the workers
 *     as an intermediate result;
 *   - a distributed table inside a correlated subquery of an INSERT ...
 *     SELECT from the stage (insert the answers that are missing): ON
 *     CONFLICT DO NOTHING says the same (the answers left in the table are
 *     equal to the staged ones) and runs on the workers; of a query over
 *     a series (free ids): the taken ids of the range are read first;
 *   - a unique violation during COPY into a distributed table reaches the
 *     client as SQLSTATE XX000 with PostgreSQL's own message, not 23505.
 *   On plain PostgreSQL the first forms stay: measured faster there
 *   (window.c's comments).
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"
#include "load/merge_sql.h"

/* The answers a changed response keeps: equal to a staged one (n). */
#define ANSWER_SAME(n) \
	" SELECT 1 FROM " n \
	"  WHERE n.response_id = a.response_id AND n.question_no = a.question_no" \
	"   AND n.answer_text = a.answer_text" \
	"   AND n.answer_num IS NOT DISTINCT FROM a.answer_num"

/* A relation (a stage, a range of a distributed table) read once into a
 * MATERIALIZED CTE, for Citus (see the file comment). */
#define STAGE_CTE(name, cols, from) \
	" " name " AS MATERIALIZED (SELECT " cols " FROM " from ")"

static const char *const dialect_text[SQL_ID_COUNT][DIALECT_COUNT] = {

	/*
	 * LOAD_FAST's staged repeats without duplicates among them (the first
	 * of each is in the table): only answers that changed or are no longer
	 * sent go, and only the missing ones come in (SQL_MERGE_ANSWERS_DIFF): a
	 * reloaded window whose answers did not change rewrites none of them,
	 * which measured about half the merge's time on a 100k-record reload.
	 */
	[SQL_MERGE_UPSERT_DIFF] = {
		[DIALECT_POSTGRES] =
		"WITH" MERGE_UPSERT MERGE_RETURNING
		" d AS ("
		"  DELETE FROM survey_answer a USING u"
		"  WHERE a.response_id = u.response_id AND NOT u.fresh"
		"   AND NOT EXISTS (" ANSWER_SAME("wvetl_stage_answer n") "))"
		MERGE_COUNTS,
		[DIALECT_CITUS] =
		"WITH" STAGE_CTE("sa", ANSWER_COLS, "wvetl_stage_answer") ","
		MERGE_UPSERT MERGE_RETURNING
		" d AS ("
		"  DELETE FROM survey_answer a USING u"
		"  WHERE a.response_id = u.response_id AND NOT u.fresh"
		"   AND NOT EXISTS (" ANSWER_SAME("sa n") "))"
		MERGE_COUNTS,
	},

	/*
	 * Answers of changed responses that are no longer sent, or differ. The
	 * ids go in as an array, so that the primary key is read for each of
	 * them: as a join, the planner hash-joined all of survey_answer (5 s at
	 * 1M).
	 */
	[SQL_CHANGED_ANSWERS_DELETE] = {
		[DIALECT_POSTGRES] =
		"DELETE FROM survey_answer a"
		" WHERE a.response_id = ANY (ARRAY(SELECT response_id FROM wvetl_stage_changed"
		"   WHERE NOT fresh))"
		"  AND NOT EXISTS (" ANSWER_SAME("wvetl_stage_changed_answer n") ")",
		[DIALECT_CITUS] =
		"WITH" STAGE_CTE("ids", "response_id", "wvetl_stage_changed WHERE NOT fresh") ","
		STAGE_CTE("sa", ANSWER_COLS, "wvetl_stage_changed_answer")
		" DELETE FROM survey_answer a"
		" WHERE a.response_id = ANY (ARRAY(SELECT response_id FROM ids))"
		"  AND NOT EXISTS (" ANSWER_SAME("sa n") ")",
	},

	/* ... and the changed responses' answers that are missing now. */
	[SQL_CHANGED_ANSWERS_INSERT] = {
		[DIALECT_POSTGRES] =
		"INSERT INTO survey_answer (" ANSWER_COLS ")"
		" SELECT " ANSWER_COLS " FROM wvetl_stage_changed_answer n"
		" WHERE NOT EXISTS (SELECT 1 FROM survey_answer a"
		"  WHERE a.response_id = n.response_id AND a.question_no = n.question_no)",
		[DIALECT_CITUS] =
		"INSERT INTO survey_answer (" ANSWER_COLS ")"
		" SELECT " ANSWER_COLS " FROM wvetl_stage_changed_answer"
		" ON CONFLICT (response_id, question_no) DO NOTHING",
	},

	/* The staged answers that are missing (after SQL_MERGE_UPSERT_DIFF). */
	[SQL_MERGE_ANSWERS_DIFF] = {
		[DIALECT_POSTGRES] =
		"INSERT INTO survey_answer (" ANSWER_COLS ")"
		" SELECT " ANSWER_COLS " FROM wvetl_stage_answer n"
		" WHERE NOT EXISTS (SELECT 1 FROM survey_answer a"
		"  WHERE a.response_id = n.response_id AND a.question_no = n.question_no)",
		[DIALECT_CITUS] =
		"INSERT INTO survey_answer (" ANSWER_COLS ")"
		" SELECT " ANSWER_COLS " FROM wvetl_stage_answer"
		" ON CONFLICT (response_id, question_no) DO NOTHING",
	},

	/*
	 * The operation's open rejects whose window lies within the committing
	 * one and that it did not reject again (they are all in the stage until
	 * the commit): the record loaded, or the API no longer sends it. How a
	 * reload retries rejects (sql/006_search_path_rejects.sql). Returns how
	 * many.
	 */
	[SQL_REJECT_RESOLVE] = {
		[DIALECT_POSTGRES] =
		"WITH u AS ("
		"  UPDATE etl_reject r SET resolved_at = now(), resolved_run = $4::bigint"
		"  WHERE r.operation = $1 AND r.resolved_at IS NULL"
		"   AND r.window_from >= pg_catalog.to_timestamp($2::bigint)"
		"   AND r.window_to <= pg_catalog.to_timestamp($3::bigint)"
		"   AND NOT EXISTS (SELECT 1 FROM wvetl_stage_reject s"
		"    WHERE md5(s.raw_record) = r.raw_md5)"
		"  RETURNING 1)"
		" SELECT count(*) FROM u",
		[DIALECT_CITUS] =
		"WITH" STAGE_CTE("s", "md5(raw_record) AS raw_md5", "wvetl_stage_reject") ","
		" u AS ("
		"  UPDATE etl_reject r SET resolved_at = now(), resolved_run = $4::bigint"
		"  WHERE r.operation = $1 AND r.resolved_at IS NULL"
		"   AND r.window_from >= pg_catalog.to_timestamp($2::bigint)"
		"   AND r.window_to <= pg_catalog.to_timestamp($3::bigint)"
		"   AND NOT EXISTS (SELECT 1 FROM s WHERE s.raw_md5 = r.raw_md5)"
		"  RETURNING 1)"
		" SELECT count(*) FROM u",
	},

	/*
	 * The first id in [$1, $2] held neither in survey_response nor in the
	 * stage (load/collision.c). On Citus the ids of the range that are
	 * taken are read first (a correlated subquery from a series to a
	 * distributed table is refused).
	 */
	[SQL_FREE_ID] = {
		[DIALECT_POSTGRES] =
		"SELECT c FROM pg_catalog.generate_series($1::bigint, $2::bigint) c"
		" WHERE NOT EXISTS (SELECT 1 FROM survey_response r WHERE r.response_id = c)"
		"  AND NOT EXISTS (SELECT 1 FROM wvetl_stage_response s WHERE s.response_id = c)"
		" ORDER BY c LIMIT 1",
		[DIALECT_CITUS] =
		"WITH" STAGE_CTE("t", "response_id", "survey_response"
						 " WHERE response_id BETWEEN $1::bigint AND $2::bigint")
		" SELECT c FROM pg_catalog.generate_series($1::bigint, $2::bigint) c"
		" WHERE NOT EXISTS (SELECT 1 FROM t WHERE t.response_id = c)"
		"  AND NOT EXISTS (SELECT 1 FROM wvetl_stage_response s WHERE s.response_id = c)"
		" ORDER BY c LIMIT 1",
	},

	/*
	 * Staged identities stored before under a probed id get that id
	 * (load/collision.c). On Citus the stored rows of the probed ids are
	 * read first: an UPDATE of the stage joining a distributed table is
	 * refused.
	 */
	[SQL_REMAP_PROBED] = {
		[DIALECT_POSTGRES] =
		"UPDATE wvetl_stage_response s SET response_id = p.response_id"
		" FROM etl_id_probe p JOIN survey_response r ON r.response_id = p.response_id"
		" WHERE p.operation = $1 AND p.base_id BETWEEN $2::bigint AND $3::bigint"
		"  AND s.response_id = p.base_id AND " SAME_IDENTITY("r", "s"),
		[DIALECT_CITUS] =
		"WITH" STAGE_CTE("r", "p.base_id, x.response_id, x.operation, x.conn_id,"
						 " x.answered_at, x.agent_id, x.skill_id",
						 "etl_id_probe p JOIN survey_response x"
						 " ON x.response_id = p.response_id"
						 " WHERE p.operation = $1"
						 " AND p.base_id BETWEEN $2::bigint AND $3::bigint")
		" UPDATE wvetl_stage_response s SET response_id = r.response_id FROM r"
		" WHERE s.response_id = r.base_id AND " SAME_IDENTITY("r", "s"),
	},
};

/* dialect_sql: the text of statement id for the loader's server. */
const char *
dialect_sql(const Loader *l, DialectSqlId id)
{
	return dialect_text[id][l->dialect];
}

/*
 * dialect_unique_violation: whether a failed result is a unique violation:
 * SQLSTATE 23505, or (Citus, a COPY into a distributed table) XX000 with
 * the worker's message, "duplicate key value violates unique constraint
 * <name>_<shardid>". The servers run with lc_messages C for this to hold
 * (README "Running on Citus").
 */
bool
dialect_unique_violation(const PGresult *res)
{
	static const char dup[] = "duplicate key value violates unique constraint";
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (state == NULL)
		return false;
	if (strcmp(state, "23505") == 0)
		return true;
	return strcmp(state, "XX000") == 0 && primary != NULL &&
		strncmp(primary, dup, sizeof(dup) - 1) == 0;
}

/*
 * loader_check_server: see load.h. A Citus coordinator is a database with
 * the citus extension where citus_is_coordinator() holds (a worker, or a
 * node not yet told it is the coordinator, says false).
 */
bool
loader_check_server(Loader *l, bool *mismatch)
{
	PGresult   *res;
	bool		ok;

	*mismatch = false;
	if (l->dialect != DIALECT_CITUS)
		return true;
	res = pg_query(l->conn, "checking for Citus",
				   "SELECT (SELECT extversion FROM pg_extension WHERE extname = 'citus'),"
				   " current_database(), current_setting('server_version')", 0, NULL);
	if (res == NULL)
		return false;
	if (PQgetisnull(res, 0, 0))
	{
		log_error("load", "database.citus = on, but database \"%s\" (PostgreSQL %s) has no "
				  "citus extension: connect to a Citus coordinator, or set database.citus = off "
				  "(README: Running on Citus)", PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
		PQclear(res);
		*mismatch = true;
		return false;
	}
	PQclear(res);
	res = pg_query(l->conn, "checking for a Citus coordinator",
				   "SELECT citus_is_coordinator(), current_database()", 0, NULL);
	if (res == NULL)
		return false;
	ok = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	if (!ok)
	{
		log_error("load", "database.citus = on, but database \"%s\" is not on a Citus "
				  "coordinator (a worker, or a node without citus_set_coordinator_host() "
				  "and workers): connect to the coordinator (README: Running on Citus)",
				  PQgetvalue(res, 0, 1));
		*mismatch = true;
	}
	PQclear(res);
	return ok;
}

/*
 * dialect_exec_script: run an SQL script (a migration) in the open
 * transaction. PostgreSQL takes it as one command; Citus refuses a command
 * holding several statements when one of them is DDL it propagates to the
 * workers (CREATE INDEX on a distributed table: "cannot insert multiple
 * commands into a prepared statement"), so there each statement goes on
 * its own (sql_split.c). False on failure (logged).
 */
bool
dialect_exec_script(Loader *l, const char *what, const char *text)
{
	size_t		pos = 0;
	size_t		start;
	size_t		len;

	if (l->dialect != DIALECT_CITUS)
		return pg_command(l->conn, what, text, 0, NULL);
	while (sql_split_next(text, &pos, &start, &len))
	{
		char	   *stmt = strndup(text + start, len);
		bool		ok;

		if (stmt == NULL)
		{
			log_error("load", "%s: out of memory", what);
			return false;
		}
		ok = pg_command(l->conn, what, stmt, 0, NULL);
		free(stmt);
		if (!ok)
			return false;
	}
	return true;
}

/*
 * dialect_session_setup: settings of the loader's session that only one
 * dialect needs; false on failure (logged). On Citus: keep the
 * connections to the workers from one window to the next. A window's COPY
 * opens up to citus.max_adaptive_executor_pool_size (16) connections per
 * worker, and by default one per worker survives the transaction: every
 * window then connected again, about 0.3 s a window with 32 shards on two
 * workers here (20 windows of 37 records: 7.0-7.5 s, 2.7-2.8 s with 16 kept).
 * Only where the extension is: elsewhere loader_check_server() says what
 * is wrong.
 */
bool
dialect_session_setup(Loader *l)
{
	if (l->dialect != DIALECT_CITUS)
		return true;
	return pg_command(l->conn, "keeping the connections to the workers",
					  "SELECT set_config('citus.max_cached_conns_per_worker', '16', false)"
					  " WHERE EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')",
					  0, NULL);
}

/*
 * dialect_merge_setup: settings of a merge (merge.c, in the window's
 * transaction) that only one dialect needs; false on failure (logged). On
 * Citus: no nested loop in the rest of the transaction's plans, on the
 * workers too (SET LOCAL, which citus.propagate_set_commands = local
 * passes on to them). A shard's planner sees the merge's stage as an
 * intermediate result of unknown size, and ids given as an array as about
 * ten rows: it chose nested loops that read a whole intermediate result
 * once per answer, or walked the array once per answer, and a
 * 300,000-record reload ran for minutes (over 8 in one run) instead of
 * 11-15 s, in three of four runs of make bench-citus. A hash join is
 * linear whatever the sizes; a LATERAL subquery (load/rollup.c) still runs
 * as a nested loop, the only plan it has. Not for a new window without
 * repeats (its COPY joins nothing on the workers): set at the start of
 * every window, 20 new windows of 100 records took 9.5 s against 2.3 s
 * (make bench-citus); set here, 20 such windows reloaded took 1.9 s. On
 * plain PostgreSQL the planner sees the stage's temporary tables
 * themselves.
 */
bool
dialect_merge_setup(Loader *l)
{
	if (l->dialect != DIALECT_CITUS)
		return true;
	return pg_command(l->conn, "setting the merge's plans",
					  "SET LOCAL citus.propagate_set_commands = 'local'; "
					  "SET LOCAL enable_nestloop = off", 0, NULL);
}
