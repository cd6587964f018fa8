-- sql/004_content_hash.sql
--   A hash of everything a record writes, so that loading a window again
--   finds the records that changed without comparing their answers: a
--   reload rewrites only those (load/window.c).
--
--   Runs inside one transaction opened by wvetl, with search_path set to
--   the warehouse schema (see 001_init.sql).

ALTER TABLE survey_response ADD COLUMN content_hash bigint;

COMMENT ON COLUMN survey_response.content_hash IS
	'Load metadata: a 64-bit xxHash (XXH3) of the record''s values and its answers as wvetl wrote them. A reload rewrites a response and its answers only when this differs; NULL (rows written by anything else) always counts as different.';
