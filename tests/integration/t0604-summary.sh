# tests/integration/t0604-summary.sh - the summary line every run ends with,
# as a monitoring system reads it (README "Commands").
#
# Proves: the last line of stderr is "summary" followed by key=value pairs
# that parse into exactly the documented keys, in order, with numeric counts
# and seconds; its counts equal the run's etl_run row, the windows in
# etl_window and the rows in survey_response; a re-run that skips every
# window says so (windows=0 skipped=3); with log.format = json the summary is
# one JSON object with the same keys and numbers as numbers; extract's
# summary counts the lines it wrote; even a run that never reached the API
# (a database that cannot be reached) ends with a summary (status=failed).

KEYS="command operation run status windows skipped records inserted updated duplicates rejects api_calls bytes seconds"

# summary_kv FILE: the last line as "key=value" lines, after checking it
# parses and holds exactly $KEYS in order with numbers where numbers go.
summary_kv()
{
	"$WV_PY" - "$1" "$KEYS" <<'EOF'
import re, sys
last = open(sys.argv[1], encoding="utf-8").read().splitlines()[-1]
if not last.startswith("summary "):
    sys.exit("last line is not a summary: %r" % last)
pairs = [p.split("=", 1) for p in last[len("summary "):].split(" ")]
if any(len(p) != 2 for p in pairs):
    sys.exit("not key=value: %r" % last)
d = dict(pairs)
if [k for k, _ in pairs] != sys.argv[2].split():
    sys.exit("keys %s" % [k for k, _ in pairs])
for k in sys.argv[2].split()[4:-1] + ["run"]:
    if not re.fullmatch(r"\d+", d[k]):
        sys.exit("%s=%r is not a count" % (k, d[k]))
float(d["seconds"])
if not re.fullmatch(r"\d+\.\d{3}", d["seconds"]):
    sys.exit("seconds=%r" % d["seconds"])
for k, v in pairs:
    print("%s=%s" % (k, v))
EOF
}

# field KEY: KEY's value in $WV_TMP/summary
field()
{
	sed -n "s/^$1=//p" "$WV_TMP/summary"
}

wv_expect 0 backfill --from 2026-01-05 --to 2026-01-08
summary_kv "$WV_TMP/err" >"$WV_TMP/summary" || fail "the summary line parses"
run=$(field run)
assert_eq backfill "$(field command)" "summary: command"
assert_eq test "$(field operation)" "summary: operation"
assert_eq ok "$(field status)" "summary: status"
assert_eq "$(psql_q "SELECT max(run_id) FROM wolkvox.etl_run")" "$run" "summary: run is the etl_run id"
assert_eq 3 "$(field windows)" "summary: windows"
assert_eq 0 "$(field skipped)" "summary: skipped"
assert_eq "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "$(field windows)" "windows = etl_window rows"
assert_eq "$(psql_q "SELECT count(*) FROM wolkvox.survey_response")" "$(field inserted)" \
	"inserted = survey_response rows (first load)"
assert_eq "$(psql_q "SELECT count(*) FROM wolkvox.etl_reject")" "$(field rejects)" "rejects = etl_reject rows"
assert_eq "$(psql_q "SELECT concat_ws(' ', status, records, inserted, updated, duplicates, rejects, api_calls, bytes) FROM wolkvox.etl_run WHERE run_id = $run")" \
	"$(field status) $(field records) $(field inserted) $(field updated) $(field duplicates) $(field rejects) $(field api_calls) $(field bytes)" \
	"summary counts = the run's etl_run row"
assert_eq "$(wv_stat 's["data_requests"]')" "$(field api_calls)" "api_calls = requests the mock saw"
assert_eq "$(wv_stat 's["records_served"]')" "$(($(field records) + $(field rejects)))" \
	"records + rejects = records the mock served"
assert_eq "$(field records)" "$(($(field inserted) + $(field updated) + $(field duplicates)))" \
	"records = inserted + updated + duplicates"
[ "$(field records)" -gt 0 ] || fail "records loaded"

# a re-run skips every window
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-08
summary_kv "$WV_TMP/err" >"$WV_TMP/summary" || fail "the re-run's summary parses"
assert_eq "0 3 0" "$(field windows) $(field skipped) $(field records)" "re-run: windows=0 skipped=3 records=0"

# JSON: the same keys, numbers as numbers
wv_expect 0 --set log.format=json backfill --from 2026-01-05 --to 2026-01-07 --reload
"$WV_PY" - "$WV_TMP/err" "$KEYS" >"$WV_TMP/summary" <<'EOF' || fail "the JSON summary parses"
import json, sys
o = json.loads(open(sys.argv[1], encoding="utf-8").read().splitlines()[-1])
keys = sys.argv[2].split()
if list(o) != ["summary"] + keys or o["summary"] is not True:
    sys.exit("keys %s" % list(o))
for k in keys[4:-1] + ["run"]:
    if type(o[k]) is not int:
        sys.exit("%s is %r" % (k, o[k]))
if type(o["seconds"]) is not float:
    sys.exit("seconds is %r" % o["seconds"])
for k in keys:
    print("%s=%s" % (k, o[k]))
EOF
run=$(field run)
assert_eq "$(psql_q "SELECT concat_ws(' ', status, records, inserted, updated, duplicates, rejects) FROM wolkvox.etl_run WHERE run_id = $run")" \
	"$(field status) $(field records) $(field inserted) $(field updated) $(field duplicates) $(field rejects)" \
	"JSON summary counts = the run's etl_run row"
assert_eq "2 0" "$(field windows) $(field skipped)" "JSON summary: --reload loads both windows"

# extract: records = lines written, run=0 (no database)
wv_expect 0 extract --from 2026-01-05 --to 2026-01-07 -o "$WV_TMP/records.jsonl"
summary_kv "$WV_TMP/err" >"$WV_TMP/summary" || fail "extract's summary parses"
assert_eq "extract 0 ok" "$(field command) $(field run) $(field status)" "extract summary"
assert_eq "$(wc -l <"$WV_TMP/records.jsonl")" "$(field records)" "extract: records = lines written"

# a database that cannot be reached: still one summary, status=failed
wv_expect 1 --set "database.conninfo=host=127.0.0.1 port=1 connect_timeout=2" backfill \
	--from 2026-01-05 --to 2026-01-06
summary_kv "$WV_TMP/err" >"$WV_TMP/summary" || fail "the failed run's summary parses"
assert_eq "failed 0 0" "$(field status) $(field run) $(field windows)" "no database: status=failed"
assert_eq 1 "$(grep -c '^summary ' "$WV_TMP/err")" "exactly one summary line"
