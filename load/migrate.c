/*
 * load/migrate.c
 *   Versioned schema migrations. The sql/NNN_*.sql files are embedded in the
 *   binary (tools/embed-sql.sh generates build/sql_embed.c); each missing
 *   one is applied in its own transaction and recorded in
 *   schema_migrations, under a transaction-level advisory lock so that two
 *   processes migrating at once apply each file once. With database.citus
 *   = on, the Citus steps (sql/citus/NNN_*.sql) follow, recorded the same
 *   way under their own numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

/* Defined in the generated build/sql_embed.c, sorted by version. */
typedef struct SqlMigration
{
	int			version;
	const char *name;
	const char *text;
} SqlMigration;

extern const SqlMigration sql_migrations[];
extern const size_t sql_migrations_count;

/* The Citus steps (sql/citus/NNN_*.sql, versions 900 and up), applied
 * after sql_migrations when database.citus = on. */
extern const SqlMigration sql_citus_steps[];
extern const size_t sql_citus_steps_count;

/* One lock per schema, distinct from the operations' locks. */
#define MIGRATE_LOCK_SQL \
	"SELECT pg_advisory_xact_lock(pg_catalog.hashtextextended('wvetl-migrate/' || $1, 0))"

/* A migration's objects go to the first schema of search_path: for the
 * transaction, the warehouse schema comes before pg_catalog (the session
 * has pg_catalog first, see state.c). Still nothing but the two. */
#define MIGRATE_PATH_SQL \
	"SELECT pg_catalog.set_config('search_path'," \
	" pg_catalog.quote_ident($1) || ', pg_catalog', true)"

/*
 * migrate_tx_begin: BEGIN, point search_path at the schema for the
 * transaction and take the migration lock (both until the transaction
 * ends). False on failure (logged; the transaction is rolled back).
 */
static bool
migrate_tx_begin(Loader *l)
{
	const char *params[1] = {l->schema};

	if (!pg_command(l->conn, "beginning a migration", "BEGIN", 0, NULL))
		return false;
	if (pg_command(l->conn, "setting search_path for a migration", MIGRATE_PATH_SQL, 1, params) &&
		pg_command(l->conn, "taking the migration lock", MIGRATE_LOCK_SQL, 1, params))
		return true;
	(void) pg_command(l->conn, "rolling back a migration", "ROLLBACK", 0, NULL);
	return false;
}

/* migrate_tx_end: COMMIT when ok, else ROLLBACK. Returns whether the
 * transaction committed. */
static bool
migrate_tx_end(Loader *l, bool ok)
{
	if (ok)
		return pg_command(l->conn, "committing a migration", "COMMIT", 0, NULL);
	(void) pg_command(l->conn, "rolling back a migration", "ROLLBACK", 0, NULL);
	return false;
}

/* migrate_bootstrap: the schema and schema_migrations, in one locked
 * transaction (CREATE ... IF NOT EXISTS alone races with a concurrent
 * creator). */
static bool
migrate_bootstrap(Loader *l)
{
	char	   *schema = NULL;
	Buf			sql = BUF_INIT;
	bool		ok;

	if ((schema = pg_quote_ident(l->conn, l->schema)) == NULL)
		return false;
	buf_printf(&sql, "CREATE SCHEMA IF NOT EXISTS %s;"
			   "CREATE TABLE IF NOT EXISTS %s.schema_migrations ("
			   " version integer PRIMARY KEY, name text NOT NULL,"
			   " applied_at timestamptz NOT NULL DEFAULT now());"
			   "COMMENT ON TABLE %s.schema_migrations IS"
			   " 'sql/NNN_*.sql files wvetl has applied to this schema'",
			   schema, schema, schema);
	PQfreemem(schema);
	if (sql.failed)
	{
		log_error("load", "out of memory");
		buf_free(&sql);
		return false;
	}
	if (!migrate_tx_begin(l))
	{
		buf_free(&sql);
		return false;
	}
	ok = pg_command(l->conn, "creating the schema", buf_cstr(&sql), 0, NULL);
	buf_free(&sql);
	return migrate_tx_end(l, ok);
}

/*
 * migrate_apply_one: apply m unless already recorded (checked under the
 * lock, so a concurrent migrate that got there first is seen). *applied
 * is incremented when it ran. False on failure (logged, rolled back).
 */
