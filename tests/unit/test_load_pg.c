/*
 * tests/unit/test_load_pg.c
 *   load/ against a real PostgreSQL: migrations, COPY escaping round trips,
 *   the SQL and C identity hashes agreeing, fast load, conflict -> merge,
 *   duplicates (later wins), answers replaced, rejects, watermark, window
 *   coverage, abort, the lock and abandoned runs, response_id collisions.
 *
 *   Needs a database: runs only when WVETL_TEST_PG=1 (libpq's PG* variables
 *   choose the server), e.g.  WVETL_TEST_PG=1 pg_virtualenv build/san/tests/test_load_pg
 *   Otherwise every test is skipped. Works in a schema of its own, dropped
 *   at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/wvtime.h"
#include "load/load.h"
#include "load/load_int.h"

#define DAY 86400

static char schema[64];
static LoadOptions opt = {"", NULL, "wv0010", "America/Bogota", "diagram_4", 60, NULL};

/* One generated record and the storage its borrowed strings point into. */
typedef struct Gen
{
	char		conn[32];
	char		agent[16];
	char		skill[16];
	char		name[64];
	char		text[6][8];
	SurveyAnswer ans[6];
	SurveyRecord rec;
} Gen;

/* gen: record i answered at `at`. variant changes the agent name; variant
 * 9 also has a single answer (q1 = 9), to see answers replaced. */
static SurveyRecord *
gen(Gen *g, long i, int64_t at, int variant)
{
	int			n = variant == 9 ? 1 : 6;
	int			f;

	memset(&g->rec, 0, sizeof(g->rec));
	for (f = 0; f < SF_COUNT; f++)
		g->rec.field[f] = ETL_STR_NULL;
	snprintf(g->conn, sizeof(g->conn), "conn-%ld", i);
	snprintf(g->agent, sizeof(g->agent), "%ld", 1000 + i % 50);
	snprintf(g->skill, sizeof(g->skill), "%ld", i % 7);
	snprintf(g->name, sizeof(g->name), "Agent\t%ld ñ v%d", i % 50, variant);
	g->rec.field[SF_CONN_ID] = (EtlStr) {g->conn, strlen(g->conn)};
	g->rec.field[SF_AGENT_ID] = (EtlStr) {g->agent, strlen(g->agent)};
	g->rec.field[SF_SKILL_ID] = (EtlStr) {g->skill, strlen(g->skill)};
	g->rec.field[SF_AGENT_NAME] = (EtlStr) {g->name, strlen(g->name)};
	g->rec.answered_at = at;
	g->rec.has_duration = true;
	g->rec.duration_s = (int32_t) (i % 600);
	g->rec.extras = i % 10 == 0 ? (EtlStr) {"{\"x\":1}", 7} : ETL_STR_NULL;
	for (f = 0; f < n; f++)
	{
		snprintf(g->text[f], sizeof(g->text[f]), "%d", variant == 9 ? 9 : (int) ((i + f) % 5 + 1));
		g->ans[f].question_no = f + 1;
		g->ans[f].text = (EtlStr) {g->text[f], strlen(g->text[f])};
		g->ans[f].num = g->ans[f].text;
	}
	g->rec.answers = g->ans;
	g->rec.n_answers = (size_t) n;
	return &g->rec;
}

