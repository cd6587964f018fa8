/*
 * load/pg.c
 *   libpq plumbing: connecting, one-line error logs with SQLSTATE, queries
 *   that check their result, and the COPY FROM STDIN protocol (start, send,
 *   end and drain every result).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

/* Bytes per PQputCopyData call: ~64 KiB keeps client and server
 * overlapping (performance-facts.md); its nbytes is an int anyway. */
#define COPY_SLICE (64 * 1024)

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

/*
 * pg_connect: connect with conninfo (a string or URI; "" uses the PG*
 * environment), forcing client_encoding UTF8. Returns NULL on failure
 * after logging where it tried to connect (never the conninfo, which may
 * hold a password).
 */
PGconn *
pg_connect(const char *conninfo)
{
	const char *keys[] = {"dbname", "client_encoding", "fallback_application_name", NULL};
	const char *vals[] = {conninfo, "UTF8", "wvetl", NULL};
	PGconn	   *conn;

	/* expand_dbname = 1: dbname may hold a whole conninfo; the keys after
	 * it override it, so client_encoding is always UTF8. */
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		char		msg[1024];

		pg_one_line(conn != NULL ? PQerrorMessage(conn) : "out of memory", msg, sizeof(msg));
		log_error("load", "cannot connect to PostgreSQL (host %s, port %s, database %s, user %s): %s",
				  conn && PQhost(conn) ? PQhost(conn) : "default",
				  conn && PQport(conn) ? PQport(conn) : "default",
				  conn && PQdb(conn) ? PQdb(conn) : "default",
				  conn && PQuser(conn) ? PQuser(conn) : "default", msg);
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
	PGresult   *res;
	ExecStatusType st;

	if (nparams > 0)
		res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	else
		res = PQexec(conn, sql);
	if (res == NULL)
	{
		pg_log_conn_error(conn, what);
		return NULL;
	}
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
	{
		pg_log_result_error(res, what);
		PQclear(res);
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
	PGresult   *res = PQexec(conn, sql);

	if (res == NULL)
	{
		pg_log_conn_error(conn, what);
		return false;
	}
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
 * an int can count. A blocking connection never returns 0; <= 0 is a hard
 * error (logged). Row errors do not show here: they come at the end.
 */
bool
pg_copy_send(PGconn *conn, const char *what, const char *data, size_t len)
{
	while (len > 0)
	{
		int			n = len > COPY_SLICE ? COPY_SLICE : (int) len;

		if (PQputCopyData(conn, data, n) <= 0)
		{
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
 * succeeded; PG_COPY_UNIQUE for a unique violation (SQLSTATE 23505) when
 * unique_ok, logged at debug level only; PG_COPY_FAILED otherwise, logged
 * unless we aborted it ourselves.
 */
PgCopyStatus
pg_copy_finish(PGconn *conn, const char *what, const char *abort_reason, bool unique_ok)
{
	PgCopyStatus status = PG_COPY_OK;
	PGresult   *res;

	if (PQputCopyEnd(conn, abort_reason) <= 0)
	{
		pg_log_conn_error(conn, what);
		status = PG_COPY_FAILED;
	}
	while ((res = PQgetResult(conn)) != NULL)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (PQresultStatus(res) == PGRES_COMMAND_OK || abort_reason != NULL)
			;					/* done, or the failure we asked for */
		else if (unique_ok && state != NULL && strcmp(state, "23505") == 0)
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
	return abort_reason != NULL ? PG_COPY_FAILED : status;
}

/* pg_drain: read and discard results until libpq has none left, so the
 * connection can take the next command. */
void
pg_drain(PGconn *conn)
{
	PGresult   *res;

	while ((res = PQgetResult(conn)) != NULL)
	{
		/* a COPY state left over cannot end by reading: end it */
		if (PQresultStatus(res) == PGRES_COPY_IN)
			PQputCopyEnd(conn, "aborted by wvetl");
		PQclear(res);
		if (PQstatus(conn) == CONNECTION_BAD)
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
