-- sql/010_rollups.sql
--   Rollups: small aggregate tables per operation, period (local day,
--   week, month) and agent, skill or hour of the day, kept by the loader
--   inside each window's transaction (load/rollup.c), so they are never
--   stale and never ahead of the data. The daily views read them instead
--   of the surveys; new views give weeks and months, and the figures
--   contact centers report (CSAT, NPS, CES, yes share) for questions whose
--   kind is set (survey_question.kind).
--
--   What a rollup row holds is defined once, from the base tables, by
--   rollup_day_survey() and rollup_day_answer() (a day's rows) and
--   rollup_fold_periods() (weeks and months as sums of days). This
--   migration fills the rollups of a warehouse loaded before with them, and
--   `wvetl verify` compares the rollups with them (and --repair rewrites
--   them). The loader computes the same figures another way: by folding
--   the records it loads (a new window), or from the rows a merge changes,
--   before and after (a reload); `wvetl verify` is how the two are checked
--   against each other.
--
--   Keys. Every rollup's primary key starts with operation (Citus can
--   distribute the tables by it, and two operations loading at once never
--   touch each other's rows). A survey without an agent (or skill) id
--   counts under key_id '' (a primary key cannot hold NULL; the loader
--   never stores '' as an id, since "" is a placeholder); the views give
--   NULL back. Local days are in the operation's time zone
--   (etl_state.timezone, the api.timezone of its loads), as in the views of
--   003_bi.sql. Weeks start on Monday (ISO); period_start is the first day
--   of the period.
--
--   Runs inside one transaction opened by wvetl, with search_path set to
--   the warehouse schema (see 001_init.sql).

-- survey_question.kind --------------------------------------------------------

-- Two commands, the constraint named, each EXECUTEd on its own: on Citus
-- (survey_question is a reference table there) a column added with its
-- constraint is refused, and so is an added constraint in a string of
-- several statements (this file).
DO $do$
BEGIN
	EXECUTE 'ALTER TABLE survey_question ADD COLUMN kind text';
	EXECUTE 'ALTER TABLE survey_question ADD CONSTRAINT survey_question_kind_check'
		' CHECK (kind IN (''csat'', ''nps'', ''ces'', ''yes_no'', ''text''))';
END
$do$;

COMMENT ON COLUMN survey_question.kind IS
	'What the question measures, for the views'' metrics: csat (csat = share of numeric answers in the top two points of the scale, scale_max and scale_max - 1; scale_max 5 when not set), nps (0-10: nps = % of 9-10 minus % of 0-6, over the answers from 0 to 10), ces (ces = average of the numeric answers), yes_no (yes_share = answers 1, si, sí, s, yes, y (any case) over all answers), text (free text: no metric). NULL: none.';

-- rollup_survey ---------------------------------------------------------------

-- fillfactor: a reload adds to rows already there; with room on their page
-- those updates are HOT (no index entry written).
CREATE TABLE rollup_survey
(
	operation     text    NOT NULL,
	period        text    COLLATE "C" NOT NULL CHECK (period IN ('day', 'week', 'month')),
	dim           text    COLLATE "C" NOT NULL CHECK (dim IN ('agent', 'skill', 'hour')),
	period_start  date    NOT NULL,
	key_id        text    NOT NULL,
	surveys       bigint  NOT NULL,
	completed     bigint  NOT NULL,
	with_feeling  bigint  NOT NULL,
	positive      bigint  NOT NULL,
	very_positive bigint  NOT NULL,
	PRIMARY KEY (operation, period, dim, period_start, key_id)
) WITH (fillfactor = 80);

-- A range of periods, whatever the operation (see rollup_answer_period_idx).
CREATE INDEX rollup_survey_period_idx ON rollup_survey (period, dim, period_start);

COMMENT ON TABLE rollup_survey IS
	'Surveys per operation, period (day, week, month of local time) and agent, skill or hour of the day; kept by wvetl in each window''s transaction. Read it through v_period_agent, v_period_skill, v_period_hour and the daily views.';
COMMENT ON COLUMN rollup_survey.period IS 'day, week (starting on Monday) or month.';
COMMENT ON COLUMN rollup_survey.dim IS 'agent, skill or hour: what key_id is.';
COMMENT ON COLUMN rollup_survey.period_start IS 'The period''s first local day.';
COMMENT ON COLUMN rollup_survey.key_id IS
	'agent_id, skill_id, or the local hour as two digits (00..23); '''' for surveys without an id.';
COMMENT ON COLUMN rollup_survey.completed IS 'Surveys with result = ''complete''.';
COMMENT ON COLUMN rollup_survey.with_feeling IS 'Surveys whose feeling is known (not NULL).';
COMMENT ON COLUMN rollup_survey.positive IS 'Surveys with feeling = ''positive''.';
COMMENT ON COLUMN rollup_survey.very_positive IS 'Surveys with feeling = ''very positive''.';

-- rollup_answer ---------------------------------------------------------------

CREATE TABLE rollup_answer
(
	operation    text    NOT NULL,
	period       text    COLLATE "C" NOT NULL CHECK (period IN ('day', 'week', 'month')),
	dim          text    COLLATE "C" NOT NULL CHECK (dim IN ('agent', 'skill')),
	period_start date    NOT NULL,
	key_id       text    NOT NULL,
	question_no  integer NOT NULL,
	value_key    text    NOT NULL,
	value        text    NOT NULL,
	answer_num   numeric,
	answers      bigint  NOT NULL,
	PRIMARY KEY (operation, period, dim, period_start, key_id, question_no, value_key)
) WITH (fillfactor = 80);

-- The views' filters: a range of periods (dashboards rarely name the
-- operation, which leads the primary key), and one agent's (or skill's)
-- periods, on nullif(key_id, '') because that is the views' agent_id.
CREATE INDEX rollup_answer_period_idx ON rollup_answer (period, dim, period_start);
CREATE INDEX rollup_answer_key_idx
	ON rollup_answer (period, dim, (nullif(key_id, '')), period_start);

COMMENT ON TABLE rollup_answer IS
	'Answers per operation, period (day, week, month of local time), agent or skill, question and value; kept by wvetl in each window''s transaction. Read it through v_period_agent_question, v_period_skill_question and the daily views.';
COMMENT ON COLUMN rollup_answer.key_id IS 'agent_id or skill_id; '''' for surveys without one.';
COMMENT ON COLUMN rollup_answer.value IS
	'The answer''s value: its numeric value as text when it is a number (so 5 and 05 are one value), else the answer as sent (the keys of the views'' distribution).';
COMMENT ON COLUMN rollup_answer.value_key IS 'rollup_value_key(value): value itself, or for a value over 200 bytes a shorter key.';
COMMENT ON COLUMN rollup_answer.answer_num IS 'The value as a number; NULL when the answers are not numbers.';
COMMENT ON COLUMN rollup_answer.answers IS 'How many answers had this value.';

-- rollup_value_key(value): the key of a value in rollup_answer. An index
-- entry cannot hold a long text (an answer may be a long comment), so a
-- value over 200 bytes is keyed by its first 200 characters and its md5:
-- that key is longer than 200 bytes, so it never equals a shorter value.
CREATE FUNCTION rollup_value_key(value text)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT CASE WHEN octet_length($1) <= 200 THEN $1 ELSE left($1, 200) || md5($1) END
$$;

-- What the rollups hold, from the base tables ----------------------------------

-- rollup_day_survey(op, lo, hi): the day rows of rollup_survey for the
-- operation's local days [lo, hi) (NULL: unbounded), computed from
-- survey_response.
CREATE FUNCTION rollup_day_survey(op text, lo date, hi date)
	RETURNS TABLE (dim text, period_start date, key_id text, surveys bigint, completed bigint,
				   with_feeling bigint, positive bigint, very_positive bigint)
	LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	WITH z AS (SELECT coalesce((SELECT s.timezone FROM etl_state s WHERE s.operation = op),
							   'America/Bogota') AS tz),
	b AS (SELECT z.tz,
				 coalesce(lo::timestamp AT TIME ZONE z.tz, '-infinity') AS t_lo,
				 coalesce(hi::timestamp AT TIME ZONE z.tz, 'infinity') AS t_hi
			FROM z),
	r AS (SELECT (x.answered_at AT TIME ZONE b.tz)::date AS d, x.agent_id, x.skill_id,
				 to_char(x.answered_at AT TIME ZONE b.tz, 'HH24') AS h, x.result, x.feeling
			FROM survey_response x, b
		   WHERE x.operation = op AND x.answered_at >= b.t_lo AND x.answered_at < b.t_hi)
	SELECT g.dim, r.d, coalesce(g.key_id, ''), count(*),
		   count(*) FILTER (WHERE r.result = 'complete'), count(r.feeling),
		   count(*) FILTER (WHERE r.feeling = 'positive'),
		   count(*) FILTER (WHERE r.feeling = 'very positive')
	  FROM r CROSS JOIN LATERAL (VALUES ('agent', r.agent_id), ('skill', r.skill_id),
										('hour', r.h)) g(dim, key_id)
	 GROUP BY 1, 2, 3;
END
$$;

-- rollup_day_answer(op, lo, hi): the day rows of rollup_answer for the
-- operation's local days [lo, hi) (NULL: unbounded), from survey_response
-- and survey_answer. The answers are read by their response_id range too
-- (ids sort by time, see survey_response_id_floor()).
CREATE FUNCTION rollup_day_answer(op text, lo date, hi date)
	RETURNS TABLE (dim text, period_start date, key_id text, question_no integer,
				   value text, answer_num numeric, answers bigint)
	LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	WITH z AS (SELECT coalesce((SELECT s.timezone FROM etl_state s WHERE s.operation = op),
							   'America/Bogota') AS tz),
	b AS (SELECT z.tz,
				 coalesce(lo::timestamp AT TIME ZONE z.tz, '-infinity') AS t_lo,
				 coalesce(hi::timestamp AT TIME ZONE z.tz, 'infinity') AS t_hi,
				 CASE WHEN lo IS NULL THEN -9223372036854775808
					  ELSE survey_response_id_floor(lo::timestamp AT TIME ZONE z.tz) END AS id_lo,
				 CASE WHEN hi IS NULL THEN 9223372036854775807
					  ELSE survey_response_id_floor(hi::timestamp AT TIME ZONE z.tz) END AS id_hi
			FROM z),
	r AS (SELECT x.response_id, (x.answered_at AT TIME ZONE b.tz)::date AS d, x.agent_id,
				 x.skill_id
			FROM survey_response x, b
		   WHERE x.operation = op AND x.answered_at >= b.t_lo AND x.answered_at < b.t_hi),
	a AS (SELECT r.d, r.agent_id, r.skill_id, a.question_no, a.answer_num,
				 coalesce(a.answer_num::text, a.answer_text) AS value
			FROM r JOIN survey_answer a ON a.response_id = r.response_id, b
		   WHERE a.response_id >= b.id_lo AND a.response_id < b.id_hi)
	SELECT g.dim, a.d, coalesce(g.key_id, ''), a.question_no, a.value, max(a.answer_num),
		   count(*)
	  FROM a CROSS JOIN LATERAL (VALUES ('agent', a.agent_id), ('skill', a.skill_id)) g(dim, key_id)
	 GROUP BY 1, 2, 3, 4, 5;
END
$$;

-- rollup_fold_periods(op, lo, hi): rewrite the week and month rows of both
-- rollups that contain any local day of [lo, hi) (NULL: unbounded) as the
-- sums of their day rows.
CREATE FUNCTION rollup_fold_periods(op text, lo date, hi date)
	RETURNS void
	LANGUAGE plpgsql
AS $$
BEGIN
	DELETE FROM rollup_survey r USING (VALUES ('week'), ('month')) p(period)
	 WHERE r.operation = op AND r.period = p.period
	   AND r.period_start >= date_trunc(p.period, coalesce(lo, '-infinity')::timestamp)::date
	   AND r.period_start < coalesce(hi, 'infinity');
	INSERT INTO rollup_survey (operation, period, dim, period_start, key_id, surveys, completed,
							   with_feeling, positive, very_positive)
	SELECT op, p.period, r.dim, date_trunc(p.period, r.period_start::timestamp)::date, r.key_id,
		   sum(r.surveys), sum(r.completed), sum(r.with_feeling), sum(r.positive),
		   sum(r.very_positive)
	  FROM rollup_survey r, (VALUES ('week'), ('month')) p(period)
	 WHERE r.operation = op AND r.period = 'day'
	   AND r.period_start >= date_trunc(p.period, coalesce(lo, '-infinity')::timestamp)::date
	   AND r.period_start < coalesce(hi, 'infinity') + 31
	   AND date_trunc(p.period, r.period_start::timestamp)::date < coalesce(hi, 'infinity')
	 GROUP BY 1, 2, 3, 4, 5;
	DELETE FROM rollup_answer r USING (VALUES ('week'), ('month')) p(period)
	 WHERE r.operation = op AND r.period = p.period
	   AND r.period_start >= date_trunc(p.period, coalesce(lo, '-infinity')::timestamp)::date
	   AND r.period_start < coalesce(hi, 'infinity');
	INSERT INTO rollup_answer (operation, period, dim, period_start, key_id, question_no,
							   value_key, value, answer_num, answers)
	SELECT op, p.period, r.dim, date_trunc(p.period, r.period_start::timestamp)::date, r.key_id,
		   r.question_no, r.value_key, min(r.value), max(r.answer_num), sum(r.answers)
	  FROM rollup_answer r, (VALUES ('week'), ('month')) p(period)
	 WHERE r.operation = op AND r.period = 'day'
	   AND r.period_start >= date_trunc(p.period, coalesce(lo, '-infinity')::timestamp)::date
	   AND r.period_start < coalesce(hi, 'infinity') + 31
	   AND date_trunc(p.period, r.period_start::timestamp)::date < coalesce(hi, 'infinity')
	 GROUP BY 1, 2, 3, 4, 5, 6, 7;
END
$$;

-- rollup_rebuild(op, lo, hi): rewrite the operation's rollups for the
-- local days [lo, hi) (NULL: unbounded) from the base tables: their day
-- rows, then the weeks and months that contain them. Days before the
-- operation's etl_state.pruned_before (wvetl prune deleted their surveys;
-- a column of 013_privacy_retention.sql, read through to_jsonb so this
-- works before it exists) keep their rollups.
CREATE FUNCTION rollup_rebuild(op text, lo date, hi date)
	RETURNS void
	LANGUAGE plpgsql
