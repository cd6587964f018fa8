/*
 * load/window.c
 *   One window, one transaction: records stream into COPY (straight into
 *   the tables in LOAD_FAST, into temporary staging tables in LOAD_MERGE),
 *   rejects into their own stage, then the merge (merge.c), the rollups
 *   (rollup.c), the bookkeeping rows and COMMIT.
 *
 *   In LOAD_FAST a record whose response_id the window may have sent
 *   already (an in-answer duplicate: see idset.c) is staged instead, and
 *   merged over the fast-loaded row at commit in the same transaction
 *   (later wins, answers replaced, counted as a duplicate). So duplicates
 *   inside one answer cost a few staged rows, never a unique violation nor
 *   a second fetch; only an identity loaded by another window makes the
 *   fast COPY fail (WINDOW_CONFLICT).
 *
 *   A connection has one COPY in progress at a time, but a window feeds
 *   up to five targets. Each target has a buffer of whole rows. Answers
 *   are the COPY in progress, sent in ~64 KiB batches as records arrive;
 *   rejects and staged duplicates collect until ~1 MiB, then the COPY in
 *   progress is ended, that buffer is copied, and the answers' COPY starts
 *   again. The survey_response rows wait: past their first ~1 MiB they go to
 *   a temporary file (spool.c), and all of them are COPYed last, in one
 *   COPY. Alternating two COPYs on one connection cost the server more than
 *   the file does: a 1M-record window took 7.6 s interleaved, 6.7 s this way
 *   (bench/results/ab-spool-20261125.txt). Memory stays bounded whatever
 *   the window's size.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"
#include "load/merge_sql.h"

#define STREAM_BATCH (64 * 1024)
#define SIDE_BATCH (1024 * 1024)
#define DUP_BATCH (1024 * 1024)

/* Bytes a target's buffer collects before it is sent. */
static const size_t target_batch[TARGET_COUNT] = {
	SIDE_BATCH, STREAM_BATCH, SIDE_BATCH, DUP_BATCH, DUP_BATCH
};

/* The COPY column lists (RESPONSE_COLS, ANSWER_COLS: merge_sql.h) are
 * those the row builders in copy_binary.c write. */

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
	" run_id bigint, content_hash bigint, seq bigint) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS wvetl_stage_answer ("
	" response_id bigint, question_no integer, answer_text text,"
	" answer_num numeric, seq bigint) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS wvetl_stage_reject ("
	" seq bigint, reason text, raw_record text) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS wvetl_stage_changed ("
	" response_id bigint, fresh boolean, collision boolean) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS wvetl_stage_dim ("
	" kind \"char\", id text, name text, name_at bigint, first_seen bigint,"
	" last_seen bigint) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS wvetl_stage_changed_answer ("
	" response_id bigint, question_no integer, answer_text text,"
	" answer_num numeric) ON COMMIT DELETE ROWS";

#define BINARY " WITH (FORMAT binary)"
#define COPY_STAGE_RESPONSE "COPY wvetl_stage_response (" RESPONSE_COLS ", seq) FROM STDIN" BINARY
#define COPY_STAGE_ANSWER "COPY wvetl_stage_answer (" ANSWER_COLS ", seq) FROM STDIN" BINARY
#define COPY_STAGE_REJECT "COPY wvetl_stage_reject (seq, reason, raw_record) FROM STDIN"

static const char *const copy_sql[2][TARGET_COUNT] = {
	[LOAD_FAST] = {
		"COPY survey_response (" RESPONSE_COLS ") FROM STDIN" BINARY,
		"COPY survey_answer (" ANSWER_COLS ") FROM STDIN" BINARY,
		COPY_STAGE_REJECT, COPY_STAGE_RESPONSE, COPY_STAGE_ANSWER,
	},
	[LOAD_MERGE] = {
		COPY_STAGE_RESPONSE, COPY_STAGE_ANSWER, COPY_STAGE_REJECT,
		COPY_STAGE_RESPONSE, COPY_STAGE_ANSWER,
	},
};

/* Targets whose rows are in COPY's binary format (copy_binary.c); the
 * rejects are text. */
static const bool target_binary[TARGET_COUNT] = {true, true, false, true, true};

static const char *const target_what[TARGET_COUNT] = {
	"COPY of survey responses",
	"COPY of survey answers",
	"COPY of rejected records",
	"COPY of repeated survey responses",
	"COPY of answers of repeated survey responses",
};

