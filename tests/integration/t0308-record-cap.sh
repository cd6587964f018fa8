# tests/integration/t0308-record-cap.sh - a window whose answer reaches the
# API's record cap is split in halves and fetched again, recursively; down
# to one second, then the run fails naming the window (contract rule 8).
#
# Proves: with the mock capping answers at 20 records and api.max_records =
# 20, a day of 50 records is split: the day's capped answer, then its
# halves (25 each, capped again), then quarters (under 20) are asked for;
# every record of the day is loaded and equals what the API holds
# (check_rows); no loaded window (etl_window) holds 20 records or more, and
# the loaded windows tile the day exactly; nothing from a capped answer was
# loaded (the run's counters equal the API's 50). Then three records in
# the same second with a cap of 2: the run exits 1 with an error naming the
# one-second window, and loads nothing of it.

wv_control '{"per_day":{"2026-01-05":50},"max_records":20}'
wv_expect 0 --set api.max_records=20 backfill --from 2026-01-05 --to 2026-01-06
assert_contains "$(cat "$WV_TMP/err")" "reached the record cap (20); splitting it in halves" "the split is logged"
assert_eq '[["20260105000000", "20260105235959"], ["20260105000000", "20260105115959"], ["20260105000000", "20260105055959"], ["20260105060000", "20260105115959"], ["20260105120000", "20260105235959"], ["20260105120000", "20260105175959"], ["20260105180000", "20260105235959"]]' \
	"$(wv_stat 's["windows"]')" "the day, each half, each quarter"
check_rows --from 2026-01-05 --to 2026-01-06
assert_eq "4 t" "$(psql_q "SELECT count(*), bool_and(records + rejects < 20) FROM wolkvox.etl_window" | tr '|' ' ')" \
	"four windows loaded, none at the cap"
assert_eq 1 "$(psql_q "
SELECT count(*) FROM (
  SELECT window_from, lag(window_to) OVER (ORDER BY window_from) AS prev_to
    FROM wolkvox.etl_window) w
 WHERE window_from = '2026-01-05 00:00:00-05'
    OR window_from <> prev_to")" "the windows tile the day without gap or overlap"
assert_eq "2026-01-06 00:00:00-05" "$(psql_q "SET TIME ZONE 'America/Bogota'; SELECT max(window_to) FROM wolkvox.etl_window")" "up to the day's end"
assert_eq 50 "$(psql_q "SELECT records + rejects FROM wolkvox.etl_run")" "the run counts the API's 50 records once"

# Three records in one second: no split can get under a cap of 2.
wv_control '{"reset":true}'
wv_control '{"per_day":{"2026-03-01":0},"max_records":2,"records":[
  {"agent_id":"1","date":"2026-03-01 10:00:02","conn_id":"c.1","skill_id":"1"},
  {"agent_id":"2","date":"2026-03-01 10:00:02","conn_id":"c.2","skill_id":"1"},
  {"agent_id":"3","date":"2026-03-01 10:00:02","conn_id":"c.3","skill_id":"1"}]}'
wv_expect 1 --set api.max_records=2 backfill --from "2026-03-01 10:00:00" --to "2026-03-01 10:00:04"
assert_contains "$(cat "$WV_TMP/err")" "window [2026-03-01 10:00:02, 2026-03-01 10:00:03): the API's record cap (api.max_records) is reached within one second" \
	"the error names the one-second window"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE conn_id LIKE 'c.%'")" "nothing of the capped second is loaded"
