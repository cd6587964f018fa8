# tests/integration/t0512-rejects.sh - rejected records are retried by
# loading their window again, and a reject that then loads is resolved
# (README "Tables", etl_reject).
#
# Proves: a day whose answer holds four records without a readable date
# keeps four open rejects; once the API sends one of them with a valid date,
# a reload of half the day resolves nothing (the rejects' window is not
# contained in it), a reload of the day loads that record and marks its
# reject resolved by that run, and the other three, rejected again, stay
# open; when the API sends the bad version again, its reject is open again
# (one row, not two).

bad='{"conn_id":"fix.1","agent_id":"9","skill_id":"1","date":"2026-01-05 25:61:00","_mock_at":"2026-01-05 10:00:00"}'
good='{"conn_id":"fix.1","agent_id":"9","skill_id":"1","date":"2026-01-05 10:00:00"}'
open_rejects()
{
	psql_q "SELECT count(*) FROM wolkvox.etl_reject WHERE resolved_at IS NULL"
}

wv_control "{\"records\":[$bad]}"
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-06
assert_eq 4 "$(open_rejects)" "three built-in rejects and the bad record"
assert_eq 1 "$(psql_q "SELECT count(*) FROM wolkvox.etl_reject WHERE raw_record LIKE '%fix.1%'")" \
	"the bad record is a reject"

wv_control '{"reset":true}'
wv_control "{\"records\":[$good]}"
wv_expect 0 backfill --reload --from 2026-01-05 --to "2026-01-05 12:00:00"
assert_eq 4 "$(open_rejects)" "a reload of half the day resolves no reject of the whole day"

wv_expect 0 backfill --reload --from 2026-01-05 --to 2026-01-06
run=$(psql_q "SELECT max(run_id) FROM wolkvox.etl_run")
assert_eq 3 "$(open_rejects)" "the reload of the day leaves three open"
assert_eq "$run" "$(psql_q "SELECT resolved_run FROM wolkvox.etl_reject WHERE raw_record LIKE '%fix.1%' AND resolved_at IS NOT NULL")" \
	"the fixed record's reject is resolved by the reload"
assert_eq 1 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE conn_id = 'fix.1'")" \
	"the fixed record is loaded"
assert_contains "$(cat "$WV_TMP/err")" "1 earlier reject(s) of this window no longer rejected: marked resolved" \
	"the log says so"

wv_control '{"reset":true}'
wv_control "{\"records\":[$bad]}"
wv_expect 0 backfill --reload --from 2026-01-05 --to 2026-01-06
assert_eq 4 "$(open_rejects)" "the bad version again: its reject is open again"
assert_eq 4 "$(psql_q "SELECT count(*) FROM wolkvox.etl_reject")" "one row per reject, still"
