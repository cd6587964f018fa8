# tests/integration/t0603-logs.sh - the log on stderr when it is not a
# terminal (cron, systemd, a pipe): key=value lines, or JSON lines with
# log.format = json (README "Commands").
#
# Proves: every line but the summary is "ts=.. level=.. run=N pid=.. stage=..
# msg=.." and parses as logfmt; lines written before the run is recorded
# (migrations, configuration) carry run=0 and the same fields; every line
# from "backfill of operation" on carries the run's etl_run id; with
# --set log.format=json every line, configuration errors included, is one
# JSON object with the same fields, and the summary one too; -q leaves only
# warnings, errors and the summary; -v adds debug lines; -q and -v win over
# log.level; no line holds a carriage return or a progress line.

# check_kv FILE: every line is logfmt with the fixed fields; prints
# "RUNS" = the run ids of the lines, in order, space-separated.
check_kv()
{
	"$WV_PY" - "$1" <<'EOF'
import re, sys
tok = re.compile(r'([a-z_]+)=("(?:[^"\\]|\\.)*"|[^ "]*)(?: |$)')
runs = []
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    line = line.rstrip("\n")
    if "\r" in line or "\x1b" in line:
        sys.exit("line %d holds a carriage return or an escape: %r" % (n, line))
    if line.startswith("summary "):
        continue
    pos, kv = 0, []
    while pos < len(line):
        m = tok.match(line, pos)
        if not m:
            sys.exit("line %d is not logfmt at %d: %r" % (n, pos, line))
        kv.append(m.group(1))
        pos = m.end()
    if kv != ["ts", "level", "run", "pid", "stage", "msg"]:
        sys.exit("line %d has fields %s: %r" % (n, kv, line))
    if not re.match(r'ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(trace|debug|info|warn|error|fatal) run=\d+ pid=\d+ stage=[a-z]+ msg=', line):
        sys.exit("line %d: bad field values: %r" % (n, line))
    runs.append(re.search(r' run=(\d+) ', line).group(1))
print(" ".join(runs))
EOF
}

# check_json FILE: every line is a JSON object with the fixed fields (the
# summary with its own); prints the run ids of the log lines.
check_json()
{
	"$WV_PY" - "$1" <<'EOF'
import json, sys
runs = []
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    try:
        o = json.loads(line)
    except ValueError as e:
        sys.exit("line %d is not JSON (%s): %r" % (n, e, line))
    if not isinstance(o, dict):
        sys.exit("line %d is not an object" % n)
    if o.get("summary") is True:
        continue
    if list(o) != ["ts", "level", "run", "pid", "stage", "msg"]:
        sys.exit("line %d has keys %s" % (n, list(o)))
    if not isinstance(o["run"], int) or not isinstance(o["msg"], str):
        sys.exit("line %d: run or msg of the wrong type" % n)
    runs.append(str(o["run"]))
print(" ".join(runs))
EOF
}

# key=value: the first run migrates (run=0) then loads (run=N)
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-08
runs=$(check_kv "$WV_TMP/err") || fail "key=value log: $runs"
run_id=$(psql_q "SELECT max(run_id) FROM wolkvox.etl_run")
first=$(grep -n 'msg="backfill of operation' "$WV_TMP/err" | cut -d: -f1)
[ -n "$first" ] || fail "no 'backfill of operation' line"
before=$(head -n $((first - 1)) "$WV_TMP/err" | grep -c 'stage=load msg="applied migration' || true)
[ "$before" -ge 1 ] || fail "the migrations were logged before the run started"
assert_eq "" "$(head -n $((first - 1)) "$WV_TMP/err" | grep -v ' run=0 ' || true)" \
	"lines before the run is recorded carry run=0"
assert_eq "" "$(tail -n +"$first" "$WV_TMP/err" | grep -v '^summary ' | grep -v " run=$run_id " || true)" \
	"every line from the run's start on carries run=$run_id"
assert_eq 1 "$(grep -c "^summary .* run=$run_id " "$WV_TMP/err")" "the summary names the run"
assert_eq "summary" "$(tail -n 1 "$WV_TMP/err" | cut -d' ' -f1)" "the summary is the last line"

# JSON lines, the summary included
wv_expect 0 --set log.format=json backfill --from 2026-01-05 --to 2026-01-07 --reload
runs=$(check_json "$WV_TMP/err") || fail "JSON log: $runs"
run_id=$(psql_q "SELECT max(run_id) FROM wolkvox.etl_run")
[ -n "$runs" ] || fail "no JSON log line"
for r in $runs; do assert_eq "$run_id" "$r" "JSON line's run"; done
"$WV_PY" -c 'import json,sys; o=json.loads(open(sys.argv[1]).read().splitlines()[-1]); assert o["summary"] is True and o["status"] == "ok", o' \
	"$WV_TMP/err" || fail "the JSON summary is the last line"
# through a pipe too
rc=0
"$WVETL" -c "$WV_CONF" --set log.format=json status 2>&1 >/dev/null | cat >"$WV_TMP/pipe.err" || rc=$?
check_json "$WV_TMP/pipe.err" >/dev/null || fail "JSON through a pipe"

# a configuration error is a log line in the chosen format too
wv_expect 2 --set log.format=json --set api.retries=many sync
runs=$(check_json "$WV_TMP/err") || fail "JSON config error: $runs"
assert_contains "$(cat "$WV_TMP/err")" '"level":"error","run":0,' "config error: level error, run 0"
assert_contains "$(cat "$WV_TMP/err")" '"stage":"config","msg":"--set: api.retries: invalid value' \
	"config error: stage and message"
wv_expect 2 -c "$WV_TMP/none.ini" sync
runs=$(check_kv "$WV_TMP/err") || fail "key=value config error: $runs"
assert_eq 1 "$(grep -c 'level=error run=0 pid=[0-9]* stage=config msg=' "$WV_TMP/err")" \
	"a missing file is one key=value error line"

# -q: warnings, errors and the summary only
wv_expect 0 -q backfill --from 2026-01-05 --to 2026-01-07 --reload
assert_eq 0 "$(grep -c 'level=info' "$WV_TMP/err" || true)" "-q: no info line"
assert_eq 1 "$(grep -c '^summary ' "$WV_TMP/err")" "-q: the summary stays"
wv_expect 0 --set log.level=warn backfill --from 2026-01-05 --to 2026-01-07 --reload
assert_eq 0 "$(grep -c 'level=info' "$WV_TMP/err" || true)" "log.level=warn: no info line"
# -v: debug lines (each HTTP request is one)
wv_expect 0 -v backfill --from 2026-01-05 --to 2026-01-07 --reload
runs=$(check_kv "$WV_TMP/err") || fail "-v log: $runs"
[ "$(grep -c 'level=debug' "$WV_TMP/err")" -ge 2 ] || fail "-v: debug lines"
assert_contains "$(cat "$WV_TMP/err")" 'level=debug' "-v shows debug"
wv_expect 0 -v --set log.level=error backfill --from 2026-01-05 --to 2026-01-07 --reload
[ "$(grep -c 'level=debug' "$WV_TMP/err")" -ge 2 ] || fail "-v wins over log.level"
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-07 --reload
assert_eq 0 "$(grep -c 'level=debug' "$WV_TMP/err" || true)" "no debug lines by default"
wv_expect 0 -q -v backfill --from 2026-01-05 --to 2026-01-07 --reload
[ "$(grep -c 'level=debug' "$WV_TMP/err")" -ge 2 ] || fail "-q -v: the last one wins"
