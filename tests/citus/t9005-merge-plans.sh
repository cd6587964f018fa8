# tests/citus/t9005-merge-plans.sh - a merge's statements reach the
# workers in the shapes whose plans stay linear.
#
# Proves, from the commands the coordinator sends to the workers
# (citus.log_remote_commands, passed to wvetl's debug log as notices):
#   - a reload (a merge) sets enable_nestloop = off on the workers, in its
#     own transaction (load/dialect.c, dialect_merge_setup): a shard's
#     planner took the merge's intermediate results for a few rows and
#     chose nested loops that read them once per row;
#   - a new window without repeats (COPY only) sends no such setting (set
#     for every window, 20 small new windows took four times as long);
#   - the reload's old answers are read with the LATERAL subquery fenced
#     (OFFSET 0, load/rollup.c), so each shard probes answers per survey.
# (That the merges load what they should, t9001's checksums show.)

# rec ID Q01: one survey of 2026-02-02
rec()
{
	printf '{"conn_id":"c.%s","agent_id":"7","skill_id":"3","date":"2026-02-02 10:00:0%s","q01":"%s","q02":"4"}' \
		"$1" "$1" "$2"
}
wv_control '{"reset": true}'
wv_control "{\"per_day\": {\"2026-02-02\": 0}, \"records\":[$(rec 1 1),$(rec 2 2),$(rec 3 3)]}"
wv_expect 0 migrate
export PGOPTIONS="-c citus.log_remote_commands=on -c client_min_messages=log"
wv_expect 0 -v backfill --from 2026-02-02 --to 2026-02-03
grep -E "msg=\"window|^summary" "$WV_TMP/err"
assert_contains "$(cat "$WV_TMP/err")" "3 inserted" "a new window without repeats"
assert_contains "$(cat "$WV_TMP/err")" "issuing COPY" "the remote commands are in the log"
assert_not_contains "$(cat "$WV_TMP/err")" "enable_nestloop" "a new window keeps the planner's defaults"

# the same surveys, their first answers changed
wv_control '{"reset": true}'
wv_control "{\"per_day\": {\"2026-02-02\": 0}, \"records\":[$(rec 1 5),$(rec 2 5),$(rec 3 5)]}"
wv_expect 0 -v backfill --reload --from 2026-02-02 --to 2026-02-03
assert_contains "$(cat "$WV_TMP/err")" "0 inserted, 3 updated" "the reload merges"
sets=$(grep -c "SET LOCAL enable_nestloop = off" "$WV_TMP/err" || true)
echo "remote commands with the setting: $sets"
[ "$sets" -gt 0 ] || fail "the merge did not set enable_nestloop on the workers"
assert_contains "$(grep "issuing" "$WV_TMP/err" | grep "survey_answer_" | grep "r.response_id) OFFSET 0")" \
	"OFFSET 0" "the old answers' LATERAL subquery reaches the shards fenced"
unset PGOPTIONS
