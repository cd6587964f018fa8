#!/usr/bin/env bash
# bench/citus.sh - make bench-citus: what a window costs on Citus against
# one node, measured on this machine.
#
# Starts a throwaway Citus cluster (tests/citus/cluster.sh: a coordinator
# and two workers on loopback, CITUS_SHARDS shards per table, default 32
# as Citus's own default) and the mock API serving one day of N generated
# records (BENCH_N, default 300000; 6 questions). Two warehouses on the
# coordinator: "one", a plain database (no extension: PostgreSQL on one
# node) and "citus", distributed (database.citus = on). Then, REPS times
# (default 3), alternating the two, on freshly truncated tables:
#   new     wvetl backfill of the day, new to the warehouse (fast path)
#   reload  wvetl backfill --reload of it with ~10% of the records changed
#   tiny    20 windows of 100 records each (the fixed cost of a window)
# and, after the last reload, three dashboard queries under EXPLAIN
# ANALYZE on both: Q1 a month of v_daily_agent (the rollups, on the
# coordinator either way), Q2 every answer of v_answer aggregated per
# question (a scan of the whole survey tables), Q3 one day of v_answer per
# agent, Q4 Q3 as a reader role (wvetl grant; on Citus, like every
# caller of the three survey views, through sql/citus/903's functions), Q5
# Q2 on survey_answer itself (an administrator's ad hoc query), Q6 a small
# day of v_answer (100 surveys) per agent.
# Prints medians and writes everything, plans included, to
# bench/results/citus-<date>.txt. Needs Citus (see README).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
export WV_TOP=$top
. "$top/tests/citus/cluster.sh"
citus_find || exit 1

