# tests/integration/t0814-prune.sh - retention: wvetl prune deletes an
# operation's surveys, answers, rejects and archive files older than the
# limit, and nothing else.
#
# Proves, with two operations (a and b) of four days each, archived, and
# retention.days = 4 in [retention], 3 in b's section:
#   - prune with no limit for some operation (neither --before nor
#     retention.days) is a usage error naming them, and deletes nothing;
#   - prune --operation a --before 2026-01-07 leaves no survey of a
#     answered before 2026-01-07 00:00 (Bogota), no answer of those, no
#     reject of a window ending by then, no archive file of such a window;
#     a's newer surveys, answers, rejects, archives, its windows (etl_window)
#     and all of b are untouched; every rollup table is unchanged (an md5 of
#     each); the horizon is recorded (etl_state.pruned_before) and the run
#     is in etl_run (command prune, ok, range_to the limit, a note with the
#     counts deleted, equal to what was there);
#   - a re-run deletes nothing and notes zeros;
#   - prune --operation b, without --before, takes b's own retention.days
#     (3: before 2026-01-07, not 4's 2026-01-06) and leaves a alone;
#   - a backfill reaching before the horizon is refused (exit 2: the
#     rollups still count the pruned days), a sync starts at the horizon;
#   - a prune while a load of the operation holds its lock exits 75.

export WVETL_NOW="2026-01-10 12:00:00"
arch=$WV_TMP/arch
MULTI=$WV_TMP/multi.ini
cat >"$MULTI" <<INI
[api]
base_url = $WV_URL
token = $WV_TOKEN
timezone = America/Bogota
backoff = 0.1s
retries = 3

[archive]
dir = $arch

[retention]
days = 4

[operation a]

[operation b]
retention.days = 3
INI
chmod 600 "$MULTI"
wvm() { WV_CONF=$MULTI wv "$@"; }
wvm_expect()
{
	local want=$1
	shift
	wvm "$@"
	assert_eq "$want" "$WV_RC" "exit status of: wvetl $*"
}

LIMIT="'2026-01-07 00:00:00-05'::timestamptz"
# op_sum OP WHERE: md5 of OP's surveys (with their answers) matching WHERE
op_sum()
{
	psql_q "SELECT md5(coalesce(string_agg(r::text || coalesce((SELECT string_agg(a::text, ',' ORDER BY a.question_no)
	                                          FROM wolkvox.survey_answer a WHERE a.response_id = r.response_id), ''),
	                                E'\n' ORDER BY r.response_id), ''))
	          FROM wolkvox.survey_response r WHERE r.operation = '$1' AND ($2)"
}
rollup_sum()
{
	local t out=""
	for t in $(psql_q "SELECT tablename FROM pg_tables WHERE schemaname = 'wolkvox' AND tablename LIKE 'rollup%' ORDER BY 1"); do
		out="$out $t:$(psql_q "SELECT md5(coalesce(string_agg(x::text, E'\n' ORDER BY x::text), '')) FROM wolkvox.$t x")"
	done
	echo "rollups:$out"
}
archives() # OP: the archive files of OP, sorted
{
	(cd "$arch" && find "$1" -type f -name '*.json.gz' | sort)
}

wv_control '{"per_day":{"2026-01-05":25,"2026-01-06":25,"2026-01-07":25,"2026-01-08":25}}'
wvm_expect 0 backfill --operation a --from 2026-01-05 --to 2026-01-09
wvm_expect 0 backfill --operation b --from 2026-01-05 --to 2026-01-09

old_a="answered_at < $LIMIT"
new_a="answered_at >= $LIMIT"
n_old=$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE operation = 'a' AND $old_a")
n_old_ans=$(psql_q "SELECT count(*) FROM wolkvox.survey_answer x JOIN wolkvox.survey_response r USING (response_id) WHERE r.operation = 'a' AND r.$old_a")
n_old_rej=$(psql_q "SELECT count(*) FROM wolkvox.etl_reject WHERE operation = 'a' AND window_to <= $LIMIT")
assert_eq "1|1|1" "$([ "$n_old" -gt 0 ] && echo 1)|$([ "$n_old_ans" -gt 0 ] && echo 1)|$([ "$n_old_rej" -gt 0 ] && echo 1)" \
	"a has surveys, answers and rejects before the limit"
new_a0=$(op_sum a "$new_a")
b0=$(op_sum b true)
rej_new0=$(psql_q "SELECT string_agg(reject_id::text, ',' ORDER BY reject_id) FROM wolkvox.etl_reject WHERE NOT (operation = 'a' AND window_to <= $LIMIT)")
win0=$(psql_q "SELECT string_agg(operation || window_from || window_to, ',' ORDER BY 1) FROM wolkvox.etl_window")
roll0=$(rollup_sum)
archives a >"$WV_TMP/a0"
archives b >"$WV_TMP/b0"
grep -E '_2026010[5-6][0-9]{6}_' "$WV_TMP/a0" >/dev/null || fail "a has archives of the old days"
n_old_arch=$(grep -cE '_2026010[5-6][0-9]{6}_[0-9]{14}\.json\.gz$' "$WV_TMP/a0")
grep -vE '_2026010[5-6][0-9]{6}_' "$WV_TMP/a0" >"$WV_TMP/a0.new"
c0=$(wv_checksum wolkvox)

wvm_expect 2 --set retention.days=0 prune
assert_contains "$(cat "$WV_TMP/err")" "give --before T, or set retention.days" "no limit: a usage error"
assert_contains "$(cat "$WV_TMP/err")" "for: a, b" "naming the operations without one"
assert_eq "$c0" "$(wv_checksum wolkvox)" "and nothing is deleted"
assert_eq "0" "$(psql_q "SELECT count(*) FROM wolkvox.etl_run WHERE command = 'prune'")" "nor run"

