# tests/integration/t0006-api-errors.sh - how API errors end a run
# (contract rules 6 and 10, exit statuses of section 2).
#
# Proves: a wrong token (403 PLEASE VALIDATE TOKEN) exits 1, says the API's
# message on stderr, is not retried (exactly one request reaches the API)
# and changes no table; the token itself is never printed (checked by `wv`
# on every run); an unknown report (400) also stops at once with exit 1; a
# 404 whose body is not "Validate dates entered" (a wrong server) is an
# error, not an empty window; a day without records (404 "Validate dates
# entered", with data missing, null or [] depending on the window) is a
# success with no rows, one request per window.

wv_expect 0 migrate
c0=$(wv_checksum wolkvox)

wv_expect 1 --set api.token=wrong-token-4c1d backfill --from 2026-01-05 --to 2026-01-06
assert_contains "$(cat "$WV_TMP/err")" "PLEASE VALIDATE TOKEN" "stderr holds the API's message"
assert_not_contains "$(cat "$WV_TMP/err" "$WV_TMP/out")" "wrong-token-4c1d" "the token is not printed"
assert_eq 1 "$(wv_stat 's["data_requests"]')" "wrong token: one request, no retry"
assert_eq "$c0" "$(wv_checksum wolkvox)" "wrong token: tables unchanged"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "wrong token: no window recorded"

wv_control '{"reset":true}'
wv_expect 1 --set api.report=diagram_99 backfill --from 2026-01-05 --to 2026-01-06
assert_contains "$(cat "$WV_TMP/err")" "THE API YOU WANT TO CONSULT DOES NOT EXIST" "400: the API's message"
assert_eq 1 "$(wv_stat 's["data_requests"]')" "400: one request, no retry"

wv_control '{"reset":true}'
wv_control '{"faults":[{"status":404,"body":"<html><body>Not Found</body></html>","content_type":"text/html","times":100}]}'
wv_expect 1 backfill --from 2026-01-05 --to 2026-01-06
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response")" "a foreign 404 loads nothing"

# Empty days: 404 "Validate dates entered" means no records.
wv_control '{"reset":true}'
wv_control '{"per_day":{"2026-02-01":0,"2026-02-02":0,"2026-02-03":0,"2026-02-04":0,"2026-02-05":0,"2026-02-06":0}}'
wv_expect 0 backfill --from 2026-02-01 --to 2026-02-07
assert_eq 6 "$(wv_stat 's["data_requests"]')" "empty days: one request each"
assert_eq '{"404": 6}' "$(wv_stat 's["statuses"]')" "every answer was a 404"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response")" "empty days: no rows"
assert_eq "$c0" "$(wv_checksum wolkvox)" "empty days: tables unchanged"
