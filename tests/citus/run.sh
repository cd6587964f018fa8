#!/usr/bin/env bash
# tests/citus/run.sh - make test-citus: the whole integration suite, then
# the Citus-only tests of tests/citus/t*.sh, against a throwaway Citus
# cluster (a coordinator and two workers on free loopback ports, see
# cluster.sh) with database.citus = on.
#
#   bash tests/citus/run.sh                    everything
#   TESTS="t0003 t9001" bash tests/citus/run.sh   just those
#
# Needs Citus installed for pg_config's PostgreSQL, or CITUS_SRC=DIR (a
# Citus source tree: built and installed first). Without either it fails,
# never skips. Ends with "citus: N passed, N failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export WV_TOP=$top
. "$here/cluster.sh"

if ! citus_find; then
	echo "citus: 0 passed, 1 failed"
	exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/wvetl-citus.XXXXXX")
chmod 755 "$dir"
trap 'citus_cluster_stop "$dir"; rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM
if ! citus_cluster_start "$dir"; then
	echo "test-citus: the Citus cluster did not start"
	echo "citus: 0 passed, 1 failed"
	exit 1
fi
echo "test-citus: coordinator 127.0.0.1:$PGPORT, workers $WV_CITUS_WORKERS," \
	"$(psql -X -A -t -d postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'citus'" 2>/dev/null | sed 's/^/Citus /')"

# WV_CITUS=1: run.sh creates each test database with the extension on all
# three nodes and the workers added, and writes database.citus = on;
# WV_EXTRA_TESTS adds the tests that only make sense on Citus.
export WV_CITUS=1 WV_PG_READY=1 WV_EXTRA_TESTS=$here
unset WV_STATUS_FILE
out=$(mktemp "${TMPDIR:-/tmp}/wvetl-citus-out.XXXXXX")
bash "$top/tests/integration/run.sh" 2>&1 | tee "$out"
line=$(grep -E '^integration: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
rm -f "$out"
if [ -z "$line" ]; then
	echo "citus: 0 passed, 1 failed"
	exit 1
fi
read -r p f <<<"$(echo "$line" | sed -E 's/^integration: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/')"
echo "citus: $p passed, $f failed"
[ "$f" -eq 0 ] && [ "$p" -gt 0 ]
