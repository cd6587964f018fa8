# tests/integration/t0801-outside-window.sh - a record dated outside the
# window it came in is rejected with that reason (contract rule 12).
#
# Proves: replaying the body of 2026-01-05 as 2026-01-06 fails (exit 1)
# whatever api.max_rejects allows, saying its records are dated outside the
# window; nothing of it is loaded, no etl_window row says 2026-01-06 is
# loaded, and its records are in etl_reject with reason "date ... is outside
# the window [...) it came in". Replayed as [2026-01-05 12:00, 2026-01-06),
# its morning is rejected with that reason and its afternoon loads, the
# record at 12:00:00 in, those before out; api.max_rejects=0 fails it. An
# API answer holding a record of another day: that record is rejected, the
# rest loads (api.max_rejects judges it).

curl -fsS -H "wolkvox-token: $WV_TOKEN" \
	"$WV_URL?api=diagram_4&date_ini=20260105000000&date_end=20260105235959" \
	-o "$WV_TMP/day5.json"

wv_expect 1 replay "$WV_TMP/day5.json" --from 2026-01-06 --to 2026-01-07
assert_contains "$(cat "$WV_TMP/err")" "records of $WV_TMP/day5.json are dated outside the window" \
	"the failure says why"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response")" "nothing loaded"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "no window recorded as loaded"
n=$(psql_q "SELECT count(*) FROM wolkvox.etl_reject
             WHERE reason LIKE 'date 2026-01-05 % is outside the window [2026-01-06 00:00:00, 2026-01-07 00:00:00) it came in'")
[ "$n" -gt 30 ] || fail "the day's records are rejects with the reason (got $n)"

# Half the day in the window: the morning is rejected, the afternoon loads.
wv_expect 0 --set database.schema=half replay "$WV_TMP/day5.json" \
	--from "2026-01-05 12:00:00" --to 2026-01-06
assert_eq 0 "$(psql_q "SELECT count(*) FROM half.survey_response
                        WHERE answered_at < '2026-01-05 12:00:00-05'")" "nothing before the window loaded"
assert_eq 1 "$(psql_q "SELECT count(*) FROM half.survey_response
                        WHERE answered_at = '2026-01-05 12:00:00-05'")" "the record at the window's start is in"
am=$(psql_q "SELECT count(*) FROM half.etl_reject WHERE reason LIKE '% is outside the window %'")
[ "$am" -ge 15 ] || fail "the morning's records are rejected as outside (got $am)"
assert_eq "$am" "$("$WV_PY" -c '
import json, sys
recs = json.load(open(sys.argv[1]))["data"]
print(sum(1 for r in recs if isinstance(r.get("date"), str) and r["date"].replace("T", " ")[:4] == "2026"
          and "-13-" not in r["date"] and r["date"].replace("T", " ").replace("-", "")[:8] == "20260105"
          and r["date"][-8:] < "12:00:00"))' "$WV_TMP/day5.json")" "every morning record, and only those, rejected as outside"

wv_expect 1 --set database.schema=strict --set api.max_rejects=0 replay "$WV_TMP/day5.json" \
	--from "2026-01-05 12:00:00" --to 2026-01-06
assert_contains "$(cat "$WV_TMP/err")" "more than api.max_rejects (0)" "max_rejects=0 fails the half"
assert_eq 0 "$(psql_q "SELECT count(*) FROM strict.etl_window")" "the failed half is not recorded"

# The API sends a record of another day for 2026-01-08.
wv_control '{"faults":[{"status":200,"body":"{\"code\":200,\"msg\":\"2 records\",\"data\":[{\"date\":\"2026-01-09 00:00:00\",\"conn_id\":\"stray\"},{\"date\":\"2026-01-08 23:59:59\",\"conn_id\":\"last\"}]}"}]}'
wv_expect 0 backfill --from 2026-01-08 --to 2026-01-09
assert_eq "last" "$(psql_q "SELECT conn_id FROM wolkvox.survey_response WHERE answered_at >= '2026-01-08' ")" \
	"the record of the window's last second loads"
assert_eq "date 2026-01-09 00:00:00 is outside the window [2026-01-08 00:00:00, 2026-01-09 00:00:00) it came in" \
	"$(psql_q "SELECT reason FROM wolkvox.etl_reject WHERE raw_record LIKE '%stray%'")" "the stray record is rejected"
