# tests/integration/t0307-no-retry.sh - answers that no retry can mend stop
# the run at once with the API's message (contract rule 10).
#
# Proves: a wrong token (403 PLEASE VALIDATE TOKEN), a 401 PLEASE ENTER THE
# WOLKVOX-TOKEN, a 400 SOME PARAMETERS ARE REQUIRED and a 404 that is not
# "Validate dates entered" each end the run with exit 1 after exactly one
# request (api.retries = 3 and a 5 s backoff would show any retry as a
# second request and a slow run), say the API's message on stderr and in
# etl_run.error, and load nothing; the wrong token's text is never printed.

wv_expect 0 migrate
for case in \
	'token|PLEASE VALIDATE TOKEN' \
	'{"status":401,"msg":"PLEASE ENTER THE WOLKVOX-TOKEN"}|PLEASE ENTER THE WOLKVOX-TOKEN' \
	'{"status":400,"msg":"SOME PARAMETERS ARE REQUIRED"}|SOME PARAMETERS ARE REQUIRED' \
	'{"status":404,"msg":"THE API YOU WANT TO CONSULT DOES NOT EXIST"}|HTTP 404: THE API YOU WANT TO CONSULT DOES NOT EXIST'
do
	fault=${case%%|*}
	msg=${case#*|}
	wv_control '{"reset":true}'
	set -- --set api.backoff=5s
	if [ "$fault" = token ]; then
		set -- "$@" --set api.token=not-the-token-91b2
	else
		wv_control "{\"faults\":[$fault]}"
	fi
	t0=$(date +%s.%N)
	wv_expect 1 "$@" backfill --from 2026-01-05 --to 2026-01-06
	t1=$(date +%s.%N)
	assert_contains "$(cat "$WV_TMP/err")" "$msg" "stderr says the API's message"
	assert_not_contains "$(cat "$WV_TMP/err")" "retry" "no retry is logged"
	assert_not_contains "$(cat "$WV_TMP/err" "$WV_TMP/out")" "not-the-token-91b2" "the wrong token is not printed"
	assert_eq 1 "$(wv_stat 's["data_requests"]')" "one request: $msg"
	"$WV_PY" -c "import sys; sys.exit(0 if $t1 - $t0 < 4 else 1)" || fail "the run waited: no backoff expected"
	assert_contains "$(psql_q "SELECT error FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1")" "$msg" "etl_run.error holds it"
done
assert_not_contains "$(psql_q "SELECT string_agg(error, ' ') FROM wolkvox.etl_run")" "not-the-token-91b2" "the wrong token is not in etl_run"
assert_eq "0 0" "$(psql_q "SELECT (SELECT count(*) FROM wolkvox.survey_response), (SELECT count(*) FROM wolkvox.etl_window)" | tr '|' ' ')" "nothing loaded"
