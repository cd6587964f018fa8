# tests/integration/t0501-kill.sh - kill -9 of a backfill at ten moments,
# each followed by a re-run, leaves the tables of a clean run (contract rule
# 7: a window commits whole with its state, or not at all).
#
# Proves: for each moment, in a schema of its own, a backfill of four day
# windows is frozen at a known point and killed with SIGKILL. Right after
# (once its PostgreSQL session is gone): every survey_response row lies in
# a window that etl_window records, the rows and answers inside the
# recorded windows are exactly those of a clean run, the row count is the
# sum of the windows' inserted counts, and the killed run's etl_run row
# still says running with the sum of its committed windows' records. Then a
# plain re-run exits 0, asks the API only for the windows not loaded
# (resumable), marks the killed run abandoned, and leaves survey_response
# and survey_answer with the checksum of a clean run of the same range (and
# the same windows and rejects).
#
# The moments: the API stalls in window 1 and in window 3 (headers and a
# few bytes sent); the API delays window 2's answer; a cut body and the
# backoff before its retry in window 4; and, holding a table lock from a
# second session so that wvetl blocks inside the window transaction: the
# first COPY of responses in the middle of window 1's body (the day has 600
# records, more than one 64 KiB COPY batch), the COPY of answers (window
# 2), storing rejects after the merge of in-answer duplicates (window 1),
# the etl_window row (window 3), the watermark row of etl_state (window 2),
# and the run's counters in etl_run, the window's last statement before
# COMMIT. A session blocked on a lock does not notice its client died until
# the lock is released; it then finishes its statement and rolls back.

FROM=2026-01-05
TO=2026-01-09

# mock_reset: fresh counters and faults, the same data every time.
mock_reset()
{
	wv_control '{"reset": true, "per_day": {"2026-01-05": 600}}'
}

# poll WHAT CMD...: run CMD until it succeeds (30 s at most).
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

requests_at_least() { [ "$(wv_stat 's["data_requests"]')" -ge "$1" ]; }
requests_finished() { [ "$(wv_stat 'len(s["log"])')" -ge "$1" ]; }
wvetl_waits_on_lock()
{
	[ "$(psql_q "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	              WHERE NOT l.granted AND a.application_name = 'wvetl'")" -ge 1 ] && return 0
	# on Citus (make test-citus) a row lock is waited for on a worker:
	# citus_lock_waits shows the waits of the whole cluster
	[ "${WV_CITUS:-}" = 1 ] && [ "$(psql_q "SELECT count(*) FROM citus_lock_waits")" -ge 1 ]
}
wvetl_sessions_gone()
{
	[ "$(psql_q "SELECT count(*) FROM pg_stat_activity
	              WHERE application_name = 'wvetl' AND datname = current_database()")" -eq 0 ]
}
locker_ready()
{
	[ "$(psql_q "SELECT count(*) FROM pg_stat_activity
	              WHERE application_name = 'wvlocker' AND query LIKE '%pg_sleep%'")" -eq 1 ]
}

# locker_start SQL: a second session runs SQL in an open transaction and
# keeps it open (so its locks are held) until locker_stop.
locker=""
locker_start()
{
	PGAPPNAME=wvlocker psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN" -c "$1" \
		-c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
	locker=$!
	poll "the locking session" locker_ready
}
locker_stop()
{
	psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	         WHERE application_name = 'wvlocker'" >/dev/null
	wait "$locker" 2>/dev/null || true
	locker=""
}

# bg_start SCHEMA [ARGS]: the backfill in the background, its pid in bg.
bg=""
bg_start()
{
	local schema=$1
	shift
	"$WVETL" -c "$WV_CONF" --set database.schema="$schema" "$@" \
		backfill --from "$FROM" --to "$TO" >"$WV_TMP/bg.out" 2>"$WV_TMP/bg.err" &
	bg=$!
}

