/*
 * load/pg.c
 *   libpq plumbing: connecting, one-line error logs with SQLSTATE, queries
 *   that check their result, and the COPY FROM STDIN protocol (start, send,
 *   end and drain every result).
 *
 *   No wait is left to libpq: the connection is nonblocking, and every wait
 *   for the server (connecting, sending, a result) polls its socket in
 *   short slices that watch the SIGINT/SIGTERM flag (pg_watch_stop). The
 *   first time a wait sees it set, the statement in flight is cancelled
 *   (PQcancel), so a wait for a lock or a long statement ends at once and
 *   its transaction rolls back; from then on the server gets
 *   PG_STOP_GRACE_S for that and the clean-up (ROLLBACK, the run's row),
 *   after which the connection is dropped (the server rolls back what was
 *   not committed). Connecting is bounded by connect_timeout, 10 s unless
 *   the conninfo or $PGCONNECT_TIMEOUT says otherwise: libpq's default is to
 *   wait as long as TCP does, which for a server that accepts and never
 *   answers is forever.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

/* Bytes per PQputCopyData call: ~64 KiB keeps client and server
 * overlapping (performance-facts.md); its nbytes is an int anyway. */
#define COPY_SLICE (64 * 1024)

#define PG_CONNECT_TIMEOUT_S 10	/* when neither conninfo nor env sets one */
#define PG_POLL_MS 100			/* how often a wait looks at the stop flag */
#define PG_STOP_GRACE_S 10.0	/* after a stop: the server's time to finish */

/* Client-side TCP keepalives, unless the conninfo sets them: a server
 * host that went away is noticed within about a minute of silence instead
 * of the kernel's two hours. */
static const char *const pg_keepalive_keys[] = {
	"keepalives_idle", "keepalives_interval", "keepalives_count"
};
static const char *const pg_keepalive_vals[] = {"30", "10", "3"};

static const volatile sig_atomic_t *pg_stop;	/* see pg_watch_stop */
static double pg_stop_deadline; /* 0 until a wait saw the stop */

/*
 * pg_one_line: copy msg into out as one line: newlines and tabs become
 * spaces, trailing whitespace goes. PQerrorMessage is often several lines.
 */
