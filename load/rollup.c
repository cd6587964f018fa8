/*
 * load/rollup.c
 *   The rollups (rollup_survey, rollup_answer; sql/010_rollups.sql), kept
 *   inside each window's transaction: every change a window makes to the
 *   surveys and answers goes into two temporary delta tables as signed
 *   counts per local day, and at commit the deltas are added to the day,
 *   week and month rows (rows that reach zero are removed).
 *
 *   Where the deltas come from:
 *     - LOAD_FAST: the records COPYed straight into the tables are new, so
 *       their deltas are folded by the loader as they stream (a small hash
 *       table per window: one cell per local day and agent, skill or hour,
 *       one entry per day, agent or skill, question and answer text) and
 *       sent at commit as a few rows; no pass over the window in SQL. A
 *       window whose fold grows past roll_cap entries (memory stays
 *       bounded), or loaded while the process's zone is not the
 *       operation's, reads its rows back in SQL instead, same result.
 *     - staged records (every record of LOAD_MERGE, the repeated ones of
 *       LOAD_FAST): before the merge writes them, the records whose content
 *       hash differs from their row's are collected (wvetl_stage_roll_ids),
 *       and their deltas are what their rows and answers contribute after
 *       the merge (+1, from the stage) minus what they contributed before
 *       (-1, from the tables). An unchanged record costs nothing, an
 *       in-answer duplicate counts once (only the winner is added), a name
 *       change costs nothing (the views join the current names).
 *   `wvetl verify` compares the result with what the base tables give.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/wvtime.h"
#include "load/load.h"
#include "load/load_int.h"

/* Session-lifetime delta tables, like window.c's stages: emptied at each
 * commit, discarded by a rollback. day: days since 1970-01-01, local. */
static const char roll_stage_ddl[] =
	"CREATE TEMP TABLE IF NOT EXISTS wvetl_stage_roll_survey ("
	" day integer, dim text, key_id text, surveys bigint, completed bigint,"
	" with_feeling bigint, positive bigint, very_positive bigint) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS wvetl_stage_roll_answer ("
	" day integer, dim text, key_id text, question_no integer, answer_text text,"
	" answer_num numeric, answers bigint) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS wvetl_stage_roll_ids ("
	" response_id bigint, seq bigint, had boolean) ON COMMIT DELETE ROWS";

/* The deltas of a set of rows (src: sign, answered_at, agent_id, skill_id,
 * result, feeling; sign +1 or -1), by local day ($1 is the zone) and agent,
 * skill and hour. A NULL id counts under ''. The rows are first summed per
 * day, hour, agent, skill, result and feeling (a few per thousand rows),
 * in a MATERIALIZED CTE, and only those sums are spread over the three
 * dimensions: planned as one query, the spreading went under the joins of
 * the source, and the row estimate (millions) brought JIT compilation
 * (0.7 s) to a statement of 0.3 s. */
#define ROLL_SURVEY_DELTA(src) \
	"WITH r AS MATERIALIZED (" \
	"  SELECT (s.answered_at AT TIME ZONE $1)::date - date '1970-01-01' AS day," \
	"   to_char(s.answered_at AT TIME ZONE $1, 'HH24') AS hour, s.agent_id, s.skill_id," \
	"   sum(s.sign) AS surveys," \
	"   coalesce(sum(s.sign) FILTER (WHERE s.result = 'complete'), 0) AS completed," \
	"   coalesce(sum(s.sign) FILTER (WHERE s.feeling IS NOT NULL), 0) AS with_feeling," \
	"   coalesce(sum(s.sign) FILTER (WHERE s.feeling = 'positive'), 0) AS positive," \
	"   coalesce(sum(s.sign) FILTER (WHERE s.feeling = 'very positive'), 0) AS very_positive" \
	"  FROM (" src ") s GROUP BY 1, 2, 3, 4)" \
	" INSERT INTO wvetl_stage_roll_survey (day, dim, key_id, surveys, completed," \
	"  with_feeling, positive, very_positive)" \
	" SELECT r.day, g.dim, coalesce(g.key_id, ''), sum(r.surveys), sum(r.completed)," \
	"  sum(r.with_feeling), sum(r.positive), sum(r.very_positive)" \
	" FROM r CROSS JOIN LATERAL (VALUES ('agent', r.agent_id), ('skill', r.skill_id)," \
	"  ('hour', r.hour)) g(dim, key_id)" \
	" GROUP BY 1, 2, 3"

