# tests/integration/t0504-sync.sh - sync from the watermark, for cron.
#
# Proves, with the clock fixed by $WVETL_NOW (local wall clock):
# - without sync.start and without a watermark, sync is a configuration
#   error (exit 2);
# - the first sync loads [sync.start, now - sync.lag) in day windows (three
#   requests, the last ending at 11:54:59) and sets the watermark to
#   now - lag;
# - an hour later, sync makes one API call: [watermark - sync.lookback,
#   now - lag), and moves the watermark; etl_run records its API call and
#   the bytes the API sent; the tables equal a clean backfill of the same
#   range;
# - with the clock set back, sync re-reads what it is asked but the
#   watermark does not move backwards; with nothing to ask (lookback 0,
#   now - lag before the watermark) it makes no API call, exits 0, and the
#   run is recorded all the same;
# - backfills before and after the watermark leave it where it is.

export WVETL_NOW="2026-01-07 12:00:00"
wm() { psql_q "SELECT to_char(watermark AT TIME ZONE 'America/Bogota', 'YYYY-MM-DD HH24:MI:SS') FROM wolkvox.etl_state WHERE operation = 'test'"; }
windows() { wv_stat 's["windows"]'; }

wv_expect 2 sync
assert_contains "$(cat "$WV_TMP/err")" "sync.start" "the error names sync.start"
assert_contains "$(cat "$WV_TMP/err")" "run=1 status=config_error" "the summary says config_error"
assert_eq "sync|config_error|t" "$(psql_q "SELECT command, status, error LIKE 'sync.start is not set%' FROM wolkvox.etl_run")" \
	"the refused sync is recorded, with its reason"
assert_eq 0 "$(wv_stat 's["data_requests"]')" "no API call"

wv_expect 0 --set sync.start=2026-01-05 sync
assert_eq '[["20260105000000", "20260105235959"], ["20260106000000", "20260106235959"], ["20260107000000", "20260107115459"]]' \
	"$(windows)" "first sync: sync.start to now - lag, in day windows"
assert_eq "2026-01-07 11:55:00" "$(wm)" "watermark = now - lag"

wv_control '{"reset": true}'
export WVETL_NOW="2026-01-07 13:00:00"
wv_expect 0 --set sync.start=2026-01-05 sync
assert_eq '[["20260107105500", "20260107125459"]]' "$(windows)" \
	"second sync: one API call, from watermark - lookback to now - lag"
assert_eq "2026-01-07 12:55:00" "$(wm)" "the watermark moved"
assert_eq "sync|ok|1|$(wv_stat 's["bytes_served"]')|merge" \
	"$(psql_q "SELECT r.command, r.status, r.api_calls, r.bytes, w.mode FROM wolkvox.etl_run r
	            JOIN wolkvox.etl_window w USING (run_id) ORDER BY r.run_id DESC LIMIT 1")" \
	"etl_run records the call and the bytes; the lookback window is merged"
wv_expect 0 --set database.schema=clean backfill --from 2026-01-05 --to "2026-01-07 12:55:00"
assert_eq "$(wv_checksum clean)" "$(wv_checksum wolkvox)" "two syncs load what one backfill of the range loads"

wv_control '{"reset": true}'
export WVETL_NOW="2026-01-07 12:30:00"
wv_expect 0 sync
assert_eq '[["20260107115500", "20260107122459"]]' "$(windows)" "clock set back: sync reads what it is asked"
assert_eq "2026-01-07 12:55:00" "$(wm)" "the watermark does not move backwards"

wv_control '{"reset": true}'
export WVETL_NOW="2026-01-07 12:50:00"
wv_expect 0 --set sync.lookback=0 sync
assert_eq 0 "$(wv_stat 's["data_requests"]')" "nothing to sync: no API call"
assert_eq "sync|ok|0" "$(psql_q "SELECT command, status, api_calls FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1")" \
	"a sync with nothing to do is recorded"

wv_expect 0 backfill --from 2026-01-01 --to 2026-01-03
assert_eq "2026-01-07 12:55:00" "$(wm)" "a backfill before the watermark does not move it"
# (a day later: a backfill loads finished time only, see t0802)
WVETL_NOW="2026-01-10 00:00:00" wv_expect 0 backfill --from 2026-01-08 --to 2026-01-09
assert_eq "2026-01-07 12:55:00" "$(wm)" "a backfill after the watermark does not move it"
assert_eq "1 config_error,6 ok" "$(psql_q "SELECT string_agg(n || ' ' || status, ',' ORDER BY status)
                                         FROM (SELECT status, count(*) n FROM wolkvox.etl_run GROUP BY 1) s")" \
	"every run is recorded"