static void
pg_one_line(const char *msg, char *out, size_t size)
{
	size_t		i;
	size_t		n = 0;

	if (msg == NULL)
		msg = "";
	for (i = 0; msg[i] != '\0' && n + 1 < size; i++)
	{
		char		c = msg[i];

		out[n++] = (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* pg_log_conn_error: log "what: <libpq message>" as one line. */
void
pg_log_conn_error(PGconn *conn, const char *what)
{
	char		msg[1024];

	pg_one_line(conn != NULL ? PQerrorMessage(conn) : "out of memory", msg, sizeof(msg));
	log_error("load", "%s: %s", what, msg);
}

/*
 * pg_log_result_error: log a failed result once, one line, with SQLSTATE,
 * the primary message, and detail/context when the server sent them (the
 * context of a COPY error names the line: "COPY t, line N").
 */
void
pg_log_result_error(const PGresult *res, const char *what)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);
	char		p[1024];
	char		d[512];
	char		c[512];

	pg_one_line(primary != NULL ? primary : PQresultErrorMessage(res), p, sizeof(p));
	pg_one_line(detail, d, sizeof(d));
	pg_one_line(context, c, sizeof(c));
	log_error("load", "%s: SQLSTATE %s: %s%s%s%s%s", what,
			  state != NULL ? state : "none", p,
			  d[0] ? "; detail: " : "", d,
			  c[0] ? "; context: " : "", c);
}

/* pg_notice: server notices ("relation already exists, skipping") go to
 * the debug log as one line instead of libpq's default raw stderr. */
static void
pg_notice(void *arg, const char *message)
{
	char		msg[1024];

	pg_one_line(message, msg, sizeof(msg));
	log_debug("load", "server notice: %s", msg);
}

/* pg_watch_stop: see load_int.h. */
void
pg_watch_stop(const volatile sig_atomic_t *flag)
{
	pg_stop = flag;
}

static double
pg_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* pg_stop_requested: see load_int.h. */
bool
pg_stop_requested(void)
{
	return pg_stop != NULL && *pg_stop;
}

/* pg_cancel: ask the server to cancel the statement conn has in flight.
 * PQcancel returns once the server has taken the request, so the cancel
 * cannot hit a later statement. */
static void
pg_cancel(PGconn *conn)
{
	PGcancel   *cancel = PQgetCancel(conn);
	char		errbuf[256] = "";

	if (cancel == NULL)
		return;
	log_info("load", "interrupted: cancelling the statement in progress");
	if (!PQcancel(cancel, errbuf, sizeof(errbuf)))
		log_warn("load", "the cancel request failed: %s", errbuf);
	PQfreeCancel(cancel);
}

/*
 * pg_stop_check: act on SIGINT/SIGTERM during a wait on conn. The first
 * wait that sees it cancels the statement in flight and starts the grace
 * period; a wait still going when the grace period is over drops the
 * connection (shutdown: libpq then sees it closed). False when the wait
 * must end (logged).
 */
static bool
pg_stop_check(PGconn *conn, const char *what)
{
	if (!pg_stop_requested())
		return true;
	if (pg_stop_deadline == 0)
	{
		pg_stop_deadline = pg_clock() + PG_STOP_GRACE_S;
		pg_cancel(conn);
	}
	if (pg_clock() < pg_stop_deadline)
		return true;
	log_error("load", "%s: PostgreSQL did not finish within %.0f s of the interrupt; "
			  "closing the connection (the server rolls back what was not committed)",
			  what, PG_STOP_GRACE_S);
	(void) shutdown(PQsocket(conn), SHUT_RDWR);
	return false;
}

/*
 * pg_wait: wait until conn's socket is readable, or writable when
 * for_write, in slices of PG_POLL_MS that watch the stop flag. False when
 * the wait is given up (logged).
 */
static bool
pg_wait(PGconn *conn, bool for_write, const char *what)
{
	for (;;)
	{
		struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
		int			rc;

		if (!pg_stop_check(conn, what))
			return false;
		if (p.fd < 0)
		{
			pg_log_conn_error(conn, what);
			return false;
		}
		if (for_write)
			p.events |= POLLOUT;
		rc = poll(&p, 1, PG_POLL_MS);
		if (rc > 0)
			return true;
		if (rc < 0 && errno != EINTR)
		{
			log_error("load", "%s: waiting for PostgreSQL: %s", what, strerror(errno));
			return false;
		}
	}
}

/* pg_flush: send what libpq holds for the server, reading what the server
 * sends meanwhile (so neither side blocks the other). False on failure
 * (logged). */
static bool
pg_flush(PGconn *conn, const char *what)
{
	int			r;

	while ((r = PQflush(conn)) == 1)
	{
		if (!pg_wait(conn, true, what))
			return false;
		if (!PQconsumeInput(conn))
		{
			pg_log_conn_error(conn, what);
			return false;
		}
	}
	if (r < 0)
	{
		pg_log_conn_error(conn, what);
		return false;
	}
	return true;
}

/*
 * pg_next_result: the next result of the command in flight (caller
 * PQclears), or NULL: none left (*ok true), or the wait failed (*ok false,
 * logged).
 */
static PGresult *
pg_next_result(PGconn *conn, const char *what, bool *ok)
{
	*ok = pg_flush(conn, what);
	while (*ok && PQisBusy(conn))
	{
		if (!pg_wait(conn, false, what))
			*ok = false;
		else if (!PQconsumeInput(conn))
		{
			pg_log_conn_error(conn, what);
			*ok = false;
		}
	}
	return *ok ? PQgetResult(conn) : NULL;
}

/*
 * pg_exec: PQexec / PQexecParams through pg_next_result's waits: send sql,
 * read every result, return the last (the first error when one failed; a
 * COPY state as soon as it comes). NULL when the command could not be sent
 * or the wait failed (logged); the caller checks the status.
 */
static PGresult *
pg_exec(PGconn *conn, const char *what, const char *sql, int nparams,
		const char *const *params)
{
	PGresult   *last = NULL;
	PGresult   *res;
	bool		ok;
	int			sent;

	if (nparams > 0)
		sent = PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	else
		sent = PQsendQuery(conn, sql);
	if (!sent)
	{
		pg_log_conn_error(conn, what);
		return NULL;
	}
	while ((res = pg_next_result(conn, what, &ok)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (last != NULL && PQresultStatus(last) == PGRES_FATAL_ERROR)
		{
			PQclear(res);		/* the first error is the one to report */
			continue;
		}
		PQclear(last);
		last = res;
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH)
			break;
	}
	if (!ok)
	{
		PQclear(last);
		return NULL;
	}
	if (last == NULL)
		pg_log_conn_error(conn, what);
	return last;
}

/* pg_conninfo_value: the value conn uses for keyword, "" when none; caller
 * frees with free(). NULL when out of memory. */
static char *
pg_conninfo_value(PGconn *conn, const char *keyword)
{
	PQconninfoOption *opts = PQconninfo(conn);
	char	   *v = NULL;

	for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, keyword) == 0 && o->val != NULL)
			v = strdup(o->val);
	PQconninfoFree(opts);
	return v != NULL ? v : strdup("");
}

