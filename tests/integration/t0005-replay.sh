# tests/integration/t0005-replay.sh - `replay` of a saved body loads what a
# backfill of the same window loads, with no API call.
#
# Proves: a raw body saved with curl, replayed plain and gzipped into two
# fresh schemas (--set database.schema=...), gives rows identical, column by
# column and answer by answer, to a backfill of the same window; replay
# makes no request to the API; the rejects are the same too; and the
# replayed rows pass check_rows.py on their own.

curl -fsS -H "wolkvox-token: $WV_TOKEN" \
	"$WV_URL?api=diagram_4&date_ini=20260105000000&date_end=20260105235959" \
	-o "$WV_TMP/body.json"
gzip -c "$WV_TMP/body.json" >"$WV_TMP/body.json.gz"
before=$(wv_stat 's["data_requests"]')

wv_expect 0 --set database.schema=replayed replay "$WV_TMP/body.json" --from 2026-01-05 --to 2026-01-06
wv_expect 0 --set database.schema=replayed_gz replay "$WV_TMP/body.json.gz" --from 2026-01-05 --to 2026-01-06
assert_eq "$before" "$(wv_stat 's["data_requests"]')" "replay made no API call"

wv_expect 0 backfill --from 2026-01-05 --to 2026-01-06

n=$(psql_q "SELECT count(*) FROM wolkvox.survey_response")
[ "$n" -gt 0 ] || fail "the backfill loaded rows"
c=$(wv_checksum wolkvox)
assert_eq "$c" "$(wv_checksum replayed)" "replayed plain body == backfill"
assert_eq "$c" "$(wv_checksum replayed_gz)" "replayed gzipped body == backfill"
r=$(psql_q "SELECT count(*) FROM wolkvox.etl_reject")
assert_eq "$r" "$(psql_q "SELECT count(*) FROM replayed.etl_reject")" "same rejects (plain)"
assert_eq "$r" "$(psql_q "SELECT count(*) FROM replayed_gz.etl_reject")" "same rejects (gzip)"
check_rows --schema replayed --from 2026-01-05 --to 2026-01-06
