-- sql/citus/902_views.sql
--   The BI views on Citus: the same names, columns, types and figures as
--   sql/003_bi.sql's, in a shape Citus can plan. 003's views walk a
--   calendar of local days with LATERAL ... OFFSET 0 subqueries, which
--   PostgreSQL needs for fast per-day index scans on one node, but which
--   Citus refuses over distributed tables ("complex joins are only
--   supported when all distributed tables are co-located and joined on
--   their distribution columns"). Here each survey finds its operation's
--   zone by a plain join with etl_state (a reference table), and its
--   answers by the join on response_id (colocated): every view is pushed
--   down to the shards whole, or aggregated on the shards and merged on
--   the coordinator.
--
--   The local day, as 003 defines it:
--   - v_response: the local date of answered_at;
--   - the answer views: the day whose response_id range holds the survey,
--     which is the local date of to_timestamp(response_id >> 31) (the id's
--     second: answered_at's epoch second clamped to [0, 2^32 - 1], so
--     surveys dated before 1970 count on the day of 1970-01-01 00:00 UTC, as
--     on one node).
--   An operation without an etl_state row has no rows in either.
--
--   Applied once, after 901_distribute, on a Citus coordinator only.

CREATE OR REPLACE VIEW v_response AS
SELECT r.operation,
	   r.response_id,
	   r.answered_at,
	   (r.answered_at AT TIME ZONE o.timezone) AS answered_local,
	   (r.answered_at AT TIME ZONE o.timezone)::date AS local_date,
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
  FROM survey_response r
  JOIN (SELECT s.operation, coalesce(s.timezone, 'America/Bogota') AS timezone
		  FROM etl_state s) o ON o.operation = r.operation
  LEFT JOIN agent ag ON ag.operation = r.operation AND ag.agent_id = r.agent_id
  LEFT JOIN skill sk ON sk.operation = r.operation AND sk.skill_id = r.skill_id;

CREATE OR REPLACE VIEW v_answer AS
SELECT r.operation,
	   r.response_id,
	   r.answered_at,
	   (r.answered_at AT TIME ZONE o.timezone) AS answered_local,
	   (to_timestamp(r.response_id >> 31) AT TIME ZONE o.timezone)::date AS local_date,
	   r.agent_id,
	   coalesce(ag.agent_name, r.agent_name) AS agent_name,
	   r.skill_id,
	   coalesce(sk.skill_name, r.skill_name) AS skill_name,
	   r.type_interaction,
	   r.result,
	   r.feeling,
	   a.question_no,
	   coalesce(q.label, 'q' || lpad(a.question_no::text, 2, '0')) AS question,
	   q.label AS question_label,
	   a.answer_text,
	   a.answer_num,
	   q.scale_min,
	   q.scale_max,
	   (a.answer_num >= q.scale_max) AS is_top,
	   r.conn_id,
	   r.duration_s
  FROM survey_response r
  JOIN survey_answer a ON a.response_id = r.response_id
  JOIN (SELECT s.operation, coalesce(s.timezone, 'America/Bogota') AS timezone
		  FROM etl_state s) o ON o.operation = r.operation
  LEFT JOIN agent ag ON ag.operation = r.operation AND ag.agent_id = r.agent_id
  LEFT JOIN skill sk ON sk.operation = r.operation AND sk.skill_id = r.skill_id
  LEFT JOIN survey_question q ON q.operation = r.operation AND q.question_no = a.question_no;

-- The question views: the same two levels as 003's (counts per value on
-- the shards, folded on the coordinator), without the calendar.
CREATE OR REPLACE VIEW v_daily_agent_question AS
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
  FROM (SELECT x.operation,
			   (to_timestamp(x.response_id >> 31) AT TIME ZONE o.timezone)::date AS local_date,
			   x.agent_id, a.question_no, a.answer_num,
			   coalesce(a.answer_num::text, a.answer_text) AS value, count(*) AS n
		  FROM survey_response x
		  JOIN survey_answer a ON a.response_id = x.response_id
		  JOIN (SELECT s.operation, coalesce(s.timezone, 'America/Bogota') AS timezone
				  FROM etl_state s) o ON o.operation = x.operation
		 GROUP BY 1, 2, 3, 4, 5, 6) c
  LEFT JOIN survey_question q ON q.operation = c.operation AND q.question_no = c.question_no
  LEFT JOIN agent ag ON ag.operation = c.operation AND ag.agent_id = c.agent_id
 GROUP BY c.operation, c.local_date, c.agent_id, c.question_no;

CREATE OR REPLACE VIEW v_daily_skill_question AS
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
  FROM (SELECT x.operation,
			   (to_timestamp(x.response_id >> 31) AT TIME ZONE o.timezone)::date AS local_date,
			   x.skill_id, a.question_no, a.answer_num,
			   coalesce(a.answer_num::text, a.answer_text) AS value, count(*) AS n
		  FROM survey_response x
		  JOIN survey_answer a ON a.response_id = x.response_id
		  JOIN (SELECT s.operation, coalesce(s.timezone, 'America/Bogota') AS timezone
				  FROM etl_state s) o ON o.operation = x.operation
		 GROUP BY 1, 2, 3, 4, 5, 6) c
  LEFT JOIN survey_question q ON q.operation = c.operation AND q.question_no = c.question_no
  LEFT JOIN skill sk ON sk.operation = c.operation AND sk.skill_id = c.skill_id
 GROUP BY c.operation, c.local_date, c.skill_id, c.question_no;
