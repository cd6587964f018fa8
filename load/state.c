/*
 * load/state.c
 *   The connection's life and the bookkeeping around windows: connecting
 *   (search_path: pg_catalog, then the warehouse schema), the per-operation
 *   advisory lock, etl_run rows, which windows are loaded, the sync
 *   watermark, and the etl_window / etl_state / etl_run writes of a
 *   committing window.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

/* The operation's lock ($1 schema, $2 operation): see load_int.h. */
#define LOCK_KEY_SQL LOCK_KEY_SQL_P("$1", "$2")
#define LOCK_HOLDER_SQL LOCK_HOLDER_SQL_P("$1", "$2")

/* Server-side TCP keepalives: a session whose client host died (not just
 * its process: the kernel closes the socket of a killed process) is
 * noticed within about two minutes, so it does not keep the operation's
 * lock, and its open window, for hours. Ignored on Unix-domain sockets. */
#define KEEPALIVE_SQL \
	"SET tcp_keepalives_idle = 60; SET tcp_keepalives_interval = 10;" \
	" SET tcp_keepalives_count = 6"

/* Longest error text stored in etl_run.error. */
#define RUN_ERROR_MAX 2000

/* state_i64: v in decimal into out (24 bytes), or NULL for SQL NULL when
 * null_if_zero and v == 0. Returns what to pass as a parameter. */
static const char *
state_i64(char *out, int64_t v, bool null_if_zero)
{
	if (null_if_zero && v == 0)
		return NULL;
	snprintf(out, 24, "%" PRId64, v);
	return out;
}

/* state_dup: strdup of s, "" for NULL. */
static char *
state_dup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/*
 * The session's search_path: pg_catalog first, so that no function,
 * operator or type of the warehouse schema can stand in for a built-in of
 * the same signature, then the schema, and nothing else: a function any
 * other role could create (in public, say) is never in reach. Built-ins
 * called with arguments of another type (pg_catalog.to_timestamp(bigint)),
 * where an overload of the exact type would win wherever it lives, are
 * written qualified. Migrations create objects, which go to the first
 * schema of the path: they set their own (migrate.c).
 */
#define SEARCH_PATH_SQL "SET search_path TO pg_catalog, %s; "

/* A wait for a lock (a table another session holds, the migration lock)
 * ends with an error after database.lock_timeout instead of lasting as
 * long as the holder's transaction. No statement_timeout: a window's COPY
 * lasts as long as its answer streams from the API. */
#define LOCK_TIMEOUT_SQL "SET lock_timeout = %lld; "

/*
 * loader_connect: connect (every wait watching opt->stop, see pg.c), point
 * search_path at the schema (it need not exist yet: migrate creates it),
 * set lock_timeout, and prepare the per-window state. Returns NULL on
 * failure (logged); the caller frees with loader_free.
 */
Loader *
loader_connect(const LoadOptions *opt)
{
	Loader	   *l = calloc(1, sizeof(Loader));
	char	   *schema = NULL;
	Buf			sql = BUF_INIT;
	bool		privacy_ok = true;

	if (l == NULL)
	{
		log_error("load", "out of memory");
		return NULL;
	}
	l->active = TARGET_NONE;
	l->dialect = opt->citus ? DIALECT_CITUS : DIALECT_POSTGRES;
	l->schema = state_dup(opt->schema != NULL && opt->schema[0] ? opt->schema : "wolkvox");
	l->operation = state_dup(opt->operation);
	l->timezone = state_dup(opt->timezone != NULL && opt->timezone[0] ? opt->timezone : "UTC");
	l->report = state_dup(opt->report);
	for (int i = 0; i < LOAD_PRIVACY_COLS; i++)
		if (opt->privacy[i] != NULL && (l->privacy[i] = strdup(opt->privacy[i])) == NULL)
			privacy_ok = false;
	l->md5 = g_checksum_new(G_CHECKSUM_MD5);
	l->content = XXH3_createState();
	if (!l->schema || !l->operation || !l->timezone || !l->report || !privacy_ok ||
		!l->md5 || !l->content || !dims_init(l) || !rollup_init(l))
	{
		log_error("load", "out of memory");
		goto fail;
	}
	l->operation_len = strlen(l->operation);
	copy_binary_text_field(&l->op_field, (EtlStr) {l->operation, l->operation_len});

	pg_watch_stop(opt->stop);
	if ((l->conn = pg_connect(opt->conninfo)) == NULL)
		goto fail;
	if ((schema = pg_quote_ident(l->conn, l->schema)) == NULL)
		goto fail;
	buf_printf(&sql, SEARCH_PATH_SQL LOCK_TIMEOUT_SQL KEEPALIVE_SQL, schema,
			   (long long) (opt->lock_timeout_s * 1000));
	if (sql.failed || !pg_command(l->conn, "setting search_path", buf_cstr(&sql), 0, NULL))
		goto fail;
	if (!dialect_session_setup(l))
		goto fail;
	PQfreemem(schema);
	buf_free(&sql);
	return l;

fail:
	PQfreemem(schema);
	buf_free(&sql);
	loader_free(l);
	return NULL;
}