/* q: the first value of a query's first row ("" on no row), static. */
static const char *
q(PGconn *c, const char *sql)
{
	static char out[4096];
	PGresult   *r = PQexec(c, sql);

	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	snprintf(out, sizeof(out), "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return out;
}

static long long
qn(PGconn *c, const char *sql)
{
	return atoll(q(c, sql));
}

/* load: records first..first+n-1 (answered at their index) as one window. */
static WindowResult
load(Loader *l, long first, long n, int64_t from, int64_t to, LoadMode mode, LoadCounts *out)
{
	Gen			g;
	long		i;

	assert_true(loader_window_begin(l, from, to, mode));
	for (i = first; i < first + n; i++)
		assert_true(loader_add_record(l, gen(&g, i, from + i % (to - from), 0)));
	return loader_window_commit(l, to, NULL, out);
}

static int
setup(void **state)
{
	Loader	   *l;
	int			applied = -1;
	bool		current = true;

	if (getenv("WVETL_TEST_PG") == NULL || strcmp(getenv("WVETL_TEST_PG"), "1") != 0)
		return 0;
	snprintf(schema, sizeof(schema), "wvetl test %d", (int) getpid());
	opt.schema = schema;
	l = loader_connect(&opt);
	assert_non_null(l);
	assert_true(loader_schema_current(l, &current));
	assert_false(current);
	assert_true(loader_migrate(l, &applied));
	assert_true(applied >= 2);
	assert_true(loader_migrate(l, &applied));
	assert_int_equal(applied, 0);
	assert_true(loader_schema_current(l, &current));
	assert_true(current);
	*state = l;
	return 0;
}

static int
teardown(void **state)
{
	Loader	   *l = *state;
	char		sql[128];

	if (l == NULL)
		return 0;
	snprintf(sql, sizeof(sql), "DROP SCHEMA \"%s\" CASCADE", schema);
	PQclear(PQexec(l->conn, sql));
	loader_free(l);
	return 0;
}

#define NEED_DB(state) do { if (*(state) == NULL) skip(); } while (0)

/* COPY TO of the server equals our escaping, and COPY FROM of ours gives
 * the original bytes back. */
static void
test_copy_roundtrip(void **state)
{
	static const char *const nasty[] = {
		"plain", "", "a\\b", "tab\there", "nl\nx", "cr\rx", "\b\f\v", "\\N", "\\.",
		"\n\\.\n", "ñandú 日本 😀", "\x01\x02\x1f\x7f", "end\\", "\\\\\\", "a\r\n\tb\\c"
	};
	Loader	   *l = *state;
	size_t		i;

	NEED_DB(state);
	PQclear(PQexec(l->conn, "CREATE TEMP TABLE rt (v text)"));
	for (i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++)
	{
		Buf			mine = BUF_INIT;
		Buf			srv = BUF_INIT;
		const char *p[1] = {nasty[i]};
		PGresult   *r;
		char	   *row;
		int			n;

		copy_text_field(&mine, (EtlStr) {nasty[i], strlen(nasty[i])});
		buf_putc(&mine, '\n');
		PQclear(PQexec(l->conn, "TRUNCATE rt"));
		PQclear(PQexecParams(l->conn, "INSERT INTO rt VALUES ($1)", 1, NULL, p, NULL, NULL, 0));
		r = PQexec(l->conn, "COPY rt TO STDOUT");
		assert_int_equal(PQresultStatus(r), PGRES_COPY_OUT);
		PQclear(r);
		while ((n = PQgetCopyData(l->conn, &row, 0)) > 0)
		{
			buf_append(&srv, row, (size_t) n);
			PQfreemem(row);
		}
		while ((r = PQgetResult(l->conn)) != NULL)
			PQclear(r);
		assert_int_equal(mine.len, srv.len);
		assert_memory_equal(mine.data, srv.data, mine.len);

		PQclear(PQexec(l->conn, "TRUNCATE rt"));
		assert_true(pg_copy_start(l->conn, "test", "COPY rt FROM STDIN"));
		assert_true(pg_copy_send(l->conn, "test", mine.data, mine.len));
		assert_int_equal(pg_copy_finish(l->conn, "test", NULL, false), PG_COPY_OK);
		assert_string_equal(q(l->conn, "SELECT v FROM rt"), nasty[i]);
		buf_free(&mine);
		buf_free(&srv);
	}
}

/* survey_response_id() in SQL equals load_response_id() in C. */
static void
test_identity_sql_agrees(void **state)
{
	Loader	   *l = *state;
	Gen			g;
	long		i;

	NEED_DB(state);
	for (i = 0; i < 300; i++)
	{
		SurveyRecord *r = gen(&g, i * 7919, 1700000000 + i * 3600 - 50000000L * (i % 3), 0);
		const char *op = i % 2 ? "wv0010" : "opé";
		char		at[32];
		char		conn[32];
		char		agent[32];
		const char *p[5];
		PGresult   *res;

		if (i % 4 == 1)
			r->field[SF_CONN_ID] = ETL_STR_NULL;
		if (i % 5 == 2)
			r->field[SF_AGENT_ID] = ETL_STR_NULL;
		if (i % 6 == 3)
			r->field[SF_SKILL_ID] = (EtlStr) {"日本\tx", strlen("日本\tx")};
		snprintf(at, sizeof(at), "%lld", (long long) r->answered_at);
		snprintf(conn, sizeof(conn), "%s", g.conn);
		snprintf(agent, sizeof(agent), "%s", g.agent);
		p[0] = op;
		p[1] = r->field[SF_CONN_ID].ptr ? conn : NULL;
		p[2] = at;
		p[3] = r->field[SF_AGENT_ID].ptr ? agent : NULL;
		p[4] = i % 6 == 3 ? "日本\tx" : g.skill;
		res = PQexecParams(l->conn, "SELECT survey_response_id($1, $2, to_timestamp($3::bigint), $4, $5)",
						   5, NULL, p, NULL, NULL, 0);
		assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
		assert_int_equal(atoll(PQgetvalue(res, 0, 0)), load_response_id(op, r));
		PQclear(res);
	}
}

#define SNAP_RESPONSES \
	"SELECT md5(string_agg(t::text, ',' ORDER BY response_id)) FROM (SELECT response_id," \
	" operation, conn_id, agent_id, agent_name, answered_at, duration_s, extras" \
	" FROM survey_response) t"
#define SNAP_ANSWERS \
	"SELECT md5(string_agg(t::text, ',' ORDER BY response_id, question_no)) FROM survey_answer t"
#define ANSWERS_OF(conn) \
	"SELECT string_agg(question_no || '=' || answer_text, ',' ORDER BY question_no)" \
	" FROM survey_answer a JOIN survey_response r USING (response_id) WHERE conn_id = '" conn "'"

/* Fast load, then the same window: conflict, merge, nothing changes. Then
 * duplicates in a window (later wins) with answers replaced. */
static void
test_fast_conflict_merge(void **state)
{
	Loader	   *l = *state;
	PGconn	   *c;
	LoadCounts	out;
	char		snap[64];
	char		snapa[64];
	char		holder[256];
	uint64_t	nrec;
	uint64_t	nrej;
	Gen			g;
	long		i;

	NEED_DB(state);
	c = l->conn;
	assert_int_equal(loader_lock_operation(l, holder, sizeof(holder)), LOCK_OK);
	assert_true(loader_run_begin(l, "backfill", 0, 10 * DAY));

	assert_true(loader_window_begin(l, 0, DAY, LOAD_FAST));
	for (i = 0; i < 100; i++)
		assert_true(loader_add_record(l, gen(&g, i, i, 0)));
	assert_true(loader_add_reject(l, "{\"date\":\"bad\"}", 14, "no readable date"));
	assert_true(loader_add_reject(l, "{\"date\":\"bad\"}", 14, "no readable date"));
	assert_true(loader_add_reject(l, "{\"date\":\"x\\ty\"}", 15, "no readable date"));
	loader_window_counts(l, &nrec, &nrej);
	assert_int_equal(nrec, 100);
	assert_int_equal(nrej, 3);
	assert_int_equal(loader_window_commit(l, DAY, NULL, &out), WINDOW_COMMITTED);
	assert_int_equal(out.inserted, 100);
	assert_int_equal(out.rejects, 3);
	assert_int_equal(qn(c, "SELECT count(*) FROM survey_response"), 100);
	assert_int_equal(qn(c, "SELECT count(*) FROM survey_answer"), 600);
	assert_int_equal(qn(c, "SELECT count(*) FROM etl_reject"), 2);
	assert_int_equal(qn(c, "SELECT count(*) FROM survey_response WHERE response_id <>"
						" survey_response_id(operation, conn_id, answered_at, agent_id, skill_id)"), 0);
	assert_string_equal(q(c, "SELECT agent_name FROM survey_response WHERE conn_id = 'conn-3'"),
						"Agent\t3 ñ v0");
	snprintf(snap, sizeof(snap), "%s", q(c, SNAP_RESPONSES));
	snprintf(snapa, sizeof(snapa), "%s", q(c, SNAP_ANSWERS));

	assert_int_equal(load(l, 0, 100, 0, DAY, LOAD_FAST, &out), WINDOW_CONFLICT);
	assert_int_equal(load(l, 0, 100, 0, DAY, LOAD_MERGE, &out), WINDOW_COMMITTED);
	assert_int_equal(out.inserted, 0);
	assert_int_equal(out.updated, 100);
	assert_int_equal(out.duplicates, 0);
	assert_string_equal(q(c, SNAP_RESPONSES), snap);
	assert_string_equal(q(c, SNAP_ANSWERS), snapa);
	/* the same records again: counted as updated, but not written again */
	assert_int_equal(qn(c, "SELECT count(*) FROM survey_response WHERE first_loaded_at < last_loaded_at"), 0);
	assert_string_equal(q(c, "SELECT mode FROM etl_window"), "merge");

	/* conn-5 exists; conn-500 is new; both twice in the window */
	assert_true(loader_window_begin(l, DAY, 2 * DAY, LOAD_MERGE));
	assert_true(loader_add_record(l, gen(&g, 5, 5, 1)));
	assert_true(loader_add_record(l, gen(&g, 500, DAY + 5, 1)));
	assert_true(loader_add_record(l, gen(&g, 5, 5, 9)));
	assert_true(loader_add_record(l, gen(&g, 500, DAY + 5, 9)));
	assert_true(loader_add_record(l, gen(&g, 501, DAY + 6, 1)));
	assert_true(loader_add_reject(l, "{\"date\":\"bad\"}", 14, "seen again"));
	assert_int_equal(loader_window_commit(l, 2 * DAY, NULL, &out), WINDOW_COMMITTED);
	assert_int_equal(out.records, 5);
	assert_int_equal(out.duplicates, 2);
	assert_int_equal(out.inserted, 2);
	assert_int_equal(out.updated, 1);
	assert_string_equal(q(c, "SELECT agent_name FROM survey_response WHERE conn_id = 'conn-5'"),
						"Agent\t5 ñ v9");
	assert_string_equal(q(c, ANSWERS_OF("conn-5")), "1=9");
	assert_string_equal(q(c, ANSWERS_OF("conn-500")), "1=9");
	assert_string_equal(q(c, ANSWERS_OF("conn-501")), "1=2,2=3,3=4,4=5,5=1,6=2");
	assert_int_equal(qn(c, "SELECT count(*) FROM survey_answer a WHERE NOT EXISTS"
						" (SELECT 1 FROM survey_response r WHERE r.response_id = a.response_id)"), 0);
	assert_int_equal(qn(c, "SELECT count(*) FROM etl_reject"), 2);
	assert_string_equal(q(c, "SELECT reason FROM etl_reject WHERE raw_record = '{\"date\":\"bad\"}'"),
						"seen again");

	/* duplicates inside a fast window are staged and merged over the
	 * fast-loaded row at commit: no conflict, later wins, counted */
	assert_true(loader_window_begin(l, 3 * DAY, 4 * DAY, LOAD_FAST));
	assert_true(loader_add_record(l, gen(&g, 900, 3 * DAY, 1)));
	assert_true(loader_add_record(l, gen(&g, 901, 3 * DAY + 1, 1)));
	assert_true(loader_add_record(l, gen(&g, 900, 3 * DAY, 2)));
	assert_true(loader_add_record(l, gen(&g, 902, 3 * DAY + 2, 1)));
	assert_true(loader_add_record(l, gen(&g, 900, 3 * DAY, 9)));
	assert_true(loader_add_record(l, gen(&g, 901, 3 * DAY + 1, 9)));
	assert_int_equal(loader_window_commit(l, 0, NULL, &out), WINDOW_COMMITTED);
	assert_int_equal(out.records, 6);
	assert_int_equal(out.inserted, 3);
	assert_int_equal(out.updated, 0);
	assert_int_equal(out.duplicates, 3);
	assert_string_equal(q(c, "SELECT agent_name FROM survey_response WHERE conn_id = 'conn-900'"),
						"Agent\t0 ñ v9");
	assert_string_equal(q(c, ANSWERS_OF("conn-900")), "1=9");
	assert_string_equal(q(c, ANSWERS_OF("conn-901")), "1=9");
	assert_string_equal(q(c, ANSWERS_OF("conn-902")), "1=3,2=4,3=5,4=1,5=2,6=3");
	assert_string_equal(q(c, "SELECT mode FROM etl_window WHERE window_from = to_timestamp(3 * 86400)"),
						"fast");

	/* a repeat of an identity another window loaded: the fast COPY meets
	 * it and the window is rolled back for a merge */
	assert_true(loader_window_begin(l, 4 * DAY, 5 * DAY, LOAD_FAST));
	assert_true(loader_add_record(l, gen(&g, 950, 4 * DAY, 1)));
	assert_true(loader_add_record(l, gen(&g, 902, 3 * DAY + 2, 1)));
	assert_int_equal(loader_window_commit(l, 0, NULL, &out), WINDOW_CONFLICT);
	assert_int_equal(qn(c, "SELECT count(*) FROM survey_response WHERE conn_id = 'conn-950'"), 0);

	/* the run counts what committed */
	assert_int_equal(qn(c, "SELECT records FROM etl_run WHERE run_id = 1"), 211);
	assert_int_equal(qn(c, "SELECT duplicates FROM etl_run WHERE run_id = 1"), 5);
	assert_int_equal(qn(c, "SELECT updated FROM etl_run WHERE run_id = 1"), 101);
}

/* Large windows switch COPY targets (answers pass 4 MiB): all rows land,
 * in both modes. */
static void
test_large_windows(void **state)
{
	Loader	   *l = *state;
	LoadOptions o = opt;
	Loader	   *b;
	LoadCounts	out;
	const long	n = 30000;

	NEED_DB(state);
	o.operation = "big";
	b = loader_connect(&o);
	assert_non_null(b);
	assert_int_equal(load(b, 0, n, 0, DAY, LOAD_FAST, &out), WINDOW_COMMITTED);
	assert_int_equal(load(b, 0, n, 0, DAY, LOAD_MERGE, &out), WINDOW_COMMITTED);
	assert_int_equal(out.updated, n);
	assert_int_equal(load(b, n, n, 0, DAY, LOAD_MERGE, &out), WINDOW_COMMITTED);
	assert_int_equal(out.inserted, n);
	assert_int_equal(qn(l->conn, "SELECT count(*) FROM survey_response WHERE operation = 'big'"), 2 * n);
	assert_int_equal(qn(l->conn, "SELECT count(*) FROM survey_answer a JOIN survey_response r"
						" USING (response_id) WHERE r.operation = 'big'"), 12 * n);
	loader_free(b);
}

/* The watermark only moves forward; loaded-window coverage. */
static void
test_watermark_and_coverage(void **state)
{
	LoadOptions o = opt;
	Loader	   *w;
	LoadCounts	out;
	int64_t		wm = 0;
	bool		found = true;
	bool		ov;
	bool		cov;

	NEED_DB(state);
	o.operation = "wm";
	w = loader_connect(&o);
	assert_non_null(w);
	assert_true(loader_get_watermark(w, &wm, &found));
	assert_false(found);
	assert_int_equal(load(w, 0, 3, 0, DAY, LOAD_FAST, &out), WINDOW_COMMITTED);
	assert_int_equal(load(w, 0, 0, DAY, 2 * DAY, LOAD_FAST, &out), WINDOW_COMMITTED);
	assert_int_equal(load(w, 0, 0, 10 * DAY, 11 * DAY, LOAD_FAST, &out), WINDOW_COMMITTED);
	assert_int_equal(load(w, 0, 0, 5 * DAY, 6 * DAY, LOAD_FAST, &out), WINDOW_COMMITTED);
	assert_true(loader_get_watermark(w, &wm, &found));
	assert_true(found);
	assert_int_equal(wm, 11 * DAY);

	assert_true(loader_window_state(w, 0, 2 * DAY, &ov, &cov));
	assert_true(ov && cov);
	assert_true(loader_window_state(w, 3600, 7200, &ov, &cov));
	assert_true(ov && cov);
	assert_true(loader_window_state(w, 0, 3 * DAY, &ov, &cov));
	assert_true(ov && !cov);
	assert_true(loader_window_state(w, 2 * DAY, 3 * DAY, &ov, &cov));
	assert_true(!ov && !cov);
	assert_true(loader_window_state(w, DAY * 3 / 2, DAY * 5 / 2, &ov, &cov));
	assert_true(ov && !cov);
	loader_free(w);
}

/* Abort and a bad row roll everything back; the connection stays usable. */
static void
test_abort_and_failure(void **state)
{
	Loader	   *l = *state;
	PGconn	   *c;
	LoadCounts	out;
	long long	before;
	SurveyRecord *r;
	Gen			g;
	long		i;

	NEED_DB(state);
	c = l->conn;
	before = qn(c, "SELECT count(*) FROM survey_response");
	assert_true(loader_window_begin(l, 20 * DAY, 21 * DAY, LOAD_FAST));
	for (i = 0; i < 20000; i++)
		assert_true(loader_add_record(l, gen(&g, 100000 + i, 20 * DAY + i, 0)));
	loader_window_abort(l, "test abort");
	loader_window_abort(l, "no window open: harmless");
	assert_int_equal(qn(c, "SELECT count(*) FROM survey_response"), before);
	assert_int_equal(qn(c, "SELECT count(*) FROM etl_window WHERE window_from = to_timestamp(20 * 86400)"), 0);

	assert_true(loader_window_begin(l, 30 * DAY, 31 * DAY, LOAD_FAST));
	r = gen(&g, 7777, 30 * DAY, 0);
	r->extras = (EtlStr) {"{not json", 9};
	assert_true(loader_add_record(l, r));
	assert_int_equal(loader_window_commit(l, 0, NULL, &out), WINDOW_FAILED);
	assert_int_equal(qn(c, "SELECT count(*) FROM survey_response WHERE conn_id = 'conn-7777' AND operation = 'wv0010'"), 0);
	assert_int_equal(qn(c, "SELECT 1"), 1);
}

/* A second process is refused the lock and told who holds it; the next
 * run marks a stale 'running' row abandoned; run_end keeps the larger
 * counts. */
static void
test_lock_and_runs(void **state)
{
	Loader	   *l = *state;
	Loader	   *other;
	char		holder[256] = "";
	LoadCounts	total = {.records = 1, .api_calls = 99};
	FILE	   *devnull;

	NEED_DB(state);
	other = loader_connect(&opt);
	assert_non_null(other);
	assert_int_equal(loader_lock_operation(other, holder, sizeof(holder)), LOCK_BUSY);
	assert_int_equal(strncmp(holder, "run 1, pid ", 11), 0);
	assert_true(loader_run_end(l, "ok", &total, NULL));
	assert_int_equal(qn(l->conn, "SELECT api_calls FROM etl_run WHERE run_id = 1"), 99);
	assert_int_equal(qn(l->conn, "SELECT records FROM etl_run WHERE run_id = 1"), 211);

	PQclear(PQexec(l->conn, "INSERT INTO etl_run (operation, command) VALUES ('wv0010', 'sync')"));
	assert_true(loader_run_begin(l, "sync", 0, 0));	/* holds the lock */
	assert_int_equal(qn(l->conn, "SELECT count(*) FROM etl_run WHERE status = 'abandoned'"), 1);
	assert_int_equal(qn(l->conn, "SELECT count(*) FROM etl_run WHERE status = 'running'"), 1);
	devnull = fopen("/dev/null", "w");
	assert_true(loader_status(l, devnull));
	fclose(devnull);
	loader_free(other);
}

/* Two identities with one response_id (same second, same 31 hash bits:
 * "coll-60779" and "coll-81705" at 90 days + 7 s, agent 1000, skill 0; found
 * with Python's hashlib, as in test_identity.c) both load, always: the
 * later takes the next free id of its second, remembered in etl_id_probe;
 * a merge finds both again, also once the first is gone; nothing is merged
 * into another identity. */
static void
test_identity_collision(void **state)
{
	Loader	   *l = *state;
	PGconn	   *c;
	LoadCounts	out;
	SurveyRecord *r;
	Gen			g1;
	Gen			g2;
	const int64_t at = 90 * DAY + 7;
	static const char ids[] =
		"SELECT string_agg(conn_id || ' ' || (response_id - 16698848283449370), ','"
		" ORDER BY conn_id) FROM survey_response WHERE conn_id LIKE 'coll-%'";

	NEED_DB(state);
	c = l->conn;
	r = gen(&g1, 0, at, 0);
	snprintf(g1.conn, sizeof(g1.conn), "coll-60779");
	r->field[SF_CONN_ID] = (EtlStr) {g1.conn, strlen(g1.conn)};
	r = gen(&g2, 0, at, 1);
	snprintf(g2.conn, sizeof(g2.conn), "coll-81705");
	r->field[SF_CONN_ID] = (EtlStr) {g2.conn, strlen(g2.conn)};
	assert_int_equal(load_response_id("wv0010", &g1.rec), 16698848283449370LL);
	assert_int_equal(load_response_id("wv0010", &g2.rec), 16698848283449370LL);

	/* both in one fast window: the second takes the next id */
	assert_true(loader_window_begin(l, 90 * DAY, 91 * DAY, LOAD_FAST));
	assert_true(loader_add_record(l, &g1.rec));
	assert_true(loader_add_record(l, &g2.rec));
	assert_int_equal(loader_window_commit(l, 0, NULL, &out), WINDOW_COMMITTED);
	assert_int_equal(out.inserted, 2);
	assert_string_equal(q(c, ids), "coll-60779 0,coll-81705 1");
	assert_string_equal(q(c, "SELECT response_id - base_id FROM etl_id_probe"), "1");

	/* merged again, in the other order: the same rows, the same ids */
	assert_true(loader_window_begin(l, 90 * DAY, 91 * DAY, LOAD_MERGE));
	assert_true(loader_add_record(l, &g2.rec));
	assert_true(loader_add_record(l, &g1.rec));
	assert_int_equal(loader_window_commit(l, 0, NULL, &out), WINDOW_COMMITTED);
	assert_int_equal(out.inserted, 0);
	assert_int_equal(out.updated, 2);
	assert_string_equal(q(c, ids), "coll-60779 0,coll-81705 1");

	/* the first one gone: the second keeps its id; a fast window of the
	 * first is sent to a merge (an id of its range was probed), which
	 * gives it its own id back */
	PQclear(PQexec(c, "DELETE FROM survey_response WHERE conn_id = 'coll-60779'"));
	assert_true(loader_window_begin(l, 90 * DAY, 91 * DAY, LOAD_MERGE));
	assert_true(loader_add_record(l, &g2.rec));
	assert_int_equal(loader_window_commit(l, 0, NULL, &out), WINDOW_COMMITTED);
	assert_string_equal(q(c, ids), "coll-81705 1");
	assert_true(loader_window_begin(l, 90 * DAY, 91 * DAY, LOAD_FAST));
	assert_true(loader_add_record(l, &g1.rec));
	assert_int_equal(loader_window_commit(l, 0, NULL, &out), WINDOW_CONFLICT);
	assert_true(loader_window_begin(l, 90 * DAY, 91 * DAY, LOAD_MERGE));
	assert_true(loader_add_record(l, &g1.rec));
	assert_int_equal(loader_window_commit(l, 0, NULL, &out), WINDOW_COMMITTED);
	assert_string_equal(q(c, ids), "coll-60779 0,coll-81705 1");
	assert_string_equal(q(c, "SELECT string_agg(conn_id || ' ' || agent_name, ',') FROM survey_response"
						  " WHERE response_id = 16698848283449370"), "coll-60779 Agent\t0 ñ v0");
}

/*
 * answer_num goes in as binary numeric (copy_binary.c): every decimal the
 * transform accepts, up to numeric's limits, reads back exactly as
 * PostgreSQL's own numeric_in makes the same text (value and scale).
 */
static void
test_numeric_binary(void **state)
{
	Loader	   *l = *state;
	static const char *const fixed[] = {
		"0", "-0", "+0", "0.000", "-0.00", "007", "1.50", "-1.50", "0.0001", "-0.00010",
		"5", "10", "9999", "10000", "99999999", "100000000", "12345678.87654321",
		"-123456789.987654321", "0.00000001", "+42.4200", "1000000000000000000000001",
		"3.14159265358979323846264338327950288419716939937510",
	};
	enum { NFIXED = sizeof(fixed) / sizeof(fixed[0]) };
	char	   *big[3];
	const char *vals[NFIXED + 3];
	LoadOptions o = opt;
	Loader	   *b;
	LoadCounts	out;
	Gen			g;
	SurveyAnswer ans;
	size_t		i;

	NEED_DB(state);
	big[0] = malloc(131072 + 1);	/* numeric's most integer digits */
	big[1] = malloc(2 + 16383 + 1); /* and fraction digits */
	big[2] = malloc(1 + 131072 + 1 + 16383 + 1);
	assert_true(big[0] && big[1] && big[2]);
	memset(big[0], '9', 131072);
	big[0][131072] = '\0';
	memcpy(big[1], "0.", 2);
	memset(big[1] + 2, '0', 16383);
	big[1][2 + 16383 - 1] = '7';
	big[1][2 + 16383] = '\0';
	big[2][0] = '-';
	memset(big[2] + 1, '1', 131072);
	big[2][1 + 131072] = '.';
	memset(big[2] + 2 + 131072, '2', 16383);
	big[2][2 + 131072 + 16383] = '\0';
	for (i = 0; i < NFIXED; i++)
		vals[i] = fixed[i];
	for (i = 0; i < 3; i++)
		vals[NFIXED + i] = big[i];

	o.operation = "numeric";
	b = loader_connect(&o);
	assert_non_null(b);
	assert_true(loader_window_begin(b, 0, DAY, LOAD_FAST));
	for (i = 0; i < NFIXED + 3; i++)
	{
		SurveyRecord *r = gen(&g, (long) i, (int64_t) i, 0);

		ans.question_no = 1;
		ans.text = (EtlStr) {vals[i], strlen(vals[i])};
		ans.num = ans.text;
		r->answers = &ans;
		r->n_answers = 1;
		assert_true(loader_add_record(b, r));
	}
	assert_int_equal(loader_window_commit(b, DAY, NULL, &out), WINDOW_COMMITTED);
	assert_int_equal(qn(l->conn, "SELECT count(*) FROM survey_answer a JOIN survey_response r"
						" USING (response_id) WHERE r.operation = 'numeric'"), NFIXED + 3);
	assert_int_equal(qn(l->conn, "SELECT count(*) FROM survey_answer a JOIN survey_response r"
						" USING (response_id) WHERE r.operation = 'numeric'"
						" AND a.answer_num::text IS DISTINCT FROM a.answer_text::numeric::text"), 0);
	assert_string_equal(q(l->conn, "SELECT string_agg(a.answer_num::text, ' ' ORDER BY r.answered_at)"
						  " FROM survey_answer a JOIN survey_response r USING (response_id)"
						  " WHERE r.operation = 'numeric' AND r.answered_at < to_timestamp(8)"),
						"0 0 0 0.000 0.00 7 1.50 -1.50");
	loader_free(b);
	for (i = 0; i < 3; i++)
		free(big[i]);
}

/* spool_window: n records without answers (so that only survey_response
 * can meet a loaded identity) answered in [0, DAY), as one window. */
static WindowResult
spool_window(Loader *b, long n, LoadMode mode, LoadCounts *out)
{
	Gen			g;
	long		i;

	assert_true(loader_window_begin(b, 0, DAY, mode));
	for (i = 0; i < n; i++)
	{
		SurveyRecord *r = gen(&g, i, i % DAY, 0);

		r->n_answers = 0;
		if (!loader_add_record(b, r))
		{
			loader_window_abort(b, "test");
			return WINDOW_FAILED;
		}
	}
	return loader_window_commit(b, DAY, NULL, out);
}

/*
 * A window's survey_response rows past the first MiB wait in a temporary
 * file and go in last, as one COPY: 20000 rows (3 MB) load; loading them
 * again on the fast path is a conflict found in that last COPY (no answers
 * to meet first), then merged; with TMPDIR unusable the window fails
 * cleanly and loads nothing.
 */
static void
test_spooled_responses(void **state)
{
	Loader	   *l = *state;
	LoadOptions o = opt;
	Loader	   *b;
	LoadCounts	out;
	const long	n = 20000;
	char	   *tmpdir = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;

	NEED_DB(state);
	o.operation = "spool";
	b = loader_connect(&o);
	assert_non_null(b);
	assert_int_equal(spool_window(b, n, LOAD_FAST, &out), WINDOW_COMMITTED);
	assert_true(b->response_spool.f != NULL);	/* the file was used */
	assert_int_equal(out.inserted, n);
	assert_int_equal(spool_window(b, n, LOAD_FAST, &out), WINDOW_CONFLICT);
	assert_int_equal(spool_window(b, n, LOAD_MERGE, &out), WINDOW_COMMITTED);
	assert_int_equal(out.updated, n);
	assert_int_equal(qn(l->conn, "SELECT count(*) FROM survey_response WHERE operation = 'spool'"), n);
	loader_free(b);

	o.operation = "spool-fail";
	b = loader_connect(&o);
	assert_non_null(b);
	setenv("TMPDIR", "/nonexistent/wvetl-test", 1);
	assert_int_equal(spool_window(b, n, LOAD_FAST, &out), WINDOW_FAILED);
	if (tmpdir != NULL)
		setenv("TMPDIR", tmpdir, 1);
	else
		unsetenv("TMPDIR");
	free(tmpdir);
	assert_int_equal(qn(l->conn, "SELECT count(*) FROM survey_response"
						" WHERE operation = 'spool-fail'"), 0);
	assert_int_equal(spool_window(b, n, LOAD_FAST, &out), WINDOW_COMMITTED);
	loader_free(b);
}

/* dims_window: one window of the dims test into loader b: records
 * first..first+n-1 answered at day + i % 997 s, every third named in
 * variant v + 1, every fifth without an agent name, plus two records of
 * agent 1000 in the same second with names "v7" and "v8". */
static void
dims_window(Loader *b, long first, long n, int64_t day, int v, LoadMode mode)
{
	Gen			g;
	long		i;
	LoadCounts	out;

	assert_true(loader_window_begin(b, day, day + DAY, mode));
	for (i = first; i < first + n; i++)
	{
		SurveyRecord *r = gen(&g, i, day + i % 997, i % 3 == 0 ? v + 1 : v);

		if (i % 5 == 0)
			r->field[SF_AGENT_NAME] = ETL_STR_NULL;
		assert_true(loader_add_record(b, r));
	}
	assert_true(loader_add_record(b, gen(&g, 100000 + 50, day + 5000, 8)));
	assert_true(loader_add_record(b, gen(&g, 100000, day + 5000, 7)));
	assert_int_equal(loader_window_commit(b, 0, NULL, &out), WINDOW_COMMITTED);
}

/* The agents and skills folded by the loader (a few rows sent at commit)
 * equal those folded in SQL from the window's surveys (the fallback when a
 * window has more than dim_cap ids), through both load paths, a reload
 * with other names, and an older window that must not bring an old name
 * back. */
static void
test_dims_fold_and_fallback(void **state)
{
	Loader	   *l = *state;
	LoadOptions o = opt;
	Loader	   *b[2];
	int			k;
	static const char dims_sql[] =
		"SELECT string_agg(concat_ws('|', kind, id, name, name_at, first_seen, last_seen),"
		" ',' ORDER BY kind, id) FROM ("
		" SELECT 'a' AS kind, agent_id AS id, agent_name AS name, name_at, first_seen,"
		"  last_seen FROM agent WHERE operation = '%s' UNION ALL"
		" SELECT 's', skill_id, skill_name, name_at, first_seen, last_seen"
		"  FROM skill WHERE operation = '%s') d";
	char		sql[2][1024];
	char		got[2][4096];

	NEED_DB(state);
	for (k = 0; k < 2; k++)
	{
		o.operation = k == 0 ? "dims-client" : "dims-sql";
		b[k] = loader_connect(&o);
		assert_non_null(b[k]);
		if (k == 1)
			b[k]->dim_cap = 2;
		dims_window(b[k], 0, 400, 10 * DAY, 0, LOAD_FAST);
		dims_window(b[k], 0, 400, 10 * DAY, 3, LOAD_MERGE);
		dims_window(b[k], 1000, 300, 9 * DAY, 5, LOAD_FAST);
		snprintf(sql[k], sizeof(sql[k]), dims_sql, o.operation, o.operation);
		snprintf(got[k], sizeof(got[k]), "%s", q(l->conn, sql[k]));
		loader_free(b[k]);
	}
	assert_true(strlen(got[0]) > 100);
	assert_string_equal(got[0], got[1]);
	/* the tie in one second goes to the greater name; day 9 changed none */
	assert_string_equal(q(l->conn, "SELECT agent_name FROM agent WHERE operation = 'dims-client'"
						  " AND agent_id = '1000'"), "Agent\t0 ñ v8");
	assert_int_equal(qn(l->conn, "SELECT count(*) FROM agent WHERE operation = 'dims-client'"
						" AND first_seen < '1970-01-11 00:00:00+00'"), 50);
	assert_int_equal(qn(l->conn, "SELECT count(*) FROM skill WHERE operation = 'dims-client'"), 7);
}

/* The rollup deltas folded by the loader (a few rows sent at commit)
 * equal those read back in SQL (the fallback when the fold passes
 * roll_cap entries), through both load paths, and both equal what the
 * base tables give (rollup_day_survey, rollup_day_answer). */
static void
test_rollup_fold_and_fallback(void **state)
{
	Loader	   *l = *state;
	LoadOptions o = opt;
	Loader	   *b[2];
	int			k;
	char		errbuf[256];
	static const char roll_sql[] =
		"SELECT md5(string_agg(x, ',' ORDER BY x)) FROM ("
		" SELECT concat_ws('|', period, dim, period_start, key_id, surveys, completed,"
		"  with_feeling, positive, very_positive) AS x FROM rollup_survey WHERE operation = '%s'"
		" UNION ALL SELECT concat_ws('|', period, dim, period_start, key_id, question_no, value,"
		"  answer_num, answers) FROM rollup_answer WHERE operation = '%s') r";
	static const char base_sql[] =
		"SELECT count(*) FROM ("
		" (SELECT dim, period_start, key_id, question_no, value, answer_num, answers"
		"  FROM rollup_answer WHERE operation = '%s' AND period = 'day'"
		"  EXCEPT ALL SELECT * FROM rollup_day_answer('%s', NULL, NULL))"
		" UNION ALL (SELECT * FROM rollup_day_answer('%s', NULL, NULL) EXCEPT ALL"
		"  SELECT dim, period_start, key_id, question_no, value, answer_num, answers"
		"  FROM rollup_answer WHERE operation = '%s' AND period = 'day')) d";
	char		sql[1024];
	char		got[2][64];

	NEED_DB(state);
	assert_true(wvtime_set_zone(opt.timezone, errbuf));
	for (k = 0; k < 2; k++)
	{
		o.operation = k == 0 ? "roll-client" : "roll-sql";
		b[k] = loader_connect(&o);
		assert_non_null(b[k]);
		if (k == 1)
			b[k]->roll_cap = 2;
		dims_window(b[k], 0, 400, 10 * DAY, 0, LOAD_FAST);
		dims_window(b[k], 0, 400, 10 * DAY, 9, LOAD_MERGE);
		dims_window(b[k], 1000, 300, 9 * DAY, 5, LOAD_FAST);
		snprintf(sql, sizeof(sql), roll_sql, o.operation, o.operation);
		snprintf(got[k], sizeof(got[k]), "%s", q(l->conn, sql));
		snprintf(sql, sizeof(sql), base_sql, o.operation, o.operation, o.operation, o.operation);
		assert_int_equal(qn(l->conn, sql), 0);
		loader_free(b[k]);
	}
	assert_string_equal(got[0], got[1]);
	assert_int_equal(qn(l->conn, "SELECT sum(surveys) FROM rollup_survey"
						" WHERE operation = 'roll-client' AND period = 'month' AND dim = 'hour'"),
					 qn(l->conn, "SELECT count(*) FROM survey_response"
						" WHERE operation = 'roll-client'"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_roundtrip),
		cmocka_unit_test(test_identity_sql_agrees),
		cmocka_unit_test(test_fast_conflict_merge),
		cmocka_unit_test(test_large_windows),
		cmocka_unit_test(test_watermark_and_coverage),
		cmocka_unit_test(test_abort_and_failure),
		cmocka_unit_test(test_lock_and_runs),
		cmocka_unit_test(test_identity_collision),
		cmocka_unit_test(test_dims_fold_and_fallback),
		cmocka_unit_test(test_rollup_fold_and_fallback),
		cmocka_unit_test(test_spooled_responses),
		cmocka_unit_test(test_numeric_binary),
	};

	log_set_level(LOG_WARN);
	return cmocka_run_group_tests_name("load_pg", tests, setup, teardown);
}
