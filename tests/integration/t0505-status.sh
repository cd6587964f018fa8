# tests/integration/t0505-status.sh - `wvetl status` for operators: the
# watermark, runs and their outcome, rows, rejects, and gaps.
#
# Proves: a backfill of four days whose second window fails (HTTP 400, not
# retried) exits 1 with the first window committed; a backfill of the last
# two days then leaves a hole, and status shows the gap [01-06, 01-07), no
# watermark, the row, answer and reject counts the tables hold, and the
# failed run with its error and its counts (records, duplicates, rejects,
# API calls). Re-running the whole range loads only the missing window
# (one API call) and status shows no gap. While a backfill is stalled in
# the API, status shows its run as running; once that process is killed
# (before any other run could record it), as abandoned. Another operation
# of the same warehouse has nothing loaded; once it has, plain status
# shows only the configured operation, and status --all both, side by
# side, then each in detail. A schema set up by an older
# wvetl (without migration 002) is not upgraded by status, which only
# reads: it exits 2 saying to run migrate, and works once that is done.

wv_control '{"faults": [{"status": 400, "msg": "SOME PARAMETERS ARE REQUIRED", "after": 1}]}'
wv_expect 1 backfill --from 2026-01-05 --to 2026-01-09
wv_expect 0 backfill --from 2026-01-07 --to 2026-01-09
wv_expect 0 status
out=$(cat "$WV_TMP/out")
echo "$out"
assert_contains "$out" "operation test (times in America/Bogota)" "the operation and its time zone"
assert_contains "$out" "watermark   none" "no sync yet: no watermark"
counts=$(psql_q "SELECT (SELECT count(*) FROM wolkvox.survey_response) || ' responses, ' ||
                        (SELECT count(*) FROM wolkvox.survey_answer) || ' answers, ' ||
                        (SELECT count(*) FROM wolkvox.etl_reject) || ' rejects'")
assert_contains "$out" "rows        $counts" "row, answer and reject counts"
assert_contains "$out" "loaded      2026-01-05 00:00:00 .. 2026-01-09 00:00:00 in 3 window(s)" "the loaded range"
assert_contains "$out" "gaps        2026-01-06 00:00:00 .. 2026-01-07 00:00:00" "the gap left by the failed window"
assert_contains "$out" "dups rejects calls error" "the runs' columns"
failed=$(echo "$out" | grep -E '^ +1 backfill failed ')
error=$(psql_q "SELECT error FROM wolkvox.etl_run WHERE run_id = 1")
assert_contains "$error" "SOME PARAMETERS ARE REQUIRED" "the run's error holds the API's message"
assert_contains "$failed" " $error" "status shows the failed run's error whole"
read -r _ _ _ _ _ _ rec ins upd dup rej calls _ <<<"$failed"
assert_eq "37 35 0 2 3 2" "$rec $ins $upd $dup $rej $calls" "the failed run's counts (two API calls: one failed)"
assert_contains "$out" "2 backfill ok" "the second run, ok"

wv_control '{"reset": true}'
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-09
assert_eq '[["20260106000000", "20260106235959"]]' "$(wv_stat 's["windows"]')" "the re-run fills the gap only"
wv_expect 0 status
out=$(cat "$WV_TMP/out")
assert_contains "$out" "gaps        none" "no gap any more"
assert_contains "$out" "in 4 window(s)" "four windows"

# a run stalled in the API, then killed
wv_control '{"faults": [{"stall": true}]}'
"$WVETL" -c "$WV_CONF" backfill --from 2026-01-10 --to 2026-01-11 >"$WV_TMP/bg.out" 2>&1 &
bg=$!
for i in $(seq 300); do
	[ "$(wv_stat 's["data_requests"]')" -ge 2 ] && break
	sleep 0.1
done
wv_expect 0 status
assert_contains "$(cat "$WV_TMP/out")" "4 backfill running" "a run in progress shows as running"
kill -9 "$bg"
wait "$bg" 2>/dev/null || true
for i in $(seq 300); do
	[ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'wvetl'")" -eq 0 ] && break
	sleep 0.1
done
wv_expect 0 status
assert_contains "$(cat "$WV_TMP/out")" "4 backfill abandoned" "a killed run shows as abandoned"
assert_eq running "$(psql_q "SELECT status FROM wolkvox.etl_run WHERE run_id = 4")" \
	"status itself changes nothing"

wv_expect 0 --set sync.operation=other status
assert_contains "$(cat "$WV_TMP/out")" "operation other: nothing loaded yet" "another operation: nothing loaded"
wv_expect 0 --set sync.operation=other backfill --from 2026-01-05 --to 2026-01-06
wv_expect 0 status
assert_not_contains "$(cat "$WV_TMP/out")" "operation other" "status shows the configured operation only"
wv_expect 0 status --all
out=$(cat "$WV_TMP/out")
echo "$out"
assert_contains "$out" "operation  time zone       watermark  responses  rejects" "status --all: the table's head"
assert_eq 2 "$(echo "$out" | grep -cE '^(other|test) +America/Bogota ')" "status --all: a line per operation"
assert_contains "$out" "operation other (times in America/Bogota)" "status --all: other in detail"
assert_contains "$out" "operation test (times in America/Bogota)" "status --all: test in detail"
wv_expect 2 status --all --operation test
assert_eq "1 2" "$(psql_q "SELECT string_agg(version::text, ' ' ORDER BY version) FROM wolkvox.schema_migrations WHERE version <= 2")" \
	"migrations 001 and 002 are recorded"

# a schema an older wvetl set up (without 002): status reads only, so it
# says to migrate first, and changes nothing
wv_expect 0 --set database.schema=old backfill --from 2026-01-05 --to 2026-01-06
psql_q "ALTER TABLE old.etl_run DROP COLUMN backend_pid" >/dev/null
psql_q "DELETE FROM old.schema_migrations WHERE version = 2" >/dev/null
wv_expect 2 --set database.schema=old status
assert_contains "$(sed 's/\\"/"/g' "$WV_TMP/err")" 'schema "old" was set up by an older wvetl: run wvetl migrate' \
	"status of an old schema says to migrate"
assert_eq 0 "$(psql_q "SELECT count(*) FROM old.schema_migrations WHERE version = 2")" "and did not upgrade it"
wv_expect 0 --set database.schema=old migrate
wv_expect 0 --set database.schema=old status
assert_contains "$(cat "$WV_TMP/out")" "1 backfill ok" "status of the migrated schema works"
