#!/usr/bin/env bash
# tests/integration/run.sh - runs the integration tests against a throwaway
# PostgreSQL cluster and the mock Wolkvox API.
#
#   bash tests/integration/run.sh          every tests/integration/t[0-9]*.sh
#   TESTS="t0003 t0005" bash tests/integration/run.sh     just those
#
# Re-executes itself under pg_virtualenv (one cluster for the whole run; it
# sets the PG* variables) unless PG* already points at a server it may use
# (WV_PG_READY=1). Each test gets a fresh database, a fresh mock server on a
# free port, a config file and a scratch directory, and runs in its own
# `bash -eu` under a time limit (WV_TEST_TIMEOUT seconds, default 300).
# Prints "ok"/"FAIL" per test (with the test's output on failure, or always
# with WV_VERBOSE=1), then "integration: N passed, N failed". Exits 1 when a
# test failed or none ran.
#
# make test-citus (tests/citus/run.sh) sets WV_CITUS=1: each test database
# is then created on a Citus cluster's three nodes with the extension (see
# tests/citus/cluster.sh) and the config says database.citus = on; and
# WV_EXTRA_TESTS=DIR adds DIR/t[0-9]*.sh to the tests.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

if [ "${WV_PG_READY:-}" != 1 ]; then
	command -v pg_virtualenv >/dev/null 2>&1 ||
		{ echo "run.sh: pg_virtualenv not found (Debian package postgresql-common)" >&2; exit 1; }
	export WV_PG_READY=1
	# The inner run leaves its status and summary line in a file and exits
	# 0: pg_virtualenv dumps the server log after a failing command and
	# prints its own lines last, which would bury the summary.
	WV_STATUS_FILE=$(mktemp "${TMPDIR:-/tmp}/wvetl-it-status.XXXXXX")
	export WV_STATUS_FILE
	# -t: a temporary cluster directory even as root, nothing left behind.
	pg_virtualenv -t -c "-p $(sh "$top/tests/pg-port.sh")" bash "$0" "$@"
	rc=$?
	status=$(head -n 1 "$WV_STATUS_FILE" 2>/dev/null)
	tail -n +2 "$WV_STATUS_FILE" 2>/dev/null
	rm -f "$WV_STATUS_FILE"
	[ -n "$status" ] || { echo "run.sh: the test run did not finish (exit $rc)" >&2; exit 1; }
	exit "$status"
fi

export WV_TOP=$top
export WV_PY=${WV_PY:-/usr/bin/python3}
export WVETL=${WVETL:-$top/build/san/wvetl}
export WV_MOCK=$top/tests/server/wolkvox_mock.py
export WV_TOKEN=${WV_TOKEN:-wv-test-token-7f3a9c51}
# Sanitizer reports exit 86, a status no test expects, so that a report can
# never pass for an expected failure (exit 1).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=86:abort_on_error=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=86}
# The user's own settings must not leak into the tests.
unset WOLKVOX_TOKEN WVETL_CONFIG
timeout_s=${WV_TEST_TIMEOUT:-300}
if [ "${WV_CITUS:-}" = 1 ]; then
	. "$top/tests/citus/cluster.sh"
	db_create() { citus_db_create "$1"; }
	db_drop() { citus_db_drop "$1"; }
else
	db_create() { createdb "$1"; }
	db_drop() { dropdb --if-exists "$1" >/dev/null 2>&1; }
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/wvetl-it.XXXXXX")
mock_pid=""

stop_mock()
{
	if [ -n "$mock_pid" ]; then
		kill "$mock_pid" 2>/dev/null
		wait "$mock_pid" 2>/dev/null
		mock_pid=""
	fi
}
trap 'stop_mock; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# start_mock DIR: a mock on a free port, its port in WV_PORT.
start_mock()
{
	local dir=$1 i
	"$WV_PY" "$WV_MOCK" --port 0 --port-file "$dir/mock.port" \
		--token "$WV_TOKEN" --tz America/Bogota >"$dir/mock.log" 2>&1 &
	mock_pid=$!
	for i in $(seq 100); do
		[ -s "$dir/mock.port" ] && break
		kill -0 "$mock_pid" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$dir/mock.port" ] || { cat "$dir/mock.log"; return 1; }
	WV_PORT=$(cat "$dir/mock.port")
}

