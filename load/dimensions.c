/*
 * load/dimensions.c
 *   The agent and skill dimensions, kept inside each window's transaction
 *   (current name = the name of the latest survey by answered_at, equal
 *   times going to the greatest name in byte order; first and last seen),
 *   so a renamed agent has one current name as soon as the window that
 *   renamed it commits.
 *
 *   The loader folds every record it is given into a small table per
 *   dimension (one entry per agent_id and per skill_id), and at commit
 *   sends those entries (a few rows) to a staging table and upserts both
 *   dimensions from it: no pass over the window's surveys in SQL, which
 *   cost ~1.1 s per million records. A window with more than dim_cap
 *   distinct ids (memory stays bounded) falls back to folding the window's
 *   surveys in SQL, with the same result.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

/* One agent or skill seen in the open window. */
typedef struct DimEntry
{
	int64_t		first;			/* answered_at of its first and last survey */
	int64_t		last;
	bool		has_name;
	int64_t		name_at;		/* answered_at of the survey name is from */
	Buf			name;
} DimEntry;

static void
dim_entry_free(gpointer p)
{
	DimEntry   *e = p;

	buf_free(&e->name);
	g_free(e);
}

/* dims_init: empty dimension tables; false without memory. */
bool
dims_init(Loader *l)
{
	int			k;

	for (k = 0; k < DIM_COUNT; k++)
	{
		l->dims[k].map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
											   dim_entry_free);
		if (l->dims[k].map == NULL)
			return false;
	}
	l->dim_cap = DIM_CAP_DEFAULT;
	return true;
}

/* dims_clear: empty the tables (destroy: and release them). */
static void
dims_clear(Loader *l, bool destroy)
{
	int			k;

	for (k = 0; k < DIM_COUNT; k++)
	{
		l->dims[k].overflow = false;
		if (l->dims[k].map == NULL)
			continue;
		if (destroy)
		{
			g_hash_table_destroy(l->dims[k].map);
			l->dims[k].map = NULL;
		}
		else
			g_hash_table_remove_all(l->dims[k].map);
	}
}

/* dims_reset: forget the open window's entries. */
void
dims_reset(Loader *l)
{
	dims_clear(l, false);
}

/* dims_free: release the tables. */
void
dims_free(Loader *l)
{
	dims_clear(l, true);
	buf_free(&l->dim_key);
}

/* name_newer: whether (at, name) is later than the entry's name: a later
 * time, or the same time and a greater name in byte order. */
static bool
name_newer(const DimEntry *e, int64_t at, EtlStr name)
{
	size_t		n;
	int			c;

	if (!e->has_name || at > e->name_at)
		return true;
	if (at < e->name_at)
		return false;
	n = name.len < e->name.len ? name.len : e->name.len;
	c = n > 0 ? memcmp(name.ptr, e->name.data, n) : 0;
	return c > 0 || (c == 0 && name.len > e->name.len);
}

/* dim_add: fold one survey into dimension k. */
static void
dim_add(Loader *l, int k, EtlStr id, EtlStr name, int64_t at)
{
	DimSet	   *d = &l->dims[k];
	DimEntry   *e;
	const char *key;

	if (id.ptr == NULL || d->overflow)
		return;
	buf_reset(&l->dim_key);
	buf_append(&l->dim_key, id.ptr, id.len);
	key = buf_cstr(&l->dim_key);
	if (key == NULL)
	{
		d->overflow = true;		/* no memory: the SQL fold does it */
		return;
	}
	e = g_hash_table_lookup(d->map, key);
	if (e == NULL)
	{
		if (g_hash_table_size(d->map) >= l->dim_cap)
		{
			d->overflow = true;
			return;
		}
		e = g_new0(DimEntry, 1);
		e->first = e->last = at;
		g_hash_table_insert(d->map, g_strdup(key), e);
	}
	if (at < e->first)
		e->first = at;
	if (at > e->last)
		e->last = at;
	if (name.ptr != NULL && name_newer(e, at, name))
	{
		if (!e->has_name || e->name.len != name.len ||
			memcmp(e->name.data, name.ptr, name.len) != 0)
		{
			buf_reset(&e->name);
			buf_append(&e->name, name.ptr, name.len);
			if (e->name.failed)
			{
				d->overflow = true;
				return;
			}
		}
		e->has_name = true;
		e->name_at = at;
	}
}

/* dims_add: fold one record into both dimensions. */
void
dims_add(Loader *l, const SurveyRecord *rec)
{
	dim_add(l, DIM_AGENT, rec->field[SF_AGENT_ID], rec->field[SF_AGENT_NAME],
			rec->answered_at);
	dim_add(l, DIM_SKILL, rec->field[SF_SKILL_ID], rec->field[SF_SKILL_NAME],
			rec->answered_at);
}

