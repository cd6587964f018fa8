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

-- The daily views (v_daily_agent, v_daily_skill and their question views)
-- read the rollups since sql/010_rollups.sql: plain joins of reference
-- tables, which Citus plans as they are.