wvm_expect 0 prune --operation a --before 2026-01-07
assert_contains "$(cat "$WV_TMP/out")" "a: pruned before 2026-01-07 00:00:00 America/Bogota: $n_old surveys, $n_old_ans answers, $n_old_rej rejects, $n_old_arch archive files deleted" \
	"prune says what it deleted"
assert_eq "0" "$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE operation = 'a' AND $old_a")" \
	"no survey of a older than the limit"
assert_eq "0" "$(psql_q "SELECT count(*) FROM wolkvox.survey_answer x WHERE NOT EXISTS
                         (SELECT 1 FROM wolkvox.survey_response r WHERE r.response_id = x.response_id)")" \
	"no answer of a pruned survey"
assert_eq "0" "$(psql_q "SELECT count(*) FROM wolkvox.etl_reject WHERE operation = 'a' AND window_to <= $LIMIT")" \
	"no reject of a window ending by the limit"
assert_eq "" "$(archives a | grep -E '_2026010[5-6][0-9]{6}_' || true)" "no archive file of an old window"
assert_eq "$(cat "$WV_TMP/a0.new")" "$(archives a)" "a's newer archive files stay"
assert_eq "$(cat "$WV_TMP/b0")" "$(archives b)" "b's archive files stay"
assert_eq "$new_a0" "$(op_sum a "$new_a")" "a's newer surveys and answers are untouched"
assert_eq "$b0" "$(op_sum b true)" "b is untouched"
assert_eq "$rej_new0" "$(psql_q "SELECT string_agg(reject_id::text, ',' ORDER BY reject_id) FROM wolkvox.etl_reject")" \
	"the other rejects stay"
assert_eq "$win0" "$(psql_q "SELECT string_agg(operation || window_from || window_to, ',' ORDER BY 1) FROM wolkvox.etl_window")" \
	"the loaded windows stay (no gap, no reload)"
assert_eq "$roll0" "$(rollup_sum)" "every rollup table is unchanged"
assert_eq "t" "$(psql_q "SELECT pruned_before = $LIMIT FROM wolkvox.etl_state WHERE operation = 'a'")" \
	"the horizon is recorded"
assert_eq "" "$(psql_q "SELECT pruned_before FROM wolkvox.etl_state WHERE operation = 'b'")" "for a only"
assert_eq "a|prune|ok|true|done: $n_old surveys, $n_old_ans answers, $n_old_rej rejects, $n_old_arch archive files deleted" \
	"$(psql_q "SELECT operation || '|' || command || '|' || status || '|' || (range_to = $LIMIT) || '|' || note
	           FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1")" \
	"the prune is in the run ledger, with its counts"

c1=$(wv_checksum wolkvox)
wvm_expect 0 prune --operation a --before 2026-01-07
assert_eq "$c1" "$(wv_checksum wolkvox)" "a re-run deletes nothing"
assert_eq "done: 0 surveys, 0 answers, 0 rejects, 0 archive files deleted" \
	"$(psql_q "SELECT note FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1")" "and says so"

a1=$(op_sum a true)
wvm_expect 0 prune --operation b
assert_eq "t" "$(psql_q "SELECT pruned_before = $LIMIT FROM wolkvox.etl_state WHERE operation = 'b'")" \
	"b's own retention.days (3) gives its limit"
assert_eq "0" "$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE operation = 'b' AND $old_a")" \
	"b is pruned"
assert_eq "$a1" "$(op_sum a true)" "--operation b leaves a alone"
assert_eq "$roll0" "$(rollup_sum)" "the rollups still unchanged"

# Loading pruned days again would count them twice in the rollups: a
# backfill or replay reaching before the horizon is refused, a sync starts
# at the horizon.
wvm_expect 2 backfill --operation a --from 2026-01-05 --to 2026-01-08 --reload
assert_contains "$(cat "$WV_TMP/err")" "is pruned before 2026-01-07 00:00:00" "a backfill before the horizon is refused"
assert_eq "$roll0" "$(rollup_sum)" "a refused backfill leaves the rollups"
psql_q "UPDATE wolkvox.etl_state SET watermark = '2026-01-09 00:00:00-05' WHERE operation = 'a'" >/dev/null
wvm_expect 0 --set sync.lookback=5d sync --operation a
assert_eq "2026-01-07 00:00:00-05" \
	"$(psql_q "SELECT range_from AT TIME ZONE 'America/Bogota' || '-05' FROM wolkvox.etl_run WHERE command = 'sync' ORDER BY run_id DESC LIMIT 1")" \
	"a sync whose lookback reaches before the horizon starts at it"

# a load of b holds b's lock (a session of its own holding the same key)
mkfifo "$WV_TMP/hold"
psql -X -q -v ON_ERROR_STOP=1 -c "SELECT pg_advisory_lock(pg_catalog.hashtextextended('wvetl/' || 'wolkvox' || '/' || 'b', 0))" \
	-c "\\! cat $WV_TMP/hold" >/dev/null 2>&1 &
holder=$!
for i in $(seq 200); do
	[ "$(psql_q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" -gt 0 ] && break
	sleep 0.05
done
wvm_expect 75 prune --operation b
assert_eq "locked" "$(psql_q "SELECT status FROM wolkvox.etl_run WHERE command = 'prune' ORDER BY run_id DESC LIMIT 1")" \
	"a prune refused the lock is recorded"
echo >"$WV_TMP/hold"
wait "$holder" || true