/* pg_connect_timeout: the connect_timeout conn was given, as libpq reads it
 * (at least 2 s; 0 or none: no limit), or PG_CONNECT_TIMEOUT_S when
 * neither the conninfo nor $PGCONNECT_TIMEOUT set one. */
static int
pg_connect_timeout(PGconn *conn)
{
	char	   *v = pg_conninfo_value(conn, "connect_timeout");
	int			t = PG_CONNECT_TIMEOUT_S;

	if (v != NULL && v[0] != '\0')
	{
		t = atoi(v);
		if (t > 0 && t < 2)
			t = 2;
	}
	free(v);
	return t;
}

/* pg_several_hosts: conn names more than one host (host or hostaddr is a
 * list), so libpq must move on from one that does not answer. */
static bool
pg_several_hosts(PGconn *conn)
{
	char	   *host = pg_conninfo_value(conn, "host");
	char	   *addr = pg_conninfo_value(conn, "hostaddr");
	bool		several = (host != NULL && strchr(host, ',') != NULL) ||
		(addr != NULL && strchr(addr, ',') != NULL);

	free(host);
	free(addr);
	return several;
}

/*
 * pg_connect_poll: drive a PQconnectStartParams connection to its end,
 * waiting at most timeout_s seconds (0: no limit) and giving up on
 * SIGINT/SIGTERM. Fills why on failure.
 */
static bool
pg_connect_poll(PGconn *conn, int timeout_s, char *why, size_t why_len)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	double		deadline = pg_clock() + timeout_s;

	while (st != PGRES_POLLING_OK)
	{
		struct pollfd p = {.fd = PQsocket(conn)};
		int			rc;

		if (st == PGRES_POLLING_FAILED || p.fd < 0)
		{
			pg_one_line(PQerrorMessage(conn), why, why_len);
			return false;
		}
		if (pg_stop_requested())
		{
			snprintf(why, why_len, "interrupted");
			return false;
		}
		if (timeout_s > 0 && pg_clock() >= deadline)
		{
			snprintf(why, why_len, "no answer within connect_timeout (%d s)", timeout_s);
			return false;
		}
		p.events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		rc = poll(&p, 1, PG_POLL_MS);
		if (rc > 0)
			st = PQconnectPoll(conn);
		else if (rc < 0 && errno != EINTR)
		{
			snprintf(why, why_len, "waiting for the server: %s", strerror(errno));
			return false;
		}
	}
	return true;
}

/*
 * pg_connect_params: the keywords and values to connect with: the
 * keepalive defaults, connect_timeout when none is set, then conninfo as
 * dbname (expanded: what it sets wins over what comes before it), then
 * client_encoding UTF8 and the application name. keys and vals hold 8.
 */
static void
pg_connect_params(const char *conninfo, const char **keys, const char **vals)
{
	static char timeout[16];
	int			n = 0;
	const char *env = getenv("PGCONNECT_TIMEOUT");

	for (size_t i = 0; i < sizeof(pg_keepalive_keys) / sizeof(pg_keepalive_keys[0]); i++)
	{
		keys[n] = pg_keepalive_keys[i];
		vals[n++] = pg_keepalive_vals[i];
	}
	if (env == NULL || env[0] == '\0')
	{
		snprintf(timeout, sizeof(timeout), "%d", PG_CONNECT_TIMEOUT_S);
		keys[n] = "connect_timeout";
		vals[n++] = timeout;
	}
	keys[n] = "dbname";
	vals[n++] = conninfo;
	keys[n] = "client_encoding";
	vals[n++] = "UTF8";
	keys[n] = "fallback_application_name";
	vals[n++] = "wvetl";
	keys[n] = NULL;
	vals[n] = NULL;
}

