#!/usr/bin/env bash
# tests/run-all.sh - every unit and integration test; what `make test` runs
# after building bin/wvetl, build/san/wvetl and build/san/tests/test_*.
#
# Both suites share one throwaway PostgreSQL cluster (pg_virtualenv; unit
# tests that need a server get a database of their own through PG*). Prints
# both suites' output, then their summaries and one last line
# "N passed, N failed" (the sums). Exits 1 when anything failed or nothing
# passed.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

if [ "${WV_PG_READY:-}" != 1 ]; then
	command -v pg_virtualenv >/dev/null 2>&1 ||
		{ echo "run-all.sh: pg_virtualenv not found (Debian package postgresql-common)" >&2; exit 1; }
	export WV_PG_READY=1
	# As in tests/integration/run.sh: the summary comes back through a file
	# so that it is printed after pg_virtualenv's own closing lines.
	WV_ALL_STATUS_FILE=$(mktemp "${TMPDIR:-/tmp}/wvetl-all-status.XXXXXX")
	export WV_ALL_STATUS_FILE
	pg_virtualenv -t -c "-p $(sh "$(dirname "$0")/pg-port.sh")" bash "$0" "$@"
	rc=$?
	status=$(head -n 1 "$WV_ALL_STATUS_FILE" 2>/dev/null)
	tail -n +2 "$WV_ALL_STATUS_FILE" 2>/dev/null
	rm -f "$WV_ALL_STATUS_FILE"
	if [ -z "$status" ]; then
		echo "run-all.sh: the test run did not finish (exit $rc)" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
	exit "$status"
fi

log=$(mktemp "${TMPDIR:-/tmp}/wvetl-all.XXXXXX")
trap 'rm -f "$log"' EXIT

# summary LABEL: "P F" from the suite's "LABEL: P passed, F failed" line in
# $log; "0 1" when the suite printed none (it died before its summary).
summary()
{
	local line
	line=$(grep -E "^$1: [0-9]+ passed, [0-9]+ failed$" "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "0 1"
		return
	fi
	echo "$line" | sed -E 's/^[a-z]+: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/'
}

bins=()
for b in build/san/tests/test_*; do
	case "$b" in *.d | *.o) continue ;; esac
	[ -x "$b" ] && bins+=("$b")
done

: >"$log"
if [ ${#bins[@]} -gt 0 ]; then
	createdb wvt_unit >/dev/null 2>&1
	# WVETL_TEST_PG=1: the unit tests that need a server run instead of
	# skipping (tests/unit/test_load_pg.c).
	WVETL_TEST_PG=1 PGDATABASE=wvt_unit sh tests/run-unit.sh "${bins[@]}" 2>&1 | tee -a "$log"
else
	echo "unit: no test binaries in build/san/tests (run make first)"
	echo "unit: 0 passed, 1 failed" >>"$log"
fi
read -r up uf <<<"$(summary unit)"

WV_STATUS_FILE= bash tests/integration/run.sh 2>&1 | tee -a "$log"
read -r ip if_ <<<"$(summary integration)"

# The transform's fuzzer, FUZZ_SECONDS long, counted as one test.
make --no-print-directory fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" 2>&1 | tee -a "$log"
read -r zp zf <<<"$(summary fuzz)"

p=$((up + ip + zp))
f=$((uf + if_ + zf))
status=0
[ "$f" -eq 0 ] && [ "$p" -gt 0 ] || status=1
lines="
unit: $up passed, $uf failed
integration: $ip passed, $if_ failed
fuzz: $zp passed, $zf failed
$p passed, $f failed"
if [ -n "${WV_ALL_STATUS_FILE:-}" ]; then
	printf '%s\n%s\n' "$status" "$lines" >"$WV_ALL_STATUS_FILE"
	exit 0
fi
echo "$lines"
exit $status
