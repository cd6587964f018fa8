# tests/integration/t0312-extract.sh - `wvetl extract`: the records of a
# range as JSON lines, as the API sent each one, with no database.
#
# Proves: extract of three days (one empty, one answered only after a body
# cut mid-record and one after a 500) exits 0 with a database that cannot
# be reached; it writes one line per record, in the API's order, each line
# the same JSON value as the API's record (compared with the mock's
# /_records value by value, U+0000 included: extract writes records as
# sent, although the load removes U+0000 from every text), so a retried
# window never duplicates a line; stdout and -o FILE
# get the same bytes; jq reads every line (`jq -c .` gives back the lines,
# `jq -r .conn_id` works); an empty day adds no line. -o FILE is replaced
# only by a run that succeeds, keeping its mode; a failed run leaves it.

wv_control '{"per_day":{"2026-01-06":0},"faults":[{"cut_after":5000},{"status":500,"after":2}]}'
wv_expect 0 --set database.conninfo="host=/nonexistent/socket port=1" extract --from 2026-01-05 --to 2026-01-08 -o "$WV_TMP/x.jsonl"
assert_eq '{"200": 3, "404": 1, "500": 1}' "$(wv_stat 's["statuses"]')" "cut (counted as 200) and 500 retried, one empty day"
assert_contains "$(cat "$WV_TMP/err")" "body cut after 5000 bytes" "the cut was retried"

curl -fsS "http://127.0.0.1:$WV_PORT/_records?date_ini=20260105000000&date_end=20260107235959" >"$WV_TMP/want.json"
"$WV_PY" - "$WV_TMP/want.json" "$WV_TMP/x.jsonl" <<'PY' || fail "extract's lines differ from the API's records"
import json, sys
want = json.load(open(sys.argv[1]))
lines = open(sys.argv[2], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "the file ends with a newline"
got = [json.loads(l) for l in lines[:-1]]

def has_nul(v):
    if isinstance(v, str):
        return "\u0000" in v
    if isinstance(v, dict):
        return any(has_nul(k) or has_nul(x) for k, x in v.items())
    if isinstance(v, list):
        return any(has_nul(x) for x in v)
    return False

print("%d lines, %d records at the API" % (len(got), len(want)))
assert len(got) == len(want) == 80, "one line per record, none twice"
for i, (g, w) in enumerate(zip(got, want)):
    assert g == w, "line %d: %r != %r" % (i + 1, g, w)
    assert list(g) == list(w), "line %d: key order" % (i + 1)
assert any(has_nul(w) for w in want), "the range holds a record with U+0000"
print("every line equals its record, U+0000 included")
PY
echo "ok: one line per API record, as sent, in order"

wv_control '{"reset":true}'
wv_control '{"per_day":{"2026-01-06":0}}'
wv_expect 0 extract --from 2026-01-05 --to 2026-01-08
cmp "$WV_TMP/out" "$WV_TMP/x.jsonl" || fail "stdout differs from -o FILE"
echo "ok: stdout == -o FILE"

assert_eq 80 "$(jq -c . "$WV_TMP/x.jsonl" | wc -l)" "jq reads every line"
jq -c . "$WV_TMP/x.jsonl" | cmp - "$WV_TMP/x.jsonl" || fail "jq -c . should give the lines back"
echo "ok: jq -c . gives the lines back unchanged"
assert_eq 80 "$(jq -r .conn_id "$WV_TMP/x.jsonl" | grep -c '^6736\.')" "jq -r .conn_id over the output"

# -o FILE is replaced whole, at the end: a run that fails leaves the old
# FILE as it was (and no temporary file beside it); one that succeeds
# replaces it, keeping its mode. A FILE that is not a regular file is
# written directly.
printf 'old line\n' >"$WV_TMP/keep.jsonl"
chmod 640 "$WV_TMP/keep.jsonl"
wv_control '{"reset":true}'
wv_control '{"faults":[{"status":400,"msg":"SOME PARAMETERS ARE REQUIRED","after":1}]}'
wv_expect 1 extract --from 2026-01-05 --to 2026-01-08 -o "$WV_TMP/keep.jsonl"
assert_eq "old line" "$(cat "$WV_TMP/keep.jsonl")" "a failed extract leaves -o FILE as it was"
assert_eq "keep.jsonl" "$(ls "$WV_TMP" | grep '^keep')" "and no temporary file beside it"
wv_control '{"per_day":{"2026-01-06":0}}'
wv_expect 0 extract --from 2026-01-05 --to 2026-01-08 -o "$WV_TMP/keep.jsonl"
cmp "$WV_TMP/keep.jsonl" "$WV_TMP/x.jsonl" || fail "a good extract replaces -o FILE"
assert_eq 640 "$(stat -c %a "$WV_TMP/keep.jsonl")" "the file keeps its mode"
assert_eq "keep.jsonl" "$(ls "$WV_TMP" | grep '^keep')" "no temporary file left"
wv_expect 0 extract --from 2026-01-05 --to 2026-01-08 -o /dev/stdout
cmp "$WV_TMP/out" "$WV_TMP/x.jsonl" || fail "-o /dev/stdout is written directly"
echo "ok: -o /dev/stdout is written, not replaced"
