# tests/integration/t0310-transport.sh - how wvetl talks HTTP: compressed
# answers are used when offered, a silent server is given up on after
# api.timeout, a slow but steady answer is never cut.
#
# Proves: wvetl offers Accept-Encoding, and when the server answers gzip or
# deflate (Content-Encoding) the compressed answers are read: the mock sent
# every answer encoded, fewer bytes than the records' JSON, and the rows
# equal what the API holds; the summary's bytes count the decoded body.
# With api.timeout = 1s, an answer that stops sending after 16 bytes is
# abandoned ("no data for 1 s") and retried, and the day loads; an answer
# that trickles in over 2 s (longer than api.timeout, never silent for it)
# is read whole in one request: no total-transfer timeout.

wv_control '{"encoding":"gzip"}'
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-07
assert_eq '{"gzip": 2}' "$(wv_stat 's["encodings"]')" "both answers gzip-encoded"
sent=$(wv_stat 's["bytes_served"]')
json=$(curl -fsS "http://127.0.0.1:$WV_PORT/_records?date_ini=20260105000000&date_end=20260106235959" | wc -c)
echo "gzip: $sent bytes sent for $json bytes of records"
[ "$sent" -lt $((json / 2)) ] || fail "the answers were not compressed ($sent >= $json / 2)"
got=$(sed -n 's/.* bytes=\([0-9]*\) .*/\1/p' "$WV_TMP/err")
[ "$got" -gt "$json" ] || fail "summary bytes ($got) should be the decoded size (> $json)"
check_rows --from 2026-01-05 --to 2026-01-07

wv_control '{"reset":true}'
wv_control '{"encoding":"deflate"}'
wv_expect 0 backfill --from 2026-01-07 --to 2026-01-08
assert_eq '{"deflate": 1}' "$(wv_stat 's["encodings"]')" "deflate-encoded answer"
check_rows --from 2026-01-05 --to 2026-01-08

wv_control '{"reset":true}'
wv_control '{"faults":[{"stall":true}]}'
t0=$(date +%s.%N)
wv_expect 0 --set api.timeout=1s backfill --from 2026-01-08 --to 2026-01-09
t1=$(date +%s.%N)
assert_contains "$(cat "$WV_TMP/err")" "no data for 1 s (HTTP 200, 16 body bytes received); retry 1 of 3" "a stalled answer is abandoned and retried"
assert_eq 2 "$(wv_stat 's["data_requests"]')" "stalled, then answered"
"$WV_PY" -c "import sys; sys.exit(0 if $t1 - $t0 < 4 else 1)" || fail "the stall was not given up within about api.timeout"
check_rows --from 2026-01-05 --to 2026-01-09

wv_control '{"reset":true}'
wv_control '{"faults":[{"trickle":2}]}'
wv_expect 0 --set api.timeout=1s backfill --from 2026-01-09 --to 2026-01-10
assert_eq 1 "$(wv_stat 's["data_requests"]')" "the slow answer was read in one request"
dur=$(wv_stat 'round(s["log"][0]["end"] - s["log"][0]["start"], 2)')
echo "the trickled answer took $dur s"
"$WV_PY" -c "import sys; sys.exit(0 if $dur >= 1.8 else 1)" || fail "the answer should have taken about 2 s"
check_rows --from 2026-01-05 --to 2026-01-10
