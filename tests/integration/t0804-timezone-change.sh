# tests/integration/t0804-timezone-change.sh - an operation's time zone,
# once it has data, changes only when asked explicitly (contract rule 12).
#
# Proves: after a backfill in America/Bogota, a backfill, a replay and a
# sync with api.timezone = America/Mexico_City are refused (exit 2), naming
# the stored zone and `migrate --change-timezone`; they leave the warehouse
# as it was and are recorded as config_error runs. Another operation, with
# no data, loads in any zone. `migrate --change-timezone` re-reads the
# stored data in the new zone: every survey keeps its wall-clock time (now
# read in Mexico City: one hour later in UTC), gets the response_id of its
# new instant (survey_response_id()), keeps its answers; the windows'
# bounds, the watermark and etl_state.timezone follow; the views' local
# dates do not move. A reload in the new zone then duplicates nothing and
# the rows are what the oracle expects in Mexico City; a second
# --change-timezone has nothing to do.

export WVETL_NOW="2026-01-07 12:00:00"
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-07
wv_expect 0 --set sync.start=2026-01-07 sync
c0=$(wv_checksum wolkvox)
walls0=$(psql_q "SELECT string_agg(conn_id || ' ' || to_char(answered_at AT TIME ZONE 'America/Bogota', 'YYYY-MM-DD HH24:MI:SS'), ',' ORDER BY conn_id, answered_at) FROM wolkvox.survey_response")
days0=$(psql_q "SELECT string_agg(local_date || ':' || n, ',' ORDER BY local_date) FROM (SELECT local_date, count(*) n FROM wolkvox.v_response GROUP BY 1) d")
n0=$(psql_q "SELECT (SELECT count(*) FROM wolkvox.survey_response) || ' ' || (SELECT count(*) FROM wolkvox.survey_answer)")
runs0=$(psql_q "SELECT count(*) FROM wolkvox.etl_run")

export WVETL_NOW="2026-01-09 12:00:00"
MX="--set api.timezone=America/Mexico_City"
wv_expect 2 $MX backfill --from 2026-01-07 --to 2026-01-08
assert_contains "$(cat "$WV_TMP/err")" "has data read in America/Bogota (etl_state.timezone), but api.timezone is America/Mexico_City" \
	"the refusal names the stored zone"
assert_contains "$(cat "$WV_TMP/err")" "wvetl migrate --change-timezone" "and the way to change it"
assert_contains "$(cat "$WV_TMP/err")" "status=config_error" "summarised as a configuration error"
wv_expect 2 $MX sync
curl -fsS -H "wolkvox-token: $WV_TOKEN" \
	"$WV_URL?api=diagram_4&date_ini=20260105000000&date_end=20260105235959" -o "$WV_TMP/day5.json"
wv_expect 2 $MX replay "$WV_TMP/day5.json" --from 2026-01-05 --to 2026-01-06 --reload
assert_eq "$c0" "$(wv_checksum wolkvox)" "the refused runs changed no row"
assert_eq "America/Bogota" "$(psql_q "SELECT timezone FROM wolkvox.etl_state WHERE operation = 'test'")" \
	"nor the stored zone"
assert_eq "3" "$(psql_q "SELECT count(*) FROM wolkvox.etl_run WHERE status = 'config_error'")" \
	"each refusal is recorded"

wv_expect 0 --set sync.operation=other --set api.timezone=UTC backfill --from 2026-01-05 --to 2026-01-06
assert_eq "UTC" "$(psql_q "SELECT timezone FROM wolkvox.etl_state WHERE operation = 'other'")" \
	"an operation without data loads in any zone"
psql_q "DELETE FROM wolkvox.survey_answer WHERE response_id IN (SELECT response_id FROM wolkvox.survey_response WHERE operation = 'other');
        DELETE FROM wolkvox.survey_response WHERE operation = 'other'; DELETE FROM wolkvox.etl_window WHERE operation = 'other'" >/dev/null

