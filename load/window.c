/*
 * load/window.c
 *   One window, one transaction: records stream into COPY (straight into
 *   the tables in LOAD_FAST, into temporary staging tables in LOAD_MERGE),
 *   rejects into their own stage, then the merge, the bookkeeping rows and
 *   COMMIT.
 *
 *   A connection has one COPY in progress at a time, but a window feeds
 *   three targets. Each target has a buffer of whole rows. Responses are
 *   sent in ~64 KiB batches and are normally the COPY in progress; answers
 *   and rejects collect until ~4 MiB, then the COPY in progress is ended,
 *   that buffer is copied, and the next batch of responses starts a new
 *   COPY. Memory stays bounded whatever the window's size.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

#define RESPONSE_BATCH (64 * 1024)
#define SIDE_BATCH (4 * 1024 * 1024)

/* The COPY column lists (the row builders in copy_text.c write these). */
#define RESPONSE_COLS COPY_RESPONSE_COLS
#define ANSWER_COLS COPY_ANSWER_COLS

/* Session-lifetime staging tables; ON COMMIT DELETE ROWS empties them at
 * each commit and a rollback discards their rows, so every window starts
 * empty. Created outside any window transaction, so a rolled-back window
 * cannot drop them. */
static const char stage_ddl[] =
	"CREATE TEMP TABLE IF NOT EXISTS wvetl_stage_response ("
	" response_id bigint, operation text, conn_id text, agent_id text,"
	" agent_name text, agent_dni text, skill_id text, skill_name text,"
	" answered_at timestamptz, ani text, customer_id text,"
	" voice_message_duration_s integer, type_interaction text, result text,"
	" duration_s integer, voice_message text, feeling text, extras jsonb,"
	" run_id bigint, seq bigint) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS wvetl_stage_answer ("
	" response_id bigint, question_no integer, answer_text text,"
	" answer_num numeric, seq bigint) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS wvetl_stage_reject ("
	" seq bigint, reason text, raw_record text) ON COMMIT DELETE ROWS";

static const char *const copy_sql[2][TARGET_COUNT] = {
	[LOAD_FAST] = {
		"COPY survey_response (" RESPONSE_COLS ") FROM STDIN",
		"COPY survey_answer (" ANSWER_COLS ") FROM STDIN",
		"COPY wvetl_stage_reject (seq, reason, raw_record) FROM STDIN",
	},
	[LOAD_MERGE] = {
		"COPY wvetl_stage_response (" RESPONSE_COLS ", seq) FROM STDIN",
		"COPY wvetl_stage_answer (" ANSWER_COLS ", seq) FROM STDIN",
		"COPY wvetl_stage_reject (seq, reason, raw_record) FROM STDIN",
	},
};

static const char *const target_what[TARGET_COUNT] = {
	"COPY of survey responses",
	"COPY of survey answers",
	"COPY of rejected records",
};

/*
 * The merge. Winners are the last record of each response_id in the window
 * (highest seq). The upsert updates an existing row only when its identity
 * columns really match (else it is a hash collision, caught by counting
 * what the statement touched); answers of updated responses are deleted in
 * the same statement and inserted again by the next one. A response new to
 * the table has no answers to delete: the loader writes both together.
 */
static const char merge_upsert_sql[] =
	"WITH w AS ("
	"  SELECT DISTINCT ON (response_id) *"
	"  FROM wvetl_stage_response ORDER BY response_id, seq DESC),"
	" u AS ("
	"  INSERT INTO survey_response AS r (" RESPONSE_COLS ")"
	"  SELECT " RESPONSE_COLS " FROM w"
	"  ON CONFLICT (response_id) DO UPDATE SET"
	"   agent_name = excluded.agent_name, agent_dni = excluded.agent_dni,"
	"   skill_name = excluded.skill_name, ani = excluded.ani,"
	"   customer_id = excluded.customer_id,"
	"   voice_message_duration_s = excluded.voice_message_duration_s,"
	"   type_interaction = excluded.type_interaction, result = excluded.result,"
	"   duration_s = excluded.duration_s, voice_message = excluded.voice_message,"
	"   feeling = excluded.feeling, extras = excluded.extras,"
	"   last_loaded_at = now(), run_id = excluded.run_id"
	"  WHERE (r.operation, r.conn_id, r.answered_at, r.agent_id, r.skill_id)"
	"   IS NOT DISTINCT FROM (excluded.operation, excluded.conn_id,"
	"   excluded.answered_at, excluded.agent_id, excluded.skill_id)"
	"  RETURNING r.response_id, (r.xmax = 0) AS fresh),"
	" d AS ("
	"  DELETE FROM survey_answer a USING u"
	"  WHERE a.response_id = u.response_id AND NOT u.fresh)"
	" SELECT count(*) FILTER (WHERE fresh), count(*) FILTER (WHERE NOT fresh)"
	" FROM u";

