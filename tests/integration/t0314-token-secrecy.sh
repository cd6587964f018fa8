# tests/integration/t0314-token-secrecy.sh - the token is never written to
# a log line, an error, a table, an archive or an output (contract rule 11),
# even when the server echoes it back, at any log level.
#
# Proves: a -vv backfill with archive.dir whose answers echo the token (a
# maintenance 403 message, a 500 HTML page, a 200 HTML page, a 404 "Validate
# dates entered" body that is archived), then a run that fails on a 403
# PLEASE VALIDATE TOKEN echoing it (its message goes to etl_run.error), an
# extract -o FILE, a json-format run and `wvetl config`: the token's text is
# in no stderr or stdout (`wv` checks every run), in no row of any table of
# the schema (pg_dump --data-only), in no archive file (zcat) and not in the
# extract's file; and the echoed messages did reach the log, scrubbed.

tok=$WV_TOKEN
arch=$WV_TMP/arch
faults=$("$WV_PY" -c '
import json, sys
t = sys.argv[1]
print(json.dumps({"per_day": {"2026-01-06": 0}, "faults": [
    {"status": 403, "msg": "Servidor en mantenimiento (token %s)" % t},
    {"status": 500, "content_type": "text/html",
     "body": "<html><pre>GET /api\nwolkvox-token: %s\n</pre></html>" % t},
    {"status": 200, "content_type": "text/html",
     "body": "<html>wolkvox-token: %s</html>" % t},
    {"status": 404, "msg": "Validate dates entered for %s" % t, "after": 1}]}))' "$tok")
wv_control "$faults"
wv_expect 0 -vv --set archive.dir="$arch" --set api.retries=4 --set api.maintenance_wait=0.1s \
	backfill --from 2026-01-05 --to 2026-01-08
err=$(cat "$WV_TMP/err")
assert_contains "$err" "Servidor en mantenimiento (token ***)" "the echoed 403 message is logged, scrubbed"
assert_contains "$err" 'wolkvox-token: ***' "the echoed HTML page is shown, scrubbed"
assert_contains "$err" "Validate dates entered for ***" "the echoed 404 message is logged, scrubbed"
assert_not_contains "$err" "****" "the token's length is not shown either"
assert_eq 3 "$(find "$arch" -type f | wc -l | tr -d ' ')" "three windows archived"

wv_control '{"reset":true}'
wv_control "{\"faults\":[{\"status\":403,\"msg\":\"PLEASE VALIDATE TOKEN $tok\"}]}"
wv_expect 1 -vv backfill --from 2026-01-08 --to 2026-01-09
assert_contains "$(psql_q "SELECT error FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1")" "PLEASE VALIDATE TOKEN ***" \
	"etl_run.error holds the message, scrubbed"

wv_expect 0 -vv --set log.format=json extract --from 2026-01-05 --to 2026-01-06 -o "$WV_TMP/x.jsonl"
wv_expect 0 -vv config

pg_dump --data-only --schema=wolkvox >"$WV_TMP/dump.sql"
[ "$(grep -c 'survey_response' "$WV_TMP/dump.sql")" -gt 0 ] || fail "the dump holds the tables"
! grep -qF -- "$tok" "$WV_TMP/dump.sql" || fail "the token is in a table: $(grep -F -- "$tok" "$WV_TMP/dump.sql" | head -3)"
echo "ok: the token is in no table"
for f in $(find "$arch" -type f); do
	! zcat "$f" | grep -qF -- "$tok" || fail "the token is in the archive $f"
done
echo "ok: the token is in no archive file ($(find "$arch" -type f | wc -l) files)"
! grep -qF -- "$tok" "$WV_TMP/x.jsonl" || fail "the token is in the extract's output"
echo "ok: the token is not in the extract's output"
