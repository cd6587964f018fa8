# tests/integration/t0812-reader-access.sh - wvetl grant / revoke: a reader
# role sees its operations only, through every view, and never the raw
# tables, the ETL's bookkeeping or a personal number in clear.
#
# Proves: two operations ("test" and "other", the same mock data) loaded
# into one warehouse; `wvetl grant reader_a --operation test`:
#   - as reader_a, every relation `grant` gave it (reader_relation: the
#     views, agent, skill, survey_question, visible_operation) returns rows
#     of "test" only, and the main views return some;
#   - survey_response, survey_answer, etl_run, etl_grant, etl_reject,
#     etl_state: permission denied;
#   - v_response's ani, customer_id, agent_dni (loaded with keep): NULL for
#     the reader, the clear values for the loader;
#   - a function of the reader's own with a tiny cost, in the WHERE clause
#     of every view (so the planner would run it as early as it may), is
#     never handed a row of "other";
#   - status lists the grant; a second role granted both operations sees
#     both; a role that can read survey_response (a superuser) or a role
#     that does not exist is refused (exit 1);
#   - revoke: reader_a reads nothing any more (permission denied).

wv_expect 0 backfill --from 2026-01-05 --to 2026-01-07
wv_expect 0 --set sync.operation=other backfill --from 2026-01-05 --to 2026-01-07
psql_q "CREATE ROLE reader_a; CREATE ROLE reader_ab"

wv_expect 0 grant reader_a --operation test
assert_contains "$(cat "$WV_TMP/out")" "role reader_a reads operation test" "grant says what it did"
wv_expect 0 grant reader_ab --operation test --operation other

as_a() { psql -X -A -t -q -v ON_ERROR_STOP=1 -c "SET ROLE reader_a; $1"; }

rels=$(psql_q "SELECT relation FROM wolkvox.reader_relation ORDER BY 1")
echo "$rels"
for r in v_response v_answer v_survey_wide v_daily_agent v_daily_skill v_daily_agent_question \
	v_daily_skill_question agent skill survey_question visible_operation; do
	assert_contains " $(echo $rels) " " $r " "$r is one of the reader's relations"
done
for r in $rels; do
	assert_eq 0 "$(as_a "SELECT count(*) FROM wolkvox.$r WHERE operation <> 'test'")" \
		"reader_a sees no row of another operation in $r"
done
for r in v_response v_answer v_survey_wide v_daily_agent v_daily_agent_question agent; do
	[ "$(as_a "SELECT count(*) FROM wolkvox.$r")" -gt 0 ] || fail "reader_a sees nothing in $r"
	assert_eq "$(psql_q "SELECT count(*) FROM wolkvox.$r WHERE operation = 'test'")" \
		"$(as_a "SELECT count(*) FROM wolkvox.$r")" "reader_a sees every row of its operation in $r"
done

for t in survey_response survey_answer etl_run etl_grant etl_reject etl_state etl_window; do
	if as_a "SELECT count(*) FROM wolkvox.$t" >"$WV_TMP/denied" 2>&1; then
		fail "reader_a could read $t"
	fi
	assert_contains "$(cat "$WV_TMP/denied")" "permission denied" "reader_a cannot read $t at all"
done

[ "$(psql_q "SELECT count(ani) FROM wolkvox.v_response WHERE operation = 'test'")" -gt 0 ] ||
	fail "the loader sees no ani"
assert_eq "0|0|0" "$(as_a "SELECT count(ani), count(customer_id), count(agent_dni) FROM wolkvox.v_response")" \
	"personal columns kept in clear are NULL for the reader"
assert_eq "0|0" "$(as_a "SELECT count(ani), count(customer_id) FROM wolkvox.v_survey_wide")" \
	"... in v_survey_wide too"

# a leaky function of the reader's own, as cheap as can be
psql_q "CREATE FUNCTION public.peek(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001
	AS \$\$BEGIN RAISE NOTICE 'peek: %', \$1; RETURN true; END\$\$"
: >"$WV_TMP/peeks"
for r in $rels; do
	cols="operation"
	case $r in
		v_daily_agent_question) cols="operation agent_id question question_label" ;;
		v_daily_skill_question) cols="operation skill_id question" ;;
		v_answer) cols="operation agent_id question_label answer_text" ;;
		v_daily_agent) cols="operation agent_id agent_name" ;;
		v_response) cols="operation agent_name ani timezone" ;;
		visible_operation) cols="operation timezone" ;;
	esac
	for c in $cols; do
		psql -X -A -t -q -c "SET ROLE reader_a; SELECT count(*) FROM wolkvox.$r WHERE public.peek($c::text || ' op=' || operation)" \
			>/dev/null 2>>"$WV_TMP/peeks" || fail "the query on $r.$c failed"
	done
done
[ "$(grep -c 'peek:' "$WV_TMP/peeks")" -gt 100 ] || fail "the function saw too few rows to mean anything"
assert_eq 0 "$(grep -c 'op=other' "$WV_TMP/peeks")" "the reader's own function never sees a row of another operation"

assert_eq "other
test" "$(psql -X -A -t -q -c "SET ROLE reader_ab; SELECT DISTINCT operation FROM wolkvox.v_response ORDER BY 1")" \
	"a role granted both operations sees both"

wv_expect 0 status
assert_contains "$(cat "$WV_TMP/out")" "reader_a" "status lists the reader roles"
assert_contains "$(grep reader_ab "$WV_TMP/out")" "reads other, test" "status lists a role's operations"

wv_expect 1 grant "$(psql_q "SELECT current_user")" --operation test
assert_contains "$(cat "$WV_TMP/err")" "can read survey_response itself" "a role that reads the raw tables is refused"
wv_expect 1 grant nosuchrole --operation test
assert_contains "$(cat "$WV_TMP/err")" "does not exist" "a role that does not exist is refused"

wv_expect 0 revoke reader_a
if as_a "SELECT count(*) FROM wolkvox.v_response" >"$WV_TMP/denied" 2>&1; then
	fail "reader_a still reads v_response after revoke"
fi
assert_contains "$(cat "$WV_TMP/denied")" "permission denied" "after revoke the reader reads nothing"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_grant WHERE role = 'reader_a'")" "revoke forgets the grants"
