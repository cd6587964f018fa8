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
wv_control "{\"per_day\":{\"2026-02-02\":0},\"records\":[$(rec 1 '"q01":"5","q02":"4","q03":"3"'),$(rec 2 '"q01":"4","q02":"4"')]}"
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
assert_eq "c.1:1=5 c.1:2=4 c.1:3=3 c.2:1=4 c.2:2=4 " "$(answers)" "first load"
before=$(xmins)

wv_control '{"reset":true}'
wv_control "{\"per_day\":{\"2026-02-02\":0},\"records\":[$(rec 1 '"q01":"1","q02":"-","q03":"3","q04":"2"'),$(rec 2 '"q01":"4","q02":"4"')]}"
wv_expect 0 backfill --reload --from 2026-02-02 --to 2026-02-03
assert_contains "$(cat "$WV_TMP/err")" "0 inserted, 2 updated" "both records are updated"
assert_eq "c.1:1=1 c.1:3=3 c.1:4=2 c.2:1=4 c.2:2=4 " "$(answers)" "the changed record's answers are the new set"
after=$(xmins)
x() { printf '%s\n' $1 | grep "^$2@" | cut -d@ -f2; }
assert_eq "$(x "$before" c.1:3)" "$(x "$after" c.1:3)" "the unchanged answer was not rewritten"
assert_eq "$(x "$before" c.2:1) $(x "$before" c.2:2)" "$(x "$after" c.2:1) $(x "$after" c.2:2)" \
	"the unchanged record's answers were not rewritten"
[ "$(x "$before" c.1:1)" != "$(x "$after" c.1:1)" ] || fail "the changed answer must be a new row"
echo "ok: the changed answer is a new row"