# bg_kill: SIGKILL the backfill (it must still be running), release the
# lock if one is held, wait until its PostgreSQL session has ended.
bg_kill()
{
	kill -0 "$bg" 2>/dev/null || { cat "$WV_TMP/bg.err"; fail "the backfill ended before the kill"; }
	kill -9 "$bg"
	wait "$bg" 2>/dev/null || true
	bg=""
	[ -z "$locker" ] || locker_stop
	poll "the killed run's session to end" wvetl_sessions_gone
}

# in_windows SCHEMA TABLE_SCHEMA: responses and answers of TABLE_SCHEMA
# inside the windows that SCHEMA's etl_window records.
in_windows()
{
	psql_q "SELECT count(*), sum((SELECT count(*) FROM $2.survey_answer a
	                              WHERE a.response_id = r.response_id))
	          FROM $2.survey_response r
	         WHERE EXISTS (SELECT 1 FROM $1.etl_window w
	                        WHERE r.answered_at >= w.window_from AND r.answered_at < w.window_to)"
}

# after_kill SCHEMA: what a kill may leave, checked before the re-run.
after_kill()
{
	local s=$1 run
	# (an outer join, not NOT EXISTS: Citus, in make test-citus, plans no
	# correlated subquery from a distributed table to a local one)
	assert_eq 0 "$(psql_q "SELECT count(*) FROM $s.survey_response r LEFT JOIN $s.etl_window w
	                         ON r.answered_at >= w.window_from AND r.answered_at < w.window_to
	                        WHERE w.operation IS NULL")" \
		"$s: no row outside the committed windows"
	assert_eq "$(in_windows "$s" clean)" "$(in_windows "$s" "$s")" \
		"$s: rows and answers of the committed windows are those of a clean run"
	assert_eq t "$(psql_q "SELECT (SELECT count(*) FROM $s.survey_response)
	                             = (SELECT coalesce(sum(inserted), 0) FROM $s.etl_window)")" \
		"$s: rows = sum of the windows' inserted counts"
	assert_eq 0 "$(psql_q "SELECT count(*) FROM $s.survey_answer a WHERE NOT EXISTS
	                         (SELECT 1 FROM $s.survey_response r WHERE r.response_id = a.response_id)")" \
		"$s: no answer without its response"
	run=$(psql_q "SELECT max(run_id) FROM $s.etl_run")
	assert_eq "running t" "$(psql_q "SELECT status, records = (SELECT coalesce(sum(records), 0)
	                                    FROM $s.etl_window WHERE run_id = $run)
	                                    FROM $s.etl_run WHERE run_id = $run" | tr '|' ' ')" \
		"$s: the killed run still says running, with its committed windows' records"
	killed_run=$run
}

# rerun SCHEMA: the re-run resumes, and everything equals the clean run.
rerun()
{
	local s=$1 loaded
	loaded=$(psql_q "SELECT count(*) FROM $s.etl_window")
	mock_reset
	wv_expect 0 --set database.schema="$s" backfill --from "$FROM" --to "$TO"
	assert_eq "$((4 - loaded))" "$(wv_stat 's["data_requests"]')" \
		"$s: the re-run asks only for the $((4 - loaded)) windows not loaded"
	assert_eq abandoned "$(psql_q "SELECT status FROM $s.etl_run WHERE run_id = $killed_run")" \
		"$s: the killed run is marked abandoned"
	assert_eq "$clean_sum" "$(wv_checksum "$s")" "$s: survey tables equal the clean run's"
	assert_eq "$clean_windows" "$(windows "$s")" "$s: windows equal the clean run's"
	assert_eq "$clean_rejects" "$(rejects "$s")" "$s: rejects equal the clean run's"
}

windows() { psql_q "SELECT string_agg(window_from || '/' || window_to || '/' || records, ',' ORDER BY window_from) FROM $1.etl_window"; }
rejects() { psql_q "SELECT string_agg(raw_md5, ',' ORDER BY raw_md5) FROM $1.etl_reject"; }

# --- the clean run -----------------------------------------------------------