/* loader_free: roll back an open window, close, free. NULL is fine. */
void
loader_free(Loader *l)
{
	int			t;

	if (l == NULL)
		return;
	if (l->conn != NULL && l->in_window)
		loader_window_abort(l, "loader closed");
	state_unlock(l);
	PQfinish(l->conn);
	for (t = 0; t < TARGET_COUNT; t++)
		buf_free(&l->target[t].buf);
	buf_free(&l->op_field);
	idset_free(&l->ids);
	if (l->md5 != NULL)
		g_checksum_free(l->md5);
	XXH3_freeState(l->content);
	dims_free(l);
	rollup_free(l);
	spool_free(&l->response_spool);
	spool_free(&l->reject_spool);
	free(l->schema);
	free(l->operation);
	free(l->timezone);
	free(l->report);
	for (t = 0; t < LOAD_PRIVACY_COLS; t++)
		free(l->privacy[t]);
	free(l);
}

/*
 * state_describe_holder: who holds the operation's lock, into holder: its
 * running etl_run row (matched by the session's backend pid) as "run 12,
 * pid 345 on host x, started ...". Returns false when nobody holds the
 * lock any more (it was released after we were refused it).
 */
static bool
state_describe_holder(Loader *l, char *holder, size_t holder_len)
{
	const char *params[3] = {l->schema, l->operation, l->timezone};
	PGresult   *res;

	snprintf(holder, holder_len, "another wvetl process");
	res = pg_query(l->conn, "describing the lock holder",
				   "SELECT h.pid, r.run_id, coalesce(r.pid::text, '?'), coalesce(r.host, '?'),"
				   " to_char(r.started_at AT TIME ZONE $3, 'YYYY-MM-DD HH24:MI:SS')"
				   " FROM (" LOCK_HOLDER_SQL ") h LEFT JOIN etl_run r"
				   "  ON r.backend_pid = h.pid AND r.operation = $2 AND r.status = 'running'"
				   " ORDER BY r.run_id DESC NULLS LAST LIMIT 1", 3, params);
	if (res == NULL)
		return true;			/* logged; keep the generic description */
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		return false;
	}
	if (PQgetisnull(res, 0, 1))
		snprintf(holder, holder_len, "a wvetl process that has not recorded its run yet "
				 "(PostgreSQL backend pid %s)", PQgetvalue(res, 0, 0));
	else
		snprintf(holder, holder_len, "run %s, pid %s on host %s, started %s %s",
				 PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
				 PQgetvalue(res, 0, 4), l->timezone);
	PQclear(res);
	return true;
}

/* state_try_lock: one pg_try_advisory_lock; *got tells. */
static bool
state_try_lock(Loader *l, bool *got)
{
	const char *params[2] = {l->schema, l->operation};
	PGresult   *res;

	res = pg_query(l->conn, "taking the operation's lock",
				   "SELECT pg_try_advisory_lock(" LOCK_KEY_SQL ")", 2, params);
	if (res == NULL)
		return false;
	*got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return true;
}

/*
 * state_unlock: let go of the operation's lock while the session is still
 * there. Closing the connection releases it too, but the server ends the
 * session after the client has gone (on Citus only once it has closed its
 * own connections to the workers): a run started right after this one
 * would find the lock still held, and stop as "locked". Not after a stop
 * request, nor in a broken or busy session: closing releases it then.
 */
void
state_unlock(Loader *l)
{
	const char *params[2] = {l->schema, l->operation};

	if (!l->locked || l->conn == NULL || pg_stop_requested() ||
		PQstatus(l->conn) != CONNECTION_OK || PQtransactionStatus(l->conn) != PQTRANS_IDLE)
		return;
	if (pg_command(l->conn, "releasing the operation's lock",
				   "SELECT pg_advisory_unlock(" LOCK_KEY_SQL ")", 2, params))
		l->locked = false;
}

