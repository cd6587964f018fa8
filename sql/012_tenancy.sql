-- sql/012_tenancy.sql
--   One warehouse, many clients: who may read which operation.
--
--   Readers (wvetl grant ROLE --operation NAME): a reader may read the BI
--   views, the dimensions and the rollups, and only the rows of its
--   operations; never survey_response, survey_answer or the etl_* tables
--   (permission denied), and never a personal column (ani, customer_id,
--   agent_dni) in clear. How:
--
--   * The views over survey_response and survey_answer run as their owner
--     (the loader): a reader has no privilege on those tables, so a view
--     running as the reader (security_invoker) could not read them at all.
--     Each of them starts from visible_operation, a security-barrier view
--     of the operations the querying role may read (current_user is the
--     reader inside a view): its operations and time zones, and reads_all,
--     true for a role that may read survey_response itself (the loader, an
--     administrator). Every survey and answer is then reached through a
--     LATERAL subquery parameterized by one of those operations and fenced
--     with OFFSET 0, so no condition of the reader's query (a function of
--     its own included) is ever evaluated on a row of another operation.
--     Personal columns are shown to a reader only when they hold a value
--     the load protected (privacy.* = hash: "hmac:" and 64 hex digits);
--     clear values are NULL for readers, whatever privacy.* says.
--   * agent, skill, survey_question (and the rollup tables, any table with
--     an operation column but the raw ones and etl_*) have row-level
--     security, forced on their owner too: a row is visible when its
--     operation is in visible_operation (or to a role that reads_all).
--     Forced, so the owner-run views above also get only the reader's rows
--     of them, filtered before any condition of the reader's query.
--   * Views over those tables only run as the reader (security_invoker),
--     so row-level security applies to the reader directly.
--   * reader_relation lists what `wvetl grant` gives SELECT on: of the
--     relations with an operation column, the tables with row-level
--     security, security_invoker views, and the views that read
--     visible_operation (directly or through another view). A view
--     added later that reads the raw tables without it is not listed, so
--     readers get no access to it rather than access to every operation.
--
--   Runs inside one transaction opened by wvetl, with search_path set to
--   the warehouse schema (see 001_init.sql).

-- etl_grant ---------------------------------------------------------------------

CREATE TABLE etl_grant
(
	operation  text        NOT NULL,
	role       text        NOT NULL,
	granted_at timestamptz NOT NULL,
	granted_by text        NOT NULL,
	PRIMARY KEY (operation, role)
);

CREATE INDEX etl_grant_role_idx ON etl_grant (role);

COMMENT ON TABLE etl_grant IS
	'Reader roles (wvetl grant ROLE --operation NAME) and the operations each may read through the BI views; wvetl revoke ROLE removes them. A member of a granted role (with INHERIT) reads what the role reads.';
COMMENT ON COLUMN etl_grant.granted_by IS 'current_user of the wvetl grant that added the row.';

-- visible_operation -----------------------------------------------------------------

CREATE VIEW visible_operation WITH (security_barrier) AS
SELECT s.operation, coalesce(s.timezone, 'America/Bogota') AS timezone, a.reads_all
  FROM etl_state s
 CROSS JOIN (SELECT has_table_privilege('survey_response'::regclass, 'SELECT') AS reads_all) a
 WHERE a.reads_all
	OR s.operation IN (SELECT g.operation
						 FROM etl_grant g
						 JOIN pg_roles r ON r.rolname = g.role
						WHERE pg_has_role(r.oid, 'USAGE'));

COMMENT ON VIEW visible_operation IS
	'The operations the querying role may read, with their time zones: all of them for a role that may read survey_response (reads_all), else those granted (etl_grant) to a role it has the privileges of.';

-- Row-level security on every table with an operation column, except
-- the raw tables and the ETL's bookkeeping (no reader reads those): the
-- dimensions, survey_question, and the rollups. Forced on the owner too,
-- for the owner-run views; the loader reads_all, so its own writes pass.
DO $$
DECLARE
	t record;
BEGIN
	FOR t IN
		SELECT c.relname
		  FROM pg_class c
		  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'operation' AND NOT a.attisdropped
		 WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'etl_grant'::regclass)
		   AND c.relkind IN ('r', 'p')
		   AND c.relname NOT IN ('survey_response', 'survey_answer', 'schema_migrations')
		   AND c.relname NOT LIKE 'etl\_%'
		 ORDER BY c.relname
	LOOP
		EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t.relname);
		EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t.relname);
		EXECUTE format('CREATE POLICY visible_operation ON %I'
					   ' USING ((SELECT has_table_privilege(%L::regclass, ''SELECT''))'
					   '        OR operation IN (SELECT v.operation FROM visible_operation v))',
					   t.relname, 'survey_response');
	END LOOP;
