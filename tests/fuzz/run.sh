#!/bin/sh
# tests/fuzz/run.sh - what `make fuzz` runs after building
# build/fuzz/fuzz_transform: seeds a corpus, fuzzes for FUZZ_SECONDS
# (default 60) under AddressSanitizer and UndefinedBehaviorSanitizer, and
# prints one line "fuzz: N passed, N failed" (1 run: passed when libFuzzer
# found nothing).
#
# Seeds are copied at run time into build/fuzz/seeds.* (third-party files
# are never committed): the transform fixtures, the inputs in
# tests/fuzz/regress (each once broke an invariant), a body of the mock
# API's awkward records (every FEATURE of tests/server/wolkvox_mock.py),
# and the JSONTestSuite y_ cases and the naughty strings when
# ../shared/testdata holds them. New inputs the
# fuzzer finds stay in build/fuzz/corpus for the next run; a crashing input
# is left as build/fuzz/crash-*; the log is build/fuzz/fuzz.log.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=build/fuzz
bin=$out/fuzz_transform
seconds=${FUZZ_SECONDS:-60}
shared=$(sh tests/testdata.sh) || { echo "fuzz: 0 passed, 1 failed"; exit 1; }

[ -x "$bin" ] || { echo "fuzz: $bin not built (make fuzz)"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
mkdir -p "$out/corpus"
# this run's own seeds and log: two runs at once do not trip on each other
seeds=$(mktemp -d "$out/seeds.XXXXXX")
log=$(mktemp "$out/fuzz.XXXXXX")
trap 'rm -rf "$seeds"; mv -f "$log" "$out/fuzz.log"' EXIT
cp tests/fixtures/*.json "$seeds/"
# inputs that once broke an invariant: checked again on every run
cp tests/fuzz/regress/* "$seeds/"
/usr/bin/python3 - "$seeds/mock_day.json" <<'PY'
import sys, zoneinfo
sys.path.insert(0, "tests/server")
import wolkvox_mock as m
day = m.Day(1, "2026-01-05", 40, zoneinfo.ZoneInfo("America/Bogota"))
recs = ",".join(day.record(i) for i in range(len(m.FEATURES)))
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write('{"code":200,"error":null,"msg":"22 records were found","data":[%s]}' % recs)
PY
if [ -d "$shared/JSONTestSuite/test_parsing" ]; then
	cp "$shared"/JSONTestSuite/test_parsing/y_*.json "$seeds/"
fi
if [ -f "$shared/blns/blns.json" ]; then
	cp "$shared/blns/blns.json" "$seeds/blns.json"
fi

echo "fuzz: fuzz_transform for ${seconds}s, $(ls "$seeds" | wc -l) seeds, $(ls "$out/corpus" | wc -l) inputs kept from earlier runs"
rc=0
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-max_len=65536 -dict=tests/fuzz/json.dict -artifact_prefix="$out/" \
	-print_final_stats=1 "$out/corpus" "$seeds" >"$log" 2>&1 || rc=$?
if [ "$rc" -eq 0 ]; then
	grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" | tail -n 2 | sed 's/^/fuzz: /'
	echo "fuzz: 1 passed, 0 failed"
	exit 0
fi
echo "fuzz: libFuzzer exited $rc; the end of its log ($out/fuzz.log):"
tail -n 60 "$log" | sed 's/^/    /'
echo "fuzz: 0 passed, 1 failed"
exit 1