/* A reject seen again (same raw text) updates its row. DISTINCT ON: one
 * statement cannot touch the same conflicting row twice. */
static const char reject_insert_sql[] =
	"INSERT INTO etl_reject (operation, window_from, window_to, run_id,"
	"  reason, raw_record, raw_md5, first_seen, last_seen)"
	" SELECT DISTINCT ON (md5(raw_record)) $1, pg_catalog.to_timestamp($2::bigint),"
	"  pg_catalog.to_timestamp($3::bigint), $4::bigint, reason, raw_record, md5(raw_record),"
	"  now(), now()"
	" FROM wvetl_stage_reject ORDER BY md5(raw_record), seq DESC"
	" ON CONFLICT (operation, raw_md5) DO UPDATE SET"
	"  last_seen = excluded.last_seen, run_id = excluded.run_id, reason = excluded.reason,"
	"  window_from = excluded.window_from, window_to = excluded.window_to,"
	"  resolved_at = NULL, resolved_run = NULL";

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
	l->maybe_repeats = 0;
	l->id_min = INT64_MAX;
	l->id_max = INT64_MIN;
	idset_reset(&l->ids);
	dims_reset(l);
	rollup_reset(l);
	spool_reset(&l->response_spool);
}

/* reject_spool_reset: empty the spool for the next window. */
static void
reject_spool_reset(Loader *l)
{
	spool_reset(&l->reject_spool);
	l->spooled_rejects = 0;
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
 * window_activate: make t the COPY in progress, ending another one first.
 * False on failure (logged) or on a conflict found while ending the other
 * COPY (l->conflict set, not logged as an error).
 */
static bool
window_activate(Loader *l, CopyTargetId t)
{
	if (l->active == t)
		return true;
	if (l->active != TARGET_NONE && !window_finish_active(l))
		return false;
	if (!pg_copy_start(l->conn, target_what[t], copy_sql[l->mode][t]))
	{
		l->failed = true;
		return false;
	}
	l->active = t;
	if (target_binary[t] &&
		!pg_copy_send(l->conn, target_what[t], copy_binary_header, COPY_BINARY_HEADER_LEN))
	{
		l->failed = true;
		return false;
	}
	return true;
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

	if (!window_activate(l, t))
		return false;
	if (!pg_copy_send(l->conn, target_what[t], b->data, b->len))
	{
		l->failed = true;
		return false;
	}
	buf_reset(b);
	return true;
}

/*
 * window_put: hand t's full buffer on: survey_response rows to the spool
 * (COPYed at commit, see the file comment), any other target's to its
 * COPY. False on failure (logged) or on a conflict (see window_send).
 */
static bool
window_put(Loader *l, CopyTargetId t)
{
	Buf		   *b = &l->target[t].buf;

	if (t != TARGET_RESPONSE)
		return window_send(l, t);
	if (!spool_write(&l->response_spool, target_what[t], b->data, b->len))
	{
		l->failed = true;
		return false;
	}
	buf_reset(b);
	return true;
}

/*
 * window_send_responses: the window's survey_response rows, the spooled
 * ones then the buffered ones, as the COPY in progress. False on failure
 * (logged) or on a conflict (see window_send).
 */
static bool
window_send_responses(Loader *l)
{
	const CopyTargetId t = TARGET_RESPONSE;

	if (l->response_spool.bytes == 0)
		return l->target[t].buf.len == 0 || window_send(l, t);
	if (!window_activate(l, t))
		return false;
	if (!spool_send(&l->response_spool, l->conn, target_what[t]))
	{
		l->failed = true;
		return false;
	}
	return l->target[t].buf.len == 0 || window_send(l, t);
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
	if (target_binary[t] &&
		!pg_copy_send(l->conn, target_what[t], copy_binary_trailer, sizeof(copy_binary_trailer)))
	{
		(void) pg_copy_finish(l->conn, target_what[t], "sending failed", false);
		l->failed = true;
		return false;
	}
	st = pg_copy_finish(l->conn, target_what[t], NULL,
						l->mode == LOAD_FAST &&
						(t == TARGET_RESPONSE || t == TARGET_ANSWER));
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
		if (!pg_command(l->conn, "creating staging tables", stage_ddl, 0, NULL) ||
			!rollup_prepare(l))
			return false;
		l->stage_ready = true;
	}
	if (!pg_command(l->conn, "beginning the window transaction", "BEGIN", 0, NULL))
		return false;
	window_reset(l);
	reject_spool_reset(l);
	l->in_window = true;
	l->mode = mode;
	l->win_from = from;
	l->win_to = to;
	return true;
}

