# tests/integration/t0511-pg-waits.sh - no wait for PostgreSQL is endless,
# and SIGINT/SIGTERM end any of them (README "Exit status", "The database
# role"; load/pg.c).
#
# Proves, against a server that accepts TCP connections and never answers
# (a Python socket on 127.0.0.1):
# - with no connect_timeout anywhere, a run gives up after the default
#   (10 s), exit 1, saying so;
# - with connect_timeout=0 (wait forever), SIGTERM and SIGINT end the run:
#   exit 130, summary status=interrupted;
# and against a table locked by another session (LOCK TABLE in a psql that
# keeps its transaction open):
# - database.lock_timeout=1s: the window fails (exit 1, "lock timeout"),
#   nothing of it is committed (checksum, etl_window), the run is failed;
# - database.lock_timeout=0: a backfill waiting for the lock gets SIGTERM
#   and a status waiting for it gets SIGINT: both exit 130, the backfill's
#   run is recorded interrupted, nothing of its window is committed;
# - once the lock is gone, the same backfill loads the window.
# No assertion on time: each background run gets a generous bound (60 s),
# and still running after it is a failure.

bg_pids=""
cleanup()
{
	for p in $bg_pids; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# wait_for DESC CMD...: until CMD succeeds (at most 60 s).
wait_for()
{
	local desc=$1 i
	shift
	for i in $(seq 600); do
		"$@" && return 0
		sleep 0.1
	done
	fail "never happened: $desc"
}

# start_bg ARGS: wvetl ARGS in the background; its pid in BG.
start_bg()
{
	echo "\$ wvetl $* &"
	"$WVETL" -c "$WV_CONF" "$@" >"$WV_TMP/out" 2>"$WV_TMP/err" &
	BG=$!
	bg_pids="$bg_pids $BG"
}

# end_bg: wait for BG (at most 60 s, then it is killed: a failure); its exit
# status in WV_RC, its stderr shown and checked as wv does.
end_bg()
{
	local i
	for i in $(seq 600); do
		kill -0 "$BG" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$BG" 2>/dev/null; then
		kill -9 "$BG"
		sed 's/^/  | /' "$WV_TMP/err"
		fail "wvetl was still running 60 s after the signal"
	fi
	WV_RC=0
	wait "$BG" || WV_RC=$?
	echo "  -> exit $WV_RC"
	sed 's/^/  | /' "$WV_TMP/err" | head -n 40
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WV_TMP/err"; then
		fail "sanitizer report"
	fi
}

# --- a server that accepts and never answers ------------------------------
"$WV_PY" - "$WV_TMP/mute.port" "$WV_TMP/mute.log" <<'EOF' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    with open(sys.argv[2], "a") as f:
        f.write("accepted\n")
EOF
bg_pids="$bg_pids $!"
wait_for "the mute server listens" test -s "$WV_TMP/mute.port"
mute="host=127.0.0.1 port=$(cat "$WV_TMP/mute.port") sslmode=disable"
accepted() { [ "$(cat "$WV_TMP/mute.log" 2>/dev/null | wc -l)" -ge "$1" ]; }

(
	unset PGCONNECT_TIMEOUT
	wv_expect 1 --set "database.conninfo=$mute" backfill --from 2026-01-05 --to 2026-01-06
	assert_contains "$(cat "$WV_TMP/err")" "no answer within connect_timeout (10 s)" \
		"the default connect_timeout ends the wait, and says so"
	assert_contains "$(tail -n 1 "$WV_TMP/err")" "status=failed" "the summary says failed"
)

n=1
for sig in TERM INT; do
	start_bg --set "database.conninfo=$mute connect_timeout=0" backfill --from 2026-01-05 --to 2026-01-06
	n=$((n + 1))
	wait_for "wvetl connects to the mute server" accepted "$n"
	kill -s "$sig" "$BG"
	end_bg
	assert_eq 130 "$WV_RC" "SIG$sig while connecting: exit 130"
	assert_contains "$(tail -n 1 "$WV_TMP/err")" "status=interrupted" "SIG$sig: the summary says interrupted"
done

# --- a table another session keeps locked ---------------------------------
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-06
c0=$(wv_checksum wolkvox)
w0=$(psql_q "SELECT count(*) FROM wolkvox.etl_window")
PGAPPNAME=t0511_locker psql -X -q -c "BEGIN" \
	-c "LOCK TABLE wolkvox.survey_answer IN ACCESS EXCLUSIVE MODE" \
	-c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
locker=$!
bg_pids="$bg_pids $locker"
locked() {
	[ "$(psql_q "SELECT count(*) FROM pg_locks WHERE relation = 'wolkvox.survey_answer'::regclass
	              AND mode = 'AccessExclusiveLock' AND granted")" = 1 ]
}
wait_for "the other session holds the lock" locked
waiting() {
	[ "$(psql_q "SELECT count(*) FROM pg_stat_activity
	              WHERE application_name = 'wvetl' AND wait_event_type = 'Lock'")" = 1 ]
}

wv_expect 1 --set database.lock_timeout=1s backfill --from 2026-01-06 --to 2026-01-07
assert_contains "$(cat "$WV_TMP/err")" "lock timeout" "the error says the lock wait timed out"
assert_eq failed "$(psql_q "SELECT status FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1")" \
	"lock_timeout: the run is failed"

start_bg --set database.lock_timeout=0 backfill --from 2026-01-06 --to 2026-01-07
wait_for "the backfill waits for the lock" waiting
kill -s TERM "$BG"
end_bg
assert_eq 130 "$WV_RC" "SIGTERM while waiting for a lock: exit 130"
assert_contains "$(cat "$WV_TMP/err")" "cancelling the statement in progress" "the statement is cancelled"
assert_contains "$(tail -n 1 "$WV_TMP/err")" "status=interrupted" "the summary says interrupted"
assert_eq interrupted "$(psql_q "SELECT status FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1")" \
	"the run is recorded as interrupted"

start_bg --set database.lock_timeout=0 status
wait_for "status waits for the lock" waiting
kill -s INT "$BG"
end_bg
assert_eq 130 "$WV_RC" "SIGINT while status waits for a lock: exit 130"

# the backend would keep the lock through its pg_sleep, client gone or not
psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = 't0511_locker'" >/dev/null
wait "$locker" 2>/dev/null || true
wait_for "the lock is gone" eval '! locked'
assert_eq "$c0" "$(wv_checksum wolkvox)" "nothing of the failed and interrupted windows is committed"
assert_eq "$w0" "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "and no window is recorded"
wv_expect 0 backfill --from 2026-01-06 --to 2026-01-07
assert_eq $((w0 + 1)) "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "the window loads once the lock is gone"
