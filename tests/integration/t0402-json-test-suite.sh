# tests/integration/t0402-json-test-suite.sh - every JSONTestSuite parsing
# case (../shared/testdata/JSONTestSuite/test_parsing, 318 files) as a whole
# answer body, end to end, in the sanitizer build.
#
# Proves, for every file replayed as the body of one window (`replay FILE`,
# one process per file, 20 s each at most):
#   - no crash, no hang, no sanitizer report, no leak: the exit status is 0
#     or 1, never a signal, 2 or the sanitizers' 86;
#   - every n_ case (invalid JSON) exits 1 with a message naming the byte
#     offset where the body went wrong ("at byte N"; "empty body" for
#     bodies of blanks), and after all 188 of them the warehouse is as it
#     was: the survey tables' checksum is unchanged, no etl_window or
#     etl_reject row exists, and every run is recorded as failed; the form
#     feed yajl's lexer would take for a blank (n_structure_whitespace_
#     formfeed) is refused like the rest;
#   - every y_ case (valid JSON) exits 0, except a top-level scalar, which
#     is no report ("body is not a JSON object or array", exit 1);
#   - the i_ cases (implementation-defined) end either way, cleanly.
# Then every y_ document is put, as it is, as the value of an unknown key
# of a record (one body of 95 records, replayed): each record's extras
# holds it, equal as jsonb to the document (with U+0000 removed and noted
# in _nul_removed, as PostgreSQL's jsonb cannot hold it).
# And every file is served by the mock API as its answer body (bytes as
# they are, through the control plane in base64): the same outcome over
# HTTP.

testdata=$(sh "$WV_TOP/tests/testdata.sh") || fail "the JSONTestSuite corpus is needed"
suite=$testdata/JSONTestSuite/test_parsing
wv_expect 0 migrate
c0=$(wv_checksum wolkvox)

# replay_case FILE: run the sanitizer build on FILE as one window; sets rc,
# leaves stderr in $WV_TMP/case.err; fails on a crash or a report.
replay_case()
{
	rc=0
	timeout -k 5 20 "$WVETL" -c "$WV_CONF" -q replay "$1" --from 2026-01-05 --to 2026-01-06 \
		>/dev/null 2>"$WV_TMP/case.err" || rc=$?
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WV_TMP/case.err"; then
		cat "$WV_TMP/case.err"
		fail "$(basename "$1"): sanitizer report"
	fi
	case $rc in
		0 | 1) ;;
		124 | 137) fail "$(basename "$1"): hung (killed after 20 s)" ;;
		*) cat "$WV_TMP/case.err"; fail "$(basename "$1"): exit $rc" ;;
	esac
}

t0=$SECONDS
n=0
for f in "$suite"/n_*.json; do
	name=$(basename "$f")
	replay_case "$f"
	n=$((n + 1))
	[ "$name" = n_structure_whitespace_formfeed.json ] && cp "$WV_TMP/case.err" "$WV_TMP/ff.err"
	[ $rc -eq 1 ] || fail "$name: invalid JSON loaded (exit $rc)"
	err=$(grep -E 'summary|error|failed' "$WV_TMP/case.err" | head -n 3)
	case $err in
		*"at byte "[0-9]* | *"empty body"*) ;;
		*) cat "$WV_TMP/case.err"; fail "$name: the message names no byte offset" ;;
	esac
done
echo "ok: $n n_ cases: exit 1 with a byte offset ($((SECONDS - t0)) s)"
assert_eq "$c0" "$(wv_checksum wolkvox)" "n_ cases: survey tables unchanged"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "n_ cases: no window recorded"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_reject")" "n_ cases: no reject recorded"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_run WHERE command = 'replay' AND status <> 'failed'")" \
	"n_ cases: every run recorded as failed"
grep -q "a form feed (0x0C) is not JSON white space" "$WV_TMP/ff.err" 2>/dev/null ||
	fail "the form feed case is refused for what it is"

# The exit status each y_ case must end with: 1 for a top-level scalar.
"$WV_PY" - "$suite" >"$WV_TMP/y.want" <<'EOF'
import json, os, sys
for name in sorted(os.listdir(sys.argv[1])):
    if name.startswith("y_"):
        v = json.load(open(os.path.join(sys.argv[1], name), "rb"))
        print(name, 0 if isinstance(v, (dict, list)) else 1)
EOF
t0=$SECONDS
n=0
while read -r name want; do
	f=$suite/$name
	replay_case "$f"
	n=$((n + 1))
	[ $rc -eq "$want" ] || { cat "$WV_TMP/case.err"; fail "$name: exit $rc, expected $want"; }
	if [ "$want" = 1 ]; then
		grep -q "body is not a JSON object or array" "$WV_TMP/case.err" ||
			{ cat "$WV_TMP/case.err"; fail "$name: a scalar body is refused for what it is"; }
	fi
done <"$WV_TMP/y.want"
[ "$n" -eq 95 ] || fail "95 y_ cases expected, $n run"
echo "ok: $n y_ cases: loaded, or refused as a scalar body ($((SECONDS - t0)) s)"

t0=$SECONDS
n=0
for f in "$suite"/i_*.json; do
	replay_case "$f"
	n=$((n + 1))
done
echo "ok: $n i_ cases ended cleanly ($((SECONDS - t0)) s)"

