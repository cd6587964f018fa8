# tests/citus/t9002-in-place.sh - a warehouse loaded on one node is
# distributed in place by migrate with database.citus turned on.
#
# Proves: a warehouse loaded with database.citus = off (its tables plain
# tables of the coordinator) keeps every row, answer, reject and view row
# when `migrate` runs with database.citus = on: survey_response and
# survey_answer become distributed, colocated, the other tables stay on
# the coordinator, the steps are recorded as 901, 902 and 903; a second migrate
# changes nothing; loads go on (a reload merges, a new window is fast);
# status reads it; and with the key off again on a distributed warehouse
# commands still read it.

off="--set database.citus=off"
wv_expect 0 $off backfill --from 2026-01-05 --to 2026-01-08
before=$(wv_checksum wolkvox)
views()
{
	local v
	for v in v_response v_answer v_daily_agent v_daily_agent_question; do
		psql_q "SELECT '$v ' || count(*) || ' ' || md5(coalesce(string_agg(x::text, E'\n' ORDER BY x::text), ''))
		          FROM (SELECT * FROM wolkvox.$v OFFSET 0) x"
	done
}
views_before=$(views)
assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_dist_partition")" "loaded with the key off: nothing distributed"

wv_expect 0 migrate
assert_contains "$(cat "$WV_TMP/err")" "applied migration 901_distribute" "migrate distributes"
assert_eq "survey_answer|h|t survey_response|h|t " \
	"$(psql_q "SELECT logicalrelid::regclass::text, partmethod,
	                  colocationid = (SELECT colocationid FROM pg_dist_partition
	                                   WHERE logicalrelid = 'wolkvox.survey_response'::regclass)
	             FROM pg_dist_partition WHERE partmethod = 'h' ORDER BY 1" | sed 's/^wolkvox\.//' | tr '\n' ' ')" \
	"the survey tables are distributed and colocated"
assert_eq 2 "$(psql_q "SELECT count(*) FROM pg_dist_partition")" \
	"every other table stays on the coordinator"
assert_eq "0 0" "$(psql_q "SELECT pg_relation_size('wolkvox.survey_response') || ' ' ||
                             pg_relation_size('wolkvox.survey_answer')")" \
	"the coordinator's own copy of the rows is freed"
assert_eq "901 902 903 " "$(psql_q "SELECT version FROM wolkvox.schema_migrations WHERE version >= 900 ORDER BY 1" | tr '\n' ' ')" \
	"the Citus steps are recorded"
assert_eq "$before" "$(wv_checksum wolkvox)" "every survey and answer kept"
assert_eq "$views_before" "$(views)" "the views give the same rows"

wv_expect 0 migrate
assert_not_contains "$(cat "$WV_TMP/err")" "applied migration" "a second migrate applies nothing"

wv_expect 0 backfill --reload --from 2026-01-06 --to 2026-01-07
assert_contains "$(cat "$WV_TMP/err")" "0 inserted, 35 updated" "a reload merges on the distributed tables"
wv_expect 0 backfill --from 2026-01-08 --to 2026-01-09
assert_eq "fast" "$(psql_q "SELECT mode FROM wolkvox.etl_window WHERE window_from = '2026-01-08 05:00:00+00'")" \
	"a new window goes the fast way"
assert_eq 140 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response")" "four days of surveys"
wv_expect 0 status
assert_contains "$(cat "$WV_TMP/out")" "140" "status counts them"
wv_expect 0 $off status
