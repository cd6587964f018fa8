# tests/integration/t0305-cut-body.sh - a body cut in the middle is a
# retryable failure, never a partial load (contract rule 10).
#
# Proves: the day's answer announced with its Content-Length and cut after
# 20000 bytes (the connection closed mid-record), then answered whole: the
# run exits 0; the cut is logged as such ("body cut after 10000 bytes") and
# retried; the window is recorded once with all its records; the run's
# counters count the records once (nothing from the cut attempt); every
# row equals what the API holds (check_rows). The same with a cut in the
# first 100 bytes of a gzip-encoded answer.

wv_control '{"faults":[{"cut_after":10000}]}'
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-06
assert_contains "$(cat "$WV_TMP/err")" "body cut after 10000 bytes (expected " "the cut is named"
assert_contains "$(cat "$WV_TMP/err")" "retry 1 of 3" "and retried"
read -r records rows answers rejects dups <<<"$(wv_expected_counts 2026-01-05 2026-01-06)"
assert_eq "1 $records" "$(psql_q "SELECT count(*), sum(records + rejects) FROM wolkvox.etl_window" | tr '|' ' ')" \
	"one window, its records counted once"
# (records: what the API sent; the tables count rejects apart)
assert_eq "$((records - rejects)) $rejects" "$(psql_q "SELECT records, rejects FROM wolkvox.etl_run" | tr '|' ' ')" \
	"the run counts nothing of the cut attempt"
check_rows --from 2026-01-05 --to 2026-01-06

wv_control '{"encoding":"gzip","faults":[{"cut_after":100}]}'
wv_expect 0 backfill --from 2026-01-06 --to 2026-01-07
assert_contains "$(cat "$WV_TMP/err")" "body cut after" "a cut gzip body is named a cut"
assert_eq 2 "$(wv_stat 's["encodings"]["gzip"]')" "both answers were gzip"
check_rows --from 2026-01-05 --to 2026-01-07
