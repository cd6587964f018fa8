# tests/integration/t0512-rejects.sh - `wvetl rejects` lists the rejected
# records still open; they are retried by loading their window again, and
# a reject that then loads is resolved (README "Rejected records").
#
# Proves: a day whose answer holds four records without a readable date
# keeps four open rejects, which `wvetl rejects` lists with their window,
# reason and record, and ends with the command that retries them;
# --json gives one object per line whose raw_record is the record as the
# API sent it; --from/--to narrow the list to the windows that meet the
# range. Once the API sends one of them with a valid date, a reload of half
# the day resolves nothing (the rejects' window is not contained in it);
# the command `wvetl rejects` printed, run as printed, loads that record and
# marks its reject resolved by that run, and the other three, rejected
# again, stay open; status and rejects say so. When the API sends the bad
# version again, its reject is open again (one row, not two).

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

wv_expect 0 rejects
out=$(cat "$WV_TMP/out")
echo "$out"
assert_contains "$out" "operation test (times in America/Bogota): 4 open reject(s)" "rejects: the count"
assert_contains "$out" "window [2026-01-05 00:00:00, 2026-01-06 00:00:00), seen " "rejects: the window"
assert_contains "$out" "  reason  unreadable date \"2026-01-05 25:61:00\"" "rejects: the reason"
assert_contains "$out" '  record  {"conn_id":"fix.1","agent_id":"9","skill_id":"1","date":"2026-01-05 25:61:00"}' \
	"rejects: the record as sent"
retry=$(echo "$out" | grep '^  wvetl backfill --reload ')
assert_eq "  wvetl backfill --reload --from '2026-01-05 00:00:00' --to '2026-01-06 00:00:00'" "$retry" \
	"rejects: the command that retries them"
wv_expect 0 rejects --json
assert_eq 4 "$(wc -l <"$WV_TMP/out")" "rejects --json: a line per reject"
assert_eq '"9"' "$(jq -c 'select(.raw_record | fromjson | .conn_id == "fix.1") | .raw_record | fromjson | .agent_id' "$WV_TMP/out")" \
	"rejects --json: raw_record is the record as sent"
assert_eq '"2026-01-05 00:00:00 2026-01-06 00:00:00 America/Bogota"' \
	"$(jq -c '.window_from + " " + .window_to + " " + .time_zone' "$WV_TMP/out" | sort -u)" \
	"rejects --json: windows in the operation's zone"
wv_expect 0 rejects --from 2026-01-06 --to 2026-01-07
assert_contains "$(cat "$WV_TMP/out")" ": 0 open reject(s) in that range" "rejects --from/--to: only that range"
wv_expect 0 rejects --to "2026-01-05 00:00:01"
assert_contains "$(cat "$WV_TMP/out")" ": 4 open reject(s) in that range" "rejects --to: windows that meet the range"
wv_expect 2 rejects --from 2026-01-06 --to 2026-01-05

wv_control '{"reset":true}'
wv_control "{\"records\":[$good]}"
wv_expect 0 backfill --reload --from 2026-01-05 --to "2026-01-05 12:00:00"
assert_eq 4 "$(open_rejects)" "a reload of half the day resolves no reject of the whole day"

echo "\$ ${retry# *wvetl } (as wvetl rejects printed it)"
eval "wv_expect 0 ${retry# *wvetl }"
run=$(psql_q "SELECT max(run_id) FROM wolkvox.etl_run")
assert_eq 3 "$(open_rejects)" "the reload of the day leaves three open"
assert_eq "$run" "$(psql_q "SELECT resolved_run FROM wolkvox.etl_reject WHERE raw_record LIKE '%fix.1%' AND resolved_at IS NOT NULL")" \
	"the fixed record's reject is resolved by the reload"
assert_eq 1 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE conn_id = 'fix.1'")" \
	"the fixed record is loaded"
assert_contains "$(cat "$WV_TMP/err")" "1 earlier reject(s) of this window no longer rejected: marked resolved" \
	"the log says so"
wv_expect 0 rejects
assert_contains "$(cat "$WV_TMP/out")" ": 3 open reject(s)" "rejects lists the three still open"
assert_not_contains "$(cat "$WV_TMP/out")" "fix.1" "and not the resolved one"
wv_expect 0 status
assert_contains "$(cat "$WV_TMP/out")" " 3 rejects open (wvetl rejects lists them), 1 resolved" \
	"status counts open and resolved rejects"

wv_control '{"reset":true}'
wv_control "{\"records\":[$bad]}"
wv_expect 0 backfill --reload --from 2026-01-05 --to 2026-01-06
assert_eq 4 "$(open_rejects)" "the bad version again: its reject is open again"
assert_eq 4 "$(psql_q "SELECT count(*) FROM wolkvox.etl_reject")" "one row per reject, still"
