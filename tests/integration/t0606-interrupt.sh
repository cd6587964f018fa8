# tests/integration/t0606-interrupt.sh - SIGINT and SIGTERM stop a run at
# once (README "Commands", exit status 130).
#
# A backfill of two days whose second request the mock holds for 30 s
# (fault "delay" after one good answer) gets the signal while it waits.
# Proves, for SIGINT and for SIGTERM: exit 130 in under 2 s; the first
# window stays committed, nothing of the second is (etl_window, rows); the
# run's etl_run row says 'interrupted'; the summary line says
# status=interrupted with the first window's counts; a re-run loads the
# missing window only.

# now_ms: milliseconds since the epoch
now_ms()
{
	date +%s%3N
}

# interrupt SIGNAL FROM TO: start a backfill [FROM, TO) whose second window
# hangs, send SIGNAL once that request is in flight; sets RC and ELAPSED_MS.
interrupt()
{
	local sig=$1 from=$2 to=$3 pid t0 i
	wv_control '{"reset":true}'
	wv_control '{"faults":[{"delay":30,"after":1}]}'
	"$WVETL" -c "$WV_CONF" backfill --from "$from" --to "$to" >"$WV_TMP/out" 2>"$WV_TMP/err" &
	pid=$!
	for i in $(seq 400); do
		[ "$(wv_stat 's["requests"]')" -ge 2 ] && break
		sleep 0.05
	done
	assert_eq 2 "$(wv_stat 's["requests"]')" "the second request is in flight"
	t0=$(now_ms)
	kill -s "$sig" "$pid"
	RC=0
	wait "$pid" || RC=$?
	ELAPSED_MS=$(($(now_ms) - t0))
	sed 's/^/  | /' "$WV_TMP/err"
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WV_TMP/err"; then
		fail "sanitizer report after $sig"
	fi
	if grep -qF -- "$WV_TOKEN" "$WV_TMP/err"; then
		fail "the token appears on stderr"
	fi
}

wv_expect 0 migrate
for sig in INT TERM; do
	case $sig in
		INT) from=2026-01-05 to=2026-01-07 ;;
		TERM) from=2026-02-05 to=2026-02-07 ;;
	esac
	interrupt "$sig" "$from" "$to"
	assert_eq 130 "$RC" "SIG$sig: exit status 130"
	[ "$ELAPSED_MS" -lt 2000 ] || fail "SIG$sig: stopped in ${ELAPSED_MS} ms, not under 2 s"
	echo "ok: SIG$sig: stopped in ${ELAPSED_MS} ms"
	run=$(psql_q "SELECT max(run_id) FROM wolkvox.etl_run")
	assert_eq interrupted "$(psql_q "SELECT status FROM wolkvox.etl_run WHERE run_id = $run")" \
		"SIG$sig: the run is recorded as interrupted"
	assert_eq 1 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window WHERE run_id = $run")" \
		"SIG$sig: the first window is committed, the second is not"
	assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response
		WHERE answered_at >= ('$from'::date + 1)::timestamp AT TIME ZONE 'America/Bogota'
		  AND answered_at < '$to'::timestamp AT TIME ZONE 'America/Bogota'")" \
		"SIG$sig: no row of the interrupted window"
	[ "$(psql_q "SELECT count(*) FROM wolkvox.survey_response
		WHERE answered_at >= '$from'::timestamp AT TIME ZONE 'America/Bogota'
		  AND answered_at < ('$from'::date + 1)::timestamp AT TIME ZONE 'America/Bogota'")" -gt 0 ] ||
		fail "SIG$sig: the first window's rows are there"
	last=$(tail -n 1 "$WV_TMP/err")
	assert_contains "$last" "summary command=backfill operation=test run=$run status=interrupted windows=1 " \
		"SIG$sig: the summary says interrupted, one window"
	records=$(psql_q "SELECT records FROM wolkvox.etl_run WHERE run_id = $run")
	assert_contains "$last" " records=$records " "SIG$sig: the summary counts what was committed"
done

# a re-run loads only the window that was interrupted
wv_control '{"reset":true}'
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-07
assert_contains "$(tail -n 1 "$WV_TMP/err")" " windows=1 skipped=1 " "the re-run resumes"
assert_eq 1 "$(wv_stat 's["data_requests"]')" "one request: the missing window"
