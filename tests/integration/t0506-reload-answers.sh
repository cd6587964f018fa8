# tests/integration/t0506-reload-answers.sh - reloading a window replaces
# a changed record's answers exactly, and leaves unchanged answers alone.
#
# Proves: a record loaded with q01=5 q02=4 q03=3 and loaded again (backfill
# --reload, the merge path) with q01=1 (changed), q02="-" (now unanswered),
# q03=3 (same) and q04=2 (new) ends with exactly q01=1, q03=3, q04=2; the
# row of q03 is the very row written by the first load (same xmin: the
# merge did not delete and insert it again), while q01 and q04 are new
# rows; a second record, unchanged, keeps all of its answer rows.

rec()
{
	printf '{"conn_id":"c.%s","agent_id":"7","skill_id":"3","date":"2026-02-02 10:00:0%s",%s}' "$1" "$1" "$2"
}
wv_control "{\"per_day\":{\"2026-02-02\":0},\"records\":[$(rec 1 '"q01":"5","q02":"4","q03":"3","feeling":"neutral"'),$(rec 2 '"q01":"4","q02":"4"'),$(rec 3 '"q01":"1"')]}"
wv_expect 0 backfill --from 2026-02-02 --to 2026-02-03
answers()
{
	psql_q "SELECT r.conn_id || ':' || a.question_no || '=' || a.answer_text
	          FROM wolkvox.survey_answer a JOIN wolkvox.survey_response r USING (response_id)
	         ORDER BY 1" | tr '\n' ' '
}
xmins()
{
	psql_q "SELECT r.conn_id || ':' || a.question_no || '@' || a.xmin
	          FROM wolkvox.survey_answer a JOIN wolkvox.survey_response r USING (response_id)
	         ORDER BY 1" | tr '\n' ' '
}
assert_eq "c.1:1=5 c.1:2=4 c.1:3=3 c.2:1=4 c.2:2=4 c.3:1=1 " "$(answers)" "first load"
before=$(xmins)
rows()
{
	psql_q "SELECT conn_id || '@' || xmin || '/' || run_id FROM wolkvox.survey_response ORDER BY 1" | tr '\n' ' '
}
rows_before=$(rows)

wv_control '{"reset":true}'
wv_control "{\"per_day\":{\"2026-02-02\":0},\"records\":[$(rec 1 '"q01":"1","q02":"-","q03":"3","q04":"2","feeling":"positive"'),$(rec 2 '"q01":"4","q02":"4"'),$(rec 3 '"q01":"2"')]}"
wv_expect 0 backfill --reload --from 2026-02-02 --to 2026-02-03
assert_contains "$(cat "$WV_TMP/err")" "0 inserted, 3 updated" "the three records count as updated"
assert_eq "c.1:1=1 c.1:3=3 c.1:4=2 c.2:1=4 c.2:2=4 c.3:1=2 " "$(answers)" "every record's answers are the new set"
rows_after=$(rows)
r() { printf '%s\n' $1 | grep "^$2@" | cut -d@ -f2; }
assert_eq "$(r "$rows_before" c.2)" "$(r "$rows_after" c.2)" "the unchanged response row was not written again"
[ "$(r "$rows_before" c.1)" != "$(r "$rows_after" c.1)" ] || fail "the changed response row must be written again"
echo "ok: the changed response row is written again"
assert_eq "positive" "$(psql_q "SELECT feeling FROM wolkvox.survey_response WHERE conn_id = 'c.1'")" "its new value"
after=$(xmins)
x() { printf '%s\n' $1 | grep "^$2@" | cut -d@ -f2; }
assert_eq "$(x "$before" c.1:3)" "$(x "$after" c.1:3)" "the unchanged answer was not rewritten"
assert_eq "$(x "$before" c.2:1) $(x "$before" c.2:2)" "$(x "$after" c.2:1) $(x "$after" c.2:2)" \
	"the unchanged record's answers were not rewritten"
[ "$(x "$before" c.1:1)" != "$(x "$after" c.1:1)" ] || fail "the changed answer must be a new row"
echo "ok: the changed answer is a new row"
