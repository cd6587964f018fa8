-- sql/citus/903_reader_access.sql
--   Reader roles (wvetl grant) on Citus: v_response, v_answer and
--   v_survey_wide with the rules of sql/012_tenancy.sql, for readers who
--   cannot read survey_response or survey_answer.
--
--   On one node those views run as the loader that owns them, so a reader
--   needs no privilege on the raw tables. Citus does not carry that over:
--   it runs the shard queries on the workers as the querying role
--   (current_user), which may not read the shards ("permission denied for
--   table survey_response_102008"; Citus issues 1683 and 6161). Giving
--   readers SELECT on the shards is no answer: any role may run SQL on the
--   workers as itself through run_command_on_workers(). So on Citus the
--   raw tables are read by SECURITY DEFINER functions, whose shard queries
--   run as their owner, the loader:
--   - wv_reader_check(caller, operation) is the gate each of them passes
--     first. The view hands it current_user (the reader: a view does not
--     change it). A function can be called directly with any caller, so it
--     accepts only a caller the session could become with SET ROLE (its
--     session_user, or a role that user is a member of, with the SET
--     option from PostgreSQL 16): claiming one gives nothing that SET ROLE
--     would not. Then the caller must read the operation as
--     visible_operation says: a role that can read survey_response
--     (reads_all), or one with the privileges of a role granted it. It
--     returns reads_all.
--   - wv_reader_span(caller, operation): the first and last answered_at of
--     the operation (the calendar's ends, as on one node).
--   - wv_reader_responses / wv_reader_answers / wv_reader_wide (caller,
--     operation, a range): one day of surveys, of answers (by the day's
--     response_id range, as 003_bi.sql's v_answer), of surveys with
--     q01..q10. Personal columns come out as on one node: in clear for a
--     caller that reads_all, else only a protected value ("hmac:" and 64
--     hex digits), else NULL.
--   The views walk visible_operation's operations and their calendar of
--   local days as on one node (a condition on local_date keeps the days
--   asked for; a day's function runs once, its query on every shard in
--   parallel), and join the dimensions and questions, tables of the
--   coordinator under row-level security, as the reader. A condition of
--   the reader's query, a function of its own included, sees only the rows
--   the functions returned: the reader's operations.
--
--   Applied after 902_views, on a Citus coordinator only.

CREATE FUNCTION wv_reader_check(caller name, op text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
	reads_all boolean;
BEGIN
	IF caller IS NULL OR NOT pg_has_role(session_user, caller,
			CASE WHEN current_setting('server_version_num')::int >= 160000
				 THEN 'SET' ELSE 'MEMBER' END) THEN
		RAISE EXCEPTION 'role % cannot act as role %', session_user, caller
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	reads_all := has_table_privilege(caller, 'survey_response'::regclass, 'SELECT');
	IF NOT reads_all AND NOT EXISTS (
			SELECT 1 FROM etl_grant g JOIN pg_roles r ON r.rolname = g.role
			 WHERE g.operation = op AND pg_has_role(caller, r.oid, 'USAGE')) THEN
		RAISE EXCEPTION 'role % may not read operation %', caller, op
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN reads_all;
END
$$;

CREATE FUNCTION wv_reader_span(caller name, op text, OUT lo timestamptz, OUT hi timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
BEGIN
	PERFORM wv_reader_check(caller, op);
	SELECT min(x.answered_at), max(x.answered_at) INTO lo, hi
	  FROM survey_response x WHERE x.operation = op;
END
$$;

CREATE FUNCTION wv_reader_responses(caller name, op text, lo timestamptz, hi timestamptz)
RETURNS TABLE (operation text, response_id bigint, answered_at timestamptz,
			   agent_id text, agent_name text, agent_dni text,
			   skill_id text, skill_name text, type_interaction text,
			   result text, feeling text, conn_id text, ani text, customer_id text,
			   duration_s integer, voice_message_duration_s integer, voice_message text)
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 1000 AS $$
#variable_conflict use_column
DECLARE
	ra boolean := wv_reader_check(caller, op);
BEGIN
	RETURN QUERY
	SELECT x.operation, x.response_id, x.answered_at, x.agent_id, x.agent_name,
		   CASE WHEN ra OR x.agent_dni ~ '^hmac:[0-9a-f]{64}$' THEN x.agent_dni END,
		   x.skill_id, x.skill_name, x.type_interaction, x.result, x.feeling, x.conn_id,
		   CASE WHEN ra OR x.ani ~ '^hmac:[0-9a-f]{64}$' THEN x.ani END,
		   CASE WHEN ra OR x.customer_id ~ '^hmac:[0-9a-f]{64}$' THEN x.customer_id END,
		   x.duration_s, x.voice_message_duration_s, x.voice_message
	  FROM survey_response x
	 WHERE x.operation = op AND x.answered_at >= lo AND x.answered_at < hi;
END
$$;

CREATE FUNCTION wv_reader_answers(caller name, op text, lo bigint, hi bigint)
RETURNS TABLE (operation text, response_id bigint, answered_at timestamptz,
			   agent_id text, agent_name text, skill_id text, skill_name text,
			   type_interaction text, result text, feeling text,
			   question_no integer, answer_text text, answer_num numeric,
			   conn_id text, duration_s integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 4000 AS $$
#variable_conflict use_column
BEGIN
	PERFORM wv_reader_check(caller, op);
	RETURN QUERY
	SELECT x.operation, x.response_id, x.answered_at, x.agent_id, x.agent_name,
		   x.skill_id, x.skill_name, x.type_interaction, x.result, x.feeling,
		   a.question_no, a.answer_text, a.answer_num, x.conn_id, x.duration_s
	  FROM survey_response x
	  JOIN survey_answer a ON a.response_id = x.response_id
	 WHERE x.operation = op
	   AND x.response_id >= lo AND x.response_id < hi
	   AND a.response_id >= lo AND a.response_id < hi;
END
$$;

CREATE FUNCTION wv_reader_wide(caller name, op text, lo timestamptz, hi timestamptz)
RETURNS TABLE (operation text, response_id bigint, answered_at timestamptz,
			   agent_id text, agent_name text, skill_id text, skill_name text,
			   type_interaction text, result text, feeling text, conn_id text,
			   ani text, customer_id text, duration_s integer, voice_message_duration_s integer,
			   q01 numeric, q02 numeric, q03 numeric, q04 numeric, q05 numeric,
			   q06 numeric, q07 numeric, q08 numeric, q09 numeric, q10 numeric,
			   q01_text text, q02_text text, q03_text text, q04_text text, q05_text text,
			   q06_text text, q07_text text, q08_text text, q09_text text, q10_text text)
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 1000 AS $$
#variable_conflict use_column
DECLARE
	ra boolean := wv_reader_check(caller, op);
BEGIN
	-- Grouped by the distribution column: each shard pivots its own
	-- surveys' answers (found by the primary key, as on one node).
	RETURN QUERY
	SELECT x.operation, x.response_id, x.answered_at, x.agent_id, x.agent_name,
		   x.skill_id, x.skill_name, x.type_interaction, x.result, x.feeling, x.conn_id,
		   CASE WHEN ra OR x.ani ~ '^hmac:[0-9a-f]{64}$' THEN x.ani END,
		   CASE WHEN ra OR x.customer_id ~ '^hmac:[0-9a-f]{64}$' THEN x.customer_id END,
		   x.duration_s, x.voice_message_duration_s,
		   max(a.answer_num) FILTER (WHERE a.question_no = 1),
		   max(a.answer_num) FILTER (WHERE a.question_no = 2),
		   max(a.answer_num) FILTER (WHERE a.question_no = 3),
		   max(a.answer_num) FILTER (WHERE a.question_no = 4),
		   max(a.answer_num) FILTER (WHERE a.question_no = 5),
		   max(a.answer_num) FILTER (WHERE a.question_no = 6),
		   max(a.answer_num) FILTER (WHERE a.question_no = 7),
		   max(a.answer_num) FILTER (WHERE a.question_no = 8),
		   max(a.answer_num) FILTER (WHERE a.question_no = 9),
		   max(a.answer_num) FILTER (WHERE a.question_no = 10),
		   max(a.answer_text) FILTER (WHERE a.question_no = 1),
		   max(a.answer_text) FILTER (WHERE a.question_no = 2),
		   max(a.answer_text) FILTER (WHERE a.question_no = 3),
		   max(a.answer_text) FILTER (WHERE a.question_no = 4),
		   max(a.answer_text) FILTER (WHERE a.question_no = 5),
		   max(a.answer_text) FILTER (WHERE a.question_no = 6),
		   max(a.answer_text) FILTER (WHERE a.question_no = 7),
		   max(a.answer_text) FILTER (WHERE a.question_no = 8),
		   max(a.answer_text) FILTER (WHERE a.question_no = 9),
		   max(a.answer_text) FILTER (WHERE a.question_no = 10)
	  FROM survey_response x
	  LEFT JOIN survey_answer a ON a.response_id = x.response_id AND a.question_no <= 10
	 WHERE x.operation = op AND x.answered_at >= lo AND x.answered_at < hi
	 GROUP BY x.response_id;
END
$$;

-- Their names resolve in pg_catalog and the warehouse schema only,
-- whoever calls them (see 006_search_path_rejects.sql).
DO $$
DECLARE
	f text;
BEGIN
	FOREACH f IN ARRAY ARRAY['wv_reader_check(name, text)', 'wv_reader_span(name, text)',
							 'wv_reader_responses(name, text, timestamptz, timestamptz)',
							 'wv_reader_answers(name, text, bigint, bigint)',
							 'wv_reader_wide(name, text, timestamptz, timestamptz)']
	LOOP
		EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', f, current_schema());
	END LOOP;
END
$$;

-- The views: each walks the calendar of every visible operation's local
-- days, from its first survey to its last (003_bi.sql), and calls its
-- day's function; the calendar and the joins of the dimensions are the
-- same for the three, written once here (cal; %1$s is the day's function
-- call).
DO $$
DECLARE
	cal constant text :=
		' FROM visible_operation o'
		' CROSS JOIN LATERAL wv_reader_span(current_user, o.operation) b'
		' CROSS JOIN LATERAL generate_series((b.lo AT TIME ZONE o.timezone)::date::timestamp,'
		'                                    (b.hi AT TIME ZONE o.timezone)::date::timestamp,'
		'                                    interval ''1 day'') AS g(day)'
		' CROSS JOIN LATERAL %1$s r'
		'  LEFT JOIN agent ag ON ag.operation = r.operation AND ag.agent_id = r.agent_id'
		'  LEFT JOIN skill sk ON sk.operation = r.operation AND sk.skill_id = r.skill_id';
	day_range constant text :=
		'(current_user, o.operation, g.day AT TIME ZONE o.timezone,'
		' (g.day + interval ''1 day'') AT TIME ZONE o.timezone)';
BEGIN
	EXECUTE 'CREATE OR REPLACE VIEW v_response AS SELECT'
		' r.operation, r.response_id, r.answered_at,'
		' (r.answered_at AT TIME ZONE o.timezone) AS answered_local,'
		' g.day::date AS local_date, o.timezone, r.agent_id,'
		' coalesce(ag.agent_name, r.agent_name) AS agent_name, r.agent_dni, r.skill_id,'
		' coalesce(sk.skill_name, r.skill_name) AS skill_name,'
		' r.type_interaction, r.result, r.feeling, r.conn_id, r.ani, r.customer_id,'
		' r.duration_s, r.voice_message_duration_s, r.voice_message,'
		' r.agent_name AS agent_name_sent, r.skill_name AS skill_name_sent'
		|| format(cal, 'wv_reader_responses' || day_range);

	-- v_answer's day is the day's response_id range, as in 003_bi.sql.
	EXECUTE 'CREATE OR REPLACE VIEW v_answer AS SELECT'
		' r.operation, r.response_id, r.answered_at,'
		' (r.answered_at AT TIME ZONE o.timezone) AS answered_local,'
		' g.day::date AS local_date, r.agent_id,'
		' coalesce(ag.agent_name, r.agent_name) AS agent_name, r.skill_id,'
		' coalesce(sk.skill_name, r.skill_name) AS skill_name,'
		' r.type_interaction, r.result, r.feeling, r.question_no,'
		' coalesce(q.label, ''q'' || lpad(r.question_no::text, 2, ''0'')) AS question,'
		' q.label AS question_label, r.answer_text, r.answer_num, q.scale_min, q.scale_max,'
		' (r.answer_num >= q.scale_max) AS is_top, r.conn_id, r.duration_s'
		|| format(cal, 'wv_reader_answers(current_user, o.operation,'
					   ' survey_response_id_floor(g.day AT TIME ZONE o.timezone),'
					   ' survey_response_id_floor((g.day + interval ''1 day'') AT TIME ZONE o.timezone))')
		|| ' LEFT JOIN survey_question q ON q.operation = r.operation AND q.question_no = r.question_no';

	EXECUTE 'CREATE OR REPLACE VIEW v_survey_wide AS SELECT'
		' r.operation, r.response_id, r.answered_at,'
		' (r.answered_at AT TIME ZONE o.timezone) AS answered_local,'
		' g.day::date AS local_date, r.agent_id,'
		' coalesce(ag.agent_name, r.agent_name) AS agent_name, r.skill_id,'
		' coalesce(sk.skill_name, r.skill_name) AS skill_name,'
		' r.type_interaction, r.result, r.feeling, r.conn_id, r.ani, r.customer_id,'
		' r.duration_s, r.voice_message_duration_s,'
		' r.q01, r.q02, r.q03, r.q04, r.q05, r.q06, r.q07, r.q08, r.q09, r.q10,'
		' r.q01_text, r.q02_text, r.q03_text, r.q04_text, r.q05_text,'
		' r.q06_text, r.q07_text, r.q08_text, r.q09_text, r.q10_text'
		|| format(cal, 'wv_reader_wide' || day_range);
END
$$;