/* The entries' staging table rows: kind, id, name, name_at, first, last. */
static void
dim_rows(Buf *b, char kind, GHashTable *map)
{
	GHashTableIter it;
	gpointer	key;
	gpointer	val;

	g_hash_table_iter_init(&it, map);
	while (g_hash_table_iter_next(&it, &key, &val))
	{
		const DimEntry *e = val;

		buf_putc(b, kind);
		buf_putc(b, '\t');
		copy_text_field(b, (EtlStr) {key, strlen(key)});
		buf_putc(b, '\t');
		if (e->has_name)
		{
			copy_text_field(b, (EtlStr) {e->name.data != NULL ? e->name.data : "",
							e->name.len});
			buf_putc(b, '\t');
			copy_text_int(b, e->name_at);
		}
		else
			buf_append(b, "\\N\t\\N", 5);
		buf_putc(b, '\t');
		copy_text_int(b, e->first);
		buf_putc(b, '\t');
		copy_text_int(b, e->last);
		buf_putc(b, '\n');
	}
}

/* An upsert's end: against the table, a name at least as recent as the
 * stored one replaces it, so loading an older window never brings back an
 * old name. */
#define DIM_ON_CONFLICT(dim) \
	"  ON CONFLICT (operation, " dim "_id) DO UPDATE SET" \
	"   first_seen = least(d.first_seen, excluded.first_seen)," \
	"   last_seen = greatest(d.last_seen, excluded.last_seen)," \
	"   " dim "_name = CASE WHEN excluded.name_at >= d.name_at OR d.name_at IS NULL" \
	"    THEN excluded." dim "_name ELSE d." dim "_name END," \
	"   name_at = CASE WHEN excluded.name_at >= d.name_at OR d.name_at IS NULL" \
	"    THEN excluded.name_at ELSE d.name_at END" \
	"  RETURNING 1)"

/* Both upserts from the staging table. */
#define DIM_STAGE_UPSERT(dim, kind) \
	" " dim "_up AS (" \
	"  INSERT INTO " dim " AS d (operation, " dim "_id, " dim "_name, name_at," \
	"   first_seen, last_seen)" \
	"  SELECT $1, id, name, pg_catalog.to_timestamp(name_at)," \
	"   pg_catalog.to_timestamp(first_seen), pg_catalog.to_timestamp(last_seen)" \
	"  FROM wvetl_stage_dim WHERE kind = '" kind "'" \
	DIM_ON_CONFLICT(dim)

static const char dim_stage_upsert_sql[] =
	"WITH" DIM_STAGE_UPSERT("agent", "a") "," DIM_STAGE_UPSERT("skill", "s")
	" SELECT (SELECT count(*) FROM agent_up) + (SELECT count(*) FROM skill_up)";

/* dims_store: the folded entries into the dimensions. */
static bool
dims_store(Loader *l)
{
	static const char what[] = "COPY of agents and skills";
	const char *params[1] = {l->operation};
	Buf			b = BUF_INIT;
	bool		ok = false;
	int64_t		n = 0;

	dim_rows(&b, 'a', l->dims[DIM_AGENT].map);
	dim_rows(&b, 's', l->dims[DIM_SKILL].map);
	if (b.failed)
	{
		log_error("load", "%s: out of memory", what);
		goto cleanup;
	}
	if (b.len == 0)
	{
		ok = true;
		goto cleanup;
	}
	if (!pg_copy_start(l->conn, what, "COPY wvetl_stage_dim (kind, id, name, name_at,"
					   " first_seen, last_seen) FROM STDIN") ||
		!pg_copy_send(l->conn, what, b.data, b.len) ||
		pg_copy_finish(l->conn, what, NULL, false) != PG_COPY_OK)
		goto cleanup;
	ok = pg_query_int64(l->conn, "updating agents and skills", dim_stage_upsert_sql,
						1, params, &n, NULL);

cleanup:
	buf_free(&b);
	return ok;
}

/*
 * The fallback, when a window holds more than dim_cap agents or skills:
 * one pass over the window's surveys (the source, s) folds them into w,
 * one row per (agent_id, skill_id): first and last answered_at, the latest
 * name of each, and how many of the rows this transaction wrote (mine).
 * The latest name is the max of "<answered_at as 12 epoch digits><name>"
 * in byte order (a hash aggregate, no sort); equal times go to the greatest
 * name, as in name_newer(). Then both upserts read w.
 */
#define DIM_LATEST(col) \
	"max((lpad(extract(epoch FROM answered_at)::bigint::text, 12, '0') || " col ") COLLATE \"C\")"

