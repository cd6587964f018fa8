# tests/integration/t0003-backfill.sh - a backfill loads exactly what the API
# holds, value by value, typed by the contract's rules.
#
# Proves: `backfill --from 2026-01-05 --to 2026-01-09` asks for exactly four
# one-day windows, date_ini YYYYmmdd000000 to date_end YYYYmmdd235959 (the
# API's inclusive end, rule 8), one request at a time (rule 9), and exits 0;
# then every column of every survey_response row, every survey_answer row
# and every etl_reject row equals what tests/integration/check_rows.py
# derives on its own from the mock's records (rules 1-5: placeholders to
# NULL, U+0000 removed and noted, durations in seconds, q<N> answers with
# answer_num, extras for unknown keys and untypable values, answered_at as
# America/Bogota wall clock, dateless records rejected with their raw text,
# in-answer duplicates: the later wins). The mock's days hold every awkward
# case (see FEATURES in tests/server/wolkvox_mock.py), so a rule the tool
# gets wrong shows up as a named difference.

wv_expect 0 backfill --from 2026-01-05 --to 2026-01-09

assert_eq 4 "$(wv_stat 's["data_requests"]')" "four data requests"
assert_eq '[["20260105000000", "20260105235959"], ["20260106000000", "20260106235959"], ["20260107000000", "20260107235959"], ["20260108000000", "20260108235959"]]' \
	"$(wv_stat 's["windows"]')" "the four day windows, end inclusive"
assert_eq '[]' "$(wv_stat 's["violations"]')" "no API limit was broken"
assert_eq 1 "$(wv_stat 's["max_in_flight"]')" "one request at a time"

read -r records rows answers rejects dups <<<"$(wv_expected_counts 2026-01-05 2026-01-09)"
echo "expected: $records records, $rows rows, $answers answers, $rejects rejects, $dups duplicates"
[ "$rejects" -gt 0 ] && [ "$dups" -gt 0 ] || fail "the data set must hold rejects and duplicates"

check_rows --from 2026-01-05 --to 2026-01-09