wm0=$(psql_q "SELECT to_char(watermark AT TIME ZONE 'America/Bogota', 'YYYY-MM-DD HH24:MI:SS') FROM wolkvox.etl_state WHERE operation = 'test'")
wv_expect 0 $MX migrate --change-timezone
assert_contains "$(cat "$WV_TMP/err")" "re-read from America/Bogota into America/Mexico_City" "the change says what it did"
assert_eq "America/Mexico_City" "$(psql_q "SELECT timezone FROM wolkvox.etl_state WHERE operation = 'test'")" "the new zone is stored"
assert_eq "$walls0" "$(psql_q "SELECT string_agg(conn_id || ' ' || to_char(answered_at AT TIME ZONE 'America/Mexico_City', 'YYYY-MM-DD HH24:MI:SS'), ',' ORDER BY conn_id, answered_at) FROM wolkvox.survey_response WHERE operation = 'test'")" \
	"every survey keeps its wall-clock time, read in the new zone"
assert_eq "$n0" "$(psql_q "SELECT (SELECT count(*) FROM wolkvox.survey_response) || ' ' || (SELECT count(*) FROM wolkvox.survey_answer)")" \
	"every survey and answer kept"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response
                        WHERE response_id <> wolkvox.survey_response_id(operation, conn_id, answered_at, agent_id, skill_id)")" \
	"each survey has the response_id of its new instant"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.survey_answer a
                        WHERE NOT EXISTS (SELECT 1 FROM wolkvox.survey_response r WHERE r.response_id = a.response_id)")" \
	"every answer follows its survey"
assert_eq "$days0" "$(psql_q "SELECT string_agg(local_date || ':' || n, ',' ORDER BY local_date) FROM (SELECT local_date, count(*) n FROM wolkvox.v_response GROUP BY 1) d")" \
	"the views' local days do not move"
assert_eq 0 "$(psql_q "SELECT count(*) FROM ((SELECT dim, period_start, key_id, surveys
                          FROM wolkvox.rollup_survey WHERE operation = 'test' AND period = 'day'
                        EXCEPT SELECT dim, period_start, key_id, surveys
                          FROM wolkvox.rollup_day_survey('test', NULL, NULL))
                        UNION ALL (SELECT dim, period_start, key_id, surveys
                          FROM wolkvox.rollup_day_survey('test', NULL, NULL)
                        EXCEPT SELECT dim, period_start, key_id, surveys
                          FROM wolkvox.rollup_survey WHERE operation = 'test' AND period = 'day')) d")" \
	"the rollups are those of the surveys in the new zone"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window WHERE operation = 'test'
                        AND (window_from AT TIME ZONE 'America/Mexico_City')::time <> '00:00'
                        AND window_from <> '2026-01-07 12:00:00'::timestamp AT TIME ZONE 'America/Mexico_City'")" \
	"the windows keep their wall-clock bounds"
assert_eq "$wm0" "$(psql_q "SELECT to_char(watermark AT TIME ZONE 'America/Mexico_City', 'YYYY-MM-DD HH24:MI:SS') FROM wolkvox.etl_state WHERE operation = 'test'")" \
	"the watermark keeps its wall-clock time"
assert_eq "change_timezone|ok" "$(psql_q "SELECT command || '|' || status FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1")" \
	"the change is recorded as a run"

wv_expect 0 $MX backfill --from 2026-01-05 --to 2026-01-07 --reload
assert_eq "$n0" "$(psql_q "SELECT (SELECT count(*) FROM wolkvox.survey_response) || ' ' || (SELECT count(*) FROM wolkvox.survey_answer)")" \
	"a reload in the new zone duplicates nothing"
check_rows --tz America/Mexico_City --from 2026-01-05 --to "2026-01-07 12:00:00" --rejects any
wv_expect 0 $MX migrate --change-timezone
assert_contains "$(cat "$WV_TMP/err")" "nothing to change" "a second change has nothing to do"