#define DIM_FOLD(source) \
	"WITH w AS MATERIALIZED (SELECT agent_id, skill_id, min(answered_at) AS first_at," \
	"  max(answered_at) AS last_at, " DIM_LATEST("agent_name") " AS agent_latest," \
	"  " DIM_LATEST("skill_name") " AS skill_latest, count(*) FILTER (WHERE mine) AS mine" \
	"  FROM (" source ") s GROUP BY agent_id, skill_id),"

#define DIM_UPSERT(dim) \
	" " dim "_up AS (" \
	"  INSERT INTO " dim " AS d (operation, " dim "_id, " dim "_name, name_at," \
	"   first_seen, last_seen)" \
	"  SELECT $1, " dim "_id, substr(max(" dim "_latest), 13)," \
	"   pg_catalog.to_timestamp(left(max(" dim "_latest), 12)::bigint)," \
	"   min(first_at), max(last_at)" \
	"  FROM w WHERE " dim "_id IS NOT NULL GROUP BY " dim "_id" \
	DIM_ON_CONFLICT(dim)

#define DIM_TAIL \
	DIM_UPSERT("agent") "," DIM_UPSERT("skill") \
	" SELECT coalesce(sum(mine), 0) FROM w"

#define DIM_COLS "agent_id, agent_name, skill_id, skill_name, answered_at"

/* LOAD_MERGE: the staging table holds exactly the window's records. */
static const char dim_stage_sql[] =
	DIM_FOLD("SELECT " DIM_COLS ", true AS mine FROM wvetl_stage_response") DIM_TAIL;

/* LOAD_FAST: the window's range, through the (operation, answered_at)
 * index. Rows this transaction wrote have last_loaded_at = now() (the
 * transaction's start, $5: read once by the client, since on Citus this
 * comparison runs on the workers, whose now() is their own) and this run's
 * id. */
static const char dim_range_sql[] =
	DIM_FOLD("SELECT " DIM_COLS ", (run_id = $4::bigint AND last_loaded_at = $5::timestamptz)"
			 " AS mine"
			 " FROM survey_response WHERE operation = $1"
			 " AND answered_at >= pg_catalog.to_timestamp($2::bigint)"
			 " AND answered_at < pg_catalog.to_timestamp($3::bigint)") DIM_TAIL;

/* LOAD_FAST with records dated outside the window (the API or a replayed
 * body may send them): every row this transaction wrote, by a scan. */
static const char dim_written_sql[] =
	DIM_FOLD("SELECT " DIM_COLS ", true AS mine FROM survey_response"
			 " WHERE operation = $1 AND run_id = $2::bigint AND last_loaded_at = $3::timestamptz")
	DIM_TAIL;

/*
 * dimensions_update: upsert agent and skill from the open window's
 * surveys, inside its transaction (call after the COPYs and the merge,
 * before COMMIT); written is how many survey_response rows the window
 * inserted or updated. From the folded entries (dims_add) unless a
 * dimension overflowed; then LOAD_MERGE reads the staging table, and
 * LOAD_FAST the window's range and, when fewer than written of its rows
 * lie in it, every row the transaction wrote. False on failure (logged).
 */
bool
dimensions_update(Loader *l, uint64_t written)
{
	char		from[24];
	char		to[24];
	char		run[24];
	char		tx[TX_TIME_LEN];
	const char *params[5] = {l->operation, from, to, run, tx};
	int64_t		found = 0;

	if (written == 0)
		return true;
	if (!l->dims[DIM_AGENT].overflow && !l->dims[DIM_SKILL].overflow)
		return dims_store(l);
	log_debug("load", "more than %zu agents or skills in the window: folded in SQL",
			  l->dim_cap);
	if (l->mode == LOAD_MERGE)
		return pg_query_int64(l->conn, "updating agents and skills", dim_stage_sql,
							  1, params, &found, NULL);
	snprintf(from, sizeof(from), "%" PRId64, l->win_from);
	snprintf(to, sizeof(to), "%" PRId64, l->win_to);
	snprintf(run, sizeof(run), "%" PRId64, l->run_id);
	if (!state_tx_time(l, tx))
		return false;
	if (!pg_query_int64(l->conn, "updating agents and skills", dim_range_sql,
						5, params, &found, NULL))
		return false;
	if (found >= 0 && (uint64_t) found >= written)
		return true;
	log_info("load", "%" PRIu64 " record(s) dated outside the window [%" PRId64 ", %" PRId64
			 "): agents and skills read from every row the window wrote",
			 written - (uint64_t) found, l->win_from, l->win_to);
	params[1] = run;
	params[2] = tx;
	return pg_query_int64(l->conn, "updating agents and skills", dim_written_sql,
						  3, params, &found, NULL);
}