/*
 * loader_lock_operation: see load.h. The lock is session-level: it holds
 * until the connection closes, even if the process dies mid-run. Never
 * waits; when the holder let go between our try and the look at who holds
 * it, tries once more. Needs the schema (etl_run) to exist.
 */
LockResult
loader_lock_operation(Loader *l, char *holder, size_t holder_len)
{
	char		dummy[8];
	bool		got = false;
	int			attempt;

	if (holder == NULL || holder_len == 0)
	{
		holder = dummy;
		holder_len = sizeof(dummy);
	}
	for (attempt = 0; attempt < 2; attempt++)
	{
		if (!state_try_lock(l, &got))
			return LOCK_ERROR;
		if (got)
		{
			l->locked = true;
			return LOCK_OK;
		}
		if (state_describe_holder(l, holder, holder_len))
			break;
	}
	return LOCK_BUSY;
}

/*
 * state_mark_abandoned: earlier 'running' rows of the operation whose
 * process is gone become 'abandoned'. The advisory lock tells: a live run
 * holds it for its whole life (it is released when its session ends), so
 * when we hold it, or nobody does, no other run is alive.
 */
static bool
state_mark_abandoned(Loader *l)
{
	const char *params[3] = {l->schema, l->operation, l->locked ? "t" : "f"};

	return pg_command(l->conn, "marking abandoned runs",
					  "UPDATE etl_run SET status = 'abandoned', ended_at = now()"
					  " WHERE operation = $2 AND status = 'running' AND ($3::bool OR NOT EXISTS ("
					  LOCK_HOLDER_SQL "))", 3, params);
}

/*
 * state_run_insert: the run's etl_run row, with this session's backend
 * pid (how a refused process finds the holder's run). A status other than
 * running (a refused run) is ended at once, with its error. Sets
 * l->run_id. Logs failures.
 */
static bool
state_run_insert(Loader *l, const char *command, int64_t from, int64_t to,
				 const char *status, const char *error)
{
	char		f[24];
	char		t[24];
	char		pid[24];
	char		host[256] = "";
	char	   *err = NULL;
	const char *params[9];
	int64_t		run_id;
	bool		ok;

	(void) gethostname(host, sizeof(host) - 1);
	if (error != NULL && (err = strndup(error, RUN_ERROR_MAX)) != NULL)
		log_scrub(err, strlen(err) + 1);
	params[0] = l->operation;
	params[1] = command;
	params[2] = state_i64(f, from, true);
	params[3] = state_i64(t, to, true);
	params[4] = state_i64(pid, (int64_t) getpid(), false);
	params[5] = host;
	params[6] = WVETL_VERSION;
	params[7] = status;
	params[8] = err;
	ok = pg_query_int64(l->conn, "recording the run",
						"INSERT INTO etl_run (operation, command, range_from, range_to,"
						" status, pid, host, version, backend_pid, ended_at, error)"
						" VALUES ($1, $2, pg_catalog.to_timestamp($3::bigint),"
						" pg_catalog.to_timestamp($4::bigint),"
						" $8, $5::int, $6, $7, pg_backend_pid(),"
						" CASE WHEN $8 <> 'running' THEN now() END, $9) RETURNING run_id",
						9, params, &run_id, NULL);
	free(err);
	if (ok)
		l->run_id = run_id;
	return ok;
}

/* loader_run_begin: see load.h. Logs failures. */
bool
loader_run_begin(Loader *l, const char *command, int64_t from, int64_t to)
{
	if (!state_mark_abandoned(l))
		return false;
	return state_run_insert(l, command, from, to, "running", NULL);
}

/* loader_run_refused: see load.h. Logs failures. */
bool
loader_run_refused(Loader *l, const char *command, int64_t from, int64_t to,
				   const char *status, const char *error)
{
	return state_run_insert(l, command, from, to, status, error);
}

int64_t
loader_run_id(const Loader *l)
{
	return l->run_id;
}

/*
 * loader_run_end: close the run's row. Counters already hold the sums of
 * the committed windows; the caller's counts win where they are larger
 * (e.g. API calls and bytes of windows that failed). The error text is
 * scrubbed of registered secrets and cut to RUN_ERROR_MAX bytes.
 */