/* The same for answers (src: sign, answered_at, agent_id, skill_id,
 * question_no, answer_text, answer_num), per agent and skill. */
#define ROLL_ANSWER_DELTA(src) \
	"WITH r AS MATERIALIZED (" \
	"  SELECT (s.answered_at AT TIME ZONE $1)::date - date '1970-01-01' AS day," \
	"   s.agent_id, s.skill_id, s.question_no, s.answer_text, s.answer_num," \
	"   sum(s.sign) AS answers" \
	"  FROM (" src ") s GROUP BY 1, 2, 3, 4, 5, 6)" \
	" INSERT INTO wvetl_stage_roll_answer (day, dim, key_id, question_no, answer_text," \
	"  answer_num, answers)" \
	" SELECT r.day, g.dim, coalesce(g.key_id, ''), r.question_no, r.answer_text," \
	"  r.answer_num, sum(r.answers)" \
	" FROM r CROSS JOIN LATERAL (VALUES ('agent', r.agent_id), ('skill', r.skill_id)) g(dim, key_id)" \
	" GROUP BY 1, 2, 3, 4, 5, 6"

/* Staged records the merge will change: the winner of each response_id
 * (highest seq) whose content hash differs from its row's (or that has no
 * row); had: it has one. $1, $2 bound the stage's response_ids. */
static const char roll_ids_staged_sql[] =
	"INSERT INTO wvetl_stage_roll_ids (response_id, seq, had)"
	" SELECT w.response_id, w.seq, r.response_id IS NOT NULL"
	" FROM (SELECT DISTINCT ON (response_id) response_id, seq, content_hash"
	"       FROM wvetl_stage_response ORDER BY response_id, seq DESC) w"
	" LEFT JOIN survey_response r ON r.response_id = w.response_id"
	"  AND r.response_id BETWEEN $1::bigint AND $2::bigint"
	" WHERE r.content_hash IS DISTINCT FROM w.content_hash";

/* The same from the merge's own list (merge.c, wvetl_stage_changed: no
 * repeats in the stage, so one staged record per id). */
static const char roll_ids_changed_sql[] =
	"INSERT INTO wvetl_stage_roll_ids (response_id, seq, had)"
	" SELECT c.response_id, s.seq, NOT c.fresh"
	" FROM wvetl_stage_changed c JOIN wvetl_stage_response s USING (response_id)";

/* Their rows before the merge (-1). The ids go in as an array, so
 * survey_response's primary key is probed, and each survey's answers are
 * probed by its id (LATERAL): as a join the planner may read all of
 * survey_answer, or test every answer against the whole array. The
 * LATERAL subquery is fenced (OFFSET 0) so that it stays the inner side:
 * pulled up, the planner may scan the answers first and probe the
 * surveys once per answer, each probe sorting and walking the whole array
 * again (seen on Citus shards: a 300,000-record reload ran for over 8
 * minutes that way). */
#define OLD_IDS "ANY (ARRAY(SELECT response_id FROM wvetl_stage_roll_ids WHERE had))"
#define OLD_SURVEYS \
	"SELECT -1 AS sign, answered_at, agent_id, skill_id, result, feeling" \
	" FROM survey_response WHERE response_id = " OLD_IDS
#define OLD_ANSWERS \
	"SELECT -1 AS sign, r.answered_at, r.agent_id, r.skill_id, a.question_no," \
	"  a.answer_text, a.answer_num" \
	" FROM survey_response r CROSS JOIN LATERAL (SELECT a.question_no, a.answer_text," \
	"  a.answer_num FROM survey_answer a WHERE a.response_id = r.response_id OFFSET 0) a" \
	" WHERE r.response_id = " OLD_IDS

