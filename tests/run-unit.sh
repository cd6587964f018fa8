#!/bin/sh
# tests/run-unit.sh - runs cmocka test binaries and sums their results.
#
#   sh tests/run-unit.sh build/san/tests/test_*
#
# Prints each binary's output, then "unit: N skipped" when tests were
# skipped (a test needing PostgreSQL skips without PG* settings) and
# "unit: N passed, N failed" (counted in tests, from cmocka's "[  PASSED  ]
# N test(s).", "[  FAILED  ] N test(s)" and "[  SKIPPED  ] N test(s)"
# lines). A binary that crashes, is killed, exits non-zero without a FAILED
# line, or runs no test at all counts as one failed test. Exits 1 when
# anything failed or no test passed.
set -u

passed=0
failed=0
skipped=0
out=$(mktemp "${TMPDIR:-/tmp}/wvetl-unit.XXXXXX")
trap 'rm -f "$out"' EXIT

# Sanitizer reports exit 86 so they are never mistaken for a cmocka status.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=86:abort_on_error=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=86}
export ASAN_OPTIONS UBSAN_OPTIONS
# The third-party corpora some tests read (a test fails when they are not
# found; tests/testdata.sh says where it looked).
if [ -z "${WVETL_TESTDATA:-}" ]; then
	WVETL_TESTDATA=$(sh "$(dirname "$0")/testdata.sh") || WVETL_TESTDATA=
fi
export WVETL_TESTDATA

for bin in "$@"; do
	echo "== $bin"
	if [ ! -x "$bin" ]; then
		echo "run-unit: $bin: not an executable"
		failed=$((failed + 1))
		continue
	fi
	rc=0
	timeout -k 5 "${WV_UNIT_TIMEOUT:-300}" "$bin" >"$out" 2>&1 || rc=$?
	cat "$out"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$out" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$out" | tail -n 1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9][0-9]*\) test.*/\1/p' "$out" | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	s=${s:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# Crashed, timed out or a sanitizer report: nothing to trust.
		echo "run-unit: $bin exited with status $rc"
		f=1
	fi
	if [ "$rc" -eq 0 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		echo "run-unit: $bin ran no test"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
done

[ "$skipped" -gt 0 ] && echo "unit: $skipped skipped"
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