/*
 * pg_connect: connect with conninfo (a string or URI; "" uses the PG*
 * environment), forcing client_encoding UTF8, then make the connection
 * nonblocking (every wait is pg_wait's). With one host, the connection is
 * made here, bounded by connect_timeout and given up on SIGINT/SIGTERM;
 * with several, by libpq, which moves on from a host that does not answer
 * within connect_timeout (a signal waits for that). Returns NULL on
 * failure after logging where it tried to connect (never the conninfo,
 * which may hold a password).
 */
PGconn *
pg_connect(const char *conninfo)
{
	const char *keys[8];
	const char *vals[8];
	char		why[1024] = "";
	PGconn	   *conn;
	bool		ok;

	pg_connect_params(conninfo, keys, vals);
	/* expand_dbname = 1: dbname may hold a whole conninfo */
	conn = PQconnectStartParams(keys, vals, 1);
	if (conn != NULL && PQstatus(conn) != CONNECTION_BAD && pg_several_hosts(conn))
	{
		PQfinish(conn);
		conn = PQconnectdbParams(keys, vals, 1);
	}
	if (conn == NULL)
		snprintf(why, sizeof(why), "out of memory");
	else if (PQstatus(conn) == CONNECTION_BAD)
		pg_one_line(PQerrorMessage(conn), why, sizeof(why));
	ok = conn != NULL && PQstatus(conn) != CONNECTION_BAD &&
		(PQstatus(conn) == CONNECTION_OK ||
		 pg_connect_poll(conn, pg_connect_timeout(conn), why, sizeof(why)));
	if (!ok || PQsetnonblocking(conn, 1) != 0)
	{
		if (ok)
			pg_one_line(PQerrorMessage(conn), why, sizeof(why));
		log_error("load", "cannot connect to PostgreSQL (host %s, port %s, database %s, user %s): %s",
				  conn && PQhost(conn) ? PQhost(conn) : "default",
				  conn && PQport(conn) ? PQport(conn) : "default",
				  conn && PQdb(conn) ? PQdb(conn) : "default",
				  conn && PQuser(conn) ? PQuser(conn) : "default", why);
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, pg_notice, NULL);
	return conn;
}

/*
 * pg_query: run sql with text params; returns the result (caller PQclears)
 * when it is COMMAND_OK or TUPLES_OK, else logs "what: ..." and returns
 * NULL.
 */
PGresult *
pg_query(PGconn *conn, const char *what, const char *sql,
		 int nparams, const char *const *params)
{
	PGresult   *res = pg_exec(conn, what, sql, nparams, params);
	ExecStatusType st;

	if (res == NULL)
		return NULL;
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
	{
		pg_log_result_error(res, what);
		PQclear(res);
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT)
			pg_drain(conn);
		return NULL;
	}
	return res;
}

/* pg_command: pg_query for statements whose result is not needed. */
bool
pg_command(PGconn *conn, const char *what, const char *sql,
		   int nparams, const char *const *params)
{
	PGresult   *res = pg_query(conn, what, sql, nparams, params);

	PQclear(res);
	return res != NULL;
}

/* pg_query_int64: the first column of the first row as int64; *isnull
 * (optional) is set when there is no row or the value is NULL. */
bool
pg_query_int64(PGconn *conn, const char *what, const char *sql,
			   int nparams, const char *const *params,
			   int64_t *out, bool *isnull)
{
	PGresult   *res = pg_query(conn, what, sql, nparams, params);
	bool		null;

	if (res == NULL)
		return false;
	null = PQntuples(res) < 1 || PQnfields(res) < 1 || PQgetisnull(res, 0, 0);
	*out = null ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	if (isnull != NULL)
		*isnull = null;
	PQclear(res);
	return true;
}