/* ... and after it (+1): the winners in the stage. */
#define NEW_SURVEYS \
	"SELECT 1 AS sign, s.answered_at, s.agent_id, s.skill_id, s.result, s.feeling" \
	" FROM wvetl_stage_roll_ids i JOIN wvetl_stage_response s" \
	"  ON s.response_id = i.response_id AND s.seq = i.seq"
#define NEW_ANSWERS \
	"SELECT 1 AS sign, s.answered_at, s.agent_id, s.skill_id, a.question_no, a.answer_text," \
	"  a.answer_num" \
	" FROM wvetl_stage_roll_ids i" \
	" JOIN wvetl_stage_response s ON s.response_id = i.response_id AND s.seq = i.seq" \
	" JOIN wvetl_stage_answer a ON a.response_id = i.response_id AND a.seq = i.seq"

/* A stage that may hold repeats: before and after in one go. */
static const char roll_survey_staged_sql[] =
	ROLL_SURVEY_DELTA(OLD_SURVEYS " UNION ALL " NEW_SURVEYS);
static const char roll_answer_staged_sql[] =
	ROLL_ANSWER_DELTA(OLD_ANSWERS " UNION ALL " NEW_ANSWERS);

/* The merge's own list (no repeats): before, then after the changed
 * responses are written, when their answers are in a stage of their own
 * (wvetl_stage_changed_answer, window.c): reading them from the window's
 * whole answer stage sorted all of it (0.9 s of a 100k-record reload). */
static const char roll_survey_old_sql[] = ROLL_SURVEY_DELTA(OLD_SURVEYS);
static const char roll_answer_old_sql[] = ROLL_ANSWER_DELTA(OLD_ANSWERS);
static const char roll_survey_new_sql[] = ROLL_SURVEY_DELTA(NEW_SURVEYS);
static const char roll_answer_new_sql[] =
	ROLL_ANSWER_DELTA(
		"SELECT 1 AS sign, s.answered_at, s.agent_id, s.skill_id, a.question_no,"
		"  a.answer_text, a.answer_num"
		" FROM wvetl_stage_changed_answer a"
		" JOIN wvetl_stage_response s ON s.response_id = a.response_id");

/* LOAD_FAST without the fold: the rows this transaction wrote, read back
 * before the merge (so they are the COPYed ones): this run's rows whose
 * last_loaded_at is the transaction's start, in the window's id range
 * ($2, $3; $4 the run; $5 the transaction's now(), read by the client:
 * on Citus this runs on the workers, whose now() is their own). */
#define WRITTEN_WHERE(t) \
	" WHERE " t ".response_id BETWEEN $2::bigint AND $3::bigint" \
	" AND " t ".run_id = $4::bigint AND " t ".last_loaded_at = $5::timestamptz"

static const char roll_survey_written_sql[] =
	ROLL_SURVEY_DELTA(
		"SELECT 1 AS sign, r.answered_at, r.agent_id, r.skill_id, r.result, r.feeling"
		" FROM survey_response r" WRITTEN_WHERE("r"));

static const char roll_answer_written_sql[] =
	ROLL_ANSWER_DELTA(
		"SELECT 1 AS sign, r.answered_at, r.agent_id, r.skill_id, a.question_no,"
		"  a.answer_text, a.answer_num"
		" FROM survey_response r JOIN survey_answer a ON a.response_id = r.response_id"
		WRITTEN_WHERE("r") " AND a.response_id BETWEEN $2::bigint AND $3::bigint");

/* The deltas, per period: each local day adds to its day, its week (from
 * Monday) and its month. */
#define ROLL_PERIODS \
	" CROSS JOIN LATERAL (VALUES ('day', d.day)," \
	"  ('week', date_trunc('week', d.day::timestamp)::date)," \
	"  ('month', date_trunc('month', d.day::timestamp)::date)) p(period, start)"

#define ROLL_SURVEY_ROWS \
	" FROM (SELECT date '1970-01-01' + day AS day, dim, key_id, surveys, completed," \
	"  with_feeling, positive, very_positive FROM wvetl_stage_roll_survey) d" ROLL_PERIODS