AS $$
DECLARE
	pruned date;
BEGIN
	SELECT ((to_jsonb(s) ->> 'pruned_before')::timestamptz AT TIME ZONE coalesce(s.timezone, 'America/Bogota'))::date
	  INTO pruned FROM etl_state s WHERE s.operation = op;
	IF pruned IS NOT NULL AND (lo IS NULL OR lo < pruned) THEN
		lo := pruned;
	END IF;
	IF lo IS NOT NULL AND hi IS NOT NULL AND lo >= hi THEN
		RETURN;
	END IF;
	DELETE FROM rollup_survey
	 WHERE operation = op AND period = 'day'
	   AND period_start >= coalesce(lo, '-infinity') AND period_start < coalesce(hi, 'infinity');
	DELETE FROM rollup_answer
	 WHERE operation = op AND period = 'day'
	   AND period_start >= coalesce(lo, '-infinity') AND period_start < coalesce(hi, 'infinity');
	INSERT INTO rollup_survey (operation, period, dim, period_start, key_id, surveys, completed,
							   with_feeling, positive, very_positive)
	SELECT op, 'day', f.* FROM rollup_day_survey(op, lo, hi) f;
	INSERT INTO rollup_answer (operation, period, dim, period_start, key_id, question_no,
							   value_key, value, answer_num, answers)
	SELECT op, 'day', f.dim, f.period_start, f.key_id, f.question_no,
		   rollup_value_key(f.value), f.value, f.answer_num, f.answers
	  FROM rollup_day_answer(op, lo, hi) f;
	PERFORM rollup_fold_periods(op, lo, hi);
