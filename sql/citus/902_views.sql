-- sql/citus/902_views.sql
--   v_response and v_answer on Citus: the same names, columns, types,
--   figures and reader rules as sql/012_tenancy.sql's (the operations come
--   from visible_operation; personal columns in clear only for a role that
--   reads_all), in a shape Citus can plan. 003/012 walk a calendar of local
--   days with LATERAL ... OFFSET 0 subqueries, which PostgreSQL needs for
--   per-day index range scans on one node, but which Citus refuses over
--   distributed tables ("complex joins are only supported when all
--   distributed tables are co-located and joined on their distribution
--   columns"). Here visible_operation is computed once, on the
--   coordinator, as the reader (a MATERIALIZED CTE: Citus ships it to the
--   workers as an intermediate result), each survey finds its operation by
--   a plain join, and its answers by the join on response_id (colocated):
--   the views are pushed down to the shards whole. The other views read
--   the rollups (sql/010_rollups.sql), tables of the coordinator, and are
--   the same as on one node.
--
--   The local day, as 003 defines it:
--   - v_response: the local date of answered_at;
--   - v_answer: the day whose response_id range holds the survey, which is
--     the local date of to_timestamp(response_id >> 31) (the id's second:
--     answered_at's epoch second clamped to [0, 2^32 - 1], so surveys dated
--     before 1970 count on the day of 1970-01-01 00:00 UTC, as on one node).
--
--   Applied once, after 901_distribute, on a Citus coordinator only.
--   903_reader_access.sql replaces these two views (and v_survey_wide):
--   Citus runs their shard queries as the querying role, which a reader
--   role may not be.

CREATE OR REPLACE VIEW v_response AS
WITH o AS MATERIALIZED (SELECT v.operation, v.timezone, v.reads_all FROM visible_operation v)
SELECT r.operation,
	   r.response_id,
	   r.answered_at,
	   (r.answered_at AT TIME ZONE o.timezone) AS answered_local,
	   (r.answered_at AT TIME ZONE o.timezone)::date AS local_date,
	   o.timezone,
	   r.agent_id,
	   coalesce(ag.agent_name, r.agent_name) AS agent_name,
	   CASE WHEN o.reads_all OR r.agent_dni ~ '^hmac:[0-9a-f]{64}$' THEN r.agent_dni END AS agent_dni,
	   r.skill_id,
	   coalesce(sk.skill_name, r.skill_name) AS skill_name,
	   r.type_interaction,
	   r.result,
	   r.feeling,
	   r.conn_id,
	   CASE WHEN o.reads_all OR r.ani ~ '^hmac:[0-9a-f]{64}$' THEN r.ani END AS ani,
	   CASE WHEN o.reads_all OR r.customer_id ~ '^hmac:[0-9a-f]{64}$' THEN r.customer_id END AS customer_id,
	   r.duration_s,
	   r.voice_message_duration_s,
	   r.voice_message,
	   r.agent_name AS agent_name_sent,
	   r.skill_name AS skill_name_sent
  FROM o
  JOIN survey_response r ON r.operation = o.operation
  LEFT JOIN agent ag ON ag.operation = r.operation AND ag.agent_id = r.agent_id
  LEFT JOIN skill sk ON sk.operation = r.operation AND sk.skill_id = r.skill_id;

CREATE OR REPLACE VIEW v_answer AS
WITH o AS MATERIALIZED (SELECT v.operation, v.timezone FROM visible_operation v)
SELECT r.operation,
	   r.response_id,
	   r.answered_at,
	   (r.answered_at AT TIME ZONE o.timezone) AS answered_local,
	   (pg_catalog.to_timestamp(r.response_id >> 31) AT TIME ZONE o.timezone)::date AS local_date,
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
  FROM o
  JOIN survey_response r ON r.operation = o.operation
  JOIN survey_answer a ON a.response_id = r.response_id
  LEFT JOIN agent ag ON ag.operation = r.operation AND ag.agent_id = r.agent_id
  LEFT JOIN skill sk ON sk.operation = r.operation AND sk.skill_id = r.skill_id
  LEFT JOIN survey_question q ON q.operation = r.operation AND q.question_no = a.question_no;
