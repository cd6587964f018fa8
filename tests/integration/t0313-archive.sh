# tests/integration/t0313-archive.sh - archive.dir keeps every raw answer
# body, gzipped, under a name that says the operation and the window,
# written under a temporary name and renamed when complete; replay reads it.
#
# Proves: a 3-day backfill with archive.dir, whose first answer is cut and
# retried and whose second day is empty (404), leaves exactly three files,
# DIR/test/2026/01/diagram_4_<from>_<to>.json.gz (operation, local window
# bounds), each a complete gzip stream, and no temporary file; the first is
# the whole answer (the cut attempt left nothing); the empty day's holds
# the API's 404 body; `replay` of each file into a fresh schema loads rows
# identical to the backfill's (wv_checksum), the empty day as an empty
# window, with no API call. A window that fails (its body cut every time,
# after part of it went to the temporary file; exit 1) leaves no file,
# temporary or not.

arch=$WV_TMP/arch
wv_control '{"per_day":{"2026-01-06":0},"faults":[{"cut_after":3000}]}'
wv_expect 0 --set archive.dir="$arch" backfill --from 2026-01-05 --to 2026-01-08
(cd "$arch" && find . -type f | sort) >"$WV_TMP/files"
cat "$WV_TMP/files"
assert_eq "./test/2026/01/diagram_4_20260105000000_20260106000000.json.gz
./test/2026/01/diagram_4_20260106000000_20260107000000.json.gz
./test/2026/01/diagram_4_20260107000000_20260108000000.json.gz" "$(cat "$WV_TMP/files")" \
	"one file per window, named by operation and window; no temporary file"
d=$arch/test/2026/01
for f in "$d"/*.gz; do
	gzip -t "$f" || fail "$f is not a complete gzip stream"
done
zcat "$d/diagram_4_20260105000000_20260106000000.json.gz" | jq -e '.data | length == 40' >/dev/null ||
	fail "the first day's archive is not its whole answer"
echo "ok: the retried window's archive is the whole answer"
assert_contains "$(zcat "$d/diagram_4_20260106000000_20260107000000.json.gz")" '"msg":"Validate dates entered"' \
	"the empty day's archive is the API's 404 body"

calls=$(wv_stat 's["data_requests"]')
for day in 05 06 07; do
	next=$(printf '%02d' $((10#$day + 1)))
	wv_expect 0 --set database.schema=replayed replay \
		"$d/diagram_4_202601${day}000000_202601${next}000000.json.gz" --from "2026-01-$day" --to "2026-01-$next"
done
assert_eq "$calls" "$(wv_stat 's["data_requests"]')" "replay made no API call"
assert_eq "$(wv_checksum wolkvox)" "$(wv_checksum replayed)" "replayed archives == backfill, row for row"
assert_eq "3 0" "$(psql_q "SELECT count(*), sum(records) FILTER (WHERE window_from = '2026-01-06 00:00-05') FROM replayed.etl_window" | tr '|' ' ')" \
	"three windows replayed, the 404 one empty"

wv_control '{"reset":true}'
wv_control '{"faults":[{"cut_after":3000,"times":10}]}'
wv_expect 1 --set archive.dir="$arch" --set api.retries=1 backfill --from 2026-01-08 --to 2026-01-09
[ ! -e "$d/diagram_4_20260108000000_20260109000000.json.gz" ] || fail "a failed window left an archive"
assert_eq 0 "$(find "$arch" -name '*.tmp*' | wc -l)" "no temporary file left after a failure"
