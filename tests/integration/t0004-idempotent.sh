# tests/integration/t0004-idempotent.sh - loading again never duplicates or
# changes a row (contract rule 1).
#
# Proves: after a backfill, a second backfill of the same range, and a
# backfill over misaligned windows that overlap the loaded ones (a range
# starting and ending mid-day), leave survey_response and survey_answer
# with the same checksum (every contract column, answers included; load
# times and run ids excluded) and the same counts: the server's records
# minus rejects minus in-answer duplicates. That holds for identities with
# NULL parts (placeholder agent_id/skill_id: a NULL equals a NULL for
# identity). A further range overlapping the end and reaching past it
# leaves the whole set exactly as check_rows.py derives it.

wv_expect 0 backfill --from 2026-01-05 --to 2026-01-09
c1=$(wv_checksum wolkvox)
read -r records rows answers rejects dups <<<"$(wv_expected_counts 2026-01-05 2026-01-09)"
assert_eq "$((records - rejects - dups))" "$rows" "checker arithmetic"
assert_eq "$rows" "$(psql_q "SELECT count(*) FROM wolkvox.survey_response")" "rows after the first load"
assert_eq "$answers" "$(psql_q "SELECT count(*) FROM wolkvox.survey_answer")" "answers after the first load"
nullid=$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE agent_id IS NULL OR skill_id IS NULL")
[ "$nullid" -gt 0 ] || fail "the data set must hold identities with NULL parts"

wv_expect 0 backfill --from 2026-01-05 --to 2026-01-09
assert_eq "$c1" "$(wv_checksum wolkvox)" "same range again: checksum unchanged"
assert_eq "$rows" "$(psql_q "SELECT count(*) FROM wolkvox.survey_response")" "same range again: rows"

wv_expect 0 backfill --from "2026-01-06 12:00:00" --to "2026-01-08 06:00:00"
assert_eq "$c1" "$(wv_checksum wolkvox)" "misaligned overlapping range: checksum unchanged"
assert_eq "$rows" "$(psql_q "SELECT count(*) FROM wolkvox.survey_response")" "overlap: rows"
assert_eq "$answers" "$(psql_q "SELECT count(*) FROM wolkvox.survey_answer")" "overlap: answers"

wv_expect 0 backfill --from 2026-01-08 --to 2026-01-11
check_rows --from 2026-01-05 --to 2026-01-11 --rejects any
assert_eq '[]' "$(wv_stat 's["violations"]')" "no API limit was broken"
