-- sql/003_bi.sql
--   The warehouse as BI tools see it: the agent and skill dimensions (kept
--   by the load, in each window's transaction), question labels and scales
--   (survey_question, filled by users), and the views dashboards read.
--
--   Local time: each operation's time zone is etl_state.timezone (the
--   api.timezone of its loads). The views give every survey its local
--   timestamp and local date in that zone, so "per day" is the operation's
--   day.
--
--   How the views find a local day fast: a filter on local_date cannot use
--   an index on answered_at, since the zone comes from another table. So
--   v_response walks a calendar of each operation's local days (from its
--   first to its last survey, read from the (operation, answered_at) index)
--   and fetches each day's surveys with an index range scan on
--   [local midnight, next local midnight). A filter on local_date then
--   prunes the calendar before any survey is read. The answer views walk
--   the same calendar but read each day as a response_id range: ids sort
--   by time (survey_response_id(), sql/001_init.sql), so a day's surveys
--   and answers are one range [survey_response_id_floor(local midnight),
--   survey_response_id_floor(next local midnight)) of both primary keys,
--   joined in id order, instead of one index lookup per survey. See README
--   "For BI tools" for the EXPLAIN evidence.
--
--   Names are unqualified: wvetl runs migrations with search_path set to the
--   warehouse schema, inside one transaction.

-- agent, skill: dimensions ----------------------------------------------------

CREATE TABLE agent
(
	operation  text        NOT NULL,
	agent_id   text        NOT NULL,
	agent_name text,
	name_at    timestamptz,
	first_seen timestamptz NOT NULL,
	last_seen  timestamptz NOT NULL,
	PRIMARY KEY (operation, agent_id)
);

COMMENT ON TABLE agent IS
	'One row per agent (operation, agent_id) seen in survey_response; wvetl keeps it in the same transaction as each loaded window.';
COMMENT ON COLUMN agent.agent_name IS
	'The agent''s current name: the non-empty agent_name of the agent''s latest survey (by answered_at).';
COMMENT ON COLUMN agent.name_at IS 'answered_at of the survey agent_name was taken from.';
COMMENT ON COLUMN agent.first_seen IS 'answered_at of the agent''s first survey.';
COMMENT ON COLUMN agent.last_seen IS 'answered_at of the agent''s latest survey.';

CREATE TABLE skill
(
	operation  text        NOT NULL,
	skill_id   text        NOT NULL,
	skill_name text,
	name_at    timestamptz,
	first_seen timestamptz NOT NULL,
	last_seen  timestamptz NOT NULL,
	PRIMARY KEY (operation, skill_id)
);

COMMENT ON TABLE skill IS
	'One row per skill (queue) (operation, skill_id) seen in survey_response; wvetl keeps it in the same transaction as each loaded window.';
COMMENT ON COLUMN skill.skill_name IS
	'The skill''s current name: the non-empty skill_name of its latest survey (by answered_at).';
COMMENT ON COLUMN skill.name_at IS 'answered_at of the survey skill_name was taken from.';
COMMENT ON COLUMN skill.first_seen IS 'answered_at of the skill''s first survey.';
COMMENT ON COLUMN skill.last_seen IS 'answered_at of the skill''s latest survey.';

-- Existing data (a schema loaded before this migration): fill both now.
INSERT INTO agent (operation, agent_id, agent_name, name_at, first_seen, last_seen)
SELECT operation, agent_id,
	   (array_agg(agent_name ORDER BY answered_at DESC, agent_name DESC)
			FILTER (WHERE agent_name IS NOT NULL))[1],
	   max(answered_at) FILTER (WHERE agent_name IS NOT NULL),
	   min(answered_at), max(answered_at)
  FROM survey_response WHERE agent_id IS NOT NULL
 GROUP BY operation, agent_id;

INSERT INTO skill (operation, skill_id, skill_name, name_at, first_seen, last_seen)
SELECT operation, skill_id,
	   (array_agg(skill_name ORDER BY answered_at DESC, skill_name DESC)
			FILTER (WHERE skill_name IS NOT NULL))[1],
	   max(answered_at) FILTER (WHERE skill_name IS NOT NULL),
	   min(answered_at), max(answered_at)
  FROM survey_response WHERE skill_id IS NOT NULL
 GROUP BY operation, skill_id;