/*
 * loader_add_record: add one record to the open window. Its rows are
 * buffered and sent in batches: to the final tables in LOAD_FAST unless
 * the window may hold its id already (then to the stage, see the file
 * comment), to the stage in LOAD_MERGE. False on failure (logged): the
 * caller aborts the window. After a LOAD_FAST conflict was found, records
 * are counted and dropped (commit reports the conflict).
 */
bool
loader_add_record(Loader *l, const SurveyRecord *rec)
{
	CopyTargetId rt = TARGET_RESPONSE;
	CopyTargetId at = TARGET_ANSWER;
	Buf		   *rb;
	Buf		   *ab;
	int64_t		id;
	int64_t		seq = (int64_t) l->seq;	/* only stages have seq */

	if (!window_usable(l, "adding a record"))
		return false;
	l->target[TARGET_RESPONSE].rows++;
	if (l->conflict)
		return true;
	id = identity_response_id(l->md5, l->operation, l->operation_len, rec);
	if (id < l->id_min)
		l->id_min = id;
	if (id > l->id_max)
		l->id_max = id;
	dims_add(l, rec);
	if (l->mode == LOAD_FAST)
	{
		if (idset_add(&l->ids, id))
		{
			rt = TARGET_DUP_RESPONSE;
			at = TARGET_DUP_ANSWER;
			l->target[TARGET_DUP_RESPONSE].rows++;
		}
		else
		{
			seq = -1;
			rollup_add(l, rec);
		}
	}
	else if (idset_add(&l->ids, id))
		l->maybe_repeats++;		/* or a false positive: the merge counts */
	rb = &l->target[rt].buf;
	ab = &l->target[at].buf;
	(void) XXH3_64bits_reset(l->content);
	copy_row_answers(ab, id, rec, seq, l->content);
	copy_row_response(rb, id, l->op_field.data, l->op_field.len, rec, l->run_id, seq,
					  l->content);
	l->target[at].rows += rec->n_answers;
	l->seq++;
	if (!window_check_buf(l, rt) || !window_check_buf(l, at))
		return false;
	if (rb->len >= target_batch[rt] && !window_put(l, rt))
		return l->conflict;
	if (ab->len >= target_batch[at] && !window_put(l, at))
		return l->conflict;
	return true;
}

/* loader_add_reject: add a rejected record (its raw text and why) to the
 * open window; it reaches etl_reject at commit. False on failure (logged). */
/*
 * reject_spool_add: keep a copy of one reject row (COPY text) in a temporary
 * file, so that the window's rejects can still be stored when the window
 * itself is rolled back (api.max_rejects exceeded). Logs on failure.
 */
static bool
reject_spool_add(Loader *l, const char *row, size_t len)
{
	if (!spool_write(&l->reject_spool, "keeping rejected records", row, len))
		return false;
	l->spooled_rejects++;
	return true;
}

bool
loader_add_reject(Loader *l, const char *raw, size_t raw_len, const char *reason)
{
	size_t		row_start = l->target[TARGET_REJECT].buf.len;

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
	if (!reject_spool_add(l, b->data + row_start, b->len - row_start))
		return false;
	if (b->len >= target_batch[TARGET_REJECT] && !window_send(l, TARGET_REJECT))
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

	/* the target already in progress first: saves one COPY start; the
	 * responses last, in one COPY */
	if (l->active != TARGET_NONE && l->target[l->active].buf.len > 0 &&
		!window_send(l, l->active))
		return false;
	for (t = 0; t < TARGET_COUNT; t++)
	{
		if (t != TARGET_RESPONSE && l->target[t].buf.len > 0 &&
			!window_send(l, (CopyTargetId) t))
			return false;
	}
	return window_send_responses(l) && window_finish_active(l);
}

/* window_reject_sql: run sql (reject_insert_sql or dialect_sql(l, SQL_REJECT_RESOLVE))
 * over the window's rejects; *n (optional) gets its one count. */
