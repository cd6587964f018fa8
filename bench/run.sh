#!/usr/bin/env bash
# bench/run.sh - `make bench`: wvetl against PostgreSQL's own COPY and
# against a Python script, in a throwaway PostgreSQL cluster.
#
#   bash bench/run.sh                       N = 100k and 1M, 3 repetitions
#   BENCH_N=100000 BENCH_REPS=1 bash bench/run.sh       a quick look
#   BENCH_PROFILE=1 bash bench/run.sh       where the time goes (profile.py)
#   AB_A=old/wvetl AB_B=bin/wvetl bash bench/run.sh   two builds, alternating (ab.py)
#
# Needs bin/wvetl (make bench builds it first; the run uses a copy taken at
# its start), pg_virtualenv, /usr/bin/time, Debian's python3-psycopg2.
# Re-executes itself under `pg_virtualenv -t` (a temporary cluster, dropped
# afterwards; PG* variables set), then runs bench/bench.py, which prints
# the table and writes bench/results/. Takes 10-20 minutes at the default
# sizes; see bench/bench.py for the variables.
set -eu

# Everything is inside main, so bash has read the whole file before it runs
# any of it (editing the script during a run cannot derail the run).
main()
{
	local here top rc status status_file tool

	here=$(cd "$(dirname "$0")" && pwd)
	top=$(cd "$here/.." && pwd)
	if [ "${WV_BENCH_INNER:-}" = 1 ]; then
		rc=0
		if [ -n "${AB_A:-}" ]; then
			/usr/bin/python3 "$here/ab.py" || rc=$?
		elif [ "${BENCH_PROFILE:-}" = 1 ]; then
			/usr/bin/python3 "$here/profile.py" || rc=$?
		else
			/usr/bin/python3 "$here/bench.py" || rc=$?
		fi
		echo "$rc" >"$WV_BENCH_STATUS"
		return 0
	fi
	for tool in pg_virtualenv /usr/bin/time psql curl; do
		command -v "$tool" >/dev/null 2>&1 ||
			{ echo "bench: $tool not found (make deps installs it)" >&2; return 1; }
	done
	[ -x "${BENCH_WVETL:-$top/bin/wvetl}" ] ||
		{ echo "bench: ${BENCH_WVETL:-bin/wvetl} not built (make all)" >&2; return 1; }
	/usr/bin/python3 -c 'import psycopg2' 2>/dev/null ||
		{ echo "bench: /usr/bin/python3 lacks psycopg2 (python3-psycopg2)" >&2; return 1; }
	export WV_BENCH_INNER=1
	# The status goes through a file: pg_virtualenv prints the server log
	# after a failing command, which would bury the table.
	status_file=$(mktemp "${TMPDIR:-/tmp}/wvetl-bench-status.XXXXXX")
	export WV_BENCH_STATUS=$status_file
	pg_virtualenv -t bash "$0" "$@" || true
	status=$(cat "$status_file" 2>/dev/null)
	rm -f "$status_file"
	[ -n "$status" ] || { echo "bench: the run did not finish" >&2; return 1; }
	return "$status"
}

main "$@"
exit $?