#define ROLL_ANSWER_ROWS \
	" FROM (SELECT date '1970-01-01' + day AS day, dim, key_id, question_no," \
	"  coalesce(answer_num::text, answer_text) AS value, answer_num, answers" \
	"  FROM wvetl_stage_roll_answer) d" ROLL_PERIODS

#define ROLL_SURVEY_ZERO(t) \
	t ".surveys = 0 AND " t ".completed = 0 AND " t ".with_feeling = 0" \
	" AND " t ".positive = 0 AND " t ".very_positive = 0"

/* Add the deltas ($1 the operation); returns how many rows reached zero,
 * and the first and last period_start among them. */
static const char roll_survey_apply_sql[] =
	"WITH e AS ("
	"  SELECT p.period, d.dim, p.start, d.key_id, sum(d.surveys) AS surveys,"
	"   sum(d.completed) AS completed, sum(d.with_feeling) AS with_feeling,"
	"   sum(d.positive) AS positive, sum(d.very_positive) AS very_positive"
	ROLL_SURVEY_ROWS
	"  GROUP BY 1, 2, 3, 4"
	"  HAVING sum(d.surveys) <> 0 OR sum(d.completed) <> 0 OR sum(d.with_feeling) <> 0"
	"   OR sum(d.positive) <> 0 OR sum(d.very_positive) <> 0),"
	" u AS ("
	"  INSERT INTO rollup_survey AS r (operation, period, dim, period_start, key_id,"
	"   surveys, completed, with_feeling, positive, very_positive)"
	"  SELECT $1, period, dim, start, key_id, surveys, completed, with_feeling, positive,"
	"   very_positive FROM e"
	"  ON CONFLICT (operation, period, dim, period_start, key_id) DO UPDATE SET"
	"   surveys = r.surveys + excluded.surveys, completed = r.completed + excluded.completed,"
	"   with_feeling = r.with_feeling + excluded.with_feeling,"
	"   positive = r.positive + excluded.positive,"
	"   very_positive = r.very_positive + excluded.very_positive"
	"  RETURNING r.period_start, r.surveys, r.completed, r.with_feeling, r.positive,"
	"   r.very_positive)"
	" SELECT count(*), min(period_start), max(period_start) FROM u WHERE " ROLL_SURVEY_ZERO("u");

/* Rows that reached zero, among those of the operation ($1) from $2 to $3:
 * no row stays at zero, so those are the ones the deltas just emptied.
 * Without the delta tables in the statement (Citus refuses a temporary
 * table in a DELETE on its tables); the arrays keep it on the primary
 * key's ranges. */
#define ROLL_ZERO_WHERE(dims) \
	" WHERE operation = $1 AND period = ANY ('{day,week,month}') AND dim = ANY ('" dims "')" \
	" AND period_start BETWEEN $2::date AND $3::date AND "

static const char roll_survey_zero_sql[] =
	"DELETE FROM rollup_survey" ROLL_ZERO_WHERE("{agent,skill,hour}") ROLL_SURVEY_ZERO("rollup_survey");

static const char roll_answer_apply_sql[] =
	"WITH e AS ("
	"  SELECT p.period, d.dim, p.start, d.key_id, d.question_no, d.value,"
	"   max(d.answer_num) AS answer_num, sum(d.answers) AS answers"
	ROLL_ANSWER_ROWS
	"  GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(d.answers) <> 0),"
	" u AS ("
	"  INSERT INTO rollup_answer AS r (operation, period, dim, period_start, key_id,"
	"   question_no, value_key, value, answer_num, answers)"
	"  SELECT $1, period, dim, start, key_id, question_no, rollup_value_key(value), value,"
	"   answer_num, answers FROM e"
	"  ON CONFLICT (operation, period, dim, period_start, key_id, question_no, value_key)"
	"  DO UPDATE SET answers = r.answers + excluded.answers"
	"  RETURNING r.period_start, r.answers)"
	" SELECT count(*), min(period_start), max(period_start) FROM u WHERE answers = 0";

