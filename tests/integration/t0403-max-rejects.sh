# tests/integration/t0403-max-rejects.sh - records that cannot be loaded go
# to etl_reject and the rest of the window loads; api.max_rejects (a count
# or a percent) fails a window that holds more.
#
# Proves: with the default (100%), a backfill of two days whose records
# include dateless ones (a missing date, "-", "2026-13-45 99:99:99") exits
# 0, loads every other record (check_rows.py, column by column), and keeps
# each reject in etl_reject with its raw record as JSON text (equal, as
# jsonb, to what the API sent, U+0000 aside) and a reason naming what was
# wrong; then on a third day (3 rejects of 40 records):
#   api.max_rejects=2 and =5% fail the window: exit 1, a message naming the
#   counts ("3 of 40 records rejected, more than api.max_rejects (2)"),
#   none of the window's records committed (survey tables' checksum and
#   etl_window unchanged) but its 3 rejects kept in etl_reject (contract:
#   "rejects are kept in etl_reject either way"; once, however often the
#   window fails) and counted in the summary and etl_run (rejects=3,
#   records=0), and no retry (the same answer would fail again); =3 and
#   =10% (7.5% rejected) load it.

wv_expect 0 backfill --from 2026-01-05 --to 2026-01-07
read -r records rows answers rejects dups <<<"$(wv_expected_counts 2026-01-05 2026-01-07)"
[ "$rejects" -ge 4 ] || fail "the two days must hold rejects (got $rejects)"
assert_eq "$rejects" "$(psql_q "SELECT count(*) FROM wolkvox.etl_reject")" "every reject is kept"
check_rows --from 2026-01-05 --to 2026-01-07
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_reject
                        WHERE jsonb_typeof(raw_record::jsonb) <> 'object'
                           OR raw_md5 <> md5(raw_record)")" "raw records are JSON objects"
assert_eq "missing date
unreadable date \"2026-13-45 99:99:99\"" \
	"$(psql_q "SELECT DISTINCT reason FROM wolkvox.etl_reject ORDER BY 1")" "reasons"
# The raw text is the record the API sent (compared as jsonb).
"$WV_PY" - "http://127.0.0.1:$WV_PORT" <<'EOF' || fail "a reject's raw text is not the record sent"
import json, sys, urllib.request, psycopg2
url = sys.argv[1] + "/_records?date_ini=20260105000000&date_end=20260106235959"
sent = json.load(urllib.request.urlopen(url))
dateless = [r for r in sent if not isinstance(r.get("date"), str) or r["date"][:4] != "2026"
            or r["date"].startswith("2026-13")]
cur = psycopg2.connect("").cursor()
missing = 0
for r in dateless:
    cur.execute("SELECT count(*) FROM wolkvox.etl_reject WHERE raw_record::jsonb = %s::jsonb",
                (json.dumps(r),))
    missing += cur.fetchone()[0] != 1
print("%d dateless records sent, %d not found as sent in etl_reject" % (len(dateless), missing))
sys.exit(1 if missing or not dateless else 0)
EOF

# A third day: 3 rejects of 40 records.
c0=$(wv_checksum wolkvox)
w0=$(psql_q "SELECT count(*) FROM wolkvox.etl_window")
j0=$(psql_q "SELECT count(*) FROM wolkvox.etl_reject")
read -r records rows answers rejects dups <<<"$(wv_expected_counts 2026-01-07 2026-01-08)"
assert_eq "40 3" "$records $rejects" "the third day: 40 records, 3 rejects"

# too_many LIMIT SHOWN: the window fails and leaves nothing behind.
too_many()
{
	local before
	before=$(wv_stat 's["data_requests"]')
	wv_expect 1 --set "api.max_rejects=$1" backfill --from 2026-01-07 --to 2026-01-08
	assert_contains "$(cat "$WV_TMP/err")" "3 of 40 records rejected, more than api.max_rejects ($2)" \
		"max_rejects=$1: the message names the counts"
	assert_eq "$c0" "$(wv_checksum wolkvox)" "max_rejects=$1: survey tables unchanged"
	assert_eq "$w0" "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "max_rejects=$1: no window recorded"
	assert_eq $((j0 + 3)) "$(psql_q "SELECT count(*) FROM wolkvox.etl_reject")" "max_rejects=$1: its rejects are kept, once"
	assert_eq 3 "$(psql_q "SELECT count(*) FROM wolkvox.etl_reject
	                        WHERE window_from = '2026-01-07 00:00:00-05' AND raw_md5 = md5(raw_record)")" \
		"max_rejects=$1: the kept rejects name their window"
	assert_eq $((before + 1)) "$(wv_stat 's["data_requests"]')" "max_rejects=$1: not retried"
	assert_contains "$(tail -n 1 "$WV_TMP/err")" " status=failed windows=0 skipped=0 records=0 inserted=0 updated=0 duplicates=0 rejects=3 " \
		"max_rejects=$1: the summary counts the 3 rejects kept, no record"
	assert_eq "failed 0 3" "$(psql_q "SELECT status, records, rejects FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1" | tr '|' ' ')" \
		"max_rejects=$1: so does etl_run"
}
too_many 2 2
too_many 5% 5%

wv_expect 0 --set api.max_rejects=3 backfill --from 2026-01-07 --to 2026-01-08
assert_eq $((w0 + 1)) "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "max_rejects=3: loaded"
wv_expect 0 --set api.max_rejects=10% backfill --reload --from 2026-01-07 --to 2026-01-08
check_rows --from 2026-01-05 --to 2026-01-08
