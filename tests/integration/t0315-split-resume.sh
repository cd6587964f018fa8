# tests/integration/t0315-split-resume.sh - a backfill that stops inside a
# split window resumes without asking again for the halves it loaded.
#
# Proves: with a cap of 20 and 50 records in the day, the token's daily
# limit arrives after three answers (the capped day, its capped first
# half, the first quarter): exit 75, one quarter committed. The re-run
# asks for the capped day and its first half again (they are not loaded
# as a whole), does not ask for the loaded quarter, and loads the three
# missing quarters; in the end every record is loaded once.

wv_control '{"per_day":{"2026-01-05":50},"max_records":20}'
wv_control '{"faults":[{"status":403,"msg":"TOKEN LIMIT EXCEEDED","after":3,"times":1}]}'
wv_expect 75 --set api.max_records=20 backfill --from 2026-01-05 --to 2026-01-06
assert_eq 1 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "one quarter committed before the limit"
loaded=$(psql_q "SET TIME ZONE 'America/Bogota'; SELECT '[\"' || to_char(window_from, 'YYYYMMDDHH24MISS') || '\", \"' || to_char(window_to - interval '1 second', 'YYYYMMDDHH24MISS') || '\"]' FROM wolkvox.etl_window")
assert_eq '["20260105000000", "20260105055959"]' "$loaded" "the first quarter is the one loaded"

wv_control '{"reset":true}'
wv_control '{"per_day":{"2026-01-05":50},"max_records":20}'
wv_expect 0 --set api.max_records=20 backfill --from 2026-01-05 --to 2026-01-06
windows=$(wv_stat 's["windows"]')
assert_not_contains "$windows" "$loaded" "the loaded quarter is not asked for again"
assert_contains "$windows" '["20260105060000", "20260105115959"]' "the missing quarter is asked for"
assert_contains "$(cat "$WV_TMP/err")" "skipped=1" "the summary counts the skipped quarter"
check_rows --from 2026-01-05 --to 2026-01-06
assert_eq 4 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "four quarters in the end"