static const char merge_answers_sql[] =
	"INSERT INTO survey_answer (" ANSWER_COLS ")"
	" SELECT " ANSWER_COLS " FROM wvetl_stage_answer";

/* With duplicates in the window, only the winners' answers go in. */
static const char merge_answers_dup_sql[] =
	"INSERT INTO survey_answer (" ANSWER_COLS ")"
	" SELECT a.response_id, a.question_no, a.answer_text, a.answer_num"
	" FROM wvetl_stage_answer a"
	" JOIN (SELECT response_id, max(seq) AS seq FROM wvetl_stage_response"
	"       GROUP BY response_id) w USING (response_id, seq)";

static const char merge_collision_sql[] =
	"SELECT response_id FROM wvetl_stage_response GROUP BY response_id"
	" HAVING count(DISTINCT (operation, conn_id, answered_at, agent_id, skill_id)) > 1"
	" LIMIT 1";

/* A reject seen again (same raw text) updates its row. DISTINCT ON: one
 * statement cannot touch the same conflicting row twice. */
static const char reject_insert_sql[] =
	"INSERT INTO etl_reject (operation, window_from, window_to, run_id,"
	"  reason, raw_record, raw_md5)"
	" SELECT DISTINCT ON (md5(raw_record)) $1, to_timestamp($2::bigint),"
	"  to_timestamp($3::bigint), $4::bigint, reason, raw_record, md5(raw_record)"
	" FROM wvetl_stage_reject ORDER BY md5(raw_record), seq DESC"
	" ON CONFLICT (operation, raw_md5) DO UPDATE SET"
	"  last_seen = now(), run_id = excluded.run_id, reason = excluded.reason,"
	"  window_from = excluded.window_from, window_to = excluded.window_to";

static bool window_finish_active(Loader *l);

/* window_reset: forget the open window; keeps buffer memory for the next. */
static void
window_reset(Loader *l)
{
	int			t;

	for (t = 0; t < TARGET_COUNT; t++)
	{
		buf_reset(&l->target[t].buf);
		l->target[t].rows = 0;
	}
	l->in_window = false;
	l->failed = false;
	l->conflict = false;
	l->active = TARGET_NONE;
	l->seq = 0;
}

/* window_rollback: end any COPY (aborting it), ROLLBACK, reset. */
static void
window_rollback(Loader *l, const char *reason)
{
	if (l->active != TARGET_NONE)
		(void) pg_copy_finish(l->conn, "aborting COPY", reason, false);
	l->active = TARGET_NONE;
	(void) pg_command(l->conn, "rolling back the window", "ROLLBACK", 0, NULL);
	window_reset(l);
}

/*
 * window_send: make t the COPY in progress (ending another one first) and
 * send its buffered rows. False on failure (logged) or on a conflict found
 * while ending the other COPY (l->conflict set, not logged as an error).
 */
static bool
window_send(Loader *l, CopyTargetId t)
{
	Buf		   *b = &l->target[t].buf;

	if (l->active != t)
	{
		if (l->active != TARGET_NONE && !window_finish_active(l))
			return false;
		if (!pg_copy_start(l->conn, target_what[t], copy_sql[l->mode][t]))
		{
			l->failed = true;
			return false;
		}
		l->active = t;
	}
	if (!pg_copy_send(l->conn, target_what[t], b->data, b->len))
	{
		l->failed = true;
		return false;
	}
	buf_reset(b);
	return true;
}

/*
 * window_finish_active: end the COPY in progress, if any. In LOAD_FAST a
 * unique violation on the final tables means an identity is already
 * loaded: l->conflict is set and false returned (the transaction is
 * aborted; commit rolls back and reports WINDOW_CONFLICT).
 */
static bool
window_finish_active(Loader *l)
{
	CopyTargetId t = l->active;
	PgCopyStatus st;

	if (t == TARGET_NONE)
		return true;
	l->active = TARGET_NONE;
	st = pg_copy_finish(l->conn, target_what[t], NULL,
						l->mode == LOAD_FAST && t != TARGET_REJECT);
	if (st == PG_COPY_UNIQUE)
		l->conflict = true;
	else if (st == PG_COPY_FAILED)
		l->failed = true;
	return st == PG_COPY_OK;
}

/* window_usable: a window is open and has not failed. */
static bool
window_usable(Loader *l, const char *what)
{
	if (!l->in_window)
	{
		log_error("load", "%s outside a window", what);
		return false;
	}
	return !l->failed;
}

/* window_check_buf: report a failed row buffer (allocation or limit). */
static bool
window_check_buf(Loader *l, CopyTargetId t)
{
	if (!l->target[t].buf.failed)
		return true;
	log_error("load", "%s: out of memory building rows", target_what[t]);
	l->failed = true;
	return false;
}

