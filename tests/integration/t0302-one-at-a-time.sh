# tests/integration/t0302-one-at-a-time.sh - one request at a time per
# token, at least api.min_interval apart (contract rule 9).
#
# Proves, from the start and end time of every request as the mock saw them
# (/_stats "log"): with api.min_interval = 0.4s, a 4-day backfill whose
# second window is answered 500 once (so a retry, with a backoff shorter
# than the interval, is in the sequence too) starts each request at least
# 0.4 s after the previous one ended, never has two in flight
# (max_in_flight 1, no violation); and without min_interval the same
# requests follow each other at once (the measure can tell the difference).

# min_gap: the smallest time between one request's end and the next one's
# start, in seconds, over the mock's request log; and the number of requests.
min_gap()
{
	wv_stats | "$WV_PY" -c '
import json, sys
log = sorted(json.load(sys.stdin)["log"], key=lambda e: e["start"])
gaps = [b["start"] - a["end"] for a, b in zip(log, log[1:])]
print("%.3f %d" % (min(gaps), len(log)))'
}

wv_control '{"per_day":{"2026-01-05":1,"2026-01-06":1,"2026-01-07":1,"2026-01-08":1},"faults":[{"status":500,"after":1}]}'
wv_expect 0 --set api.min_interval=0.4s --set api.backoff=0.05s backfill --from 2026-01-05 --to 2026-01-09
read -r gap n <<<"$(min_gap)"
echo "min_interval 0.4s: $n requests, smallest gap ${gap}s"
assert_eq 5 "$n" "four windows and one retry"
assert_eq '{"200": 4, "500": 1}' "$(wv_stat 's["statuses"]')" "the retry was the 500's"
"$WV_PY" -c "import sys; sys.exit(0 if $gap >= 0.39 else 1)" ||
	fail "requests closer than api.min_interval: ${gap}s"
echo "ok: every request starts at least 0.4 s after the previous one ended"
assert_eq 1 "$(wv_stat 's["max_in_flight"]')" "never two requests in flight"
assert_eq '[]' "$(wv_stat 's["violations"]')" "no violation"

wv_control '{"reset":true}'
wv_control '{"per_day":{"2026-01-05":1,"2026-01-06":1,"2026-01-07":1,"2026-01-08":1}}'
wv_expect 0 --set database.schema=other backfill --from 2026-01-05 --to 2026-01-09
read -r gap n <<<"$(min_gap)"
echo "no min_interval: $n requests, smallest gap ${gap}s"
"$WV_PY" -c "import sys; sys.exit(0 if $gap < 0.2 else 1)" ||
	fail "without min_interval requests should follow at once: ${gap}s"
echo "ok: without min_interval, no wait between requests"
