-- sql/citus/901_distribute.sql
--   The warehouse on a Citus cluster (database.citus = on): wvetl applies
--   the files of sql/citus/ after sql/NNN_*.sql, on a Citus coordinator
--   only, recorded in schema_migrations under their own numbers (900 and
--   up), each once.
--
--   survey_response and survey_answer are distributed on response_id,
--   colocated: a survey and its answers live on one shard, so joining them
--   on response_id, and the merge's upserts and deletes, run on each
--   worker without moving rows. Every other table (dimensions,
--   survey_question, rollups, etl_*, schema_migrations) stays a plain
--   table of the coordinator:
--   - they are small, and nothing joins them with the distributed tables
--     on the workers: the loader reads and writes them apart, and the
--     views that join the dimensions or survey_question with the surveys
--     get them shipped to the workers as intermediate results (Citus's
--     local table joins; visible_operation is computed on the coordinator:
--     sql/citus/902_views.sql);
--   - the row-level security of sql/012_tenancy.sql works on them as on
--     one node: Citus 13 refuses a policy with a subquery (theirs read
--     visible_operation) on a distributed or reference table, and runs the
--     shard queries of reference tables as the querying role, which the
--     owner-run visible_operation relies on not happening;
--   - a window's bookkeeping (etl_window, etl_state, etl_run, etl_reject,
--     the rollups) is written on one node, not on every node through
--     two-phase commit as a reference table's would be.
--   A table a later migration adds stays on the coordinator too.

--   A warehouse loaded on one node is distributed in place: each
--   create_distributed_table() copies the table's rows to the shards,
--   holding a lock that blocks writes (not reads) to that table meanwhile,
--   and truncate_local_data_after_distributing_table() frees the
--   coordinator's copy, which Citus otherwise keeps, unseen (README
--   "Running on Citus" gives the cost).
--
--   Runs inside one transaction opened by wvetl, with search_path set to
--   the warehouse schema.

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_dist_partition
				   WHERE logicalrelid = 'survey_response'::regclass) THEN
		PERFORM create_distributed_table('survey_response', 'response_id');
		PERFORM truncate_local_data_after_distributing_table('survey_response');
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_dist_partition
				   WHERE logicalrelid = 'survey_answer'::regclass) THEN
		PERFORM create_distributed_table('survey_answer', 'response_id',
										 colocate_with => 'survey_response');
		PERFORM truncate_local_data_after_distributing_table('survey_answer');
	END IF;
END
$$;
