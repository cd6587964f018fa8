# tests/integration/t0703-rollups.sh - the rollups kept by the load, and
# every figure of the views that read them.
#
# Proves: 400 known records over four local days (two weeks, two months;
# rollup_records.py), loaded by a backfill in one-day windows (the fast
# path, one day with in-answer duplicates), give views whose every figure
# (per day, week and month; per agent, skill and hour; per question:
# answers, average, distribution, top answers, CSAT, NPS, CES, yes share)
# equals what Python computes from the records on its own. Then the same
# days reloaded with a tenth of the records changed (answers removed or
# changed, result and feeling changed, an agent renamed; --reload, the
# merge path, with and without repeats in the answer) give the figures of
# the changed records, and a reload with nothing changed leaves them. The
# rollups equal what rollup_day_survey()/rollup_day_answer() compute from
# the base tables, and migrate fills the rollups of a warehouse loaded
# before them (the rollup tables emptied, migration 10 run again).

rr() { "$WV_PY" "$WV_TOP/tests/integration/rollup_records.py" "$@"; }
# rr_serve V: the mock serves version V (the JSON is too long for argv).
rr_serve()
{
	rr control "$1" >"$WV_TMP/control.json"
	curl -fsS -X POST -H 'Content-Type: application/json' -d @"$WV_TMP/control.json" \
		"http://127.0.0.1:$WV_PORT/_control" >/dev/null
}

# base_diff: rollup rows (days) that differ from what the base tables give.
base_diff()
{
	psql_q "SET search_path TO wolkvox;
	SELECT (SELECT count(*) FROM (
	  (SELECT dim, period_start, key_id, surveys, completed, with_feeling, positive, very_positive
	     FROM rollup_survey WHERE period = 'day'
	   EXCEPT ALL SELECT * FROM rollup_day_survey('test', NULL, NULL))
	  UNION ALL
	  (SELECT * FROM rollup_day_survey('test', NULL, NULL)
	   EXCEPT ALL SELECT dim, period_start, key_id, surveys, completed, with_feeling, positive,
	                     very_positive FROM rollup_survey WHERE period = 'day')) x)
	     + (SELECT count(*) FROM (
	  (SELECT dim, period_start, key_id, question_no, value, answer_num, answers
	     FROM rollup_answer WHERE period = 'day'
	   EXCEPT ALL SELECT * FROM rollup_day_answer('test', NULL, NULL))
	  UNION ALL
	  (SELECT * FROM rollup_day_answer('test', NULL, NULL)
	   EXCEPT ALL SELECT dim, period_start, key_id, question_no, value, answer_num, answers
	                FROM rollup_answer WHERE period = 'day')) y)"
}

rr_serve 0
wv_expect 0 backfill --from 2026-03-29 --to 2026-04-02
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window WHERE mode <> 'fast'")" \
	"every window took the fast path"
[ "$(psql_q "SELECT sum(duplicates) FROM wolkvox.etl_window")" -gt 0 ] ||
	fail "the records must hold in-answer duplicates"
wv_expect 0 questions set 1 --kind csat --min 1 --max 5
assert_contains "$(cat "$WV_TMP/out")" "kind csat" "questions set shows the kind"
wv_expect 0 questions set 2 --kind nps --min 0 --max 10
wv_expect 0 questions set 3 --kind ces
wv_expect 0 questions set 4 --kind yes_no
wv_expect 0 questions set 5 --kind text
wv_expect 2 questions set 6 --kind stars
assert_contains "$(cat "$WV_TMP/err")" "csat, nps, ces, yes_no or text" "an unknown kind is a usage error"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.rollup_survey WHERE surveys <= 0")" \
	"no rollup row without surveys"
assert_eq "0" "$(base_diff)" "fast path: the rollups equal what the base tables give"
rr check 0 || fail "fast path: the views differ from the records"

# A tenth changed, reloaded through the merge path (2026-03-30 holds
# repeats: its stage is merged with them; the other days without).
rr_serve 1
wv_expect 0 backfill --from 2026-03-29 --to 2026-04-02 --reload
assert_eq 4 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window WHERE mode = 'merge'")" \
	"the reload merged every day"
assert_eq "Bob Renamed" "$(psql_q "SELECT agent_name FROM wolkvox.agent WHERE agent_id = '1002'")" \
	"the renamed agent has its new name"
assert_eq "0" "$(base_diff)" "merge path: the rollups equal what the base tables give"
rr check 1 || fail "merge path: the views differ from the changed records"

# The same again: nothing changed, nothing moves.
before=$(psql_q "SELECT md5(string_agg(r::text, ',' ORDER BY r::text)) FROM wolkvox.rollup_answer r")
wv_expect 0 backfill --from 2026-03-29 --to 2026-04-02 --reload
assert_eq "$before" \
	"$(psql_q "SELECT md5(string_agg(r::text, ',' ORDER BY r::text)) FROM wolkvox.rollup_answer r")" \
	"a reload of unchanged records leaves the rollups"
rr check 1 || fail "unchanged reload: the views differ"

# Back to version 0: the changes undone, rows that came with them removed.
rr_serve 0
wv_expect 0 backfill --from 2026-03-29 --to 2026-04-02 --reload
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.rollup_answer WHERE answers <= 0")" \
	"no rollup row without answers"
rr check 0 || fail "reload back to version 0: the views differ"

# A warehouse loaded before the rollups: migrate fills them.
# (one statement at a time: Citus refuses ALTER TABLE ... DROP COLUMN of a
# reference table among others)
for sql in "DELETE FROM wolkvox.schema_migrations WHERE version = 10" \
	"DROP TABLE wolkvox.rollup_survey, wolkvox.rollup_answer CASCADE" \
	"DROP FUNCTION wolkvox.rollup_day_survey, wolkvox.rollup_day_answer,
	               wolkvox.rollup_fold_periods, wolkvox.rollup_value_key, wolkvox.rollup_rebuild" \
	"ALTER TABLE wolkvox.survey_question DROP COLUMN kind"; do
	psql_q "$sql" >/dev/null 2>&1 || fail "undoing migration 10: $sql"
done
wv_expect 0 migrate
assert_contains "$(cat "$WV_TMP/err")" "010_rollups" "migration 10 ran again"
wv_expect 0 questions set 1 --kind csat
wv_expect 0 questions set 2 --kind nps
wv_expect 0 questions set 3 --kind ces
wv_expect 0 questions set 4 --kind yes_no
wv_expect 0 questions set 5 --kind text
rr check 0 || fail "migrate: the filled rollups differ from the records"