END
$$;

COMMENT ON FUNCTION rollup_day_survey(text, date, date) IS
	'The day rows rollup_survey must hold for an operation''s local days [lo, hi), from survey_response (wvetl verify compares them).';
COMMENT ON FUNCTION rollup_day_answer(text, date, date) IS
	'The day rows rollup_answer must hold for an operation''s local days [lo, hi), from survey_response and survey_answer (wvetl verify compares them).';
COMMENT ON FUNCTION rollup_fold_periods(text, date, date) IS
	'Rewrites the week and month rows of rollup_survey and rollup_answer that contain a day of [lo, hi) from their day rows.';
COMMENT ON FUNCTION rollup_rebuild(text, date, date) IS
	'Rewrites an operation''s rollups for the local days [lo, hi) (NULL: unbounded) from the base tables (wvetl verify --repair, migrate --change-timezone).';

-- The functions resolve names with pg_catalog first, then the warehouse
-- schema (their tables), whoever calls them (see 006_search_path_rejects.sql).
DO $do$
BEGIN
	EXECUTE format('ALTER FUNCTION rollup_day_survey(text, date, date) SET search_path = pg_catalog, %I, pg_temp', current_schema());
	EXECUTE format('ALTER FUNCTION rollup_day_answer(text, date, date) SET search_path = pg_catalog, %I, pg_temp', current_schema());
	EXECUTE format('ALTER FUNCTION rollup_fold_periods(text, date, date) SET search_path = pg_catalog, %I, pg_temp', current_schema());
	EXECUTE format('ALTER FUNCTION rollup_rebuild(text, date, date) SET search_path = pg_catalog, %I, pg_temp', current_schema());