# Every y_ document as the value of an unknown key, in one body.
"$WV_PY" - "$suite" "$WV_TMP/docs.json" "$WV_TMP/docs.expect" <<'EOF'
import decimal, json, os, sys
suite, body_path, expect_path = sys.argv[1:]

def clean(v):
    """The value with U+0000 removed from strings and keys; numbers kept
    as decimals (no float rounding)."""
    if isinstance(v, str):
        return v.replace("\0", "")
    if isinstance(v, list):
        return [clean(x) for x in v]
    if isinstance(v, dict):
        return {clean(k): clean(x) for k, x in v.items()}
    return v

def dump(v):
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, list):
        return "[" + ",".join(dump(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dump(x) for k, x in v.items()) + "}"
    return json.dumps(v)

def has_nul(v):
    if isinstance(v, str):
        return "\0" in v
    if isinstance(v, list):
        return any(has_nul(x) for x in v)
    if isinstance(v, dict):
        return any(has_nul(k) or has_nul(x) for k, x in v.items())
    return False

recs, expect = [], []
for i, name in enumerate(sorted(n for n in os.listdir(suite) if n.startswith("y_"))):
    raw = open(os.path.join(suite, name), "rb").read()
    v = json.loads(raw, parse_float=decimal.Decimal)
    recs.append(b'{"date":"2026-02-01 00:%02d:%02d","conn_id":"%s","doc":%s}'
                % (i // 60, i % 60, name.encode(), raw))
    expect.append({"conn_id": name, "doc": dump(clean(v)), "nul": has_nul(v)})
open(body_path, "wb").write(b"[" + b",".join(recs) + b"]")
json.dump(expect, open(expect_path, "w"))
EOF
wv_expect 0 replay "$WV_TMP/docs.json" --from 2026-02-01 --to 2026-02-02
"$WV_PY" - "$WV_TMP/docs.expect" <<'EOF' || fail "a y_ document did not reach extras as it was"
import json, sys, psycopg2
expect = json.load(open(sys.argv[1]))
conn = psycopg2.connect("")
cur = conn.cursor()
bad = 0
for e in expect:
    cur.execute("SELECT extras->'doc' = %s::jsonb,"
                " coalesce(extras->'_nul_removed' @> '[\"doc\"]', false)"
                " FROM wolkvox.survey_response WHERE conn_id = %s",
                (e["doc"], e["conn_id"]))
    row = cur.fetchone()
    if row is None or not row[0] or row[1] != e["nul"]:
        print("differs: %s: %r (want %s, nul %s)" % (e["conn_id"], row, e["doc"], e["nul"]))
        bad += 1
print("%d of %d y_ documents equal as jsonb in extras" % (len(expect) - bad, len(expect)))
sys.exit(1 if bad else 0)
EOF
echo "ok: every y_ document reached extras as it was"

# Every file served by the mock API over HTTP, its bytes as they are (the
# control plane takes them in base64), one day each from 2025-01-01 (days
# long finished: backfill loads nothing later than now - sync.lag), no
# retries.
"$WV_PY" - "$suite" "$WV_TMP" >"$WV_TMP/http.cases" <<'EOF'
import base64, json, os, sys
suite, tmp = sys.argv[1:]
for name in sorted(os.listdir(suite)):
    raw = open(os.path.join(suite, name), "rb").read()
    want = {"n": 1, "i": -1}.get(name[0])
    if want is None:
        v = json.loads(raw)
        want = 0 if isinstance(v, (dict, list)) else 1
    with open(os.path.join(tmp, name + ".control"), "w") as f:
        json.dump({"faults": [{"status": 200,
                               "body_b64": base64.b64encode(raw).decode()}]}, f)
    print(name, want)
EOF
t0=$SECONDS
n=0
while read -r name want; do
	day=$(date -d "2025-01-01 +$n days" +%F)
	next=$(date -d "2025-01-01 +$((n + 1)) days" +%F)
	n=$((n + 1))
	wv_control "@$WV_TMP/$name.control"
	w0=$(psql_q "SELECT count(*) FROM wolkvox.etl_window")
	rc=0
	timeout -k 5 20 "$WVETL" -c "$WV_CONF" -q --set api.retries=0 backfill --from "$day" --to "$next" \
		>/dev/null 2>"$WV_TMP/case.err" || rc=$?
	grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WV_TMP/case.err" &&
		{ cat "$WV_TMP/case.err"; fail "$name over HTTP: sanitizer report"; }
	[ "$want" -lt 0 ] && want=$rc
	[ $rc -eq "$want" ] || { cat "$WV_TMP/case.err"; fail "$name over HTTP: exit $rc, expected $want"; }
	if [ "$want" = 1 ] && [ "${name%%_*}" = n ]; then
		grep -qE 'at byte [0-9]+|empty body' "$WV_TMP/case.err" ||
			{ cat "$WV_TMP/case.err"; fail "$name over HTTP: no byte offset in the message"; }
		[ "$w0" = "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" ] ||
			fail "$name over HTTP: a window was committed"
	fi
done <"$WV_TMP/http.cases"
[ "$n" -eq 318 ] || fail "$n cases served over HTTP, expected all 318"
assert_eq "$n" "$(wv_stat 's["data_requests"]')" "one request per case, each answered with its body"
assert_eq "{\"200\": $n}" "$(wv_stat 's["statuses"]')" "every case answered 200"
echo "ok: $n cases served over HTTP ended as replayed ($((SECONDS - t0)) s)"
