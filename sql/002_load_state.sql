-- sql/002_load_state.sql
--   Run bookkeeping for the per-operation lock: which PostgreSQL session a
--   run is, so that a process refused the lock can name the run that holds
--   it, and runs refused the lock are recorded too.
--
--   Runs inside one transaction opened by wvetl, with search_path set to
--   the warehouse schema (see 001_init.sql).

ALTER TABLE etl_run ADD COLUMN backend_pid integer;

COMMENT ON COLUMN etl_run.backend_pid IS
	'pg_backend_pid() of the run''s session: the session that holds the operation''s advisory lock while the run is running.';
COMMENT ON COLUMN etl_run.pid IS 'Process id of wvetl on host.';
COMMENT ON COLUMN etl_run.status IS
	'running; ok, failed, interrupted, try_later (the token''s daily limit), locked (refused: another run held the operation''s lock; error names it), config_error (refused: e.g. a first sync without sync.start), or abandoned (the process went away while running).';