static bool
window_reject_sql(Loader *l, const char *what, const char *sql, int64_t *n)
{
	char		from[24];
	char		to[24];
	char		run[24];
	const char *params[4] = {l->operation, from, to, run};

	snprintf(from, sizeof(from), "%" PRId64, l->win_from);
	snprintf(to, sizeof(to), "%" PRId64, l->win_to);
	snprintf(run, sizeof(run), "%" PRId64, l->run_id);
	if (n == NULL)
		return pg_command(l->conn, what, sql, 4, params);
	return pg_query_int64(l->conn, what, sql, 4, params, n, NULL);
}

/* window_store_rejects: staged rejects into etl_reject. */
static bool
window_store_rejects(Loader *l)
{
	return window_reject_sql(l, "storing rejected records", reject_insert_sql, NULL);
}

/* window_resolve_rejects: mark the earlier rejects this window loaded
 * after all as resolved (dialect_sql(l, SQL_REJECT_RESOLVE)); logs how many. */
static bool
window_resolve_rejects(Loader *l)
{
	int64_t		n = 0;

	if (!window_reject_sql(l, "resolving earlier rejects", dialect_sql(l, SQL_REJECT_RESOLVE), &n))
		return false;
	if (n > 0)
		log_info("load", "%" PRId64 " earlier reject(s) of this window no longer rejected: "
				 "marked resolved", n);
	return true;
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
	uint64_t	staged;

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
	if (l->mode == LOAD_FAST)
	{
		bool		probed = false;

		/* an identity of the window may be stored under a probed id
		 * (load/collision.c): only a merge finds it */
		if (!collision_probes_in_range(l, &probed))
			goto fail;
		if (probed)
		{
			log_debug("load", "window [%" PRId64 ", %" PRId64 ") holds ids that collided "
					  "before; rolled back for a merge", l->win_from, l->win_to);
			window_rollback(l, NULL);
			return WINDOW_CONFLICT;
		}
	}
	c.records = l->target[TARGET_RESPONSE].rows;
	c.rejects = l->target[TARGET_REJECT].rows;
	staged = l->mode == LOAD_FAST ? l->target[TARGET_DUP_RESPONSE].rows : c.records;
	if (l->ids.failed)
		log_warn("load", "out of memory for the window's set of identities: "
				 "its later records were staged and merged (slower, same result)");
	if (!rollup_fast_deltas(l, c.records - staged))
		goto fail;
	if (staged == 0)
		c.inserted = c.records;
	else if (!merge_stage(l, &c, staged))
		goto fail;
	if (!rollup_apply(l))
		goto fail;
	if (c.rejects > 0 && !window_store_rejects(l))
		goto fail;
	if (!window_resolve_rejects(l))
		goto fail;
	if (extra != NULL)
	{
		c.api_calls = extra->api_calls;
		c.bytes = extra->bytes;
	}
	if (!dimensions_update(l, c.inserted + c.updated))
		goto fail;
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

/*
 * loader_window_keep_rejects: store the rejects of the window just rolled
 * back (kept in the spool, see reject_spool_add) in a transaction of their
 * own: a window failed by api.max_rejects loads none of its records, but
 * its rejects stay in etl_reject, as the contract says. *kept: how many
 * were stored. Logs on failure.
 */
bool
loader_window_keep_rejects(Loader *l, uint64_t *kept)
{
	static const char what[] = "COPY of rejected records";
	uint64_t	n = l->spooled_rejects;
	bool		ok = false;

	*kept = 0;
	if (l->in_window || n == 0)
		return !l->in_window;
	if (!pg_command(l->conn, "beginning the reject transaction", "BEGIN", 0, NULL))
		return false;
	if (!pg_copy_start(l->conn, what,
					   "COPY wvetl_stage_reject (seq, reason, raw_record) FROM STDIN"))
		goto done;
	if (!spool_send(&l->reject_spool, l->conn, what))
	{
		(void) pg_copy_finish(l->conn, what, "cannot send the spooled rejects", false);
		goto done;
	}
	if (pg_copy_finish(l->conn, what, NULL, false) != PG_COPY_OK)
		goto done;
	ok = window_store_rejects(l) && window_commit_tx(l);
done:
	if (!ok)
		(void) pg_command(l->conn, "rolling back the rejects", "ROLLBACK", 0, NULL);
	reject_spool_reset(l);
	if (ok)
		*kept = n;
	return ok;
}
