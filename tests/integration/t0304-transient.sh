# tests/integration/t0304-transient.sh - transient API failures are retried
# with the ordinary (short) exponential backoff (contract rule 10).
#
# Proves: one window answered HTTP 500, 429, 403 "EXCEEDS THE LIMIT OF
# SIMULTANEOUS REQUESTS PER TOKEN (2)" and a 502 HTML page from a proxy, in
# that order, then 200: the run exits 0 with the day's records all loaded
# once; five requests; none of these waited api.maintenance_wait (20s here:
# every gap is under a second, so SIMULTANEOUS is not taken for
# maintenance); the delays grow (exponential backoff from api.backoff); and
# each retry is logged with its cause (the 502's says what came back).

wv_control '{"per_day":{"2026-01-05":1},"faults":[
  {"status":500},
  {"status":429,"msg":"Too Many Requests"},
  {"status":403,"msg":"EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN (2)"},
  {"status":502,"body":"<html><body><h1>502 Bad Gateway</h1></body></html>","content_type":"text/html"}]}'
wv_expect 0 --set api.retries=4 --set api.backoff=0.05s --set api.maintenance_wait=20s backfill --from 2026-01-05 --to 2026-01-06
err=$(cat "$WV_TMP/err")
assert_eq '{"500": 1, "429": 1, "403": 1, "502": 1, "200": 1}' "$(wv_stat 's["statuses"]')" "500, 429, 403, 502, then 200"
assert_contains "$err" "HTTP 500: Internal Server Error; retry 1 of 4" "500 retried"
assert_contains "$err" "HTTP 429: Too Many Requests; retry 2 of 4" "429 retried"
assert_contains "$err" "SIMULTANEOUS REQUESTS PER TOKEN (2); retry 3 of 4" "403 simultaneous retried"
assert_contains "$err" 'HTTP 502 (text/html): \"<html><body><h1>502 Bad Gateway</h1>' "502: status, content type and the page's first bytes"
gaps=$(wv_stats | "$WV_PY" -c '
import json, sys
log = sorted(json.load(sys.stdin)["log"], key=lambda e: e["start"])
print(" ".join("%.3f" % (b["start"] - a["end"]) for a, b in zip(log, log[1:])))')
echo "gaps between requests: $gaps"
"$WV_PY" -c "
g = [float(x) for x in '$gaps'.split()]
import sys
sys.exit(0 if len(g) == 4 and max(g) < 1.0 and g[3] > g[0] else 1)" ||
	fail "short, growing backoff expected: $gaps"
echo "ok: short backoff, growing, no maintenance wait"
check_rows --from 2026-01-05 --to 2026-01-06