bool
loader_run_end(Loader *l, const char *status, const LoadCounts *c, const char *error)
{
	static const LoadCounts zero = {0};
	char		v[8][24];
	char	   *err = NULL;
	const char *params[10];
	bool		ok;

	if (l->run_id == 0)
		return true;
	if (c == NULL)
		c = &zero;
	if (error != NULL)
	{
		err = strndup(error, RUN_ERROR_MAX);
		if (err != NULL)
			log_scrub(err, strlen(err) + 1);
	}
	params[0] = state_i64(v[0], l->run_id, false);
	params[1] = status;
	params[2] = err;
	params[3] = state_i64(v[1], (int64_t) c->records, false);
	params[4] = state_i64(v[2], (int64_t) c->inserted, false);
	params[5] = state_i64(v[3], (int64_t) c->updated, false);
	params[6] = state_i64(v[4], (int64_t) c->duplicates, false);
	params[7] = state_i64(v[5], (int64_t) c->rejects, false);
	params[8] = state_i64(v[6], (int64_t) c->api_calls, false);
	params[9] = state_i64(v[7], (int64_t) c->bytes, false);
	ok = pg_command(l->conn, "closing the run",
					"UPDATE etl_run SET status = $2, error = $3, ended_at = now(),"
					" records = GREATEST(records, $4::bigint),"
					" inserted = GREATEST(inserted, $5::bigint),"
					" updated = GREATEST(updated, $6::bigint),"
					" duplicates = GREATEST(duplicates, $7::bigint),"
					" rejects = GREATEST(rejects, $8::bigint),"
					" api_calls = GREATEST(api_calls, $9::bigint),"
					" bytes = GREATEST(bytes, $10::bigint)"
					" WHERE run_id = $1", 10, params);
	free(err);
	return ok;
}

/* loader_run_note: see load.h. The note is scrubbed of registered
 * secrets and cut to RUN_ERROR_MAX bytes, as an error is. */
bool
loader_run_note(Loader *l, const char *note)
{
	char		id[24];
	char	   *text = NULL;
	const char *params[2];
	bool		ok;

	if (l->run_id == 0)
		return true;
	if (note != NULL && (text = strndup(note, RUN_ERROR_MAX)) != NULL)
		log_scrub(text, strlen(text) + 1);
	params[0] = state_i64(id, l->run_id, false);
	params[1] = text;
	ok = pg_command(l->conn, "noting what the run did",
					"UPDATE etl_run SET note = $2 WHERE run_id = $1", 2, params);
	free(text);
	return ok;
}

/*
 * loader_window_state: see load.h. Walks the loaded windows that intersect
 * [from, to) in order; [from, to) is covered when they leave no hole.
 */
bool
loader_window_state(Loader *l, int64_t from, int64_t to, bool *overlap, bool *covered)
{
	char		f[24];
	char		t[24];
	const char *params[3] = {l->operation, state_i64(f, from, false), state_i64(t, to, false)};
	PGresult   *res;
	int64_t		reached = from;
	int			i;

	res = pg_query(l->conn, "reading loaded windows",
				   "SELECT extract(epoch FROM window_from)::bigint,"
				   " extract(epoch FROM window_to)::bigint FROM etl_window"
				   " WHERE operation = $1 AND window_from < pg_catalog.to_timestamp($3::bigint)"
				   " AND window_to > pg_catalog.to_timestamp($2::bigint) ORDER BY 1, 2",
				   3, params);
	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res) && reached < to; i++)
	{
		int64_t		wf = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		int64_t		wt = strtoll(PQgetvalue(res, i, 1), NULL, 10);

		if (wf > reached)
			break;				/* a hole at [reached, wf) */
		if (wt > reached)
			reached = wt;
	}
	*overlap = PQntuples(res) > 0;
	*covered = reached >= to;
	PQclear(res);
	return true;
}

/* loader_get_watermark: see load.h. */
bool
loader_get_watermark(Loader *l, int64_t *wm, bool *found)
{
	const char *params[1] = {l->operation};
	bool		isnull;

	if (!pg_query_int64(l->conn, "reading the watermark",
						"SELECT extract(epoch FROM watermark)::bigint FROM etl_state"
						" WHERE operation = $1", 1, params, wm, &isnull))
		return false;
	*found = !isnull;
	return true;
}

/*
 * state_window_bookkeeping: inside the window's transaction, upsert its
 * etl_window row, move the watermark forward only (GREATEST ignores the
 * NULL passed when there is no new watermark), and add the window's
 * counts to the run. False on failure (logged).
 */
