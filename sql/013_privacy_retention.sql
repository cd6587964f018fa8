-- sql/013_privacy_retention.sql
--   What an operation's stored rows are, beyond their values: the privacy
--   settings they were loaded with, and how far back retention has
--   deleted them; and a note on a run whose outcome is not a count of
--   records.
--
--   * etl_state.privacy_*: privacy.ani, privacy.customer_id and
--     privacy.agent_dni (keep, hash, drop) of the operation's loads,
--     written by its first loaded window. A load with other settings, for
--     an operation with data, is refused (load/privacy_record.c) until
--     `wvetl migrate --change-privacy` records the new ones. NULL: not
--     recorded yet (a warehouse loaded before this migration): the next
--     load records its own.
--   * etl_state.pruned_before: `wvetl prune` deleted the operation's
--     surveys, answers and rejects before this time (a local midnight of
--     the operation's zone); the rollups keep those days, so whatever
--     compares rollups with the surveys skips the days before it. Only
--     moves forward.
--   * etl_run.note: what a run did when records and their counters do not
--     say it (prune: the rows and files it deleted; change_privacy: the
--     settings before and after).
--
--   Runs inside one transaction opened by wvetl, with search_path set to
--   the warehouse schema (see 001_init.sql).

ALTER TABLE etl_state ADD COLUMN privacy_ani text;
ALTER TABLE etl_state ADD COLUMN privacy_customer_id text;
ALTER TABLE etl_state ADD COLUMN privacy_agent_dni text;
ALTER TABLE etl_state ADD COLUMN pruned_before timestamptz;
ALTER TABLE etl_run ADD COLUMN note text;

COMMENT ON COLUMN etl_state.privacy_ani IS
	'privacy.ani (keep, hash, drop) the operation''s surveys are loaded with; changed only by wvetl migrate --change-privacy once it has data. NULL: not recorded yet.';
COMMENT ON COLUMN etl_state.privacy_customer_id IS
	'privacy.customer_id the operation''s surveys are loaded with (see privacy_ani).';
COMMENT ON COLUMN etl_state.privacy_agent_dni IS
	'privacy.agent_dni the operation''s surveys are loaded with (see privacy_ani).';
COMMENT ON COLUMN etl_state.pruned_before IS
	'wvetl prune deleted the operation''s surveys, answers and rejects before this time (a local midnight); the rollups keep those days. Only moves forward. NULL: never pruned.';
COMMENT ON COLUMN etl_run.note IS
	'What the run did beyond its counters: for prune, the rows and archive files deleted; for change_privacy, the settings before and after.';