/*
 * loader_window_begin: ensure the staging tables exist (outside the
 * transaction), then BEGIN. False on failure (logged).
 */
bool
loader_window_begin(Loader *l, int64_t from, int64_t to, LoadMode mode)
{
	if (l->in_window)
	{
		log_error("load", "a window is already open");
		return false;
	}
	if (!l->stage_ready)
	{
		if (!pg_command(l->conn, "creating staging tables", stage_ddl, 0, NULL))
			return false;
		l->stage_ready = true;
	}
	if (!pg_command(l->conn, "beginning the window transaction", "BEGIN", 0, NULL))
		return false;
	window_reset(l);
	l->in_window = true;
	l->mode = mode;
	l->win_from = from;
	l->win_to = to;
	return true;
}

/*
 * loader_add_record: add one record to the open window. Its rows are
 * buffered and sent in batches. False on failure (logged): the caller
 * aborts the window. After a LOAD_FAST conflict was found, records are
 * counted and dropped (commit reports the conflict).
 */
bool
loader_add_record(Loader *l, const SurveyRecord *rec)
{
	Buf		   *rb = &l->target[TARGET_RESPONSE].buf;
	Buf		   *ab = &l->target[TARGET_ANSWER].buf;
	int64_t		id;
	int64_t		seq;

	if (!window_usable(l, "adding a record"))
		return false;
	l->target[TARGET_RESPONSE].rows++;
	if (l->conflict)
		return true;
	id = identity_response_id(l->md5, l->operation, l->operation_len, rec);
	seq = l->mode == LOAD_MERGE ? (int64_t) l->seq : -1;	/* only stages have seq */
	copy_row_response(rb, id, l->op_field.data, l->op_field.len, rec, l->run_id, seq);
	copy_row_answers(ab, id, rec, seq);
	l->target[TARGET_ANSWER].rows += rec->n_answers;
	l->seq++;
	if (!window_check_buf(l, TARGET_RESPONSE) || !window_check_buf(l, TARGET_ANSWER))
		return false;
	if (rb->len >= RESPONSE_BATCH && !window_send(l, TARGET_RESPONSE))
		return l->conflict;
	if (ab->len >= SIDE_BATCH && !window_send(l, TARGET_ANSWER))
		return l->conflict;
	return true;
}

/* loader_add_reject: add a rejected record (its raw text and why) to the
 * open window; it reaches etl_reject at commit. False on failure (logged). */
bool
loader_add_reject(Loader *l, const char *raw, size_t raw_len, const char *reason)
{
	Buf		   *b = &l->target[TARGET_REJECT].buf;

	if (!window_usable(l, "adding a reject"))
		return false;
	l->target[TARGET_REJECT].rows++;
	if (l->conflict)
		return true;
	copy_text_int(b, (int64_t) l->seq++);
	buf_putc(b, '\t');
	copy_text_field(b, (EtlStr) {reason != NULL ? reason : "", reason != NULL ? strlen(reason) : 0});
	buf_putc(b, '\t');
	copy_text_field(b, (EtlStr) {raw != NULL ? raw : "", raw != NULL ? raw_len : 0});
	buf_putc(b, '\n');
	if (!window_check_buf(l, TARGET_REJECT))
		return false;
	if (b->len >= SIDE_BATCH && !window_send(l, TARGET_REJECT))
		return l->conflict;
	return true;
}

void
loader_window_counts(const Loader *l, uint64_t *records, uint64_t *rejects)
{
	if (records != NULL)
		*records = l->target[TARGET_RESPONSE].rows;
	if (rejects != NULL)
		*rejects = l->target[TARGET_REJECT].rows;
}

/* window_flush: send every buffered row and end the COPY in progress. */
static bool
window_flush(Loader *l)
{
	int			t;

	/* the target already in progress first: saves one COPY start */
	if (l->active != TARGET_NONE && l->target[l->active].buf.len > 0 &&
		!window_send(l, l->active))
		return false;
	for (t = 0; t < TARGET_COUNT; t++)
	{
		if (l->target[t].buf.len > 0 && !window_send(l, (CopyTargetId) t))
			return false;
	}
	return window_finish_active(l);
}

/* window_merge_check: count the stage's duplicates (rows - distinct
 * response_ids) and, when there are any, make sure no response_id stands
 * for two identities. */
