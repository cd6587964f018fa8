# tests/integration/t0502-lock.sh - one run per operation at a time; runs of
# different operations side by side (contract rule 9).
#
# Proves: while a sync of operation "test" holds its lock (its first API
# answer is delayed 2 s), a second sync of the same operation exits 75 at
# once, its stderr naming the holder's run ("run 1, pid <the first sync's
# pid> ..."), its summary line saying status=locked; etl_run records the
# refused run (status locked, the holder named in error) and the first run
# ends ok, not abandoned, with its rows loaded. Then syncs of two other
# operations started while the first one's answer is delayed both exit 0,
# the second finishing while the first still runs, and each operation has
# its own complete copy of the rows, its own watermark and windows, and no
# row of another.
#
# (The two operations share the mock's one token here, so the mock sees two
# requests in flight at once; real operations have tokens of their own.)

export WVETL_NOW="2026-01-07 12:00:00"
SYNC=(--set sync.start=2026-01-05)

# bg_sync OPERATION NAME: a sync in the background; pid in bg_NAME.
bg_sync()
{
	"$WVETL" -c "$WV_CONF" "${SYNC[@]}" --set sync.operation="$1" sync \
		>"$WV_TMP/$2.out" 2>"$WV_TMP/$2.err" &
	eval "bg_$2=\$!"
}

requests_at_least() { [ "$(wv_stat 's["data_requests"]')" -ge "$1" ]; }

poll()
{
	local what=$1 i
	shift
	for i in $(seq 300); do
		if "$@"; then
			return 0
		fi
		sleep 0.1
	done
	fail "timed out waiting for: $what"
}

# --- the same operation twice ------------------------------------------------

wv_control '{"faults": [{"delay": 2, "after": 0}]}'
bg_sync test first
poll "the first sync's request" requests_at_least 1
wv_expect 75 "${SYNC[@]}" sync
err=$(cat "$WV_TMP/err")
assert_contains "$err" "is being loaded by run 1, pid $bg_first on host" "the refused sync names the holder's run and pid"
assert_contains "$err" "status=locked" "the refused sync's summary says locked"
kill -0 "$bg_first" 2>/dev/null || fail "the first sync ended before the second was refused"
rc=0
wait "$bg_first" || rc=$?
cat "$WV_TMP/first.err"
assert_eq 0 "$rc" "the first sync exits 0"
assert_eq "1|ok|" "$(psql_q "SELECT run_id, status, error FROM wolkvox.etl_run WHERE run_id = 1")" \
	"the holder's run ended ok, not abandoned"
assert_eq "2|sync|locked|t" "$(psql_q "SELECT run_id, command, status, ended_at IS NOT NULL
                                      FROM wolkvox.etl_run WHERE run_id = 2")" \
	"the refused run is recorded as locked"
assert_contains "$(psql_q "SELECT error FROM wolkvox.etl_run WHERE run_id = 2")" "run 1, pid $bg_first" \
	"etl_run.error of the refused run names the holder"
rows=$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE operation = 'test'")
[ "$rows" -gt 0 ] || fail "the first sync loaded rows"
assert_eq 3 "$(wv_stat 's["data_requests"]')" "only the holder asked the API (three windows)"

# --- two operations at once -----------------------------------------------------

wv_control '{"reset": true, "faults": [{"delay": 2, "after": 0}]}'
bg_sync opa a
poll "operation opa's request" requests_at_least 1
wv_expect 0 "${SYNC[@]}" --set sync.operation=opb sync
kill -0 "$bg_a" 2>/dev/null || fail "opa's sync ended before opb's: they did not run side by side"
rc=0
wait "$bg_a" || rc=$?
cat "$WV_TMP/a.err"
assert_eq 0 "$rc" "opa's sync exits 0"

for op in opa opb; do
	assert_eq "$rows" "$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE operation = '$op'")" \
		"operation $op has its own complete rows"
	assert_eq "2026-01-07 11:55:00" \
		"$(psql_q "SELECT to_char(watermark AT TIME ZONE 'America/Bogota', 'YYYY-MM-DD HH24:MI:SS')
		            FROM wolkvox.etl_state WHERE operation = '$op'")" "operation $op's own watermark"
	assert_eq 3 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window WHERE operation = '$op'")" \
		"operation $op's own windows"
	assert_eq "ok" "$(psql_q "SELECT string_agg(status, ',') FROM wolkvox.etl_run WHERE operation = '$op'")" \
		"operation $op: one run, ok"
done
assert_eq "$((3 * rows))" "$(psql_q "SELECT count(DISTINCT response_id) FROM wolkvox.survey_response")" \
	"three operations, three disjoint sets of rows"
assert_eq "$rows" "$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE operation = 'test'")" \
	"operation test's rows untouched"