mock_reset
wv_expect 0 --set database.schema=clean backfill --from "$FROM" --to "$TO"
clean_sum=$(wv_checksum clean)
clean_windows=$(windows clean)
clean_rejects=$(rejects clean)
[ "$(psql_q "SELECT sum(duplicates) FROM clean.etl_window")" -gt 0 ] ||
	fail "the data must hold in-answer duplicates"
# the first day's responses are more than one COPY batch (64 KiB), so the
# first COPY of responses starts in the middle of the body
[ "$(psql_q "SELECT sum(octet_length(r::text)) FROM clean.survey_response r
              WHERE answered_at < '2026-01-06 00:00:00-05'")" -gt 131072 ] ||
	fail "day 1 must need more than one COPY batch of responses"

# --- 1-4: the API freezes the run -------------------------------------------

mock_reset
wv_control '{"faults": [{"stall": true, "after": 0}]}'
bg_start k1
poll "window 1's request" requests_at_least 1
bg_kill
after_kill k1
assert_eq 0 "$(psql_q "SELECT count(*) FROM k1.etl_window")" "k1: nothing committed"
rerun k1

mock_reset
wv_control '{"faults": [{"stall": true, "after": 2}]}'
bg_start k2
poll "window 3's request" requests_at_least 3
bg_kill
after_kill k2
assert_eq 2 "$(psql_q "SELECT count(*) FROM k2.etl_window")" "k2: two windows committed"
rerun k2

mock_reset
wv_control '{"faults": [{"delay": 60, "after": 1}]}'
bg_start k3
poll "window 2's request" requests_at_least 2
bg_kill
after_kill k3
assert_eq 1 "$(psql_q "SELECT count(*) FROM k3.etl_window")" "k3: one window committed"
rerun k3

mock_reset
wv_control '{"faults": [{"cut_after": 100, "after": 3}]}'
bg_start k4 --set api.backoff=60s
poll "window 4's cut answer" requests_finished 4
bg_kill
after_kill k4
assert_eq 3 "$(psql_q "SELECT count(*) FROM k4.etl_window")" "k4: three windows committed"
rerun k4

# --- 5-10: a lock freezes the run inside its window transaction -------------

# lock_moment SCHEMA PRELOAD_TO SQL WINDOWS: migrate SCHEMA, load it up to
# PRELOAD_TO (none: nothing), hold SQL's lock, run, kill when blocked.
lock_moment()
{
	local s=$1 preload=$2 sql=$3 want=$4
	mock_reset
	wv_expect 0 --set database.schema="$s" migrate
	if [ "$preload" != none ]; then
		wv_expect 0 --set database.schema="$s" backfill --from "$FROM" --to "$preload"
	fi
	locker_start "$sql"
	bg_start "$s"
	poll "the backfill to block on the lock" wvetl_waits_on_lock
	bg_kill
	after_kill "$s"
	assert_eq "$want" "$(psql_q "SELECT count(*) FROM $s.etl_window")" "$s: $want windows committed"
	rerun "$s"
}

lock_moment k5 none "LOCK TABLE k5.survey_response IN SHARE MODE" 0
lock_moment k6 2026-01-06 "LOCK TABLE k6.survey_answer IN SHARE MODE" 1
lock_moment k7 none "LOCK TABLE k7.etl_reject IN SHARE MODE" 0
lock_moment k8 2026-01-07 "LOCK TABLE k8.etl_window IN SHARE MODE" 2
lock_moment k9 2026-01-06 "SELECT 1 FROM k9.etl_state FOR UPDATE" 1

# 10: the run's own etl_run row, locked while window 2's answer is delayed;
# the run blocks updating its counters, the statement before COMMIT.
mock_reset
wv_expect 0 --set database.schema=k10 migrate
wv_control '{"faults": [{"delay": 2, "after": 1}]}'
bg_start k10
poll "window 2's request" requests_at_least 2
locker_start "SELECT 1 FROM k10.etl_run WHERE status = 'running' FOR UPDATE"
poll "the backfill to block on its run row" wvetl_waits_on_lock
bg_kill
after_kill k10
rerun k10