bool
state_window_bookkeeping(Loader *l, int64_t new_watermark, const LoadCounts *c)
{
	char		v[11][24];
	const char *params[12];
	const char *state_params[5 + LOAD_PRIVACY_COLS];
	const char *run_params[8];
	int			i;

	params[0] = l->operation;
	params[1] = state_i64(v[0], l->win_from, false);
	params[2] = state_i64(v[1], l->win_to, false);
	params[3] = state_i64(v[2], l->run_id, false);
	params[4] = state_i64(v[3], (int64_t) c->records, false);
	params[5] = state_i64(v[4], (int64_t) c->inserted, false);
	params[6] = state_i64(v[5], (int64_t) c->updated, false);
	params[7] = state_i64(v[6], (int64_t) c->duplicates, false);
	params[8] = state_i64(v[7], (int64_t) c->rejects, false);
	params[9] = state_i64(v[8], (int64_t) c->api_calls, false);
	params[10] = state_i64(v[9], (int64_t) c->bytes, false);
	params[11] = l->mode == LOAD_FAST ? "fast" : "merge";
	if (!pg_command(l->conn, "recording the window",
					"INSERT INTO etl_window (operation, window_from, window_to, run_id,"
					" records, inserted, updated, duplicates, rejects, api_calls, bytes, mode)"
					" VALUES ($1, pg_catalog.to_timestamp($2::bigint),"
					" pg_catalog.to_timestamp($3::bigint), $4,"
					" $5, $6, $7, $8, $9, $10, $11, $12)"
					" ON CONFLICT (operation, window_from, window_to) DO UPDATE SET"
					" run_id = excluded.run_id, records = excluded.records,"
					" inserted = excluded.inserted, updated = excluded.updated,"
					" duplicates = excluded.duplicates, rejects = excluded.rejects,"
					" api_calls = excluded.api_calls, bytes = excluded.bytes,"
					" mode = excluded.mode, loaded_at = excluded.loaded_at", 12, params))
		return false;

	state_params[0] = l->operation;
	state_params[1] = new_watermark > 0 ? state_i64(v[10], new_watermark, false) : NULL;
	state_params[2] = l->timezone;
	state_params[3] = l->report[0] ? l->report : NULL;
	state_params[4] = params[3];
	for (i = 0; i < LOAD_PRIVACY_COLS; i++)
		state_params[5 + i] = l->privacy[i];
	/* the privacy settings: the first window records them; a load whose
	 * settings differ from those recorded was refused before it began
	 * (loader_privacy_check), unless the operation had no data */
	if (!pg_command(l->conn, "moving the watermark",
					"INSERT INTO etl_state AS s (operation, watermark, timezone, report, run_id,"
					" privacy_ani, privacy_customer_id, privacy_agent_dni)"
					" VALUES ($1, pg_catalog.to_timestamp($2::bigint), $3, $4, $5::bigint,"
					" $6, $7, $8)"
					" ON CONFLICT (operation) DO UPDATE SET"
					" watermark = GREATEST(s.watermark, excluded.watermark),"
					" timezone = excluded.timezone,"
					" report = coalesce(excluded.report, s.report),"
					" privacy_ani = coalesce(excluded.privacy_ani, s.privacy_ani),"
					" privacy_customer_id = coalesce(excluded.privacy_customer_id,"
					"  s.privacy_customer_id),"
					" privacy_agent_dni = coalesce(excluded.privacy_agent_dni, s.privacy_agent_dni),"
					" updated_at = excluded.updated_at, run_id = excluded.run_id", 8, state_params))
		return false;

	if (l->run_id == 0)
		return true;
	run_params[0] = params[3];
	for (i = 1; i < 8; i++)
		run_params[i] = params[i + 3];
	return pg_command(l->conn, "counting the window in its run",
					  "UPDATE etl_run SET records = records + $2, inserted = inserted + $3,"
					  " updated = updated + $4, duplicates = duplicates + $5,"
					  " rejects = rejects + $6, api_calls = api_calls + $7,"
					  " bytes = bytes + $8 WHERE run_id = $1", 8, run_params);
}

/* state_tx_time: see load_int.h. */
bool
state_tx_time(Loader *l, char out[TX_TIME_LEN])
{
	PGresult   *res = pg_query(l->conn, "reading the transaction's time", "SELECT now()", 0, NULL);

	if (res == NULL)
		return false;
	snprintf(out, TX_TIME_LEN, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}