N=${BENCH_N:-300000}
REPS=${REPS:-3}
export WV_CITUS_SHARDS=${CITUS_SHARDS:-32}
WVETL=${WVETL:-$top/bin/wvetl}
TOKEN=bench-token
DAY=2026-03-02
work=$(mktemp -d "${TMPDIR:-/tmp}/wvetl-bench-citus.XXXXXX")
chmod 755 "$work"
mock_pid=""
cleanup()
{
	[ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null
	citus_cluster_stop "$work/cluster"
	rm -rf "$work"
}
trap cleanup EXIT
out=$top/bench/results/citus-$(date +%Y%m%d-%H%M).txt
mkdir -p "$top/bench/results"
: >"$out"
say() { echo "$*" | tee -a "$out"; }

citus_cluster_start "$work/cluster"
citus_db_create wv_citus >/dev/null
createdb wv_one

python3 "$top/tests/server/wolkvox_mock.py" --port 0 --port-file "$work/mock.port" \
	--token "$TOKEN" --tz America/Bogota --max-records 100000000 >"$work/mock.log" 2>&1 &
mock_pid=$!
for _ in $(seq 100); do [ -s "$work/mock.port" ] && break; sleep 0.1; done
port=$(cat "$work/mock.port")
control() { curl -fsS -X POST -H 'Content-Type: application/json' -d "$1" "http://127.0.0.1:$port/_control" >/dev/null; }
fetch() { curl -fsS -o /dev/null -H "wolkvox-token: $TOKEN" \
	"http://127.0.0.1:$port/api/v2/reports_manager.php?api=diagram_4&date_ini=${1//-/}000000&date_end=${1//-/}235959"; }

for t in one citus; do
	umask 077
	cat >"$work/$t.ini" <<INI
[api]
base_url = http://127.0.0.1:$port/api/v2/reports_manager.php
token = $TOKEN
max_records = 100000000
[database]
conninfo = dbname=wv_$t
citus = $([ $t = citus ] && echo on || echo off)
[sync]
operation = bench
INI
	"$WVETL" -q -c "$work/$t.ini" migrate
done

# the day's answers built once in both versions (the mock keeps them)
for v in 1 0; do
	control "{\"bench\": {\"questions\": 6, \"version\": $v}, \"per_day\": {\"$DAY\": $N}, \"warm\": \"$DAY\"}"
	fetch "$DAY"
done
tiny_days=""
for d in $(seq -w 1 20); do tiny_days="$tiny_days\"2026-04-$d\": 100, "; done
control "{\"per_day\": {${tiny_days%, }}}"

truncate_all() { psql -X -q -d "wv_$1" -c "TRUNCATE wolkvox.survey_response, wolkvox.survey_answer,
	wolkvox.etl_window, wolkvox.etl_reject, wolkvox.agent, wolkvox.skill"; }
# timed T NAME ARGS...: seconds of one wvetl run
timed()
{
	local t=$1 name=$2 t0 t1
	shift 2
	t0=$(date +%s.%N)
	"$WVETL" -q -c "$work/$t.ini" "$@" 2>>"$work/$t.$name.log" ||
		{ cat "$work/$t.$name.log" >&2; exit 1; }
	t1=$(date +%s.%N)
	echo "$t $name $(echo "$t1 - $t0" | bc)" >>"$work/times"
}
: >"$work/times"
for r in $(seq "$REPS"); do
	for t in one citus; do
		truncate_all "$t"
		control '{"bench": {"questions": 6, "version": 0}}'
		timed "$t" new backfill --from "$DAY" --to "$(date -d "$DAY + 1 day" +%F)"
		control '{"bench": {"questions": 6, "version": 1}}'
		timed "$t" reload backfill --reload --from "$DAY" --to "$(date -d "$DAY + 1 day" +%F)"
		timed "$t" tiny backfill --from 2026-04-01 --to 2026-04-21
	done
done
say "bench-citus $(date -Is): N=$N records in one window, $REPS reps, shards per table $WV_CITUS_SHARDS,"
say "$(nproc) cores, $(psql -X -A -t -d wv_citus -c "SELECT 'PostgreSQL ' || current_setting('server_version') || ', Citus ' || extversion FROM pg_extension WHERE extname = 'citus'")"
say "case     one node (median s)   citus (median s)   (all runs)"
for c in new reload tiny; do
	m1=$(awk -v c=$c '$1 == "one" && $2 == c {print $3}' "$work/times" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	m2=$(awk -v c=$c '$1 == "citus" && $2 == c {print $3}' "$work/times" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	all=$(awk -v c=$c '$2 == c {printf "%s=%.2f ", $1, $3}' "$work/times")
	say "$(printf '%-8s %-21.2f %-18.2f %s' "$c" "$m1" "$m2" "$all")"
done
say "rows: one $(psql -X -A -t -d wv_one -c "SELECT (SELECT count(*) FROM wolkvox.survey_response) || ' surveys, ' || (SELECT count(*) FROM wolkvox.survey_answer) || ' answers'"), citus $(psql -X -A -t -d wv_citus -c "SELECT (SELECT count(*) FROM wolkvox.survey_response) || ' surveys, ' || (SELECT count(*) FROM wolkvox.survey_answer) || ' answers'")"

q1="SELECT agent_id, sum(surveys), sum(positive) FROM wolkvox.v_daily_agent WHERE local_date BETWEEN '2026-03-01' AND '2026-03-31' GROUP BY 1"
q2="SELECT question_no, count(*), avg(answer_num) FROM wolkvox.v_answer GROUP BY 1"
q3="SELECT agent_id, count(*), avg(answer_num) FROM wolkvox.v_answer WHERE local_date = '$DAY' AND question_no = 1 GROUP BY 1"
q5="SELECT question_no, count(*), avg(answer_num) FROM wolkvox.survey_answer GROUP BY 1"
q6="SELECT agent_id, count(*), avg(answer_num) FROM wolkvox.v_answer WHERE local_date = '2026-04-05' GROUP BY 1"
# created through the Citus database, so that Citus creates it on the
# workers too (GRANT goes there)
psql -X -q -d wv_citus -c "CREATE ROLE bench_reader"
for t in one citus; do
	"$WVETL" -q -c "$work/$t.ini" grant bench_reader --operation bench >/dev/null
done
for q in q1 q2 q3 q4 q5 q6; do
	for t in one citus; do
		role="" sql=${!q:-$q3}
		[ $q = q4 ] && role="SET ROLE bench_reader;"
		say "--- $q on $t${role:+ as bench_reader}: EXPLAIN (ANALYZE, COSTS OFF) $sql"
		psql -X -A -t -d "wv_$t" -c "$role EXPLAIN (ANALYZE, COSTS OFF) $sql" |
			tee -a "$out" | grep -E "Execution Time" || true
	done
done
echo "bench-citus: written to $out"