-- survey_question: labels and scales, filled by users -------------------------

CREATE TABLE survey_question
(
	operation   text        NOT NULL,
	question_no integer     NOT NULL CHECK (question_no > 0),
	label       text,
	scale_min   numeric,
	scale_max   numeric,
	updated_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (operation, question_no),
	CHECK (scale_min IS NULL OR scale_max IS NULL OR scale_min < scale_max)
);

COMMENT ON TABLE survey_question IS
	'What question N of an operation''s survey asks, and its scale. Filled by users (SQL, or wvetl questions set N --label .. --min .. --max ..); wvetl never overwrites it.';
COMMENT ON COLUMN survey_question.label IS 'Shown by the views instead of qNN.';
COMMENT ON COLUMN survey_question.scale_min IS 'Lowest answer on the question''s scale.';
COMMENT ON COLUMN survey_question.scale_max IS
	'Highest answer on the scale: an answer >= scale_max is a top answer (top box). Without it the views'' top-box figures are NULL.';

-- v_response: one row per survey, in local time ------------------------------

-- The calendar: for each operation, its local days from the first survey to
-- the last (min/max come from the (operation, answered_at) index).
-- generate_series runs over timestamp without time zone on purpose: a day
-- plus 1 day is then a calendar day whatever the session's TimeZone, and AT
-- TIME ZONE turns each local midnight into an instant (a DST day has 23 or
-- 25 hours). Each day's surveys are then one index range scan of
-- [day_from, day_to). The LATERAL subquery has OFFSET 0 so that PostgreSQL
-- keeps it as "for each day, scan its range": flattened, the planner cannot
-- estimate a range between two columns of other tables and chose a hash
-- join on operation that compared every survey with every day (29 s
-- instead of 2 s for 90 days of 1.2M surveys; README "For BI tools").
CREATE VIEW v_response AS
SELECT r.operation,
	   r.response_id,
	   r.answered_at,
	   (r.answered_at AT TIME ZONE o.timezone) AS answered_local,
	   g.day::date AS local_date,
	   o.timezone,
	   r.agent_id,
	   coalesce(ag.agent_name, r.agent_name) AS agent_name,
	   r.agent_dni,
	   r.skill_id,
	   coalesce(sk.skill_name, r.skill_name) AS skill_name,
	   r.type_interaction,
	   r.result,
	   r.feeling,
	   r.conn_id,
	   r.ani,
	   r.customer_id,
	   r.duration_s,
	   r.voice_message_duration_s,
	   r.voice_message,
	   r.agent_name AS agent_name_sent,
	   r.skill_name AS skill_name_sent
  FROM (SELECT s.operation, coalesce(s.timezone, 'America/Bogota') AS timezone
		  FROM etl_state s) o
 CROSS JOIN LATERAL (SELECT min(x.answered_at) AS lo, max(x.answered_at) AS hi
					   FROM survey_response x WHERE x.operation = o.operation) b
 CROSS JOIN LATERAL generate_series((b.lo AT TIME ZONE o.timezone)::date::timestamp,
									(b.hi AT TIME ZONE o.timezone)::date::timestamp,
									interval '1 day') AS g(day)
 CROSS JOIN LATERAL (SELECT * FROM survey_response x
					  WHERE x.operation = o.operation
						AND x.answered_at >= (g.day AT TIME ZONE o.timezone)
						AND x.answered_at < ((g.day + interval '1 day') AT TIME ZONE o.timezone)
					 OFFSET 0) r
  LEFT JOIN agent ag ON ag.operation = r.operation AND ag.agent_id = r.agent_id
  LEFT JOIN skill sk ON sk.operation = r.operation AND sk.skill_id = r.skill_id;

COMMENT ON VIEW v_response IS
	'One row per survey with its local time (answered_local, local_date in the operation''s time zone) and the agent''s and skill''s current names.';
COMMENT ON COLUMN v_response.answered_local IS 'answered_at as wall-clock time in the operation''s time zone.';
COMMENT ON COLUMN v_response.local_date IS 'The operation''s day the survey belongs to.';
COMMENT ON COLUMN v_response.agent_name IS 'The agent''s current name (agent.agent_name); the name sent with this survey is agent_name_sent.';
COMMENT ON COLUMN v_response.skill_name IS 'The skill''s current name (skill.skill_name); the name sent with this survey is skill_name_sent.';

