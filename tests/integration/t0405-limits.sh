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
#     read, not after the whole file (yajl would buffer all of it);
#   - what a record may cost is bounded (4 MiB: its keys and values as JSON
#     text, and the bytes each key costs): 4 million empty keys, 20 values
#     of 200,000 escaped control characters (small decoded, six times
#     larger as JSON) and a million question keys in reverse each end in
#     "record 0 is larger than 4194304 bytes" with about 4 MiB read; an
#     envelope key wvetl skips ({"x":[0,0,... 50 MB) ends once 4 MiB of it
#     were read; 25,000 question keys in reverse, and four values of 1 MB,
#     load; each of these runs of bin/wvetl (the optimized build, measured
#     by /usr/bin/time -v) peaks under 64 MiB of RSS, the bound README
#     documents;
#   - an error body without end (HTTP 500, 30 MB) is read no further than
#     its first 64 KiB: the run says the API's status, and its summary
#     counts at most 128 KiB a request (64 KiB kept, and what curl had read).

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

# ---- memory: hostile bodies end within the documented 64 MiB
[ -x "$WV_TOP/bin/wvetl" ] || fail "bin/wvetl (the optimized build) is needed: make all"
rss_limit_kib=$((64 * 1024))

# replay_rss FILE WANT_RC: replay FILE with bin/wvetl under /usr/bin/time -v;
# asserts the exit status and the peak RSS; stderr in $WV_TMP/rss.err
replay_rss()
{
	local rc=0 kib
	/usr/bin/time -v "$WV_TOP/bin/wvetl" -c "$WV_CONF" replay "$1" --from 2026-01-09 --to 2026-01-10 \
		>/dev/null 2>"$WV_TMP/rss.err" || rc=$?
	kib=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WV_TMP/rss.err")
	grep -E 'level=error|summary' "$WV_TMP/rss.err" | cut -c1-400 | sed 's/^/  | /'
	assert_eq "$2" "$rc" "exit status of replay $(basename "$1")"
	[ -n "$kib" ] && [ "$kib" -le "$rss_limit_kib" ] ||
		fail "$(basename "$1"): peak RSS $kib KiB, over $rss_limit_kib KiB"
	echo "ok: $(basename "$1"): peak RSS $((kib / 1024)) MiB"
}

# read_at_most N: the body bytes the last replay's message says were read
# ("file F, N bytes") are at most N
read_at_most()
{
	local got
	got=$(sed -n 's/.*, \([0-9]*\) bytes): .*/\1/p' "$WV_TMP/rss.err" | head -n 1)
	[ -n "$got" ] && [ "$got" -le "$1" ] || fail "read $got bytes, more than $1"
	echo "ok: stopped after $got bytes"
}

"$WV_PY" - "$WV_TMP" <<'PYEOF'
import os, sys
d = sys.argv[1]
head = '[{"date":"2026-01-09 12:00:00","conn_id":"k"'
def w(name, text):
    with open(os.path.join(d, name), "w") as f:
        f.write(text)
w("empty_keys.json", head + ',"":0' * 4000000 + '}]')
esc = '"' + '\\u0001' * 200000 + '"'
w("escapes.json", head + "".join(',"k%d":%s' % (i, esc) for i in range(20)) + '}]')
w("qkeys_1m.json", head + "".join(',"q%d":"1"' % i for i in range(1000000, 0, -1)) + '}]')
w("skipped.json", '{"x":[' + '0,' * 25000000 + '0],"data":[]}')
w("qkeys_25k.json", head + "".join(',"q%d":"%d"' % (i, i % 7) for i in range(25000, 0, -1)) + '}]')
mb = '"' + 'x' * 1000000 + '"'
w("near.json", head.replace('"k"', '"near"') + "".join(',"k%d":%s' % (i, mb) for i in range(4)) + '}]')
PYEOF
c2=$(wv_checksum wolkvox)
for f in empty_keys escapes qkeys_1m; do
	replay_rss "$WV_TMP/$f.json" 1
	assert_contains "$(cat "$WV_TMP/rss.err")" "record 0 is larger than 4194304 bytes" "$f: the record is too large"
	read_at_most $((4194304 + 2 * 1048576))
done
replay_rss "$WV_TMP/skipped.json" 1
assert_contains "$(cat "$WV_TMP/rss.err")" "the body holds more than 4194304 bytes outside its records" \
	"a key the transform skips is read no further than 4 MiB"
read_at_most $((4194304 + 65536))
assert_eq "$c2" "$(wv_checksum wolkvox)" "hostile bodies: survey tables unchanged"

replay_rss "$WV_TMP/qkeys_25k.json" 0
assert_eq "25000|1|0|6" "$(psql_q "SELECT count(*), min(question_no), min(answer_num), max(answer_num)
                                    FROM wolkvox.survey_answer a JOIN wolkvox.survey_response r
                                    USING (response_id) WHERE r.conn_id = 'k'")" \
	"25,000 question keys in reverse load, one answer each"
replay_rss "$WV_TMP/near.json" 0
assert_eq "4000000" "$(psql_q "SELECT sum(length(value)) FROM wolkvox.survey_response,
                               jsonb_each_text(extras) WHERE conn_id = 'near'")" \
	"four values of 1 MB load whole"

# an error body without end is not read to its end
"$WV_PY" - "$WV_TMP/bigerr.json" <<'PYEOF'
import json, sys
json.dump({"faults": [{"status": 500, "body": "<html>" + "x" * 30000000, "times": 2,
                       "content_type": "text/html"}]}, open(sys.argv[1], "w"))
PYEOF
wv_control "@$WV_TMP/bigerr.json"
wv_expect 1 --set api.retries=1 backfill --from 2026-01-11 --to 2026-01-12
assert_contains "$(cat "$WV_TMP/err")" 'HTTP 500 (text/html): \"<html>xxx' "the status and the body's first bytes"
got=$(sed -n 's/.* bytes=\([0-9]*\) .*/\1/p' "$WV_TMP/err" | tail -n 1)
[ -n "$got" ] && [ "$got" -le $((2 * 128 * 1024)) ] || fail "read $got bytes of two 30 MB error bodies"
echo "ok: two 30 MB error bodies: $got bytes read"
