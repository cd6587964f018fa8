# tests/integration/t0303-maintenance.sh - a 403 the API does not document
# (server maintenance) is waited out, longer than an ordinary retry
# (contract rule 10, api.maintenance_wait).
#
# Proves: two 403 "Servidor en mantenimiento" answers, then success: the run
# exits 0 with every record of the day loaded; the mock saw the window
# three times (403, 403, 200); the first retry waited at least
# api.maintenance_wait (0.5s) and the second at least twice that (doubling)
# although api.backoff is 0.02s, measured at the mock between one answer's
# end and the next request's start; and the log says each delay.

wv_control '{"per_day":{"2026-01-05":1},"faults":[{"status":403,"msg":"Servidor en mantenimiento","times":2}]}'
wv_expect 0 --set api.maintenance_wait=0.5s --set api.backoff=0.02s backfill --from 2026-01-05 --to 2026-01-06
err=$(cat "$WV_TMP/err")
assert_contains "$err" "Servidor en mantenimiento; retry 1 of 3 in 0." "first maintenance retry logged with its delay"
assert_contains "$err" "Servidor en mantenimiento; retry 2 of 3 in 1." "second maintenance retry doubles"
assert_eq '{"403": 2, "200": 1}' "$(wv_stat 's["statuses"]')" "403, 403, then 200"
gaps=$(wv_stats | "$WV_PY" -c '
import json, sys
log = sorted(json.load(sys.stdin)["log"], key=lambda e: e["start"])
print(" ".join("%.3f" % (b["start"] - a["end"]) for a, b in zip(log, log[1:])))')
echo "gaps between requests: $gaps"
read -r g1 g2 <<<"$gaps"
"$WV_PY" -c "import sys; sys.exit(0 if $g1 >= 0.5 and $g2 >= 1.0 else 1)" ||
	fail "maintenance retries came too soon: $gaps (want >= 0.5 and >= 1.0)"
echo "ok: the maintenance waits were at least 0.5 s and 1 s"
check_rows --from 2026-01-05 --to 2026-01-06
assert_eq 1 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "one window loaded"
