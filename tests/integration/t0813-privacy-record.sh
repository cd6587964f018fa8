# tests/integration/t0813-privacy-record.sh - an operation's privacy.*
# settings, once it has data, change only when asked explicitly.
#
# Proves: the first load records privacy.ani, privacy.customer_id and
# privacy.agent_dni in etl_state. A backfill, a sync and a replay with
# privacy.ani = hash, for an operation loaded with keep, are refused
# (exit 2) naming the stored and the configured settings and `migrate
# --change-privacy`; they change no row (wv_checksum, etl_window) and are
# recorded as config_error runs. Another operation, with no data, loads
# with any settings. `migrate --change-privacy` records the new settings
# and is recorded as a run (change_privacy, its note saying what changed);
# a load then proceeds: the new day's callers are hashed, the old day's
# keep their clear form. Going back to keep is refused in turn. An
# operation loaded before the settings were recorded (NULL) loads and
# records its settings.

key=$WV_TMP/privacy.key
printf 'test-key-not-secret-0123456789\n' >"$key"
chmod 600 "$key"
HASH=(--set privacy.ani=hash --set privacy.key_file="$key")
export WVETL_NOW="2026-01-09 12:00:00"

wv_control '{"per_day":{"2026-01-05":20,"2026-01-06":20}}'
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-06
assert_eq "keep|keep|keep" "$(psql_q "SELECT privacy_ani || '|' || privacy_customer_id || '|' || privacy_agent_dni
                                     FROM wolkvox.etl_state WHERE operation = 'test'")" \
	"the first load records its settings"
c0=$(wv_checksum wolkvox)
w0=$(psql_q "SELECT count(*) FROM wolkvox.etl_window")

wv_expect 2 "${HASH[@]}" backfill --from 2026-01-06 --to 2026-01-07
assert_contains "$(cat "$WV_TMP/err")" "has data loaded with privacy ani=keep customer_id=keep agent_dni=keep (etl_state.privacy_*), but the configuration says ani=hash customer_id=keep agent_dni=keep" \
	"the refusal names the stored and the configured settings"
assert_contains "$(cat "$WV_TMP/err")" "wvetl migrate --change-privacy" "and the way to change them"
assert_contains "$(cat "$WV_TMP/err")" "status=config_error" "summarised as a configuration error"
wv_expect 2 "${HASH[@]}" --set sync.start=2026-01-06 sync
curl -fsS -H "wolkvox-token: $WV_TOKEN" \
	"$WV_URL?api=diagram_4&date_ini=20260106000000&date_end=20260106235959" -o "$WV_TMP/day6.json"
wv_expect 2 "${HASH[@]}" replay "$WV_TMP/day6.json" --from 2026-01-06 --to 2026-01-07
assert_eq "$c0" "$(wv_checksum wolkvox)" "the refused runs changed no row"
assert_eq "$w0" "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "nor any window"
assert_eq "keep" "$(psql_q "SELECT privacy_ani FROM wolkvox.etl_state WHERE operation = 'test'")" \
	"nor the recorded setting"
assert_eq "3" "$(psql_q "SELECT count(*) FROM wolkvox.etl_run WHERE status = 'config_error'")" \
	"each refusal is recorded"

wv_expect 0 --set sync.operation=other "${HASH[@]}" backfill --from 2026-01-05 --to 2026-01-06
assert_eq "hash" "$(psql_q "SELECT privacy_ani FROM wolkvox.etl_state WHERE operation = 'other'")" \
	"an operation without data loads with any settings, and records them"

c1=$(wv_checksum wolkvox)
wv_expect 0 "${HASH[@]}" migrate --change-privacy
assert_contains "$(cat "$WV_TMP/err")" "privacy.ani: keep -> hash" "the change says what it did"
assert_eq "hash|keep|keep" "$(psql_q "SELECT privacy_ani || '|' || privacy_customer_id || '|' || privacy_agent_dni
                                     FROM wolkvox.etl_state WHERE operation = 'test'")" \
	"the new settings are recorded"
assert_eq "change_privacy|ok|privacy.ani: keep -> hash" \
	"$(psql_q "SELECT command || '|' || status || '|' || note FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1")" \
	"the change is recorded as a run"
assert_eq "$c1" "$(wv_checksum wolkvox)" "the change rewrites no row"

wv_expect 0 "${HASH[@]}" backfill --from 2026-01-06 --to 2026-01-07
assert_eq "0" "$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE operation = 'test'
                         AND answered_at >= '2026-01-06 00:00:00-05' AND ani IS NOT NULL
                         AND ani !~ '^hmac:[0-9a-f]{64}$'")" \
	"after the change, the new day's callers are hashed"
assert_eq "1" "$(psql_q "SELECT (count(*) > 0)::int FROM wolkvox.survey_response WHERE operation = 'test'
                         AND answered_at >= '2026-01-06 00:00:00-05' AND ani ~ '^hmac:'")" \
	"(there are some)"
assert_eq "0" "$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE operation = 'test'
                         AND answered_at < '2026-01-06 00:00:00-05' AND ani ~ '^hmac:'")" \
	"the rows stored before keep their clear form"
assert_eq "1" "$(psql_q "SELECT (count(*) > 0)::int FROM wolkvox.survey_response WHERE operation = 'test'
                         AND answered_at < '2026-01-06 00:00:00-05' AND ani IS NOT NULL")" \
	"(there are some)"

wv_expect 2 backfill --from 2026-01-06 --to 2026-01-07 --reload
assert_contains "$(cat "$WV_TMP/err")" "has data loaded with privacy ani=hash" \
	"going back to keep is refused in turn"

psql_q "UPDATE wolkvox.etl_state SET privacy_ani = NULL, privacy_customer_id = NULL, privacy_agent_dni = NULL
         WHERE operation = 'other'" >/dev/null
wv_expect 0 --set sync.operation=other --set privacy.agent_dni=drop backfill --from 2026-01-06 --to 2026-01-07
assert_eq "keep|keep|drop" "$(psql_q "SELECT privacy_ani || '|' || privacy_customer_id || '|' || privacy_agent_dni
                                     FROM wolkvox.etl_state WHERE operation = 'other'")" \
	"settings not recorded yet are recorded by the next load"
