# tests/integration/t0301-windows.sh - the windows wvetl asks for (contract
# rule 8): local time in api.timezone whatever the host's zone, never longer
# than api.window nor 31 days, date_ini = from and date_end = to - 1 s.
#
# Proves: with the host in Asia/Tokyo (TZ) and api.window = 31d, a 70-day
# extract asks for exactly three windows, each starting at local midnight in
# America/Bogota and ending one second before the next starts (the last at
# --to - 1 s), none over 31 days (the mock counts a longer one as a
# violation and refuses it); an api.window of 6h from a mid-day --from gives
# 6-hour windows with the same inclusive end; and api.window over 31d is a
# configuration error (exit 2) before any request.

export TZ=Asia/Tokyo	# the host's zone must not leak into date_ini/date_end

wv_control '{"per_day":{"2026-01-10":3,"2026-02-20":3,"2026-03-05":3}}'
wv_expect 0 --set api.window=31d extract --from 2026-01-01 --to 2026-03-12 -o "$WV_TMP/x.jsonl"
assert_eq '[["20260101000000", "20260131235959"], ["20260201000000", "20260303235959"], ["20260304000000", "20260311235959"]]' \
	"$(wv_stat 's["windows"]')" "70 days in 31-day windows, local midnights, end = to - 1 s"
assert_eq '[]' "$(wv_stat 's["violations"]')" "no window over 31 days, none concurrent"
assert_eq 1 "$(wv_stat 's["max_in_flight"]')" "one request at a time"

wv_control '{"reset":true}'
wv_expect 0 --set api.window=6h extract --from "2026-01-05 09:30:00" --to "2026-01-06 02:00:00" -o "$WV_TMP/y.jsonl"
assert_eq '[["20260105093000", "20260105152959"], ["20260105153000", "20260105212959"], ["20260105213000", "20260106015959"]]' \
	"$(wv_stat 's["windows"]')" "6-hour windows from a mid-day start, in Bogota time"

wv_control '{"reset":true}'
wv_expect 2 --set api.window=32d extract --from 2026-01-01 --to 2026-03-12
assert_contains "$(cat "$WV_TMP/err")" "api.window" "the error names the key"
assert_eq 0 "$(wv_stat 's["data_requests"]')" "no request with a bad window"