static bool
window_merge_check(Loader *l, LoadCounts *c, uint64_t *winners)
{
	int64_t		rows;
	int64_t		distinct;
	int64_t		collided;
	bool		none;
	PGresult   *res;

	res = pg_query(l->conn, "counting staged records",
				   "SELECT count(*), count(DISTINCT response_id) FROM wvetl_stage_response",
				   0, NULL);
	if (res == NULL)
		return false;
	rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	distinct = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	c->duplicates = (uint64_t) (rows - distinct);
	*winners = (uint64_t) distinct;
	if (c->duplicates == 0)
		return true;
	if (!pg_query_int64(l->conn, "checking staged identities", merge_collision_sql,
						0, NULL, &collided, &none))
		return false;
	if (!none)
	{
		log_error("load", "response_id %" PRId64 " is shared by two different identities "
				  "in one window (md5 collision); the window is not loaded", collided);
		return false;
	}
	return true;
}

/*
 * window_merge: the LOAD_MERGE step (see merge_upsert_sql). Fills
 * inserted, updated, duplicates. False on failure (logged).
 */
static bool
window_merge(Loader *l, LoadCounts *c)
{
	uint64_t	winners = 0;
	PGresult   *res;

	/* no ANALYZE of the stage: the planner sizes temp tables from their
	 * pages, and measured on 100k records ANALYZE cost ~150 ms for no
	 * better plan */
	if (!window_merge_check(l, c, &winners))
		return false;
	res = pg_query(l->conn, "merging survey responses", merge_upsert_sql, 0, NULL);
	if (res == NULL)
		return false;
	c->inserted = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	c->updated = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	if (c->inserted + c->updated != winners)
	{
		log_error("load", "%" PRIu64 " staged response_id(s) already belong to a different "
				  "identity in survey_response (md5 collision); the window is not loaded",
				  winners - c->inserted - c->updated);
		return false;
	}
	return pg_command(l->conn, "merging survey answers",
					  c->duplicates > 0 ? merge_answers_dup_sql : merge_answers_sql,
					  0, NULL);
}

/* window_store_rejects: staged rejects into etl_reject. */
static bool
window_store_rejects(Loader *l)
{
	char		from[24];
	char		to[24];
	char		run[24];
	const char *params[4] = {l->operation, from, to, run};

	snprintf(from, sizeof(from), "%" PRId64, l->win_from);
	snprintf(to, sizeof(to), "%" PRId64, l->win_to);
	snprintf(run, sizeof(run), "%" PRId64, l->run_id);
	return pg_command(l->conn, "storing rejected records", reject_insert_sql, 4, params);
}

/* window_commit_tx: COMMIT, and make sure it did commit: COMMIT of an
 * aborted transaction "succeeds" with the tag ROLLBACK. */
static bool
window_commit_tx(Loader *l)
{
	PGresult   *res = pg_query(l->conn, "committing the window", "COMMIT", 0, NULL);
	bool		ok;

	if (res == NULL)
		return false;
	ok = strcmp(PQcmdStatus(res), "COMMIT") == 0;
	if (!ok)
		log_error("load", "committing the window: the transaction was rolled back");
	PQclear(res);
	if (!ok)
		window_reset(l);		/* nothing left to roll back */
	return ok;
}

/*
 * loader_window_commit: see load.h. On WINDOW_FAILED the error has been
 * logged; on WINDOW_CONFLICT nothing is logged above debug level. Either
 * way the transaction is rolled back and no window is open afterwards.
 */
WindowResult
loader_window_commit(Loader *l, int64_t new_watermark, const LoadCounts *extra,
					 LoadCounts *out)
{
	LoadCounts	c = {0};

	if (!window_usable(l, "committing"))
		goto fail;
	if (!l->conflict)
		(void) window_flush(l);
	if (l->conflict)
	{
		log_debug("load", "window [%" PRId64 ", %" PRId64 ") holds identities already "
				  "loaded; rolled back for a merge", l->win_from, l->win_to);
		window_rollback(l, NULL);
		return WINDOW_CONFLICT;
	}
	if (l->failed)
		goto fail;
	c.records = l->target[TARGET_RESPONSE].rows;
	c.rejects = l->target[TARGET_REJECT].rows;
	if (l->mode == LOAD_FAST)
		c.inserted = c.records;
	else if (c.records > 0 && !window_merge(l, &c))
		goto fail;
	if (c.rejects > 0 && !window_store_rejects(l))
		goto fail;
	if (extra != NULL)
	{
		c.api_calls = extra->api_calls;
		c.bytes = extra->bytes;
	}
	if (!state_window_bookkeeping(l, new_watermark, &c))
		goto fail;
	if (!window_commit_tx(l))
		goto fail;
	window_reset(l);
	if (out != NULL)
		*out = c;
	return WINDOW_COMMITTED;

fail:
	if (l->in_window)
		window_rollback(l, "window failed");
	return WINDOW_FAILED;
}

/* loader_window_abort: see load.h. */
void
loader_window_abort(Loader *l, const char *reason)
{
	if (l == NULL || !l->in_window)
		return;
	window_rollback(l, reason != NULL ? reason : "aborted");
}
