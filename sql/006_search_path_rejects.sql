-- sql/006_search_path_rejects.sql
--   The SQL functions run only built-ins, whoever calls them.
--
--   The SQL functions resolve the names in their bodies (md5, ceil, the
--   operators) with the search_path of whoever calls them, when they are
--   called: a BI role whose search_path puts a schema other roles can
--   write to (public, before PostgreSQL 15) before pg_catalog would run
--   whatever was planted there. Pinned to pg_catalog (pg_temp last, as
--   PostgreSQL's documentation advises). Neither function is inlined by
--   the planner anyway (extract() of a timestamptz is only stable), so
--   the pin costs a few tenths of a microsecond per call and changes no
--   plan; the views call survey_response_id_floor() once per day and
--   operation.
--
--   Runs inside one transaction opened by wvetl, with search_path set to
--   the warehouse schema (see 001_init.sql).

ALTER FUNCTION survey_response_id(text, text, timestamptz, text, text)
	SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION survey_response_id_floor(timestamptz)
	SET search_path = pg_catalog, pg_temp;
