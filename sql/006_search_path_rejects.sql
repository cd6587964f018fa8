-- sql/006_search_path_rejects.sql
--   Two things the loader's own safety and the operator's view of rejects
--   need.
--
--   1. The SQL functions resolve the names in their bodies (md5, ceil, the
--      operators) with the search_path of whoever calls them, when they are
--      called: a BI role whose search_path puts a schema other roles can
--      write to (public, before PostgreSQL 15) before pg_catalog would run
--      whatever was planted there. Pinned to pg_catalog (pg_temp last, as
--      PostgreSQL's documentation advises). Neither function is inlined by
--      the planner anyway (extract() of a timestamptz is only stable), so
--      the pin costs a few tenths of a microsecond per call and changes no
--      plan; the views call survey_response_id_floor() once per day and
--      operation.
--
--   2. A reject is resolved when the window it came in is loaded again and
--      the record is no longer rejected (it loaded, or the API no longer
--      sends it): a reload of its window (`wvetl backfill --reload`) is how
--      it is retried once the cause is fixed. A reject seen again is open
--      again.
--
--   Runs inside one transaction opened by wvetl, with search_path set to
--   the warehouse schema (see 001_init.sql).

ALTER FUNCTION survey_response_id(text, text, timestamptz, text, text)
	SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION survey_response_id_floor(timestamptz)
	SET search_path = pg_catalog, pg_temp;

ALTER TABLE etl_reject
	ADD COLUMN resolved_at timestamptz,
	ADD COLUMN resolved_run bigint;

-- The open rejects of an operation, by window: what each committing window
-- looks up (load/window.c).
CREATE INDEX etl_reject_open_idx ON etl_reject (operation, window_from)
	WHERE resolved_at IS NULL;

COMMENT ON COLUMN etl_reject.resolved_at IS
	'When a later load of a window containing [window_from, window_to) no longer rejected the record: it loaded, or the API no longer sends it. NULL: still open. Set back to NULL when the same record is rejected again.';
COMMENT ON COLUMN etl_reject.resolved_run IS 'etl_run.run_id of the load that resolved the reject.';
