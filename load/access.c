/*
 * load/access.c
 *   Reader roles (`wvetl grant`, `wvetl revoke`, the grants `status` shows):
 *   etl_grant records which operations a role may read; the role gets
 *   USAGE on the schema and SELECT on what reader_relation lists (the BI
 *   views, dimensions and rollups, never the raw tables nor etl_*), and
 *   row-level security and visible_operation (sql/012_tenancy.sql) keep it
 *   to its operations' rows. A migration may add views: loader_migrate
 *   then gives the roles of etl_grant the new reader_relation
 *   (access_refresh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

/* What a role is: NULL row when it does not exist. */
static const char role_sql[] =
	"SELECT r.rolsuper OR has_table_privilege(r.oid, 'survey_response', 'SELECT')"
	"  FROM pg_roles r WHERE r.rolname = $1";

/*
 * grant_select: USAGE on the schema and SELECT on every reader_relation,
 * for role (after REVOKE of what it may have had, so a relation no longer
 * listed is taken back). Inside the caller's transaction.
 */
static bool
grant_select(Loader *l, const char *role)
{
	PGresult   *res = NULL;
	char	   *schema = pg_quote_ident(l->conn, l->schema);
	char	   *who = pg_quote_ident(l->conn, role);
	Buf			sql = BUF_INIT;
	bool		ok = false;

	if (schema == NULL || who == NULL)
		goto done;
	res = pg_query(l->conn, "listing the relations readers read",
				   "SELECT quote_ident(relation) FROM reader_relation ORDER BY 1", 0, NULL);
	if (res == NULL)
		goto done;
	buf_printf(&sql, "REVOKE ALL ON ALL TABLES IN SCHEMA %s FROM %s; "
			   "GRANT USAGE ON SCHEMA %s TO %s", schema, who, schema, who);
	for (int i = 0; i < PQntuples(res); i++)
		buf_printf(&sql, "; GRANT SELECT ON %s.%s TO %s", schema, PQgetvalue(res, i, 0), who);
	ok = !sql.failed && pg_command(l->conn, "granting the reader's privileges", buf_cstr(&sql),
								   0, NULL);
done:
	PQclear(res);
	buf_free(&sql);
	if (schema != NULL)
		PQfreemem(schema);
	if (who != NULL)
		PQfreemem(who);
	return ok;
}

/* tx_end: COMMIT when ok, else ROLLBACK; whether it committed. */
static bool
tx_end(Loader *l, bool ok)
{
	if (ok)
		return pg_command(l->conn, "committing", "COMMIT", 0, NULL);
	(void) pg_command(l->conn, "rolling back", "ROLLBACK", 0, NULL);
	return false;
}

bool
loader_grant(Loader *l, const char *role, const char *const *operations, int n, FILE *out)
{
	Buf			ops = BUF_INIT;
	const char *params[2] = {role, NULL};
	PGresult   *res;
	bool		ok;

	res = pg_query(l->conn, "looking the role up", role_sql, 1, params);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), "t") == 0)
	{
		if (PQntuples(res) == 0)
			log_error("load", "role \"%s\" does not exist: create it first "
					  "(CREATE ROLE ... LOGIN PASSWORD '...')", role);
		else
			log_error("load", "role \"%s\" can read survey_response itself (a superuser, its "
					  "owner, or granted it): it would see every operation; grant a role of its own", role);
		PQclear(res);
		return false;
	}
	PQclear(res);
	/* the operations as a text[] literal, each quoted */
	buf_putc(&ops, '{');
	for (int i = 0; i < n; i++)
	{
		buf_puts(&ops, i ? ",\"" : "\"");
		for (const char *p = operations[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				buf_putc(&ops, '\\');
			buf_putc(&ops, *p);
		}
		buf_putc(&ops, '"');
	}
	buf_putc(&ops, '}');
	params[1] = buf_cstr(&ops);
	ok = !ops.failed && pg_command(l->conn, "beginning the grant", "BEGIN", 0, NULL);
	if (!ok)
	{
		buf_free(&ops);
		return false;
	}
	ok = pg_command(l->conn, "recording the grant",
					"INSERT INTO etl_grant (operation, role, granted_at, granted_by)"
					" SELECT o, $1, now(), current_user FROM unnest($2::text[]) o"
					" ON CONFLICT (operation, role) DO NOTHING", 2, params) &&
		grant_select(l, role);
	ok = tx_end(l, ok);
	buf_free(&ops);
	if (ok)
		for (int i = 0; i < n; i++)
			fprintf(out, "role %s reads operation %s\n", role, operations[i]);
	return ok;
}