END
$$;

-- The views over survey_response and survey_answer, as in 003_bi.sql
-- (and its comments), but for: visible_operation as the calendar's
-- operations; personal columns in clear only for a role that reads_all.

CREATE OR REPLACE VIEW v_response AS
SELECT r.operation,
	   r.response_id,
	   r.answered_at,
	   (r.answered_at AT TIME ZONE o.timezone) AS answered_local,
	   g.day::date AS local_date,
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
  FROM visible_operation o
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

CREATE OR REPLACE VIEW v_answer AS
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
  FROM visible_operation o
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

-- The daily views read the rollups (010_rollups.sql), not these tables:
-- they run as the reader (below), under row-level security.

COMMENT ON COLUMN v_response.ani IS
	'The caller''s number: for a reader role (wvetl grant), only a protected value (privacy.ani = hash), else NULL.';
COMMENT ON COLUMN v_response.customer_id IS
	'For a reader role (wvetl grant), only a protected value (privacy.customer_id = hash), else NULL.';
COMMENT ON COLUMN v_response.agent_dni IS
	'For a reader role (wvetl grant), only a protected value (privacy.agent_dni = hash), else NULL.';

-- Views that read neither survey_response, survey_answer nor etl_* (the
-- rollup-based ones) run as the reader, under row-level security.
DO $$
DECLARE
	v record;
BEGIN
	FOR v IN
		WITH RECURSIVE
			reads(view, rel) AS (
				SELECT DISTINCT rw.ev_class, d.refobjid
				  FROM pg_rewrite rw
				  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
								  AND d.refclassid = 'pg_class'::regclass
								  AND d.refobjid <> rw.ev_class),
			raw(view) AS (
				SELECT r.view FROM reads r JOIN pg_class c ON c.oid = r.rel
				 WHERE c.relname IN ('survey_response', 'survey_answer') OR c.relname LIKE 'etl\_%'
				UNION
				SELECT r.view FROM reads r JOIN raw ON r.rel = raw.view)
		SELECT c.relname
		  FROM pg_class c
		 WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'etl_grant'::regclass)
		   AND c.relkind = 'v'
		   AND c.oid NOT IN (SELECT view FROM raw)
		 ORDER BY c.relname
	LOOP
		EXECUTE format('ALTER VIEW %I SET (security_invoker = true)', v.relname);
	END LOOP;
END
$$;

-- reader_relation -------------------------------------------------------------------

CREATE VIEW reader_relation AS
WITH RECURSIVE
	reads(view, rel) AS (
		SELECT DISTINCT rw.ev_class, d.refobjid
		  FROM pg_rewrite rw
		  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
						  AND d.refclassid = 'pg_class'::regclass
						  AND d.refobjid <> rw.ev_class),
	filtered(view) AS (
		SELECT view FROM reads WHERE rel = 'visible_operation'::regclass
		UNION
		SELECT r.view FROM reads r JOIN filtered f ON r.rel = f.view)
SELECT c.relname::text AS relation,
	   CASE WHEN c.relkind = 'v' THEN 'view' ELSE 'table' END AS kind,
	   CASE WHEN c.relkind <> 'v' THEN 'row-level security'
			WHEN c.reloptions @> ARRAY['security_invoker=true'] THEN 'runs as the reader'
			WHEN c.oid = 'visible_operation'::regclass THEN 'the reader''s operations'
			ELSE 'filtered by visible_operation' END AS why
  FROM pg_class c
 WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'etl_grant'::regclass)
   AND EXISTS (SELECT FROM pg_attribute a
				WHERE a.attrelid = c.oid AND a.attname = 'operation' AND NOT a.attisdropped)
   AND ((c.relkind IN ('r', 'p') AND c.relrowsecurity AND c.relforcerowsecurity)
		OR (c.relkind = 'v' AND (c.reloptions @> ARRAY['security_invoker=true']
								 OR c.oid = 'visible_operation'::regclass
								 OR c.oid IN (SELECT view FROM filtered))));

COMMENT ON VIEW reader_relation IS
	'What wvetl grant gives a reader SELECT on: relations with an operation column that are tables with forced row-level security, views that run as the reader, or views filtered by visible_operation (directly or through another view). wvetl migrate grants new ones to the roles in etl_grant.';
