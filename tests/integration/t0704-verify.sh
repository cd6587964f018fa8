# tests/integration/t0704-verify.sh - wvetl verify, --repair, and a run
# killed inside the rollup step.
#
# Proves: after a load of known records (rollup_records.py), `wvetl verify`
# exits 0. A day cell of rollup_survey and a day cell of rollup_answer
# edited by hand: verify exits 1 and names both cells, and the week and
# month that hold them (no longer the sums of their days); --from/--to
# limit it to the days asked (an edit outside them is not named). --repair
# rewrites them (exit 0), after which verify exits 0 and every view equals
# the records again. Then a backfill --reload of changed records is frozen
# inside the rollup step (a second session holds a lock on rollup_answer),
# killed with SIGKILL: the window rolls back whole (the rollups are those
# of the committed data: verify exits 0), and a re-run loads it, after
# which verify exits 0 and every view equals the changed records.

rr() { "$WV_PY" "$WV_TOP/tests/integration/rollup_records.py" "$@"; }
rr_serve()
{
	rr control "$1" >"$WV_TMP/control.json"
	curl -fsS -X POST -H 'Content-Type: application/json' -d @"$WV_TMP/control.json" \
		"http://127.0.0.1:$WV_PORT/_control" >/dev/null
}
kinds()
{
	wv_expect 0 questions set 1 --kind csat --min 1 --max 5
	wv_expect 0 questions set 2 --kind nps --min 0 --max 10
	wv_expect 0 questions set 3 --kind ces
	wv_expect 0 questions set 4 --kind yes_no
	wv_expect 0 questions set 5 --kind text
}

rr_serve 0
wv_expect 0 backfill --from 2026-03-29 --to 2026-04-02
kinds
wv_expect 0 verify
assert_contains "$(cat "$WV_TMP/out")" "0 rollup cell(s) differ" "a fresh load verifies"

# Cells edited by hand.
psql_q "UPDATE wolkvox.rollup_survey SET surveys = surveys + 5
         WHERE operation = 'test' AND period = 'day' AND dim = 'agent'
           AND period_start = '2026-03-31' AND key_id = '1001';
        UPDATE wolkvox.rollup_answer SET answers = answers - 1
         WHERE operation = 'test' AND period = 'day' AND dim = 'skill'
           AND period_start = '2026-03-29' AND key_id = '201' AND question_no = 1
           AND value = '5'" >/dev/null
wv_expect 1 verify
out=$(cat "$WV_TMP/out")
echo "$out"
assert_contains "$out" "rollup_survey day 2026-03-31 agent 1001: surveys" "verify names the survey cell"
assert_contains "$out" "rollup_survey week 2026-03-30 agent 1001: surveys" "... and its week"
assert_contains "$out" "rollup_survey month 2026-03-01 agent 1001: surveys" "... and its month"
assert_contains "$out" "rollup_answer day 2026-03-29 skill 201 q01 value 5: answers" \
	"verify names the answer cell"
assert_contains "$out" "6 rollup cell(s) differ" "two cells, each with its week and month"
want=$(psql_q "SELECT surveys FROM wolkvox.rollup_day_survey('test', '2026-03-31', '2026-04-01')
                WHERE dim = 'agent' AND key_id = '1001'")
assert_contains "$out" "surveys $((want + 5)) in the rollup, $want from the surveys" \
	"verify gives both values"
wv_expect 1 verify --from 2026-03-31 --to 2026-04-01
assert_not_contains "$(cat "$WV_TMP/out")" "2026-03-29" "--from/--to: only the days asked"
assert_contains "$(cat "$WV_TMP/out")" "local days 2026-03-31 to 2026-04-01" "the days checked"
wv_expect 0 verify --repair
assert_contains "$(cat "$WV_TMP/out")" "repaired: 0 rollup cell(s) differ now" "--repair rewrites them"
wv_expect 0 verify
rr check 0 || fail "after --repair: the views differ from the records"

# Killed inside the rollup step.
locker=""
poll()
{
	local what=$1 i
	shift
	for i in $(seq 300); do
		if "$@"; then return 0; fi
		sleep 0.1
	done
	fail "timed out waiting for: $what"
}
locker_ready()
{
	[ "$(psql_q "SELECT count(*) FROM pg_stat_activity
	              WHERE application_name = 'wvlocker' AND query LIKE '%pg_sleep%'")" -eq 1 ]
}
wvetl_waits_on_rollup()
{
	[ "$(psql_q "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	              WHERE NOT l.granted AND a.application_name = 'wvetl'
	                AND l.relation = 'wolkvox.rollup_answer'::regclass")" -ge 1 ]
}
wvetl_sessions_gone()
{
	[ "$(psql_q "SELECT count(*) FROM pg_stat_activity
	              WHERE application_name = 'wvetl' AND datname = current_database()")" -eq 0 ]
}
PGAPPNAME=wvlocker psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN" \
	-c "LOCK TABLE wolkvox.rollup_answer IN SHARE MODE" -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
locker=$!
poll "the locking session" locker_ready
before=$(psql_q "SELECT md5(string_agg(r::text, ',' ORDER BY r::text)) FROM wolkvox.rollup_survey r")
rr_serve 1
"$WVETL" -c "$WV_CONF" backfill --from 2026-03-29 --to 2026-04-02 --reload \
	>"$WV_TMP/bg.out" 2>"$WV_TMP/bg.err" &
bg=$!
poll "the reload to block in the rollup step" wvetl_waits_on_rollup
kill -9 "$bg"
wait "$bg" 2>/dev/null || true
psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE application_name = 'wvlocker'" >/dev/null
wait "$locker" 2>/dev/null || true
poll "the killed run's session to end" wvetl_sessions_gone
assert_eq "$before" \
	"$(psql_q "SELECT md5(string_agg(r::text, ',' ORDER BY r::text)) FROM wolkvox.rollup_survey r")" \
	"the killed window left the rollups as they were"
wv_expect 0 verify
rr check 0 || fail "after the kill: the views differ from the committed records"
wv_expect 0 backfill --from 2026-03-29 --to 2026-04-02 --reload
wv_expect 0 verify
rr check 1 || fail "after the re-run: the views differ from the changed records"