static bool
migrate_apply_one(Loader *l, const SqlMigration *m, int *applied)
{
	char		version[16];
	const char *params[2] = {version, m->name};
	int64_t		done = 0;
	bool		ok;
	char		what[128];

	snprintf(version, sizeof(version), "%d", m->version);
	snprintf(what, sizeof(what), "applying migration %s", m->name);
	if (!migrate_tx_begin(l))
		return false;
	ok = pg_query_int64(l->conn, "reading schema_migrations",
						"SELECT count(*) FROM schema_migrations WHERE version = $1::int",
						1, params, &done, NULL);
	if (ok && done == 0)
	{
		ok = dialect_exec_script(l, what, m->text) &&
			pg_command(l->conn, "recording the migration",
					   "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)",
					   2, params);
		if (ok)
			log_info("load", "applied migration %s to schema %s", m->name, l->schema);
	}
	if (!migrate_tx_end(l, ok))
		return false;
	if (done == 0)
		(*applied)++;
	return true;
}

/* loader_migrate: see load.h. Idempotent; logs failures. */
bool
loader_migrate(Loader *l, int *applied)
{
	size_t		i;
	int			n = 0;

	if (applied != NULL)
		*applied = 0;
	if (!migrate_bootstrap(l))
		return false;
	for (i = 0; i < sql_migrations_count; i++)
	{
		if (!migrate_apply_one(l, &sql_migrations[i], &n))
			return false;
	}
	for (i = 0; l->dialect == DIALECT_CITUS && i < sql_citus_steps_count; i++)
	{
		if (!migrate_apply_one(l, &sql_citus_steps[i], &n))
			return false;
	}
	/* views a migration added reach the reader roles (load/access.c) */
	if (n > 0 && !access_refresh(l))
		return false;
	if (applied != NULL)
		*applied = n;
	return true;
}

/* loader_schema_current: see load.h. A missing schema or
 * schema_migrations table is simply "not current". */
bool
loader_schema_current(Loader *l, bool *current)
{
	const char *params[2] = {l->schema, NULL};
	Buf			versions = BUF_INIT;
	int64_t		recorded = 0;
	bool		isnull;
	size_t		i;
	bool		ok;

	*current = false;
	buf_putc(&versions, '{');
	for (i = 0; i < sql_migrations_count; i++)
		buf_printf(&versions, "%s%d", i ? "," : "", sql_migrations[i].version);
	for (i = 0; l->dialect == DIALECT_CITUS && i < sql_citus_steps_count; i++)
		buf_printf(&versions, ",%d", sql_citus_steps[i].version);
	buf_putc(&versions, '}');
	params[1] = buf_cstr(&versions);
	/* two statements: the count cannot even be parsed without the table */
	ok = pg_query_int64(l->conn, "checking the schema version",
						"SELECT (to_regclass(quote_ident($1) || '.schema_migrations')"
						" IS NOT NULL)::int", 1, params, &recorded, &isnull);
	if (ok && recorded == 1)
	{
		ok = pg_query_int64(l->conn, "checking the schema version",
							"SELECT count(*) FROM schema_migrations"
							" WHERE version = ANY ($1::int[])",
							1, params + 1, &recorded, &isnull);
		if (ok)
			*current = (size_t) recorded == sql_migrations_count +
				(l->dialect == DIALECT_CITUS ? sql_citus_steps_count : 0);
	}
	buf_free(&versions);
	return ok;
}

/*
 * loader_schema_state: see load.h. Reads the catalogs and
 * schema_migrations only, so that a read-only command can refuse a
 * mistyped schema instead of creating it. False on a database error
 * (logged).
 */
bool
loader_schema_state(Loader *l, SchemaState *state)
{
	const char *params[1] = {l->schema};
	int64_t		n = 0;
	bool		current = false;

	*state = SCHEMA_MISSING;
	if (!pg_query_int64(l->conn, "looking for the schema",
						"SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = $1",
						1, params, &n, NULL))
		return false;
	if (n == 0)
		return true;
	*state = SCHEMA_NOT_SET_UP;
	if (!pg_query_int64(l->conn, "looking for schema_migrations",
						"SELECT (pg_catalog.to_regclass(pg_catalog.quote_ident($1)"
						" || '.schema_migrations') IS NOT NULL)::int",
						1, params, &n, NULL))
		return false;
	if (n == 0)
		return true;
	if (!loader_schema_current(l, &current))
		return false;
	*state = current ? SCHEMA_CURRENT : SCHEMA_OLD;
	return true;
}