/* pg_copy_start: send "COPY ... FROM STDIN"; true when the server is in
 * COPY_IN (the result is cleared, as the protocol requires). */
bool
pg_copy_start(PGconn *conn, const char *what, const char *sql)
{
	PGresult   *res = pg_exec(conn, what, sql, 0, NULL);

	if (res == NULL)
		return false;
	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		pg_log_result_error(res, what);
		PQclear(res);
		pg_drain(conn);
		return false;
	}
	PQclear(res);
	return true;
}

/*
 * pg_copy_send: hand len bytes of whole rows to the active COPY, in slices
 * an int can count, each flushed to the server before the next (libpq's
 * buffer would grow without bound on a nonblocking connection). 0 from
 * PQputCopyData (no room in the buffer) gets one flush and one more try;
 * -1 is a hard error (logged). Row errors do not show here: they come at
 * the end.
 */
bool
pg_copy_send(PGconn *conn, const char *what, const char *data, size_t len)
{
	while (len > 0)
	{
		int			n = len > COPY_SLICE ? COPY_SLICE : (int) len;
		int			r = PQputCopyData(conn, data, n);

		if (r == 0 && pg_flush(conn, what))
			r = PQputCopyData(conn, data, n);
		if (r <= 0 || !pg_flush(conn, what))
		{
			if (r <= 0)
				pg_log_conn_error(conn, what);
			return false;
		}
		data += n;
		len -= (size_t) n;
	}
	return true;
}

/*
 * pg_copy_finish: end the active COPY (abort it with abort_reason when not
 * NULL) and drain every result to NULL. Returns PG_COPY_OK when it
 * succeeded; PG_COPY_UNIQUE for a unique violation (dialect.c) when
 * unique_ok, logged at debug level only; PG_COPY_FAILED otherwise, logged
 * unless we aborted it ourselves.
 */
PgCopyStatus
pg_copy_finish(PGconn *conn, const char *what, const char *abort_reason, bool unique_ok)
{
	PgCopyStatus status = PG_COPY_OK;
	PGresult   *res;
	bool		ok;
	int			r = PQputCopyEnd(conn, abort_reason);

	if (r == 0 && pg_flush(conn, what))
		r = PQputCopyEnd(conn, abort_reason);
	if (r <= 0)
	{
		pg_log_conn_error(conn, what);
		status = PG_COPY_FAILED;
	}
	while ((res = pg_next_result(conn, what, &ok)) != NULL)
	{
		if (PQresultStatus(res) == PGRES_COPY_IN)
		{
			PQclear(res);		/* the end was not sent: reading cannot end it */
			status = PG_COPY_FAILED;
			break;
		}
		if (PQresultStatus(res) == PGRES_COMMAND_OK || abort_reason != NULL)
			;					/* done, or the failure we asked for */
		else if (unique_ok && dialect_unique_violation(res))
		{
			log_debug("load", "%s: unique violation, identity already loaded", what);
			status = PG_COPY_UNIQUE;
		}
		else
		{
			pg_log_result_error(res, what);
			status = PG_COPY_FAILED;
		}
		PQclear(res);
	}
	if (!ok)
		status = PG_COPY_FAILED;
	return abort_reason != NULL ? PG_COPY_FAILED : status;
}

/* pg_drain: read and discard results until libpq has none left, so the
 * connection can take the next command. */
void
pg_drain(PGconn *conn)
{
	PGresult   *res;
	bool		ok;

	while ((res = pg_next_result(conn, "reading the rest of a result", &ok)) != NULL)
	{
		/* a COPY state left over cannot end by reading: end it */
		bool		ended = PQresultStatus(res) != PGRES_COPY_IN ||
			PQputCopyEnd(conn, "aborted by wvetl") > 0;

		PQclear(res);
		if (!ended || PQstatus(conn) == CONNECTION_BAD)
			break;
	}
}

/* pg_quote_ident: name quoted as an SQL identifier; caller frees with
 * PQfreemem. NULL on failure (logged). */
char *
pg_quote_ident(PGconn *conn, const char *name)
{
	char	   *q = PQescapeIdentifier(conn, name, strlen(name));

	if (q == NULL)
		pg_log_conn_error(conn, "quoting identifier");
	return q;
}