-- v_answer: answers in long form ----------------------------------------------

-- The calendar of v_response, and for each day the range of response_ids
-- answered in it (the lateral d, OFFSET 0: computed once per day). Each
-- day's surveys and answers are two index range scans of that range,
-- merge-joined on response_id (both come in id order); OFFSET 0 keeps the
-- planner at "for each day, join its two ranges" (flattened, it hashed all
-- of survey_response, or looked up each survey's answers one by one: 1.4M
-- lookups for 90 days; README "For BI tools"). The id range is exactly
-- the day: answered_at holds whole seconds, and survey_response_id_floor()
-- maps [midnight, next midnight) onto it. (An added answered_at test
-- lowered the planner's row estimate and brought the lookups back.)
CREATE VIEW v_answer AS
SELECT r.operation,
	   r.response_id,
	   r.answered_at,
	   (r.answered_at AT TIME ZONE o.timezone) AS answered_local,
	   g.day::date AS local_date,
	   r.agent_id,
	   coalesce(ag.agent_name, r.agent_name) AS agent_name,
	   r.skill_id,
	   coalesce(sk.skill_name, r.skill_name) AS skill_name,
	   r.type_interaction,
	   r.result,
	   r.feeling,
	   r.question_no,
	   coalesce(q.label, 'q' || lpad(r.question_no::text, 2, '0')) AS question,
	   q.label AS question_label,
	   r.answer_text,
	   r.answer_num,
	   q.scale_min,
	   q.scale_max,
	   (r.answer_num >= q.scale_max) AS is_top,
	   r.conn_id,
	   r.duration_s
  FROM (SELECT s.operation, coalesce(s.timezone, 'America/Bogota') AS timezone
		  FROM etl_state s) o
 CROSS JOIN LATERAL (SELECT min(x.answered_at) AS lo, max(x.answered_at) AS hi
					   FROM survey_response x WHERE x.operation = o.operation) b
 CROSS JOIN LATERAL generate_series((b.lo AT TIME ZONE o.timezone)::date::timestamp,
									(b.hi AT TIME ZONE o.timezone)::date::timestamp,
									interval '1 day') AS g(day)
 CROSS JOIN LATERAL (SELECT survey_response_id_floor(g.day AT TIME ZONE o.timezone) AS lo,
							survey_response_id_floor((g.day + interval '1 day') AT TIME ZONE o.timezone) AS hi
					 OFFSET 0) d
 CROSS JOIN LATERAL (SELECT x.*, a.question_no, a.answer_text, a.answer_num
					   FROM survey_response x
					   JOIN survey_answer a ON a.response_id = x.response_id
					  WHERE x.operation = o.operation
						AND x.response_id >= d.lo AND x.response_id < d.hi
						AND a.response_id >= d.lo AND a.response_id < d.hi
					 OFFSET 0) r
  LEFT JOIN agent ag ON ag.operation = r.operation AND ag.agent_id = r.agent_id
  LEFT JOIN skill sk ON sk.operation = r.operation AND sk.skill_id = r.skill_id
  LEFT JOIN survey_question q ON q.operation = r.operation AND q.question_no = r.question_no;

COMMENT ON VIEW v_answer IS
	'One row per answered question, with everything a dashboard filters on: local date, agent, skill, type of interaction, result, feeling, question (label when set), numeric value.';
COMMENT ON COLUMN v_answer.question IS 'The question''s label (survey_question.label), or qNN when none is set.';
COMMENT ON COLUMN v_answer.answer_num IS 'The answer''s numeric value; NULL when the answer is not a number.';
COMMENT ON COLUMN v_answer.is_top IS 'answer_num >= the question''s scale_max (top box); NULL when the scale is not set or the answer not numeric.';

-- v_survey_wide: one row per survey, q01..q10 as columns ---------------------

CREATE VIEW v_survey_wide AS
SELECT v.operation, v.response_id, v.answered_at, v.answered_local, v.local_date,
	   v.agent_id, v.agent_name, v.skill_id, v.skill_name,
	   v.type_interaction, v.result, v.feeling, v.conn_id, v.ani, v.customer_id,
	   v.duration_s, v.voice_message_duration_s,
	   w.q01, w.q02, w.q03, w.q04, w.q05, w.q06, w.q07, w.q08, w.q09, w.q10,
	   w.q01_text, w.q02_text, w.q03_text, w.q04_text, w.q05_text,
	   w.q06_text, w.q07_text, w.q08_text, w.q09_text, w.q10_text
  FROM v_response v
 CROSS JOIN LATERAL (
	SELECT max(a.answer_num) FILTER (WHERE a.question_no = 1) AS q01,
		   max(a.answer_num) FILTER (WHERE a.question_no = 2) AS q02,
		   max(a.answer_num) FILTER (WHERE a.question_no = 3) AS q03,
		   max(a.answer_num) FILTER (WHERE a.question_no = 4) AS q04,
		   max(a.answer_num) FILTER (WHERE a.question_no = 5) AS q05,
		   max(a.answer_num) FILTER (WHERE a.question_no = 6) AS q06,
		   max(a.answer_num) FILTER (WHERE a.question_no = 7) AS q07,
		   max(a.answer_num) FILTER (WHERE a.question_no = 8) AS q08,
		   max(a.answer_num) FILTER (WHERE a.question_no = 9) AS q09,
		   max(a.answer_num) FILTER (WHERE a.question_no = 10) AS q10,
		   max(a.answer_text) FILTER (WHERE a.question_no = 1) AS q01_text,
		   max(a.answer_text) FILTER (WHERE a.question_no = 2) AS q02_text,
		   max(a.answer_text) FILTER (WHERE a.question_no = 3) AS q03_text,
		   max(a.answer_text) FILTER (WHERE a.question_no = 4) AS q04_text,
		   max(a.answer_text) FILTER (WHERE a.question_no = 5) AS q05_text,
		   max(a.answer_text) FILTER (WHERE a.question_no = 6) AS q06_text,
		   max(a.answer_text) FILTER (WHERE a.question_no = 7) AS q07_text,
		   max(a.answer_text) FILTER (WHERE a.question_no = 8) AS q08_text,
		   max(a.answer_text) FILTER (WHERE a.question_no = 9) AS q09_text,
		   max(a.answer_text) FILTER (WHERE a.question_no = 10) AS q10_text
	  FROM survey_answer a
	 WHERE a.response_id = v.response_id AND a.question_no <= 10) w;

COMMENT ON VIEW v_survey_wide IS
	'One row per survey with q01..q10 as columns (numeric value; qNN_text: the answer as sent), for spreadsheet users. Questions above 10 are in v_answer.';

-- Daily views -------------------------------------------------------------------

-- Every daily view aggregates narrow keys first (ids, local date, numbers)
-- and joins names, labels and scales to the few aggregated rows: grouping
-- millions of rows by wide text keys cost more than reading them.
-- Surveys without an agent id (or skill id) form one group with a NULL id
-- and name.

-- Survey-level figures: surveys, completed (result = 'complete'), and
-- feelings; shares are over the surveys whose feeling is known.
CREATE VIEW v_daily_agent AS
SELECT c.operation, c.local_date, c.agent_id, ag.agent_name,
	   c.surveys, c.completed, round(c.completed::numeric / c.surveys, 4) AS completed_share,
	   c.with_feeling, c.positive, c.very_positive,
	   round((c.positive + c.very_positive)::numeric / nullif(c.with_feeling, 0), 4) AS positive_share,
	   round(c.very_positive::numeric / nullif(c.with_feeling, 0), 4) AS very_positive_share
  FROM (SELECT operation, local_date, agent_id, count(*) AS surveys,
			   count(*) FILTER (WHERE result = 'complete') AS completed,
			   count(feeling) AS with_feeling,
			   count(*) FILTER (WHERE feeling = 'positive') AS positive,
			   count(*) FILTER (WHERE feeling = 'very positive') AS very_positive
		  FROM v_response GROUP BY operation, local_date, agent_id) c
  LEFT JOIN agent ag ON ag.operation = c.operation AND ag.agent_id = c.agent_id;

CREATE VIEW v_daily_skill AS
SELECT c.operation, c.local_date, c.skill_id, sk.skill_name,
	   c.surveys, c.completed, round(c.completed::numeric / c.surveys, 4) AS completed_share,
	   c.with_feeling, c.positive, c.very_positive,
	   round((c.positive + c.very_positive)::numeric / nullif(c.with_feeling, 0), 4) AS positive_share,
	   round(c.very_positive::numeric / nullif(c.with_feeling, 0), 4) AS very_positive_share
  FROM (SELECT operation, local_date, skill_id, count(*) AS surveys,
			   count(*) FILTER (WHERE result = 'complete') AS completed,
			   count(feeling) AS with_feeling,
			   count(*) FILTER (WHERE feeling = 'positive') AS positive,
			   count(*) FILTER (WHERE feeling = 'very positive') AS very_positive
		  FROM v_response GROUP BY operation, local_date, skill_id) c
  LEFT JOIN skill sk ON sk.operation = c.operation AND sk.skill_id = c.skill_id;

COMMENT ON VIEW v_daily_agent IS
	'Per operation, local day and agent: surveys, completed (result = complete), feelings; positive_share = (positive + very positive) / surveys with a known feeling.';
COMMENT ON VIEW v_daily_skill IS
	'Per operation, local day and skill: surveys, completed (result = complete), feelings; positive_share = (positive + very positive) / surveys with a known feeling.';

-- Question-level figures: answers, numeric answers, their sum and average,
-- the distribution ({"value": count}, value as a number when the answer is
-- one, else as sent), top answers (>= survey_question.scale_max; NULL when
-- no scale is set) and their share of the numeric answers. The inner level
-- counts each value per day, agent and question: for each day of the
-- calendar (as in v_answer), over the day's response_id range of
-- survey_response and survey_answer (a grouped subquery is not flattened,
-- so it stays per day, and a filter on the agent or skill still reaches
-- it). The outer level folds the counts.
CREATE VIEW v_daily_agent_question AS
SELECT c.operation, c.local_date, c.agent_id, min(ag.agent_name) AS agent_name, c.question_no,
	   coalesce(min(q.label), 'q' || lpad(c.question_no::text, 2, '0')) AS question,
	   min(q.label) AS question_label, min(q.scale_min) AS scale_min, min(q.scale_max) AS scale_max,
	   sum(c.n) AS answers,
	   sum(c.n) FILTER (WHERE c.answer_num IS NOT NULL) AS numeric_answers,
	   sum(c.answer_num * c.n) AS answer_sum,
	   round(sum(c.answer_num * c.n) / sum(c.n) FILTER (WHERE c.answer_num IS NOT NULL), 4) AS answer_avg,
	   jsonb_object_agg(c.value, c.n) AS distribution,
	   CASE WHEN min(q.scale_max) IS NOT NULL
			THEN coalesce(sum(c.n) FILTER (WHERE c.answer_num >= q.scale_max), 0) END AS top,
	   round(coalesce(sum(c.n) FILTER (WHERE c.answer_num >= q.scale_max), 0)::numeric
			 / nullif(sum(c.n) FILTER (WHERE c.answer_num IS NOT NULL AND q.scale_max IS NOT NULL), 0),
			 4) AS top_share
  FROM (SELECT o.operation, g.day::date AS local_date, n.agent_id, n.question_no, n.answer_num,
			   n.value, n.n
		  FROM (SELECT s.operation, coalesce(s.timezone, 'America/Bogota') AS timezone
				  FROM etl_state s) o
		 CROSS JOIN LATERAL (SELECT min(x.answered_at) AS lo, max(x.answered_at) AS hi
							   FROM survey_response x WHERE x.operation = o.operation) b
		 CROSS JOIN LATERAL generate_series((b.lo AT TIME ZONE o.timezone)::date::timestamp,
											(b.hi AT TIME ZONE o.timezone)::date::timestamp,
											interval '1 day') AS g(day)
		 CROSS JOIN LATERAL (SELECT survey_response_id_floor(g.day AT TIME ZONE o.timezone) AS lo,
									survey_response_id_floor((g.day + interval '1 day') AT TIME ZONE o.timezone) AS hi
							 OFFSET 0) d
		 CROSS JOIN LATERAL (SELECT x.agent_id, a.question_no, a.answer_num,
									coalesce(a.answer_num::text, a.answer_text) AS value, count(*) AS n
							   FROM survey_response x
							   JOIN survey_answer a ON a.response_id = x.response_id
							  WHERE x.operation = o.operation
								AND x.response_id >= d.lo AND x.response_id < d.hi
								AND a.response_id >= d.lo AND a.response_id < d.hi
							  GROUP BY 1, 2, 3, 4) n) c
  LEFT JOIN survey_question q ON q.operation = c.operation AND q.question_no = c.question_no
  LEFT JOIN agent ag ON ag.operation = c.operation AND ag.agent_id = c.agent_id
 GROUP BY c.operation, c.local_date, c.agent_id, c.question_no;

CREATE VIEW v_daily_skill_question AS
SELECT c.operation, c.local_date, c.skill_id, min(sk.skill_name) AS skill_name, c.question_no,
	   coalesce(min(q.label), 'q' || lpad(c.question_no::text, 2, '0')) AS question,
	   min(q.label) AS question_label, min(q.scale_min) AS scale_min, min(q.scale_max) AS scale_max,
	   sum(c.n) AS answers,
	   sum(c.n) FILTER (WHERE c.answer_num IS NOT NULL) AS numeric_answers,
	   sum(c.answer_num * c.n) AS answer_sum,
	   round(sum(c.answer_num * c.n) / sum(c.n) FILTER (WHERE c.answer_num IS NOT NULL), 4) AS answer_avg,
	   jsonb_object_agg(c.value, c.n) AS distribution,
	   CASE WHEN min(q.scale_max) IS NOT NULL
			THEN coalesce(sum(c.n) FILTER (WHERE c.answer_num >= q.scale_max), 0) END AS top,
	   round(coalesce(sum(c.n) FILTER (WHERE c.answer_num >= q.scale_max), 0)::numeric
			 / nullif(sum(c.n) FILTER (WHERE c.answer_num IS NOT NULL AND q.scale_max IS NOT NULL), 0),
			 4) AS top_share
  FROM (SELECT o.operation, g.day::date AS local_date, n.skill_id, n.question_no, n.answer_num,
			   n.value, n.n
		  FROM (SELECT s.operation, coalesce(s.timezone, 'America/Bogota') AS timezone
				  FROM etl_state s) o
		 CROSS JOIN LATERAL (SELECT min(x.answered_at) AS lo, max(x.answered_at) AS hi
							   FROM survey_response x WHERE x.operation = o.operation) b
		 CROSS JOIN LATERAL generate_series((b.lo AT TIME ZONE o.timezone)::date::timestamp,
											(b.hi AT TIME ZONE o.timezone)::date::timestamp,
											interval '1 day') AS g(day)
		 CROSS JOIN LATERAL (SELECT survey_response_id_floor(g.day AT TIME ZONE o.timezone) AS lo,
									survey_response_id_floor((g.day + interval '1 day') AT TIME ZONE o.timezone) AS hi
							 OFFSET 0) d
		 CROSS JOIN LATERAL (SELECT x.skill_id, a.question_no, a.answer_num,
									coalesce(a.answer_num::text, a.answer_text) AS value, count(*) AS n
							   FROM survey_response x
							   JOIN survey_answer a ON a.response_id = x.response_id
							  WHERE x.operation = o.operation
								AND x.response_id >= d.lo AND x.response_id < d.hi
								AND a.response_id >= d.lo AND a.response_id < d.hi
							  GROUP BY 1, 2, 3, 4) n) c
  LEFT JOIN survey_question q ON q.operation = c.operation AND q.question_no = c.question_no
  LEFT JOIN skill sk ON sk.operation = c.operation AND sk.skill_id = c.skill_id
 GROUP BY c.operation, c.local_date, c.skill_id, c.question_no;

COMMENT ON VIEW v_daily_agent_question IS
	'Per operation, local day, agent and question: answers, average, distribution {"value": count}, top answers (>= survey_question.scale_max) and their share of the numeric answers.';
COMMENT ON VIEW v_daily_skill_question IS
	'Per operation, local day, skill and question: answers, average, distribution {"value": count}, top answers (>= survey_question.scale_max) and their share of the numeric answers.';
