# tests/citus/t9004-back-to-back.sh - a run started right after another
# one ended is never refused the operation's lock.
#
# Proves: 60 `backfill --reload` runs, each started as soon as the one
# before exited, all exit 0 (none "locked", exit 75). On Citus the server
# ends a session some time after its client has gone (it first closes the
# session's connections to the workers); when the session lock was left
# to that, one run in ten to thirty found it still held (measured here before
# the loader released it itself, state_unlock in load/state.c).

# 32 shards (Citus's default): a reload then holds connections to every
# worker, which the server closes when the session ends.
psql_q "ALTER DATABASE $PGDATABASE SET citus.shard_count = 32"
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-06
assert_eq 32 "$(psql_q "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'wolkvox.survey_response'::regclass")" \
	"the survey tables have 32 shards"
# The release build (bin/wvetl, as cron runs it): the sanitizers' cost at
# start and exit would leave the server the time to end the session.
codes=""
for i in $(seq 60); do
	rc=0
	"$WV_TOP/bin/wvetl" -q -c "$WV_CONF" backfill --reload --from 2026-01-05 --to 2026-01-06 \
		>/dev/null 2>"$WV_TMP/err.$i" || rc=$?
	codes="$codes$rc "
	[ "$rc" = 0 ] || cat "$WV_TMP/err.$i"
done
echo "exit codes: $codes"
assert_eq "$(printf '0 %.0s' $(seq 60))" "$codes" "every run right after another one loads"
assert_eq 61 "$(psql_q "SELECT count(*) FROM wolkvox.etl_run WHERE status = 'ok'")" "61 runs recorded ok"