END
$do$;
ALTER FUNCTION rollup_value_key(text) SET search_path = pg_catalog, pg_temp;

-- A warehouse loaded before: fill the rollups from its rows.
SELECT rollup_rebuild(s.operation, NULL, NULL) FROM etl_state s;

-- The views ---------------------------------------------------------------------

-- One template for agents and skills (the two differ only in the
-- dimension's name): v_period_agent and v_period_agent_question give every
-- period, v_daily_agent and v_daily_agent_question (names and columns as in
-- 003_bi.sql, so dashboards built on them keep working) the days; the
-- same for skill. They read only the rollups, the dimensions and
-- survey_question (so they can run as the reader, under row-level
-- security: 012_tenancy.sql). The figures equal those the views of
-- 003_bi.sql computed from the surveys (local days from
-- etl_state.timezone).
DO $do$
DECLARE
	d text;
BEGIN
	FOREACH d IN ARRAY ARRAY['agent', 'skill']
	LOOP
		EXECUTE format($v$
CREATE VIEW v_period_%1$s AS
SELECT r.operation, r.period, r.period_start, nullif(r.key_id, '') AS %1$s_id, n.%1$s_name,
	   r.surveys, r.completed, round(r.completed::numeric / r.surveys, 4) AS completed_share,
	   r.with_feeling, r.positive, r.very_positive,
	   round((r.positive + r.very_positive)::numeric / nullif(r.with_feeling, 0), 4) AS positive_share,
	   round(r.very_positive::numeric / nullif(r.with_feeling, 0), 4) AS very_positive_share
  FROM rollup_survey r
  LEFT JOIN %1$s n ON n.operation = r.operation AND n.%1$s_id = r.key_id
 WHERE r.dim = '%1$s'
$v$, d);
		EXECUTE format($v$
CREATE OR REPLACE VIEW v_daily_%1$s AS
SELECT operation, period_start AS local_date, %1$s_id, %1$s_name, surveys, completed,
	   completed_share, with_feeling, positive, very_positive, positive_share, very_positive_share
  FROM v_period_%1$s
 WHERE period = 'day'
$v$, d);
		EXECUTE format($v$
CREATE VIEW v_period_%1$s_question AS
SELECT r.operation, r.period, r.period_start, nullif(r.key_id, '') AS %1$s_id,
	   min(n.%1$s_name) AS %1$s_name, r.question_no,
	   coalesce(min(q.label), 'q' || lpad(r.question_no::text, 2, '0')) AS question,
	   min(q.label) AS question_label, min(q.scale_min) AS scale_min, min(q.scale_max) AS scale_max,
	   sum(r.answers) AS answers,
	   sum(r.answers) FILTER (WHERE r.answer_num IS NOT NULL) AS numeric_answers,
	   sum(r.answer_num * r.answers) AS answer_sum,
	   round(sum(r.answer_num * r.answers)
			 / sum(r.answers) FILTER (WHERE r.answer_num IS NOT NULL), 4) AS answer_avg,
	   jsonb_object_agg(r.value, r.answers) AS distribution,
	   CASE WHEN min(q.scale_max) IS NOT NULL
			THEN coalesce(sum(r.answers) FILTER (WHERE r.answer_num >= q.scale_max), 0) END AS top,
	   round(coalesce(sum(r.answers) FILTER (WHERE r.answer_num >= q.scale_max), 0)::numeric
			 / nullif(sum(r.answers) FILTER (WHERE r.answer_num IS NOT NULL AND q.scale_max IS NOT NULL), 0),
			 4) AS top_share,
	   min(q.kind) AS kind,
	   CASE WHEN min(q.kind) = 'csat'
			THEN round(coalesce(sum(r.answers) FILTER (WHERE r.answer_num >= coalesce(q.scale_max, 5) - 1), 0)::numeric
					   / nullif(sum(r.answers) FILTER (WHERE r.answer_num IS NOT NULL), 0), 4) END AS csat,
	   CASE WHEN min(q.kind) = 'nps'
			THEN round(100 * (coalesce(sum(r.answers) FILTER (WHERE r.answer_num >= 9 AND r.answer_num <= 10), 0)
							  - coalesce(sum(r.answers) FILTER (WHERE r.answer_num >= 0 AND r.answer_num <= 6), 0))::numeric
					   / nullif(sum(r.answers) FILTER (WHERE r.answer_num >= 0 AND r.answer_num <= 10), 0), 2) END AS nps,
	   CASE WHEN min(q.kind) = 'ces'
			THEN round(sum(r.answer_num * r.answers)
					   / sum(r.answers) FILTER (WHERE r.answer_num IS NOT NULL), 4) END AS ces,
	   CASE WHEN min(q.kind) = 'yes_no'
			THEN round(coalesce(sum(r.answers) FILTER (WHERE r.answer_num = 1
					   OR lower(r.value) IN ('si', 'sí', 's', 'yes', 'y')), 0)::numeric
					   / sum(r.answers), 4) END AS yes_share
  FROM rollup_answer r
  LEFT JOIN survey_question q ON q.operation = r.operation AND q.question_no = r.question_no
  LEFT JOIN %1$s n ON n.operation = r.operation AND n.%1$s_id = r.key_id
 WHERE r.dim = '%1$s'
 GROUP BY r.operation, r.period, r.period_start, r.key_id, r.question_no
$v$, d);
		EXECUTE format($v$
CREATE OR REPLACE VIEW v_daily_%1$s_question AS
SELECT operation, period_start AS local_date, %1$s_id, %1$s_name, question_no, question,
	   question_label, scale_min, scale_max, answers, numeric_answers, answer_sum, answer_avg,
	   distribution, top, top_share, kind, csat, nps, ces, yes_share
  FROM v_period_%1$s_question
 WHERE period = 'day'
$v$, d);
		EXECUTE format($c$
COMMENT ON VIEW v_period_%1$s IS 'Per operation, period (day, week from Monday, month; period_start its first local day) and %1$s: surveys, completed (result = complete), feelings; positive_share = (positive + very positive) / surveys with a known feeling. From rollup_survey.';
COMMENT ON VIEW v_daily_%1$s IS 'Per operation, local day and %1$s: surveys, completed (result = complete), feelings; positive_share = (positive + very positive) / surveys with a known feeling. The day rows of v_period_%1$s.';
COMMENT ON VIEW v_period_%1$s_question IS 'Per operation, period (day, week from Monday, month), %1$s and question: answers, average, distribution {"value": count}, top answers (>= survey_question.scale_max) and their share of the numeric answers, and by the question''s kind csat, nps, ces or yes_share. From rollup_answer.';
COMMENT ON VIEW v_daily_%1$s_question IS 'Per operation, local day, %1$s and question: answers, average, distribution {"value": count}, top answers (>= survey_question.scale_max) and their share of the numeric answers, and by the question''s kind csat, nps, ces or yes_share. The day rows of v_period_%1$s_question.';
$c$, d);
	END LOOP;
END
$do$;

-- Surveys per local hour of the day: hour 0..23; per period, hour h counts
-- the period's surveys answered between h:00 and h:59 local time.
CREATE VIEW v_period_hour AS
SELECT r.operation, r.period, r.period_start, r.key_id::integer AS hour,
	   r.surveys, r.completed, r.with_feeling, r.positive, r.very_positive
  FROM rollup_survey r
 WHERE r.dim = 'hour';

CREATE VIEW v_daily_hour AS
SELECT operation, period_start AS local_date, hour, surveys, completed, with_feeling, positive,
	   very_positive
  FROM v_period_hour
 WHERE period = 'day';

COMMENT ON VIEW v_period_hour IS
	'Per operation, period (day, week from Monday, month) and local hour of the day (0..23): surveys, completed, feelings. From rollup_survey.';
COMMENT ON VIEW v_daily_hour IS
	'Per operation, local day and hour (0..23): surveys, completed, feelings ("today''s surveys per hour").';

-- A warehouse whose 012_tenancy.sql was applied before this file (versions
-- run in order, but a later number may have been applied first): its
-- treatment for the new tables and views here too. Row-level security on
-- the rollups (a reader sees its operations' rows) and the views run as the
-- reader; `wvetl migrate` then grants them to the reader roles.
DO $do$
DECLARE
	r text;
BEGIN
	IF to_regclass('visible_operation') IS NULL THEN
		RETURN;
	END IF;
	FOREACH r IN ARRAY ARRAY['rollup_survey', 'rollup_answer']
	LOOP
		EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', r);
		EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', r);
		EXECUTE format('CREATE POLICY visible_operation ON %I'
					   ' USING ((SELECT has_table_privilege(%L::regclass, ''SELECT''))'
					   '        OR operation IN (SELECT v.operation FROM visible_operation v))',
					   r, 'survey_response');
	END LOOP;
	FOREACH r IN ARRAY ARRAY['v_period_agent', 'v_daily_agent', 'v_period_agent_question',
							 'v_daily_agent_question', 'v_period_skill', 'v_daily_skill',
							 'v_period_skill_question', 'v_daily_skill_question',
							 'v_period_hour', 'v_daily_hour']
	LOOP
		EXECUTE format('ALTER VIEW %I SET (security_invoker = true)', r);
	END LOOP;
END
$do$;
