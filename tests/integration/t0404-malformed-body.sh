# tests/integration/t0404-malformed-body.sh - an answer body that turns
# into garbage part way fails its window cleanly (contract rules 7, 10).
#
# Proves: a 200 answer whose first 1000 bytes are the real body (whole
# records already parsed and streamed into COPY) followed by garbage is
# retried (api.retries=3: four requests), then the run exits 1 with a
# message that names the byte offset where the JSON went wrong and what
# was expected there; nothing of the window is committed (survey tables'
# checksum, etl_window, etl_reject unchanged). The same garbage once, then
# the real answer: the retry loads the window exactly as the API holds it
# (check_rows.py), so the records streamed before the garbage left nothing
# behind.

curl -fsS -H "wolkvox-token: $WV_TOKEN" \
	"$WV_URL?api=diagram_4&date_ini=20260105000000&date_end=20260105235959" -o "$WV_TMP/body.json"
wv_control '{"reset":true}'
"$WV_PY" - "$WV_TMP/body.json" "$WV_TMP/control.json" >"$WV_TMP/cut" <<'EOF'
import json, sys
body = open(sys.argv[1], "rb").read()
# the first record boundary after 1000 bytes, then garbage where the next
# record should start
cut = body.index(b"},{", 1000) + 2
assert body.count(b"},{") > 3
bad = body[:cut] + b"@garbage"
json.dump({"faults": [{"status": 200, "body": bad.decode(), "times": 4}]},
          open(sys.argv[2], "w"))
print(cut)
EOF

wv_expect 0 migrate
c0=$(wv_checksum wolkvox)
wv_control "@$WV_TMP/control.json"
wv_expect 1 backfill --from 2026-01-05 --to 2026-01-06
err=$(cat "$WV_TMP/err")
cut=$(cat "$WV_TMP/cut")
echo "garbage after byte $cut"
assert_contains "$err" "invalid JSON at byte $((cut + 1)): invalid char in json text" \
	"the message names the byte offset and what is wrong there"
assert_contains "$err" "(after 4 attempts)" "it was retried"
assert_eq 4 "$(wv_stat 's["data_requests"]')" "four requests (three retries)"
assert_eq "$c0" "$(wv_checksum wolkvox)" "survey tables unchanged"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "no window recorded"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_reject")" "no reject recorded"

# Garbage once, then the real answer.
wv_control '{"reset":true}'
sed 's/"times": 4/"times": 1/' "$WV_TMP/control.json" >"$WV_TMP/once.json"
wv_control "@$WV_TMP/once.json"
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-06
assert_eq 2 "$(wv_stat 's["data_requests"]')" "one retry"
check_rows --from 2026-01-05 --to 2026-01-06