static const char roll_answer_zero_sql[] =
	"DELETE FROM rollup_answer" ROLL_ZERO_WHERE("{agent,skill}") "answers = 0";

static bool roll_sql_begin(Loader *l);

/* The fold ---------------------------------------------------------------*/

typedef enum RollDim
{
	ROLL_AGENT = 0,
	ROLL_SKILL,
	ROLL_HOUR,
	ROLL_DIMS
} RollDim;

static const char *const roll_dim_name[ROLL_DIMS] = {"agent", "skill", "hour"};

/* One local day and agent, skill or hour (a rollup_survey day row's
 * delta). Allocated with its id bytes after it. */
typedef struct RollCell
{
	int32_t		day;
	int32_t		dim;
	size_t		id_len;
	const char *id;				/* '' for a NULL id */
	int64_t		surveys;
	int64_t		completed;
	int64_t		with_feeling;
	int64_t		positive;
	int64_t		very_positive;
} RollCell;

/* One cell, question and answer text (a rollup_answer day row's delta,
 * before texts of one value, such as 5 and 05, are summed in SQL).
 * Allocated with its text after it. */
typedef struct RollValue
{
	const RollCell *cell;
	int32_t		question_no;
	bool		numeric;		/* the text is a decimal number */
	size_t		len;
	const char *text;
	int64_t		n;
} RollValue;

static guint
cell_hash(gconstpointer p)
{
	const RollCell *c = p;

	return (guint) XXH3_64bits_withSeed(c->id, c->id_len,
										((uint64_t) (uint32_t) c->day << 2) | (uint64_t) c->dim);
}

static gboolean
cell_equal(gconstpointer a, gconstpointer b)
{
	const RollCell *x = a;
	const RollCell *y = b;

	return x->day == y->day && x->dim == y->dim && x->id_len == y->id_len &&
		memcmp(x->id, y->id, x->id_len) == 0;
}

static guint
value_hash(gconstpointer p)
{
	const RollValue *v = p;

	return (guint) XXH3_64bits_withSeed(v->text, v->len,
										(uint64_t) (uintptr_t) v->cell * 31 +
										(uint64_t) (uint32_t) v->question_no);
}

static gboolean
value_equal(gconstpointer a, gconstpointer b)
{
	const RollValue *x = a;
	const RollValue *y = b;

	return x->cell == y->cell && x->question_no == y->question_no && x->len == y->len &&
		memcmp(x->text, y->text, x->len) == 0;
}

/* rollup_init: the fold's tables; false without memory. */
bool
rollup_init(Loader *l)
{
	l->roll.cells = g_hash_table_new_full(cell_hash, cell_equal, NULL, g_free);
	l->roll.values = g_hash_table_new_full(value_hash, value_equal, NULL, g_free);
	l->roll_cap = ROLL_CAP_DEFAULT;
	return l->roll.cells != NULL && l->roll.values != NULL;
}

/* rollup_reset: forget the open window's fold and deltas. The fold is
 * used only when the process reads local time in the operation's zone
 * (wvtime_local_day); else the window's rows are read back in SQL. */
void
rollup_reset(Loader *l)
{
	if (l->roll.values != NULL)
		g_hash_table_remove_all(l->roll.values);
	if (l->roll.cells != NULL)
		g_hash_table_remove_all(l->roll.cells);
	l->roll.entries = 0;
	l->roll.folded = 0;
	l->roll.overflow = strcmp(wvtime_zone(), l->timezone) != 0;
	l->roll.pending = false;
	l->roll.jit_off = false;
}

/* rollup_free: release the fold's tables. */
void
rollup_free(Loader *l)
{
	if (l->roll.values != NULL)
		g_hash_table_destroy(l->roll.values);
	if (l->roll.cells != NULL)
		g_hash_table_destroy(l->roll.cells);
	l->roll.values = NULL;
	l->roll.cells = NULL;
}

/* roll_cell: the cell of (day, dim, id), created when new; NULL when the
 * fold is full (overflow set). */
