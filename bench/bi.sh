#!/usr/bin/env bash
# bench/bi.sh - `make bench-bi`: the warehouse as dashboards use it.
#
# Builds a warehouse of at least BI_MIN_ANSWERS answers (10 million by
# default) THROUGH the tool (the mock API serving BI_PER_DAY records a day,
# bin/wvetl backfilling BI_DAYS days up to now in 3-day windows, keeping
# the rollups as it loads), then times the typical dashboard queries with
# EXPLAIN (ANALYZE, BUFFERS):
#   Q1  daily per agent, last 90 days (v_daily_agent)
#   Q2  daily per agent and question, last 90 days (v_daily_agent_question)
#   Q3  one agent's last 30 days per question
#   Q4  question 1's distribution per skill, last 90 days
#   Q5  monthly CSAT and NPS per skill, last 12 months (v_period_skill_question)
#   Q6  the 10 best and 10 worst agents by CSAT this month (>= 30 answers)
#   Q7  today's surveys per hour (v_daily_hour)
#   Q8  one agent's surveys of the last 7 days with their answers
#       (v_survey_wide: the surveys themselves, not the rollups)
# (BI_QUERIES="Q2 Q4" runs only those, BI_QUERIES="" none), each "cold"
# (first run after a PostgreSQL restart: shared buffers empty, the OS page
# cache as it is) and warm (median of 3 more runs), with the server's
# default settings. Then the cost of the dimension and rollup upkeep inside
# the load: one 100k-record window loaded fast and then merged, with every
# statement's duration from the server log.
#
# The PostgreSQL cluster lives in $BI_DIR (default /tmp/wvetl-bench-bi) and
# is kept: a second run reuses the loaded warehouse (BI_FRESH=1 rebuilds
# it). Results go to stdout and bench/results/bi-YYYYmmdd-HHMMSS.txt.
# Settings: Debian's PostgreSQL defaults (shared_buffers 128MB, work_mem
# 4MB), except fsync=off and synchronous_commit=off to load faster.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
BI_DIR=${BI_DIR:-/tmp/wvetl-bench-bi}
BI_DAYS=${BI_DAYS:-180}
BI_PER_DAY=${BI_PER_DAY:-15500}
BI_MIN_ANSWERS=${BI_MIN_ANSWERS:-10000000}
BI_SKIP_UPKEEP=${BI_SKIP_UPKEEP:-}
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
out_dir=$top/bench/results
mkdir -p "$out_dir"
out=$out_dir/bi-$(date +%Y%m%d-%H%M%S).txt
pgdata=$BI_DIR/pgdata
port=${BI_PGPORT:-55499}
mock_pid=""

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
say() { echo "$*" | tee -a "$out"; }
cleanup() {
	set +e
	if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null; wait "$mock_pid" 2>/dev/null; fi
	as_pg "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

[ "${BI_FRESH:-}" = 1 ] && rm -rf "$BI_DIR"
mkdir -p "$BI_DIR"
[ "$(id -u)" = 0 ] && chown postgres "$BI_DIR"
if [ ! -f "$pgdata/PG_VERSION" ]; then
	as_pg "$bindir/initdb" -D "$pgdata" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
fi
pg_start() {
	as_pg "$bindir/pg_ctl" -D "$pgdata" -w -l "$BI_DIR/postgres.log" \
		-o "-p $port -k $BI_DIR -c listen_addresses='' -c fsync=off -c synchronous_commit=off" \
		start >/dev/null
}
pg_start
export PGHOST=$BI_DIR PGPORT=$port PGUSER=postgres PGDATABASE=postgres
psql_q() { psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }

rm -f "$BI_DIR/mock.port"
/usr/bin/python3 tests/server/wolkvox_mock.py --port 0 --port-file "$BI_DIR/mock.port" \
	--token bench-token --per-day "$BI_PER_DAY" --max-records 60000 >"$BI_DIR/mock.log" 2>&1 &
mock_pid=$!
for _ in $(seq 100); do [ -s "$BI_DIR/mock.port" ] && break; sleep 0.1; done
cat >"$BI_DIR/wvetl.ini" <<EOF
[api]
base_url = http://127.0.0.1:$(cat "$BI_DIR/mock.port")/api/v2/reports_manager.php
token = bench-token
timezone = America/Bogota
window = 3d
[database]
conninfo = host=$BI_DIR port=$port user=postgres dbname=postgres
[sync]
operation = bench
EOF
chmod 600 "$BI_DIR/wvetl.ini"
wv() { "$top/bin/wvetl" -c "$BI_DIR/wvetl.ini" "$@"; }

say "# wvetl BI benchmark, $(date -Is), $(nproc) cores, $(psql_q 'SHOW server_version')"
say "# bin/wvetl $(wv --version | cut -d' ' -f2), BI_DAYS=$BI_DAYS BI_PER_DAY=$BI_PER_DAY"

answers=0
if [ "$(psql_q "SELECT to_regclass('wolkvox.survey_answer') IS NOT NULL")" = t ]; then
	answers=$(psql_q "SELECT count(*) FROM wolkvox.survey_answer")
fi
if [ "$answers" -lt "$BI_MIN_ANSWERS" ]; then
	from=$(date -d "$BI_DAYS days ago" +%F)
	to=$(date -d tomorrow +%F)		# loads up to now - sync.lag
	say "## generating: wvetl backfill --from $from --to $to (3-day windows)"
	t0=$(date +%s.%N)
	wv -q backfill --from "$from" --to "$to" 2>&1 | tee -a "$out" | tail -n 1
	say "load: $(echo "$(date +%s.%N) - $t0" | bc) s"
	t0=$(date +%s.%N)
	psql_q "VACUUM ANALYZE"
	say "VACUUM ANALYZE: $(echo "$(date +%s.%N) - $t0" | bc) s"
	answers=$(psql_q "SELECT count(*) FROM wolkvox.survey_answer")
fi
wv -q questions set 1 --label "Overall satisfaction" --min 1 --max 10 --kind csat >/dev/null
wv -q questions set 2 --label "Would recommend" --min 0 --max 10 --kind nps >/dev/null
say "warehouse: $(psql_q "SELECT count(*) FROM wolkvox.survey_response") surveys, $answers answers," \
	"$(psql_q "SELECT pg_size_pretty(pg_database_size(current_database()))")," \
	"local days $(psql_q "SELECT (min(answered_at) AT TIME ZONE 'America/Bogota')::date || '..' ||
	                      (max(answered_at) AT TIME ZONE 'America/Bogota')::date FROM wolkvox.survey_response")"
[ "$answers" -ge "$BI_MIN_ANSWERS" ] ||
	{ say "FAIL: only $answers answers (want $BI_MIN_ANSWERS)"; exit 1; }
agent=$(psql_q "SELECT agent_id FROM wolkvox.agent ORDER BY agent_id LIMIT 1 OFFSET 2")

say "rollups: $(psql_q "SELECT count(*) FROM wolkvox.rollup_survey") rollup_survey rows," \
	"$(psql_q "SELECT count(*) FROM wolkvox.rollup_answer") rollup_answer rows," \
	"$(psql_q "SELECT pg_size_pretty(pg_total_relation_size('wolkvox.rollup_survey') + pg_total_relation_size('wolkvox.rollup_answer'))")"

today="(now() AT TIME ZONE 'America/Bogota')::date"
declare -A Q
Q[Q1]="SELECT * FROM v_daily_agent WHERE local_date >= current_date - 90"
Q[Q2]="SELECT * FROM v_daily_agent_question WHERE local_date >= current_date - 90"
Q[Q3]="SELECT * FROM v_daily_agent_question WHERE agent_id = '$agent' AND local_date >= current_date - 30"
Q[Q4]="SELECT skill_id, skill_name, d.key AS value, sum(d.value::bigint) AS answers FROM v_daily_skill_question, jsonb_each_text(distribution) d WHERE question_no = 1 AND local_date >= current_date - 90 GROUP BY 1, 2, 3"
Q[Q5]="SELECT period_start, skill_id, skill_name, question_no, kind, csat, nps, answers FROM v_period_skill_question WHERE period = 'month' AND period_start >= (date_trunc('month', current_date) - interval '11 months')::date AND kind IN ('csat', 'nps')"
Q[Q6]="(SELECT 'best' AS list, agent_id, agent_name, csat, numeric_answers FROM v_period_agent_question WHERE period = 'month' AND period_start = date_trunc('month', current_date)::date AND kind = 'csat' AND numeric_answers >= 30 ORDER BY csat DESC LIMIT 10) UNION ALL (SELECT 'worst', agent_id, agent_name, csat, numeric_answers FROM v_period_agent_question WHERE period = 'month' AND period_start = date_trunc('month', current_date)::date AND kind = 'csat' AND numeric_answers >= 30 ORDER BY csat ASC LIMIT 10)"
Q[Q7]="SELECT * FROM v_daily_hour WHERE local_date = $today"
Q[Q8]="SELECT * FROM v_survey_wide WHERE agent_id = '$agent' AND local_date >= current_date - 7"
order=${BI_QUERIES-Q1 Q2 Q3 Q4 Q5 Q6 Q7 Q8}

# run_explain SETTINGS SQL: EXPLAIN (ANALYZE, BUFFERS) output.
run_explain() {
	psql -X -q -v ON_ERROR_STOP=1 <<SQL
SET search_path TO wolkvox;
$1
EXPLAIN (ANALYZE, BUFFERS) $2;
SQL
}
ms_of() { sed -n 's/.*Execution Time: \([0-9.]*\) ms.*/\1/p'; }

for mode in default; do
	settings=""
	say ""
	say "## queries, $mode settings"
	say "| query | rows | cold ms | warm ms (median of 3) |"
	say "|---|---|---|---|"
	for q in $order; do
		as_pg "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null
		pg_start
		cold=$(run_explain "$settings" "${Q[$q]}")
		warm=()
		for _ in 1 2 3; do
			last=$(run_explain "$settings" "${Q[$q]}")
			warm+=("$(echo "$last" | ms_of)")
		done
		median=$(printf '%s\n' "${warm[@]}" | sort -n | sed -n 2p)
		rows=$(echo "$last" | head -n 3 | sed -n 's/.*actual time=[^ ]* rows=\([0-9]*\).*/\1/p' | head -n 1)
		say "| $q | $rows | $(echo "$cold" | ms_of) | $median |"
		{
			echo; echo "### $q ($mode): ${Q[$q]}"; echo "#### cold"; echo "$cold"
			echo "#### warm (last of 3)"; echo "$last"
		} >>"$out.plans"
	done
done

[ -n "$BI_SKIP_UPKEEP" ] && { say ""; say "plans: $out.plans"; echo "results: $out"; exit 0; }

# The dimension and rollup upkeep: a 100k-record day of the same operation, 30 days
# before the warehouse's range (the planner has the operation's
# statistics, as in production), loaded fast and then merged (--reload),
# every statement's duration from the server log; then removed again.
say ""
say "## dimension and rollup upkeep in a 100k-record window"
day=$(date -d "$((BI_DAYS + 30)) days ago" +%F)
next=$(date -d "$day + 1 day" +%F)
curl -fsS -X POST -d "{\"per_day\": {\"$day\": 100000}, \"max_records\": 200000}" \
	"http://127.0.0.1:$(cat "$BI_DIR/mock.port")/_control" >/dev/null
drop_day() {
	psql_q "CREATE TEMP TABLE d AS SELECT response_id FROM wolkvox.survey_response
	         WHERE operation = 'bench' AND answered_at >= '$day'::timestamp AT TIME ZONE 'America/Bogota'
	           AND answered_at < '$next'::timestamp AT TIME ZONE 'America/Bogota';
	        DELETE FROM wolkvox.survey_answer a USING d WHERE a.response_id = d.response_id;
	        DELETE FROM wolkvox.survey_response r USING d WHERE r.response_id = d.response_id;
	        DELETE FROM wolkvox.etl_window WHERE operation = 'bench'
	         AND window_from >= '$day'::timestamp AT TIME ZONE 'America/Bogota'
	         AND window_to <= '$next'::timestamp AT TIME ZONE 'America/Bogota';
	        SELECT wolkvox.rollup_rebuild('bench', '$day', '$next')" >/dev/null
}
drop_day
for pass in fast merge; do
	reload=""
	[ $pass = merge ] && reload=--reload
	logpos=$(stat -c %s "$BI_DIR/postgres.log")
	PGOPTIONS="-c log_min_duration_statement=0" \
		wv --set api.window=1d --set api.max_records=200000 backfill --from "$day" --to "$next" \
		$reload 2>"$BI_DIR/dimcost.err" || { cat "$BI_DIR/dimcost.err"; exit 1; }
	tail -c +"$((logpos + 1))" "$BI_DIR/postgres.log" >"$BI_DIR/dimcost.log"
	dim=$(sed -n 's/.*duration: \([0-9.]*\) ms .*WITH w AS MATERIALIZED.*/\1/p' "$BI_DIR/dimcost.log" |
		paste -sd+ | bc)
	roll=$(sed -n 's/.*duration: \([0-9.]*\) ms .*\(wvetl_stage_roll\|rollup_\|jit\).*/\1/p' "$BI_DIR/dimcost.log" |
		paste -sd+ | bc)
	total=$(sed -n 's/.*duration: \([0-9.]*\) ms .*/\1/p' "$BI_DIR/dimcost.log" | paste -sd+ | bc)
	win=$(grep -o 'window \[[^)]*): [0-9]* records[^"]*' "$BI_DIR/dimcost.err" | tail -n 1)
	secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$BI_DIR/dimcost.err")
	say "$pass: dimensions statement ${dim:-0} ms; rollup statements ${roll:-0} ms; all SQL statements $total ms; run $secs s ($win)"
done
drop_day
say ""
say "plans: $out.plans"
echo "results: $out"