write_conf()
{
	cat >"$1" <<EOF
# written by tests/integration/run.sh
[api]
base_url = $WV_URL
token = $WV_TOKEN
timezone = America/Bogota
backoff = 0.1s
maintenance_wait = 0.2s
retries = 3

[database]
conninfo =
schema = wolkvox

[sync]
operation = test
EOF
	if [ "${WV_CITUS:-}" = 1 ]; then
		sed -i 's/^schema = wolkvox$/&\ncitus = on/' "$1"
	fi
	chmod 600 "$1"		# it holds the token
}

# run_test FILE: prints ok/FAIL; returns 0 when the test passed.
run_test()
{
	local t=$1 name dir db rc
	name=$(basename "$t" .sh)
	dir=$work/$name
	mkdir -p "$dir/tmp"
	db=wvt_$(echo "$name" | tr -c 'a-zA-Z0-9\n' '_')
	if ! db_create "$db" >"$dir/out" 2>&1 || ! start_mock "$dir" >>"$dir/out" 2>&1; then
		echo "FAIL $name (set-up)"
		sed 's/^/    /' "$dir/out"
		stop_mock
		return 1
	fi
	export WV_PORT WV_URL="http://127.0.0.1:$WV_PORT/api/v2/reports_manager.php"
	export WV_CONF=$dir/wvetl.ini WV_TMP=$dir/tmp
	write_conf "$WV_CONF"
	local t0=$SECONDS
	(cd "$WV_TMP" && PGDATABASE=$db timeout -k 10 "$timeout_s" \
		bash -eu -c '. "$1"; . "$2"' test "$here/lib.sh" "$t") >>"$dir/out" 2>&1
	rc=$?
	stop_mock
	db_drop "$db"
	if [ $rc -eq 0 ]; then
		echo "ok   $name ($((SECONDS - t0))s)"
		[ "${WV_VERBOSE:-}" = 1 ] && sed 's/^/    /' "$dir/out"
		return 0
	fi
	[ $rc -eq 124 ] && echo "(timed out after ${timeout_s}s)" >>"$dir/out"
	echo "FAIL $name (exit $rc, $((SECONDS - t0))s)"
	sed 's/^/    /' "$dir/out"
	if [ -s "$dir/mock.log" ]; then
		echo "    --- mock log:"
		sed 's/^/    /' "$dir/mock.log" | tail -n 20
	fi
	return 1
}

tests=()
failed_names=""
if [ -n "${TESTS:-}" ]; then
	for n in $TESTS; do
		n=${n%.sh}
		found=0
		for f in "$here/$n"*.sh ${WV_EXTRA_TESTS:+"$WV_EXTRA_TESTS/$n"*.sh}; do
			[ -f "$f" ] && { tests+=("$f"); found=1; }
		done
		# A name that matches nothing is a mistake, not an empty success.
		[ "$found" = 1 ] || { echo "run.sh: no test matches \"$n\"" >&2; failed_names="$failed_names $n"; }
	done
else
	for f in "$here"/t[0-9]*.sh ${WV_EXTRA_TESTS:+"$WV_EXTRA_TESTS"/t[0-9]*.sh}; do
		[ -f "$f" ] && tests+=("$f")
	done
fi

passed=0
failed=0
for n in ${failed_names:-}; do
	echo "FAIL $n (no such test)"
	failed=$((failed + 1))
done
for t in "${tests[@]}"; do
	if run_test "$t"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
summary="integration: $passed passed, $failed failed"
status=0
[ $failed -eq 0 ] && [ $passed -gt 0 ] || status=1
if [ -n "${WV_STATUS_FILE:-}" ]; then
	printf '%s\n%s\n' "$status" "$summary" >"$WV_STATUS_FILE"
	exit 0
fi
echo "$summary"
exit $status
