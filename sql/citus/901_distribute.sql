-- sql/citus/901_distribute.sql
--   The warehouse on a Citus cluster (database.citus = on): wvetl applies
--   the files of sql/citus/ after sql/NNN_*.sql, on a Citus coordinator
--   only, recorded in schema_migrations under their own numbers (900 and
--   up). This one is run again by every migrate that applied a migration,
--   so that the tables later migrations add are distributed too; it only
--   touches tables Citus does not manage yet.
--
--   survey_response and survey_answer are distributed on response_id,
--   colocated: a survey and its answers live on one shard, so joining them
--   on response_id, and the merge's upserts and deletes, run on each
--   worker without moving rows. Every other table of the schema (the agent
--   and skill dimensions, survey_question, etl_state, etl_window, etl_run,
--   etl_reject, and the rollup and tenancy tables when they exist) becomes
--   a reference table, copied whole to every node: they are small, and the
--   views join them with the distributed tables, which Citus only does for
--   reference (or colocated) tables. schema_migrations stays a plain table
--   on the coordinator.
--
--   A warehouse loaded on one node is distributed in place: each
--   create_*_table() copies the table's rows to the shards, holding a lock
--   that blocks writes (not reads) to that table meanwhile (README
--   "Running on Citus" gives the cost).
--
--   Runs inside one transaction opened by wvetl, with search_path set to
--   the warehouse schema.

DO $$
DECLARE
	t regclass;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_dist_partition
				   WHERE logicalrelid = 'survey_response'::regclass) THEN
		PERFORM create_distributed_table('survey_response', 'response_id');
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_dist_partition
				   WHERE logicalrelid = 'survey_answer'::regclass) THEN
		PERFORM create_distributed_table('survey_answer', 'response_id',
										 colocate_with => 'survey_response');
	END IF;
	FOR t IN
		SELECT c.oid::regclass
		  FROM pg_class c
		 WHERE c.relnamespace = current_schema()::regnamespace
		   AND c.relkind IN ('r', 'p')
		   AND c.relname <> 'schema_migrations'
		   AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)
		 ORDER BY c.relname
	LOOP
		PERFORM create_reference_table(t);
	END LOOP;
END
$$;