static RollCell *
roll_cell(Loader *l, int32_t day, RollDim dim, EtlStr id)
{
	RollCell	probe = {.day = day, .dim = dim};
	RollCell   *c;

	probe.id = id.ptr != NULL ? id.ptr : "";
	probe.id_len = id.ptr != NULL ? id.len : 0;
	c = g_hash_table_lookup(l->roll.cells, &probe);
	if (c != NULL)
		return c;
	if (l->roll.entries >= l->roll_cap)
	{
		l->roll.overflow = true;
		return NULL;
	}
	c = g_malloc(sizeof(RollCell) + probe.id_len + 1);
	*c = probe;
	memcpy((char *) (c + 1), probe.id, probe.id_len);
	((char *) (c + 1))[probe.id_len] = '\0';
	c->id = (const char *) (c + 1);
	g_hash_table_add(l->roll.cells, c);
	l->roll.entries++;
	return c;
}

/* roll_value: count one answer of a cell; false when the fold is full. */
static bool
roll_value(Loader *l, const RollCell *cell, const SurveyAnswer *a)
{
	RollValue	probe = {.cell = cell, .question_no = a->question_no,
	.len = a->text.len, .text = a->text.ptr};
	RollValue  *v = g_hash_table_lookup(l->roll.values, &probe);

	if (v == NULL)
	{
		if (l->roll.entries >= l->roll_cap)
		{
			l->roll.overflow = true;
			return false;
		}
		v = g_malloc(sizeof(RollValue) + probe.len + 1);
		*v = probe;
		v->numeric = a->num.ptr != NULL;
		memcpy((char *) (v + 1), probe.text, probe.len);
		((char *) (v + 1))[probe.len] = '\0';
		v->text = (const char *) (v + 1);
		g_hash_table_add(l->roll.values, v);
		l->roll.entries++;
	}
	v->n++;
	return true;
}

static bool
str_is(EtlStr s, const char *lit, size_t n)
{
	return s.ptr != NULL && s.len == n && memcmp(s.ptr, lit, n) == 0;
}

/*
 * rollup_add: fold one record COPYed straight into the tables (LOAD_FAST)
 * into the window's deltas. After an overflow it does nothing: the
 * window's rows are read back in SQL at commit.
 */
void
rollup_add(Loader *l, const SurveyRecord *rec)
{
	RollCell   *cell[ROLL_DIMS];
	EtlStr		feeling = rec->field[SF_FEELING];
	bool		completed = str_is(rec->field[SF_RESULT], "complete", 8);
	bool		positive = str_is(feeling, "positive", 8);
	bool		very_positive = str_is(feeling, "very positive", 13);
	char		hh[2];
	int32_t		day;
	int			hour;
	int			k;
	size_t		i;

	if (l->roll.overflow)
		return;
	wvtime_local_day(rec->answered_at, &day, &hour);
	hh[0] = (char) ('0' + hour / 10);
	hh[1] = (char) ('0' + hour % 10);
	cell[ROLL_AGENT] = roll_cell(l, day, ROLL_AGENT, rec->field[SF_AGENT_ID]);
	cell[ROLL_SKILL] = roll_cell(l, day, ROLL_SKILL, rec->field[SF_SKILL_ID]);
	cell[ROLL_HOUR] = roll_cell(l, day, ROLL_HOUR, (EtlStr) {hh, 2});
	if (l->roll.overflow)
		return;
	for (k = 0; k < ROLL_DIMS; k++)
	{
		cell[k]->surveys++;
		cell[k]->completed += completed;
		cell[k]->with_feeling += feeling.ptr != NULL;
		cell[k]->positive += positive;
		cell[k]->very_positive += very_positive;
	}
	for (i = 0; i < rec->n_answers; i++)
	{
		if (!roll_value(l, cell[ROLL_AGENT], &rec->answers[i]) ||
			!roll_value(l, cell[ROLL_SKILL], &rec->answers[i]))
			return;
	}
	l->roll.folded++;
}

