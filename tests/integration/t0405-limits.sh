# tests/integration/t0405-limits.sh - a hostile body cannot exhaust memory:
# the transform's limits end the window with a clear error, never a crash.
#
# Proves:
#   - a 2 MB value (over the 1 MiB field limit), served over HTTP: exit 1,
#     'record N: value of "agent_name" is longer than 1048576 bytes',
#     nothing committed;
#   - a value of exactly 1 MiB (two-byte characters) loads, byte for byte;
#   - an unknown key holding arrays nested 100 deep: exit 1, "nested
#     deeper than 32 levels at byte N", nothing committed;
#   - a string that never ends (16 MB of one token, replayed): exit 1, "a
#     single JSON token is longer than ..." once about 6 MiB of it were
#     read, not after the whole file (yajl would buffer all of it).

wv_expect 0 migrate
c0=$(wv_checksum wolkvox)

# 2 MB over HTTP.
"$WV_PY" - >"$WV_TMP/big.json" <<'EOF'
import json
print(json.dumps({"per_day": {"2026-01-05": 3}, "records": [
    {"date": "2026-01-05 12:00:00", "conn_id": "big", "agent_name": "x" * (2 * 1024 * 1024)}]}))
EOF
wv_control "@$WV_TMP/big.json"
wv_expect 1 --set api.retries=1 backfill --from 2026-01-05 --to 2026-01-06
assert_contains "$(cat "$WV_TMP/err")" 'value of \"agent_name\" is longer than 1048576 bytes' \
	"2 MB value: the limit names the key"
assert_eq 2 "$(wv_stat 's["data_requests"]')" "2 MB value: retried once, as asked"
assert_eq "$c0" "$(wv_checksum wolkvox)" "2 MB value: survey tables unchanged"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "2 MB value: no window recorded"

# Exactly 1 MiB loads.
"$WV_PY" - "$WV_TMP/mib.json" <<'EOF'
import json, sys
v = "é" * (512 * 1024)
assert len(v.encode()) == 1024 * 1024
open(sys.argv[1], "w").write(json.dumps([{"date": "2026-01-06 12:00:00", "conn_id": "mib",
                                          "agent_name": v}], ensure_ascii=False))
EOF
wv_expect 0 replay "$WV_TMP/mib.json" --from 2026-01-06 --to 2026-01-07
assert_eq "1048576|t" "$(psql_q "SELECT octet_length(agent_name), agent_name = repeat('é', 524288)
                               FROM wolkvox.survey_response WHERE conn_id = 'mib'")" \
	"a value of exactly 1 MiB arrives whole"
c1=$(wv_checksum wolkvox)
w1=$(psql_q "SELECT count(*) FROM wolkvox.etl_window")

# 100 levels of nesting.
"$WV_PY" - "$WV_TMP/deep.json" <<'EOF'
import sys
open(sys.argv[1], "w").write('[{"date":"2026-01-07 12:00:00","conn_id":"deep","tags":'
                             + "[" * 100 + "]" * 100 + "}]")
EOF
wv_expect 1 replay "$WV_TMP/deep.json" --from 2026-01-07 --to 2026-01-08
assert_contains "$(cat "$WV_TMP/err")" 'record 0: value of \"tags\" is nested deeper than 32 levels at byte 86' \
	"100 levels: the limit and where"
assert_eq "$c1" "$(wv_checksum wolkvox)" "100 levels: survey tables unchanged"
assert_eq "$w1" "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "100 levels: no window recorded"

# A string that never ends.
"$WV_PY" - "$WV_TMP/endless.json" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write('[{"date":"2026-01-08 12:00:00","agent_name":"')
    for _ in range(256):
        f.write("y" * 65536)
EOF
wv_expect 1 replay "$WV_TMP/endless.json" --from 2026-01-08 --to 2026-01-09
err=$(cat "$WV_TMP/err")
assert_contains "$err" "after byte 43: a single JSON token is longer than 6356992 bytes" \
	"endless string: refused as a token too long"
read_bytes=$(echo "$err" | sed -n 's/.*no JSON value ends in the \([0-9]*\) bytes.*/\1/p' | head -n 1)
[ -n "$read_bytes" ] && [ "$read_bytes" -le $((6356992 + 65536)) ] ||
	fail "endless string: refused after $read_bytes bytes, not within 64 KiB past the bound"
echo "ok: refused after $read_bytes of the file's $(stat -c %s "$WV_TMP/endless.json") bytes"
assert_eq "$c1" "$(wv_checksum wolkvox)" "endless string: survey tables unchanged"
assert_eq "$w1" "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "endless string: no window recorded"
