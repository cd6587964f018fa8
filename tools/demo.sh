#!/usr/bin/env bash
# tools/demo.sh - `make demo`: a local PostgreSQL (data kept in .demo/), the
# project's mock Wolkvox API, a real 30-day backfill through bin/wvetl, and
# what was loaded. `make demo-stop` (tools/demo.sh stop) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
demo="$top/.demo"
port=${WVETL_DEMO_PGPORT:-54329}
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

as_pg() {
	# initdb and postgres refuse to run as root: use the postgres account then.
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_base: where the cluster and its socket live: .demo/, unless the demo
# runs as root in a directory the postgres account cannot reach (a clone
# in /root, say): then under /var/lib/postgresql, one per checkout.
pg_base() {
	if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$top" 2>/dev/null; then
		echo "/var/lib/postgresql/wvetl-demo-$(printf %s "$top" | md5sum | cut -c1-12)"
	else
		echo "$demo"
	fi
}
base=$(pg_base)
pgdata="$base/pgdata"
rundir="$base/run"

stop() {
	if [ -f "$demo/api.pid" ]; then
		kill "$(cat "$demo/api.pid")" 2>/dev/null || true
		rm -f "$demo/api.pid"
	fi
	if [ -f "$pgdata/postmaster.pid" ]; then
		as_pg "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null || true
	fi
	if [ "$base" = "$demo" ]; then
		echo "demo stopped (its data stays in .demo/; rm -rf .demo to drop it)"
	else
		echo "demo stopped (its data stays in $base and .demo/; rm -rf both to drop it)"
	fi
}

start() {
	mkdir -p "$demo" "$rundir"
	if [ "$(id -u)" = 0 ]; then chown postgres "$base" "$rundir"; fi
	if [ "$base" != "$demo" ]; then
		echo "== the postgres account cannot reach $top: the demo's cluster lives in $base"
	fi
	if [ ! -f "$pgdata/PG_VERSION" ]; then
		echo "== creating a PostgreSQL cluster in $pgdata"
		as_pg "$bindir/initdb" -D "$pgdata" -A trust -U wvetl -E UTF8 --locale=C.UTF-8 >/dev/null
	fi
	if ! as_pg "$bindir/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
		echo "== starting PostgreSQL on port $port (socket in $rundir)"
		as_pg "$bindir/pg_ctl" -D "$pgdata" -w -l "$base/postgres.log" \
			-o "-p $port -k $rundir -c listen_addresses=''" start >/dev/null
	fi
	export PGHOST="$rundir" PGPORT="$port" PGUSER=wvetl PGDATABASE=postgres

	if [ -f "$demo/api.pid" ] && kill -0 "$(cat "$demo/api.pid")" 2>/dev/null; then :; else
		echo "== starting the mock Wolkvox API on 127.0.0.1"
		rm -f "$demo/api.port"
		/usr/bin/python3 tests/server/wolkvox_mock.py --port 0 --port-file "$demo/api.port" \
			--token demo-token --per-day 300 >"$demo/api.log" 2>&1 &
		echo $! >"$demo/api.pid"
		for _ in $(seq 50); do [ -s "$demo/api.port" ] && break; sleep 0.1; done
	fi
	api_port=$(cat "$demo/api.port")
	cat >"$demo/wvetl.ini" <<INI
[api]
base_url = http://127.0.0.1:$api_port/api/v2/reports_manager.php
token = demo-token
timezone = America/Bogota
[database]
conninfo = host=$rundir port=$port user=wvetl dbname=postgres
[sync]
operation = demo
start = $(date -d '30 days ago' +%F)
INI
	chmod 600 "$demo/wvetl.ini"

	from=$(date -d '30 days ago' +%F)
	to=$(date +%F)
	echo "== bin/wvetl backfill --from $from --to $to"
	bin/wvetl -c "$demo/wvetl.ini" backfill --from "$from" --to "$to"

	echo
	echo "== what was loaded"
	psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SELECT (SELECT count(*) FROM wolkvox.survey_response) AS surveys,
       (SELECT count(*) FROM wolkvox.survey_answer) AS answers,
       (SELECT count(*) FROM wolkvox.etl_reject) AS rejects,
       (SELECT count(*) FROM wolkvox.etl_window) AS windows;
\echo 'Satisfaction per agent (question 1, scale 1-5), last 30 days:'
SELECT r.agent_name,
       count(DISTINCT r.response_id) AS surveys,
       round(avg(a.answer_num), 2) AS avg_q1,
       round(100.0 * avg((a.answer_num >= 4)::int), 1) AS pct_satisfied
  FROM wolkvox.survey_response r
  JOIN wolkvox.survey_answer a ON a.response_id = r.response_id AND a.question_no = 1
 WHERE a.answer_num IS NOT NULL AND r.agent_name IS NOT NULL
 GROUP BY r.agent_name
 ORDER BY avg_q1 DESC NULLS LAST
 LIMIT 10;
SQL
	cat <<TXT

Open the warehouse:  psql "host=$rundir port=$port user=wvetl dbname=postgres"
Run a sync:          bin/wvetl -c .demo/wvetl.ini sync
Status:              bin/wvetl -c .demo/wvetl.ini status
Stop the demo:       make demo-stop   (data stays in $base; rm -rf it to drop it)
TXT
}

case "${1:-start}" in
	start) start ;;
	stop) stop ;;
	*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
