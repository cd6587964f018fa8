/*
 * load/collision.c
 *   Two identities with one response_id (the same second and the same 31
 *   hash bits: load/identity.c) never refuse a window. The identity that
 *   comes later keeps its records: the one that finds its id held (in
 *   survey_response, or by an identity earlier in the window's answer)
 *   takes the next free response_id of its second, and etl_id_probe
 *   remembers it (operation, response_id, base_id = the id its identity
 *   computes). A later load of the same identity finds it there
 *   (collision_remap, before every merge), so reloads stay idempotent
 *   whatever happened to the row that held its id first. Probed ids stay
 *   in their second: ids still sort by time, and a day is still one range
 *   of them.
 *
 *   Everything here works on the window's stage (load/window.c), inside
 *   the window's transaction, and runs only around a collision: the
 *   common load pays one indexed look-up of etl_id_probe per window.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"
#include "load/merge_sql.h"		/* IDENTITY_COLS, SAME_IDENTITY */

/* Is an id of the window's range ($2..$3) one an identity of the operation
 * ($1) computes but was stored under another? */
static const char probes_in_range_sql[] =
	"SELECT EXISTS (SELECT 1 FROM etl_id_probe WHERE operation = $1"
	" AND base_id BETWEEN $2::bigint AND $3::bigint)";

/* Staged identities stored before under a probed id get that id:
 * dialect_sql(SQL_REMAP_PROBED). */

/* The staged answers follow their response (same seq). */
static const char answers_follow_sql[] =
	"UPDATE wvetl_stage_answer a SET response_id = s.response_id"
	" FROM wvetl_stage_response s WHERE a.seq = s.seq AND a.response_id <> s.response_id";

/*
 * The staged identities that must take another id, first seen first: their
 * id is held in survey_response by another identity, or, when the table
 * does not hold it, by a staged identity seen earlier in the answer. Each
 * row: base id, the seq of the identity's first record, and who it is.
 */
static const char colliders_sql[] =
	"WITH g AS ("
	"  SELECT response_id, " IDENTITY_COLS ", min(seq) AS first_seq"
	"  FROM wvetl_stage_response GROUP BY response_id, " IDENTITY_COLS ")"
	" SELECT g.response_id, g.first_seq,"
	"  'conn_id ' || coalesce(g.conn_id, 'NULL') || ' at ' || g.answered_at"
	"  || ' (agent ' || coalesce(g.agent_id, 'NULL') || ', skill '"
	"  || coalesce(g.skill_id, 'NULL') || ')'"
	" FROM g LEFT JOIN survey_response r ON r.response_id = g.response_id"
	"  AND r.response_id BETWEEN $1::bigint AND $2::bigint"
	" WHERE CASE WHEN r.response_id IS NOT NULL THEN NOT " SAME_IDENTITY("r", "g")
	"  ELSE EXISTS (SELECT 1 FROM g e WHERE e.response_id = g.response_id"
	"   AND e.first_seq < g.first_seq) END"
	" ORDER BY g.first_seq";

/* The first free id of a few in [$1, $2] (FREE_BATCH at most: a larger
 * series made the planner sort it whole): dialect_sql(SQL_FREE_ID). */
#define FREE_BATCH 64

/* Every staged record of the identity whose first record is seq $3, at
 * base id $1, moves to id $2. */
static const char move_sql[] =
	"UPDATE wvetl_stage_response s SET response_id = $2::bigint"
	" WHERE s.response_id = $1::bigint AND EXISTS (SELECT 1 FROM wvetl_stage_response f"
	"  WHERE f.seq = $3::bigint AND " SAME_IDENTITY("f", "s") ")";

static const char probe_insert_sql[] =
	"INSERT INTO etl_id_probe (operation, response_id, base_id)"
	" VALUES ($1, $2::bigint, $3::bigint)"
	" ON CONFLICT (operation, response_id) DO UPDATE SET base_id = excluded.base_id";

/* i64: v in decimal into out (24 bytes). */
static const char *
i64(char *out, int64_t v)
{
	snprintf(out, 24, "%" PRId64, v);
	return out;
}

/*
 * collision_probes_in_range: see load_int.h. The window's id range is
 * [l->id_min, l->id_max] (its records' computed ids).
 */
bool
collision_probes_in_range(Loader *l, bool *any)
{
	char		lo[24];
	char		hi[24];
	const char *params[3] = {l->operation, i64(lo, l->id_min), i64(hi, l->id_max)};
	PGresult   *res;

	*any = false;
	if (l->id_min > l->id_max)
		return true;			/* no record */
	res = pg_query(l->conn, "looking up probed response_ids", probes_in_range_sql, 3, params);
	if (res == NULL)
		return false;
	*any = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return true;
}

