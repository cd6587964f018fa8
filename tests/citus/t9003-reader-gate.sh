# tests/citus/t9003-reader-gate.sh - on Citus, readers reach the survey
# tables only through sql/citus/903's SECURITY DEFINER functions, and those
# functions give a caller nothing SET ROLE would not.
#
# Proves, with two operations ("test" and "other") and a reader that logs
# in as itself (session_user is the reader, as for a BI tool):
#   - a NOLOGIN reader (SET ROLE) and a LOGIN reader both read v_response,
#     v_answer and v_survey_wide: the shard queries run as the loader, so a
#     reader need not be able to log in to the workers;
#   - called directly, wv_reader_responses() refuses another operation, and
#     refuses a caller the session cannot become (the loader's name), with
#     permission errors; with the reader's own name and operation it returns
#     rows whose personal columns are NULL (loaded with keep);
#   - the reader still cannot read survey_response or survey_answer, nor
#     run a query on the workers that reads a shard (run_command_on_workers
#     runs as the reader there);
#   - a filter on local_date runs the day function for that day only: the
#     reader's count of one day equals the loader's count of that day.

wv_expect 0 backfill --from 2026-01-05 --to 2026-01-08
wv_expect 0 --set sync.operation=other backfill --from 2026-01-05 --to 2026-01-08
psql_q "CREATE ROLE gate_nologin; CREATE ROLE gate_login LOGIN"
wv_expect 0 grant gate_nologin --operation test
wv_expect 0 grant gate_login --operation test
loader=$(psql_q "SELECT current_user")

as_login() { psql -X -A -t -q -v ON_ERROR_STOP=1 -U gate_login -c "$1"; }
as_setrole() { psql -X -A -t -q -v ON_ERROR_STOP=1 -c "SET ROLE gate_nologin; $1"; }

want=$(psql_q "SELECT count(*) FROM wolkvox.v_answer WHERE operation = 'test'")
[ "$want" -gt 0 ] || fail "the loader sees no answers"
for who in as_login as_setrole; do
	assert_eq "$want" "$($who "SELECT count(*) FROM wolkvox.v_answer")" "$who: every answer of its operation"
	assert_eq "$(psql_q "SELECT count(*) FROM wolkvox.v_survey_wide WHERE operation = 'test'")" \
		"$($who "SELECT count(*) FROM wolkvox.v_survey_wide")" "$who: every survey of v_survey_wide"
	assert_eq "0|0|0" "$($who "SELECT count(ani), count(customer_id), count(agent_dni) FROM wolkvox.v_response")" \
		"$who: personal columns NULL"
done

expect_denied()
{
	local what=$1 sql=$2
	if as_login "$sql" >"$WV_TMP/denied" 2>&1; then
		fail "the reader could $what"
	fi
	cat "$WV_TMP/denied"
	assert_contains "$(cat "$WV_TMP/denied")" "$3" "the reader cannot $what"
}
expect_denied "read another operation through the function" \
	"SELECT count(*) FROM wolkvox.wv_reader_responses('gate_login', 'other', '-infinity', 'infinity')" \
	"may not read operation other"
expect_denied "call the function as the loader" \
	"SELECT count(*) FROM wolkvox.wv_reader_responses('$loader', 'other', '-infinity', 'infinity')" \
	"cannot act as role $loader"
expect_denied "call the answers' function as the loader" \
	"SELECT count(*) FROM wolkvox.wv_reader_answers('$loader', 'test', 0, 9223372036854775807)" \
	"cannot act as role $loader"
expect_denied "read survey_response" "SELECT count(*) FROM wolkvox.survey_response" "permission denied"
expect_denied "read survey_answer" "SELECT count(*) FROM wolkvox.survey_answer" "permission denied"
shard=$(psql_q "SELECT shard_name('wolkvox.survey_response'::regclass, min(shardid))
                  FROM pg_dist_shard WHERE logicalrelid = 'wolkvox.survey_response'::regclass")
as_login "SELECT success::text || ': ' || result
            FROM run_command_on_workers('SELECT count(*) FROM $shard')" >"$WV_TMP/w" 2>&1 || true
cat "$WV_TMP/w"
assert_not_contains "$(cat "$WV_TMP/w")" "true:" "the reader cannot read a shard on the workers"
assert_contains "$(cat "$WV_TMP/w")" "permission denied" "... it is refused there"

assert_eq "$(psql_q "SELECT count(*) FROM wolkvox.wv_reader_responses('$loader', 'test', '-infinity', 'infinity')")" \
	"$(as_login "SELECT count(*) FROM wolkvox.wv_reader_responses('gate_login', 'test', '-infinity', 'infinity')")" \
	"with its own name and operation the function returns the operation's surveys"
assert_eq "0" "$(as_login "SELECT count(ani) + count(customer_id) + count(agent_dni)
                             FROM wolkvox.wv_reader_responses('gate_login', 'test', '-infinity', 'infinity')")" \
	"... with personal columns NULL"
[ "$(psql_q "SELECT count(ani) FROM wolkvox.wv_reader_responses('$loader', 'test', '-infinity', 'infinity')")" -gt 0 ] ||
	fail "the loader sees no ani through the function"

assert_eq "$(psql_q "SELECT count(*) FROM wolkvox.v_response WHERE operation = 'test' AND local_date = '2026-01-06'")" \
	"$(as_login "SELECT count(*) FROM wolkvox.v_response WHERE local_date = '2026-01-06'")" \
	"a day's surveys, as the loader and as the reader"
calls=$(as_login "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
                  SELECT count(*) FROM wolkvox.v_response WHERE local_date = '2026-01-06'" |
	grep 'Function Scan on wv_reader_responses' | grep -o 'loops=[0-9]*')
echo "day function: $calls"
assert_eq "loops=1" "$calls" "a filter on local_date calls the day function once"
