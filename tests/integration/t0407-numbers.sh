# tests/integration/t0407-numbers.sh - a number JSON allows and PostgreSQL's
# numeric (hence jsonb) cannot hold never fails a window.
#
# Proves, through a backfill from the mock API (a raw 200 body):
#   - 1e200000, -1e-200000, a 200,000-digit integer and 0.0e-16383 in
#     unknown keys, and 1e131072 inside a nested value, load: extras keeps
#     each as a JSON string of its text, a number that fits stays a number,
#     and extras._numbers_as_text lists the keys;
#   - the same numbers as answers: answer_text as sent, answer_num NULL;
#     a plain answer next to them keeps its answer_num;
#   - the limits are PostgreSQL's: 1e131071 and 1e-16383 stay numbers;
#   - the record and its window are committed (exit 0), nothing rejected.

"$WV_PY" - "$WV_TMP/control.json" <<'EOF'
import json, sys
big_int = "1" + "0" * 199999
rec = ('{"date":"2026-01-05 10:00:00","conn_id":"num","agent_id":"7",'
       '"big":1e200000,"tiny":-1e-200000,"long":' + big_int + ','
       '"zero":0.0e-16383,"edge_hi":1e131071,"edge_lo":1e-16383,"fine":2.5,'
       '"nested":{"x":[1e131072,2.5],"y":"1e200000"},'
       '"q1":1e200000,"q2":5,"q3":"1e200000","q4":' + big_int + ','
       '"time":1e200000}')
body = '{"code":200,"error":null,"msg":"1 records were found","data":[' + rec + ']}'
json.dump({"faults": [{"status": 200, "body": body}]}, open(sys.argv[1], "w"))
EOF
wv_control "@$WV_TMP/control.json"
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-06
assert_eq "1|0" "$(psql_q "SELECT (SELECT count(*) FROM wolkvox.survey_response),
                                  (SELECT count(*) FROM wolkvox.etl_reject)")" \
	"the record loaded, nothing rejected"
assert_eq 1 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "the window is recorded"

x="SELECT %s FROM wolkvox.survey_response WHERE conn_id = 'num'"
q() { psql_q "$(printf "$x" "$1")"; }
assert_eq "string|1e200000" "$(q "jsonb_typeof(extras->'big') || '|' || (extras->>'big')")" \
	"1e200000 in an unknown key: a string in extras"
assert_eq "string|-1e-200000" "$(q "jsonb_typeof(extras->'tiny') || '|' || (extras->>'tiny')")" \
	"-1e-200000: a string in extras"
assert_eq "string|200000" "$(q "jsonb_typeof(extras->'long') || '|' || length(extras->>'long')")" \
	"a 200,000-digit integer: a string in extras"
assert_eq "string|0.0e-16383" "$(q "jsonb_typeof(extras->'zero') || '|' || (extras->>'zero')")" \
	"0.0e-16383 (a scale over 16383): a string"
assert_eq "number|number|number" \
	"$(q "jsonb_typeof(extras->'edge_hi') || '|' || jsonb_typeof(extras->'edge_lo') || '|' || jsonb_typeof(extras->'fine')")" \
	"1e131071, 1e-16383 and 2.5 fit numeric: numbers"
assert_eq '{"x": ["1e131072", 2.5], "y": "1e200000"}' "$(q "extras->'nested'")" \
	"inside a nested value: the number too big is a string, the other a number"
assert_eq '"1e200000"' "$(q "extras->'time'")" \
	"an untypable time that is such a number: a string in extras"
assert_eq '["big", "tiny", "long", "zero", "nested", "time"]' "$(q "extras->'_numbers_as_text'")" \
	"extras._numbers_as_text lists the keys"
assert_eq "1|1e200000|
2|5|5
3|1e200000|
4|200000|" "$(psql_q "SELECT question_no, CASE WHEN length(answer_text) > 100
                              THEN length(answer_text)::text ELSE answer_text END,
                              answer_num
                         FROM wolkvox.survey_answer ORDER BY 1")" \
	"answers: the text as sent, answer_num NULL when numeric cannot hold it"
