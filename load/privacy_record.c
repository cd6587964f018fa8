/*
 * load/privacy_record.c
 *   An operation's privacy settings, once it has data: the settings its
 *   rows were loaded with are etl_state.privacy_* (recorded by its first
 *   window, state.c). A load with other settings is refused
 *   (loader_privacy_check): its rows would hold the same person's value
 *   in another form (a number in clear beside its hash, or hashed beside
 *   rows where it was dropped), so neither grouping nor the promise the
 *   setting makes would hold for the operation. The explicit change
 *   (loader_change_privacy, `wvetl migrate --change-privacy`) records the
 *   new settings; the rows stored keep their form.
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

/* The columns of etl_state, in LoadOptions.privacy order, and the keys
 * they record. */
static const char *const privacy_names[LOAD_PRIVACY_COLS] = {"ani", "customer_id", "agent_dni"};

/* privacy_describe: "ani=keep customer_id=hash agent_dni=drop" of the
 * values v (a NULL value shows as "?"), into out. */
static void
privacy_describe(const char *const *v, char *out, size_t len)
{
	size_t		pos = 0;

	if (len == 0)
		return;
	out[0] = '\0';
	for (int i = 0; i < LOAD_PRIVACY_COLS && pos < len; i++)
		pos += (size_t) snprintf(out + pos, len - pos, "%s%s=%s", i > 0 ? " " : "",
								 privacy_names[i], v[i] != NULL ? v[i] : "?");
}

/*
 * privacy_has_data: the operation has a loaded window or a stored survey.
 * Asked only when a setting differs, so that a load meeting a locked
 * survey_response waits there, in its window, as before.
 */
static bool
privacy_has_data(Loader *l, bool *data)
{
	const char *params[1] = {l->operation};
	int64_t		n = 0;

	if (!pg_query_int64(l->conn, "looking for the operation's data",
						"SELECT (EXISTS (SELECT 1 FROM etl_window w WHERE w.operation = $1)"
						" OR EXISTS (SELECT 1 FROM survey_response r WHERE r.operation = $1))::int",
						1, params, &n, NULL))
		return false;
	*data = n == 1;
	return true;
}

/*
 * loader_privacy_check: see load.h. The operation has data when a window
 * of it is recorded or a survey of it is stored. A setting not recorded
 * (NULL: loaded before wvetl recorded them) or not known to the loader
 * never differs.
 */
bool
loader_privacy_check(Loader *l, char *stored, char *configured, size_t len, bool *mismatch)
{
	const char *params[1] = {l->operation};
	const char *old[LOAD_PRIVACY_COLS] = {NULL};
	PGresult   *res;
	bool		differs = false;
	bool		ok = true;

	*mismatch = false;
	if (len > 0)
		stored[0] = '\0';
	privacy_describe((const char *const *) l->privacy, configured, len);
	res = pg_query(l->conn, "reading the operation's privacy settings",
				   "SELECT privacy_ani, privacy_customer_id, privacy_agent_dni"
				   " FROM etl_state WHERE operation = $1", 1, params);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		bool		recorded = false;

		for (int i = 0; i < LOAD_PRIVACY_COLS; i++)
		{
			if (PQgetisnull(res, 0, i))
				continue;
			old[i] = PQgetvalue(res, 0, i);
			recorded = true;
			if (l->privacy[i] != NULL && strcmp(old[i], l->privacy[i]) != 0)
				differs = true;
		}
		if (recorded)
			privacy_describe(old, stored, len);
	}
	PQclear(res);
	if (differs)
		ok = privacy_has_data(l, mismatch);
	return ok;
}

/*
 * loader_change_privacy: see load.h. The settings recorded before are
 * read, then replaced; the operation's lock (which every load of it
 * takes) keeps any load from writing in between.
 */
bool
loader_change_privacy(Loader *l, char *note, size_t note_len, bool *changed)
{
	const char *params[1 + LOAD_PRIVACY_COLS] = {l->operation};
	PGresult   *res;
	size_t		pos = 0;

	*changed = false;
	if (note_len > 0)
		note[0] = '\0';
	for (int i = 0; i < LOAD_PRIVACY_COLS; i++)
		params[1 + i] = l->privacy[i];
	res = pg_query(l->conn, "reading the operation's privacy settings",
				   "SELECT privacy_ani, privacy_customer_id, privacy_agent_dni"
				   " FROM etl_state WHERE operation = $1", 1, params);
	if (res == NULL)
		return false;
	for (int i = 0; PQntuples(res) == 1 && i < LOAD_PRIVACY_COLS; i++)
	{
		const char *was = PQgetisnull(res, 0, i) ? "(not recorded)" : PQgetvalue(res, 0, i);

		if (l->privacy[i] == NULL || strcmp(was, l->privacy[i]) == 0)
			continue;
		*changed = true;
		if (pos < note_len)
			pos += (size_t) snprintf(note + pos, note_len - pos, "%sprivacy.%s: %s -> %s",
									 pos > 0 ? "; " : "", privacy_names[i], was, l->privacy[i]);
	}
	PQclear(res);
	if (!*changed)
		return true;
	return pg_command(l->conn, "recording the privacy settings",
					  "UPDATE etl_state SET privacy_ani = coalesce($2, privacy_ani),"
					  " privacy_customer_id = coalesce($3, privacy_customer_id),"
					  " privacy_agent_dni = coalesce($4, privacy_agent_dni)"
					  " WHERE operation = $1", 1 + LOAD_PRIVACY_COLS, params);
}