/* The fold as COPY text rows of both delta tables. */
static void
fold_rows(Loader *l, Buf *cells, Buf *values)
{
	GHashTableIter it;
	gpointer	key;

	g_hash_table_iter_init(&it, l->roll.cells);
	while (g_hash_table_iter_next(&it, &key, NULL))
	{
		const RollCell *c = key;

		copy_text_int(cells, c->day);
		buf_printf(cells, "\t%s\t", roll_dim_name[c->dim]);
		copy_text_field(cells, (EtlStr) {c->id, c->id_len});
		buf_printf(cells, "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\n",
				   c->surveys, c->completed, c->with_feeling, c->positive, c->very_positive);
	}
	g_hash_table_iter_init(&it, l->roll.values);
	while (g_hash_table_iter_next(&it, &key, NULL))
	{
		const RollValue *v = key;

		copy_text_int(values, v->cell->day);
		buf_printf(values, "\t%s\t", roll_dim_name[v->cell->dim]);
		copy_text_field(values, (EtlStr) {v->cell->id, v->cell->id_len});
		buf_printf(values, "\t%d\t", v->question_no);
		copy_text_field(values, (EtlStr) {v->text, v->len});
		buf_putc(values, '\t');
		if (v->numeric)
			copy_text_field(values, (EtlStr) {v->text, v->len});
		else
			buf_append(values, "\\N", 2);
		buf_printf(values, "\t%" PRId64 "\n", v->n);
	}
}

/* copy_rows: COPY one buffer of text rows into table (cols). */
static bool
copy_rows(Loader *l, const char *what, const char *sql, const Buf *b)
{
	if (b->len == 0)
		return true;
	return pg_copy_start(l->conn, what, sql) &&
		pg_copy_send(l->conn, what, b->data, b->len) &&
		pg_copy_finish(l->conn, what, NULL, false) == PG_COPY_OK;
}

/* fold_send: the fold into the delta tables. */
static bool
fold_send(Loader *l)
{
	Buf			cells = BUF_INIT;
	Buf			values = BUF_INIT;
	bool		ok = false;

	fold_rows(l, &cells, &values);
	if (cells.failed || values.failed)
		log_error("load", "rollups: out of memory building rows");
	else
		ok = copy_rows(l, "COPY of rollup deltas",
					   "COPY wvetl_stage_roll_survey (day, dim, key_id, surveys, completed,"
					   " with_feeling, positive, very_positive) FROM STDIN", &cells) &&
			copy_rows(l, "COPY of rollup deltas",
					  "COPY wvetl_stage_roll_answer (day, dim, key_id, question_no,"
					  " answer_text, answer_num, answers) FROM STDIN", &values);
	buf_free(&cells);
	buf_free(&values);
	return ok;
}

/* rollup_prepare: create the delta tables in the session (outside any
 * window transaction). False on failure (logged). */
bool
rollup_prepare(Loader *l)
{
	return pg_command(l->conn, "creating rollup delta tables", roll_stage_ddl, 0, NULL);
}

/*
 * rollup_fast_deltas: in LOAD_FAST, after the COPYs and before the merge
 * of staged records, the deltas of the records COPYed into the tables:
 * the fold, or on overflow the rows read back. folded is how many records
 * went straight into the tables. False on failure (logged).
 */
bool
rollup_fast_deltas(Loader *l, uint64_t folded)
{
	char		lo[24];
	char		hi[24];
	char		run[24];
	char		tx[TX_TIME_LEN];
	const char *params[5] = {l->timezone, lo, hi, run, tx};

	if (l->mode != LOAD_FAST || folded == 0)
		return true;
	l->roll.pending = true;
	if (!l->roll.overflow && l->roll.folded == folded)
		return fold_send(l);
	log_debug("load", "rollups of the window read back in SQL (more than %zu entries, or "
			  "another time zone)", l->roll_cap);
	if (!roll_sql_begin(l))
		return false;
	snprintf(lo, sizeof(lo), "%" PRId64, l->id_min);
	snprintf(hi, sizeof(hi), "%" PRId64, l->id_max);
	snprintf(run, sizeof(run), "%" PRId64, l->run_id);
	return state_tx_time(l, tx) &&
		pg_command(l->conn, "computing rollup deltas", roll_survey_written_sql,
				   5, params) &&
		pg_command(l->conn, "computing rollup deltas", roll_answer_written_sql, 5, params);
}