/* stage_bounds: widen [l->id_min, l->id_max] to the stage's ids (a moved
 * id may lie past them, within its second). */
static bool
stage_bounds(Loader *l)
{
	PGresult   *res = pg_query(l->conn, "reading the staged ids",
								"SELECT min(response_id), max(response_id) FROM wvetl_stage_response",
								0, NULL);

	if (res == NULL)
		return false;
	if (!PQgetisnull(res, 0, 0))
	{
		int64_t		lo = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		int64_t		hi = strtoll(PQgetvalue(res, 0, 1), NULL, 10);

		if (lo < l->id_min)
			l->id_min = lo;
		if (hi > l->id_max)
			l->id_max = hi;
	}
	PQclear(res);
	return true;
}

/* collision_remap: see load_int.h. */
bool
collision_remap(Loader *l)
{
	char		lo[24];
	char		hi[24];
	const char *params[3] = {l->operation, i64(lo, l->id_min), i64(hi, l->id_max)};
	bool		any = false;

	if (!collision_probes_in_range(l, &any))
		return false;
	if (!any)
		return true;
	return pg_command(l->conn, "finding identities stored under a probed id",
					  dialect_sql(l, SQL_REMAP_PROBED), 3, params) &&
		pg_command(l->conn, "moving their answers", answers_follow_sql, 0, NULL) &&
		stage_bounds(l);
}

/*
 * free_id: the first free id after base in base's second, wrapping round
 * to the second's first id, FREE_BATCH candidates a query; *found false
 * when the second has none (2^31 ids held: never in practice).
 */
static bool
free_id(Loader *l, int64_t base, int64_t *id, bool *found)
{
	int64_t		first = base & ~((INT64_C(1) << IDENTITY_HASH_BITS) - 1);
	int64_t		last = first + (INT64_C(1) << IDENTITY_HASH_BITS) - 1;
	int64_t		c = base;

	*found = false;
	for (;;)
	{
		char		a[24];
		char		b[24];
		int64_t		from = c == last ? first : c + 1;
		int64_t		to = from + FREE_BATCH - 1;
		const char *params[2];
		bool		none = true;

		if (to > last)
			to = last;
		if (from <= base && to >= base)
			to = base - 1;		/* back where it started */
		if (from > to)
			return true;
		params[0] = i64(a, from);
		params[1] = i64(b, to);
		if (!pg_query_int64(l->conn, "finding a free response_id",
								dialect_sql(l, SQL_FREE_ID), 2, params,
							id, &none))
			return false;
		if (!none)
		{
			*found = true;
			return true;
		}
		c = to;
	}
}

/* move_identity: the staged identity first seen at seq, at base, takes
 * the next free id of its second; etl_id_probe remembers it. */
static bool
move_identity(Loader *l, int64_t base, int64_t seq, const char *who)
{
	char		b[24];
	char		n[24];
	char		s[24];
	int64_t		id = 0;
	bool		found = false;

	if (!free_id(l, base, &id, &found))
		return false;
	if (!found)
	{
		log_error("load", "response_id %" PRId64 ": every id of its second is taken; "
				  "%s cannot be stored", base, who);
		return false;
	}
	{
		const char *move_params[3] = {i64(b, base), i64(n, id), i64(s, seq)};
		const char *probe_params[3] = {l->operation, n, b};

		if (!pg_command(l->conn, "moving a colliding identity", move_sql, 3, move_params) ||
			!pg_command(l->conn, "remembering its response_id", probe_insert_sql, 3,
						probe_params))
			return false;
	}
	log_info("load", "response_id %" PRId64 " is another identity's (same second, same "
			 "31-bit hash): %s gets %" PRId64 ", the next free id of its second "
			 "(etl_id_probe)", base, who, id);
	return true;
}

/* collision_resolve: see load_int.h. */
bool
collision_resolve(Loader *l)
{
	char		lo[24];
	char		hi[24];
	const char *params[2] = {i64(lo, l->id_min), i64(hi, l->id_max)};
	PGresult   *res;
	int			i;
	bool		ok = true;

	res = pg_query(l->conn, "finding colliding identities", colliders_sql, 2, params);
	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res) && ok; i++)
		ok = move_identity(l, strtoll(PQgetvalue(res, i, 0), NULL, 10),
						   strtoll(PQgetvalue(res, i, 1), NULL, 10), PQgetvalue(res, i, 2));
	PQclear(res);
	return ok && pg_command(l->conn, "moving their answers", answers_follow_sql, 0, NULL) &&
		stage_bounds(l);
}