bool
loader_revoke(Loader *l, const char *role, FILE *out)
{
	const char *params[1] = {role};
	char	   *schema = NULL;
	char	   *who = NULL;
	Buf			sql = BUF_INIT;
	int64_t		exists = 0;
	int64_t		removed = 0;
	bool		ok;

	if (!pg_command(l->conn, "beginning the revoke", "BEGIN", 0, NULL))
		return false;
	ok = pg_query_int64(l->conn, "forgetting the grants",
						"WITH d AS (DELETE FROM etl_grant WHERE role = $1 RETURNING 1)"
						" SELECT count(*) FROM d", 1, params, &removed, NULL) &&
		pg_query_int64(l->conn, "looking the role up",
					   "SELECT count(*) FROM pg_roles WHERE rolname = $1", 1, params, &exists, NULL);
	if (ok && exists > 0)
	{
		schema = pg_quote_ident(l->conn, l->schema);
		who = pg_quote_ident(l->conn, role);
		ok = schema != NULL && who != NULL;
		if (ok)
		{
			buf_printf(&sql, "REVOKE ALL ON ALL TABLES IN SCHEMA %s FROM %s; "
					   "REVOKE USAGE ON SCHEMA %s FROM %s", schema, who, schema, who);
			ok = !sql.failed && pg_command(l->conn, "revoking the reader's privileges",
										   buf_cstr(&sql), 0, NULL);
		}
	}
	ok = tx_end(l, ok);
	if (ok)
		fprintf(out, "role %s reads no operation now (%lld grants removed)\n", role,
				(long long) removed);
	buf_free(&sql);
	if (schema != NULL)
		PQfreemem(schema);
	if (who != NULL)
		PQfreemem(who);
	return ok;
}

/*
 * access_refresh: after migrations, each role of etl_grant that exists
 * reads exactly what reader_relation lists now. In its own transaction.
 */
bool
access_refresh(Loader *l)
{
	PGresult   *res;
	bool		ok;

	res = pg_query(l->conn, "listing reader roles",
				   "SELECT DISTINCT g.role FROM etl_grant g JOIN pg_roles r ON r.rolname = g.role"
				   " ORDER BY 1", 0, NULL);
	if (res == NULL)
		return false;
	ok = pg_command(l->conn, "beginning the grants' refresh", "BEGIN", 0, NULL);
	for (int i = 0; ok && i < PQntuples(res); i++)
		ok = grant_select(l, PQgetvalue(res, i, 0));
	if (PQntuples(res) > 0 || ok)
		ok = tx_end(l, ok);
	PQclear(res);
	return ok;
}

bool
loader_grants_print(Loader *l, FILE *out)
{
	PGresult   *res;
	int64_t		have = 0;

	if (!pg_query_int64(l->conn, "looking for etl_grant",
						"SELECT count(*) FROM pg_class WHERE oid = to_regclass('etl_grant')",
						0, NULL, &have, NULL))
		return false;
	if (have == 0)
		return true;
	res = pg_query(l->conn, "listing the grants",
				   "SELECT role, string_agg(operation, ', ' ORDER BY operation),"
				   "  bool_and(EXISTS (SELECT FROM pg_roles r WHERE r.rolname = g.role))"
				   " FROM etl_grant g GROUP BY role ORDER BY role", 0, NULL);
	if (res == NULL)
		return false;
	fprintf(out, "\nreader roles (wvetl grant):%s\n", PQntuples(res) == 0 ? " none" : "");
	for (int i = 0; i < PQntuples(res); i++)
		fprintf(out, "  %-24s reads %s%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
				strcmp(PQgetvalue(res, i, 2), "t") == 0 ? "" : " (the role does not exist)");
	PQclear(res);
	return true;
}