/* roll_sql_begin, roll_deltas: delta statements (roll_deltas: surveys,
 * then answers). The first of a window turns JIT off until the window's transaction ends: the planner
 * cannot size the stages (temporary tables, not analyzed), overestimates
 * by orders of magnitude, and compiled (0.7 s) statements that run in a
 * fraction of that. */
static bool
roll_sql_begin(Loader *l)
{
	if (!l->roll.jit_off &&
		!pg_command(l->conn, "turning JIT off for the rollups",
					"SELECT pg_catalog.set_config('jit', 'off', true)", 0, NULL))
		return false;
	l->roll.jit_off = true;
	l->roll.pending = true;
	return true;
}

static bool
roll_deltas(Loader *l, const char *survey_sql, const char *answer_sql)
{
	const char *params[1] = {l->timezone};

	return roll_sql_begin(l) && pg_command(l->conn, "computing rollup deltas", survey_sql, 1, params) &&
		pg_command(l->conn, "computing rollup deltas", answer_sql, 1, params);
}

/*
 * rollup_merge_deltas: before the merge writes the staged records, the
 * deltas of those it will change. changed: the merge listed them in
 * wvetl_stage_changed (one staged record per id), and only what they
 * contributed before is taken now (rollup_changed_deltas adds what they
 * contribute after); else the stage may hold repeats, and the winners are
 * compared with their rows here, before and after in one go. False on
 * failure (logged).
 */
bool
rollup_merge_deltas(Loader *l, bool changed)
{
	char		lo[24];
	char		hi[24];
	const char *params[2] = {lo, hi};

	snprintf(lo, sizeof(lo), "%" PRId64, l->id_min);
	snprintf(hi, sizeof(hi), "%" PRId64, l->id_max);
	if (changed)
		return pg_command(l->conn, "listing changed records for the rollups",
						  roll_ids_changed_sql, 0, NULL) &&
			roll_deltas(l, roll_survey_old_sql, roll_answer_old_sql);
	return pg_command(l->conn, "listing changed records for the rollups",
					  roll_ids_staged_sql, 2, params) &&
		roll_deltas(l, roll_survey_staged_sql, roll_answer_staged_sql);
}

/* rollup_changed_deltas: after rollup_merge_deltas(l, true) and the
 * changed responses' upsert (wvetl_stage_changed_answer filled), what they
 * contribute now. False on failure (logged). */
bool
rollup_changed_deltas(Loader *l)
{
	return roll_deltas(l, roll_survey_new_sql, roll_answer_new_sql);
}

/* roll_apply_one: add one delta table to its rollup; then remove the rows
 * that reached zero, if any did. */
static bool
roll_apply_one(Loader *l, const char *apply_sql, const char *zero_sql)
{
	const char *params[3] = {l->operation, NULL, NULL};
	PGresult   *res = pg_query(l->conn, "updating the rollups", apply_sql, 1, params);
	bool		ok;

	if (res == NULL)
		return false;
	if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
	{
		PQclear(res);
		return true;
	}
	params[1] = PQgetvalue(res, 0, 1);
	params[2] = PQgetvalue(res, 0, 2);
	ok = pg_command(l->conn, "removing empty rollup rows", zero_sql, 3, params);
	PQclear(res);
	return ok;
}

/*
 * rollup_apply: add the window's deltas to the rollups, inside its
 * transaction (after the merge, before COMMIT). False on failure (logged).
 */
bool
rollup_apply(Loader *l)
{
	if (!l->roll.pending)
		return true;
	return roll_apply_one(l, roll_survey_apply_sql, roll_survey_zero_sql) &&
		roll_apply_one(l, roll_answer_apply_sql, roll_answer_zero_sql);
}
