/*
 * load/timezone.c
 *   An operation's time zone, once it has data: the zone its rows were
 *   read in is etl_state.timezone. A load in another zone is refused
 *   (loader_timezone_check), since the rows' instants, and so their local
 *   days in the views and their identities, depend on it; the explicit
 *   change (loader_change_timezone, `wvetl migrate --change-timezone`)
 *   re-reads everything stored for the operation in the new zone.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

/* A stored instant re-read: its wall-clock time in the old zone ($2) read
 * in the new one ($3), by PostgreSQL's rule (the loader's, common/wvtime.c). */
#define REREAD(col) "((" col " AT TIME ZONE $2::text) AT TIME ZONE $3::text)"

/*
 * The change, in order, in one transaction (loader_change_timezone). A
 * statement takes the first nparams of $1 the operation, $2 the old zone,
 * $3 the new one. Rows whose primary key holds an instant (survey_response
 * and survey_answer by response_id, etl_window by its bounds) are copied
 * out, changed, deleted and put back, so that no row meets another's old
 * key on the way. The content hashes are cleared (a reload then writes
 * every row once). Every survey gets the id its identity computes; two
 * that then collide (the same new second, the same 31 hash bits: about
 * one chance in 2^31 per pair of a second) fail the change, which then
 * changes nothing.
 */
typedef struct ChangeStep
{
	const char *what;
	const char *sql;
	int			nparams;
} ChangeStep;

static const ChangeStep change_steps[] = {
	{"collecting the operation's surveys",
		"CREATE TEMP TABLE wvetl_tz_response ON COMMIT DROP AS"
	" SELECT * FROM survey_response WHERE operation = $1", 1},
	{"collecting their answers",
		"CREATE TEMP TABLE wvetl_tz_answer ON COMMIT DROP AS"
		" SELECT a.* FROM survey_answer a JOIN survey_response r USING (response_id)"
	" WHERE r.operation = $1", 1},
	{"re-reading the surveys' times",
		"UPDATE wvetl_tz_response SET answered_at = " REREAD("answered_at") ","
	" content_hash = NULL WHERE operation = $1", 3},
	{"computing their new response_ids",
		"CREATE TEMP TABLE wvetl_tz_ids ON COMMIT DROP AS"
		" SELECT response_id AS old_id,"
		"  survey_response_id(operation, conn_id, answered_at, agent_id, skill_id) AS new_id"
	" FROM wvetl_tz_response", 0},
	{"renumbering the surveys",
		"UPDATE wvetl_tz_response r SET response_id = i.new_id FROM wvetl_tz_ids i"
	" WHERE i.old_id = r.response_id", 0},
	{"renumbering their answers",
		"UPDATE wvetl_tz_answer a SET response_id = i.new_id FROM wvetl_tz_ids i"
	" WHERE i.old_id = a.response_id", 0},
	{"removing the old answers",
		"DELETE FROM survey_answer a USING survey_response r"
	" WHERE a.response_id = r.response_id AND r.operation = $1", 1},
	{"removing the old surveys", "DELETE FROM survey_response WHERE operation = $1", 1},
	{"storing the surveys", "INSERT INTO survey_response SELECT * FROM wvetl_tz_response", 0},
	{"storing the answers", "INSERT INTO survey_answer SELECT * FROM wvetl_tz_answer", 0},
	{"collecting the loaded windows",
		"CREATE TEMP TABLE wvetl_tz_window ON COMMIT DROP AS"
	" SELECT * FROM etl_window WHERE operation = $1", 1},
	{"re-reading the windows' bounds",
		"UPDATE wvetl_tz_window SET window_from = " REREAD("window_from") ","
	" window_to = " REREAD("window_to") " WHERE operation = $1", 3},
	{"removing the old windows", "DELETE FROM etl_window WHERE operation = $1", 1},
	{"storing the windows",
	"INSERT INTO etl_window SELECT * FROM wvetl_tz_window ON CONFLICT DO NOTHING", 0},
	{"re-reading the rejects' windows",
		"UPDATE etl_reject SET window_from = " REREAD("window_from") ","
	" window_to = " REREAD("window_to") " WHERE operation = $1", 3},
	{"re-reading the agents' times",
		"UPDATE agent SET name_at = " REREAD("name_at") ", first_seen = " REREAD("first_seen")
	", last_seen = " REREAD("last_seen") " WHERE operation = $1", 3},
	{"re-reading the skills' times",
		"UPDATE skill SET name_at = " REREAD("name_at") ", first_seen = " REREAD("first_seen")
	", last_seen = " REREAD("last_seen") " WHERE operation = $1", 3},
	{"forgetting the probed response_ids (all are computed again)",
	"DELETE FROM etl_id_probe WHERE operation = $1", 1},
	{"moving the watermark and the zone",
		"UPDATE etl_state SET watermark = " REREAD("watermark") ", timezone = $3,"
	" updated_at = now() WHERE operation = $1", 3},
	{"recomputing the rollups (local days in the new zone)",
	"SELECT rollup_rebuild($1, NULL, NULL)", 1},
};

/*
 * loader_timezone_check: see load.h. The operation has data when a window
 * of it is recorded or a survey of it is stored.
 */
bool
loader_timezone_check(Loader *l, char *stored, size_t stored_len, bool *mismatch)
{
	const char *params[2] = {l->operation, l->timezone};
	PGresult   *res;

	*mismatch = false;
	if (stored_len > 0)
		stored[0] = '\0';
	res = pg_query(l->conn, "reading the operation's time zone",
				   "SELECT s.timezone, s.timezone IS DISTINCT FROM $2"
				   "  AND (EXISTS (SELECT 1 FROM etl_window w WHERE w.operation = $1)"
				   "   OR EXISTS (SELECT 1 FROM survey_response r WHERE r.operation = $1))"
				   " FROM etl_state s WHERE s.operation = $1 AND s.timezone IS NOT NULL",
				   2, params);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		snprintf(stored, stored_len, "%s", PQgetvalue(res, 0, 0));
		*mismatch = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	}
	PQclear(res);
	return true;
}

/*
 * loader_change_timezone: see load.h. One transaction: every step of
 * change_steps, then COMMIT; on any failure (logged) it is rolled back and
 * nothing changed. *surveys: how many surveys were re-read.
 */
bool
loader_change_timezone(Loader *l, const char *old_zone, uint64_t *surveys)
{
	const char *params[3] = {l->operation, old_zone, l->timezone};
	int64_t		n = 0;
	size_t		i;

	*surveys = 0;
	if (!pg_command(l->conn, "beginning the time zone change", "BEGIN", 0, NULL))
		return false;
	for (i = 0; i < sizeof(change_steps) / sizeof(change_steps[0]); i++)
	{
		const ChangeStep *s = &change_steps[i];

		if (!pg_command(l->conn, s->what, s->sql, s->nparams, s->nparams ? params : NULL))
			goto fail;
	}
	if (!pg_query_int64(l->conn, "counting the surveys", "SELECT count(*) FROM wvetl_tz_ids",
						0, NULL, &n, NULL) ||
		!pg_command(l->conn, "committing the time zone change", "COMMIT", 0, NULL))
		goto fail;
	*surveys = (uint64_t) n;
	return true;

fail:
	(void) pg_command(l->conn, "rolling back the time zone change", "ROLLBACK", 0, NULL);
	return false;
}
