# tests/integration/t0309-envelope.sh - every documented shape of the API's
# envelope (contract rule 6), and what a body that is no envelope says.
#
# Proves: six empty days answered 404 "Validate dates entered" with code
# 404 and "404", data missing, null and [] (all six combinations) are
# empty windows: exit 0, six windows recorded with no records, one info
# line each; 200 answers with data as a single object (one record loaded),
# data null, data missing, code " " and code "200" as a string with a list,
# and code 404 "Validate dates entered" inside a 200 all load what they
# hold; an HTML page with status 200 and a text/plain body are errors that
# say the status, the content type and the first bytes of what came back,
# not only a JSON parser's message, and load nothing.

wv_control '{"per_day":{"2026-02-01":0,"2026-02-02":0,"2026-02-03":0,"2026-02-04":0,"2026-02-05":0,"2026-02-06":0}}'
wv_expect 0 backfill --from 2026-02-01 --to 2026-02-07
assert_eq '{"404": 6}' "$(wv_stat 's["statuses"]')" "six 404 answers"
assert_eq 6 "$(grep -c 'level=info.*no records (HTTP 404: Validate dates entered)' "$WV_TMP/err")" "each logged at info"
assert_eq "6 0" "$(psql_q "SELECT count(*), sum(records + rejects) FROM wolkvox.etl_window" | tr '|' ' ')" "six empty windows recorded"

rec='{"agent_id":"1001","date":"2026-03-0%d 10:00:00","conn_id":"env.%d","skill_id":"201","q01":"5"}'
r1=$(printf "$rec" 1 1)
r4=$(printf "$rec" 4 4)
r5=$(printf "$rec" 5 5)
wv_control '{"reset":true}'
wv_control "$("$WV_PY" -c '
import json, sys
r1, r4, r5 = sys.argv[1:]
bodies = [
    "{\"code\":200,\"error\":null,\"msg\":\"1 records were found\",\"data\":%s}" % r1,
    "{\"code\":\"200\",\"error\":null,\"msg\":\"0 records were found\",\"data\":null}",
    "{\"code\":200,\"error\":null,\"msg\":\"0 records were found\"}",
    "{\"code\":\" \",\"error\":null,\"msg\":\" 1 records were found\",\"data\":[%s]}" % r4,
    "{\"code\":\"200\",\"error\":\"null\",\"msg\":\"1 records were found\",\"data\":[%s]}" % r5,
    "{\"code\":404,\"error\":\"NOT FOUND\",\"msg\":\"Validate dates entered\"}",
]
print(json.dumps({"faults": [{"status": 200, "body": b} for b in bodies]}))' "$r1" "$r4" "$r5")"
wv_expect 0 backfill --from 2026-03-01 --to 2026-03-07
assert_eq '{"200": 6}' "$(wv_stat 's["statuses"]')" "six 200 answers"
assert_eq "env.1 env.4 env.5" "$(psql_q "SELECT string_agg(conn_id, ' ' ORDER BY conn_id) FROM wolkvox.survey_response WHERE conn_id LIKE 'env.%'")" \
	"data as one object, code \" \" and code \"200\" load their record"
assert_eq 3 "$(psql_q "SELECT count(*) FROM wolkvox.survey_answer a JOIN wolkvox.survey_response r USING (response_id) WHERE r.conn_id LIKE 'env.%' AND a.answer_num = 5")" \
	"with their answers"
assert_eq "6 3" "$(psql_q "SELECT count(*), sum(records) FROM wolkvox.etl_window WHERE window_from >= '2026-03-01 00:00-05'" | tr '|' ' ')" \
	"six windows, three empty (data null, data missing, code 404 in a 200)"

wv_control '{"reset":true}'
wv_control '{"faults":[{"status":200,"content_type":"text/html; charset=utf-8","times":2,"body":"<html><head><title>Mantenimiento programado</title></head><body>Volvemos pronto</body></html>"}]}'
wv_expect 1 --set api.retries=1 backfill --from 2026-01-05 --to 2026-01-06
err=$(cat "$WV_TMP/err")
assert_contains "$err" "unreadable answer (HTTP 200, text/html; charset=utf-8, 93 bytes)" "the status, content type and size"
assert_contains "$err" 'it starts with \"<html><head><title>Mantenimiento programado</title>' "the first bytes"
assert_contains "$err" "(after 2 attempts)" "retried, then failed"
assert_contains "$(psql_q "SELECT error FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1")" "<html><head><title>Mantenimiento" "etl_run.error says what came back"

wv_control '{"reset":true}'
wv_control '{"faults":[{"status":200,"content_type":"text/plain","times":2,"body":"Service temporarily unavailable"}]}'
wv_expect 1 --set api.retries=1 backfill --from 2026-01-05 --to 2026-01-06
assert_contains "$(cat "$WV_TMP/err")" 'unreadable answer (HTTP 200, text/plain, 31 bytes)' "text/plain: status, type, size"
assert_contains "$(cat "$WV_TMP/err")" 'it starts with \"Service temporarily unavailable\"' "and the text"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE answered_at < '2026-01-06 00:00-05' AND answered_at >= '2026-01-05 00:00-05'")" "nothing loaded from them"
