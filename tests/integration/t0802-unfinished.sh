# tests/integration/t0802-unfinished.sh - only finished time is recorded as
# loaded (contract rule 12): a window never ends after now - sync.lag.
#
# Proves, with the clock fixed by $WVETL_NOW at 2026-01-07 12:00:00 (lag 5m):
# `backfill --from 2026-01-05 --to 2026-01-09` exits 0, warns that it loads
# up to 2026-01-07 11:55:00 and leaves the rest, records no window ending
# after that and loads no record after it; a later backfill of the same
# range (the clock two days on) loads the rest, the partial day again by
# merge, and the tables then equal a clean backfill of the range. A backfill
# that starts after now - sync.lag, and a replay whose --to is after it,
# are refused with exit 2 and say why, recording nothing.

export WVETL_NOW="2026-01-07 12:00:00"
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-09
assert_contains "$(cat "$WV_TMP/err")" "backfill --to 2026-01-09 00:00:00 is after now - sync.lag (2026-01-07 11:55:00 America/Bogota): loading up to there" \
	"the backfill says it stops at now - sync.lag"
assert_eq "2026-01-07 11:55:00" \
	"$(psql_q "SELECT to_char(max(window_to) AT TIME ZONE 'America/Bogota', 'YYYY-MM-DD HH24:MI:SS') FROM wolkvox.etl_window")" \
	"no window ends after now - sync.lag"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE answered_at >= '2026-01-07 11:55:00-05'")" \
	"nothing after now - sync.lag is loaded"
check_rows --from 2026-01-05 --to "2026-01-07 11:55:00"

export WVETL_NOW="2026-01-09 12:00:00"
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-09
assert_contains "$(cat "$WV_TMP/err")" "skipped=2" "the finished days are skipped"
assert_eq "2026-01-09 00:00:00" \
	"$(psql_q "SELECT to_char(max(window_to) AT TIME ZONE 'America/Bogota', 'YYYY-MM-DD HH24:MI:SS') FROM wolkvox.etl_window")" \
	"the rest is loaded later"
wv_expect 0 --set database.schema=clean backfill --from 2026-01-05 --to 2026-01-09
assert_eq "$(wv_checksum clean)" "$(wv_checksum wolkvox)" "the same rows as one backfill of the finished range"

export WVETL_NOW="2026-01-07 12:00:00"
w=$(psql_q "SELECT count(*) FROM wolkvox.etl_run")
wv_expect 2 backfill --from "2026-01-07 11:55:00" --to 2026-01-08
assert_contains "$(cat "$WV_TMP/err")" "nothing in the range is finished yet" "a backfill of the future is refused"
curl -fsS -H "wolkvox-token: $WV_TOKEN" \
	"$WV_URL?api=diagram_4&date_ini=20260107000000&date_end=20260107235959" -o "$WV_TMP/day7.json"
wv_expect 2 --set database.schema=r replay "$WV_TMP/day7.json" --from 2026-01-07 --to 2026-01-08
assert_contains "$(cat "$WV_TMP/err")" "replay --to 2026-01-08 00:00:00 is after now - sync.lag" \
	"a replay of unfinished time is refused"
assert_eq "$w" "$(psql_q "SELECT count(*) FROM wolkvox.etl_run")" "the refused runs loaded nothing"
