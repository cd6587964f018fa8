# tests/integration/t0306-token-limit.sh - the token's daily limit ends the
# run with exit 75, keeping what was committed; a later run continues
# (contract rule 10, exit statuses).
#
# Proves: a 5-day backfill whose third request is answered 403 "TOKEN LIMIT
# EXCEEDED" (and every one after it) exits 75 after three requests (the
# quota is not retried); the two windows before it stay loaded and
# recorded; etl_run says try_later with the API's message; a second run,
# the quota reset, skips the two loaded days, asks only for the three
# others and exits 0, and the whole range then equals what the API holds.
# `extract` exits 75 on the same answer too.

wv_control '{"faults":[{"status":403,"msg":"TOKEN LIMIT EXCEEDED","after":2,"times":1000}]}'
wv_expect 75 backfill --from 2026-01-05 --to 2026-01-10
assert_contains "$(cat "$WV_TMP/err")" "TOKEN LIMIT EXCEEDED" "the API's message is said"
assert_contains "$(cat "$WV_TMP/err")" "status=try_later" "the summary says try later"
assert_eq 3 "$(wv_stat 's["data_requests"]')" "two windows, then the limit, not retried"
assert_eq 2 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "the two loaded windows are kept"
assert_eq "try_later" "$(psql_q "SELECT status FROM wolkvox.etl_run")" "etl_run: try_later"
assert_contains "$(psql_q "SELECT error FROM wolkvox.etl_run")" "TOKEN LIMIT EXCEEDED" "etl_run.error: the API's message"
check_rows --from 2026-01-05 --to 2026-01-07

wv_control '{"reset":true}'
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-10
assert_contains "$(cat "$WV_TMP/err")" "skipped=2" "the second run skips what the first loaded"
assert_eq '[["20260107000000", "20260107235959"], ["20260108000000", "20260108235959"], ["20260109000000", "20260109235959"]]' \
	"$(wv_stat 's["windows"]')" "and asks only for the rest"
check_rows --from 2026-01-05 --to 2026-01-10

wv_control '{"reset":true}'
wv_control '{"faults":[{"status":403,"msg":"TOKEN LIMIT EXCEEDED","after":1,"times":1000}]}'
wv_expect 75 extract --from 2026-01-05 --to 2026-01-10 -o "$WV_TMP/x.jsonl"
[ ! -e "$WV_TMP/x.jsonl" ] || fail "extract: a run stopped by the token limit leaves no partial -o FILE (it is renamed into place only when complete)"
