# tests/integration/t0406-invalid-unicode.sh - text that is not valid
# Unicode never fails a window: PostgreSQL's UTF8 text and jsonb cannot
# hold it, so the transform replaces it and says so.
#
# yajl accepts JSON whose strings decode to bytes PostgreSQL refuses: a
# lone low surrogate escape (\uDC00..\uDFFF, decoded into UTF-8 bytes of a
# surrogate), and raw overlong, surrogate or out-of-range sequences (its
# lexer checks their structure only). Before the transform cleaned them,
# one such value made COPY fail the whole window, at every retry.
#
# Proves, over HTTP (escapes) and by replay (raw bytes): the window loads
# (exit 0); each ill-formed sequence became U+FFFD in the columns, the
# answers, extras and the rejects' raw text; valid neighbours (U+D7FF, an
# emoji, an escaped surrogate pair) are kept; extras lists the keys under
# _invalid_unicode_replaced (and U+0000 under _nul_removed, as before).

FFFD=$(printf '\357\277\275')

# Escapes, served by the mock API.
"$WV_PY" - >"$WV_TMP/control.json" <<'EOF'
import json
body = ('{"code":200,"error":null,"msg":"2 records were found","data":['
        '{"date":"2026-01-05 10:00:00","conn_id":"esc","agent_name":"a\\udd83b",'
        '"skill_name":"\\ud83d\\ude00 ok \\ud7ff","q01":"\\u0000\\udfff","odd\\udc00":"\\udc00x"},'
        '{"conn_id":"rej","date":"\\udc01"}]}')
print(json.dumps({"faults": [{"status": 200, "body": body}]}))
EOF
wv_control "@$WV_TMP/control.json"
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-06
R3=$FFFD$FFFD$FFFD
assert_eq "a${R3}b|😀 ok $(printf '\355\237\277')|${R3}|{\"_nul_removed\": [\"q01\"], \"odd$R3\": \"${R3}x\", \"_invalid_unicode_replaced\": [\"agent_name\", \"q01\", \"odd$R3\"]}" \
	"$(psql_q "SELECT r.agent_name, r.skill_name, a.answer_text, r.extras
	             FROM wolkvox.survey_response r JOIN wolkvox.survey_answer a USING (response_id)
	            WHERE r.conn_id = 'esc'")" "escapes: replaced, noted, neighbours kept"
assert_eq "unreadable date \"$R3\"|{\"date\": \"$R3\", \"conn_id\": \"rej\"}" \
	"$(psql_q "SELECT reason, raw_record::jsonb FROM wolkvox.etl_reject")" "escapes: the reject is kept, cleaned"

# Raw bytes, replayed from a file.
printf '[{"date":"2026-01-06 10:00:00","conn_id":"raw","agent_name":"<\300\200|\355\240\200|\340\200\200|\364\220\200\200|\365\200\200\200>","feeling":"\355\237\277\364\217\277\277"}]' \
	>"$WV_TMP/raw.json"
wv_expect 0 replay "$WV_TMP/raw.json" --from 2026-01-06 --to 2026-01-07
# (compared in hex: psql leaves U+10FFFF out of its printed text)
assert_eq "3cefbfbdefbfbd7cefbfbdefbfbdefbfbd7cefbfbdefbfbdefbfbd7cefbfbdefbfbdefbfbdefbfbd7cefbfbdefbfbdefbfbdefbfbd3e|ed9fbff48fbfbf|{\"_invalid_unicode_replaced\": [\"agent_name\"]}" \
	"$(psql_q "SELECT encode(convert_to(agent_name, 'UTF8'), 'hex'), encode(convert_to(feeling, 'UTF8'), 'hex'),
	                  extras FROM wolkvox.survey_response WHERE conn_id = 'raw'")" \
	"raw bytes: each ill-formed sequence replaced, U+D7FF and U+10FFFF kept"
