# tests/integration/lib.sh - helpers sourced by every integration test.
#
# run.sh sources this file in a fresh `bash -eu` for each test, after it has
# created the test's database (PGDATABASE), started a mock API, and written
# a config file. What a test can rely on:
#
#   WVETL      the binary under test (default build/san/wvetl, sanitizers on)
#   WV_TOP     the repository root
#   WV_TMP     a scratch directory of the test's own
#   WV_PORT    the mock API's port; WV_URL its reports_manager.php address
#   WV_TOKEN   the token the mock accepts
#   WV_CONF    an ini file for the mock and the test database
#   WV_MOCK    tests/server/wolkvox_mock.py, WV_PY the python to run it with
#
#   wv ARGS...          run "$WVETL -c $WV_CONF ARGS"; never fails itself.
#                       Sets WV_RC; stdout in $WV_TMP/out, stderr in
#                       $WV_TMP/err. Fails the test on a sanitizer report
#                       or when the token shows up in any output (rule 11).
#   wv_expect RC ARGS   wv, then assert the exit status is RC
#   wv_control JSON     POST JSON to the mock's /_control
#   wv_stats            the mock's /_stats JSON; wv_stat EXPR: one value,
#                       EXPR a python expression over `s`, e.g. s["windows"]
#   psql_q SQL          run SQL, print rows unaligned, tuples only
#   wv_checksum SCHEMA  md5 of both survey tables' contract columns, ordered
#   assert_eq WANT GOT MSG, assert_contains HAYSTACK NEEDLE MSG,
#   assert_not_contains HAYSTACK NEEDLE MSG, fail MSG

WV_PY=${WV_PY:-/usr/bin/python3}

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

assert_eq()
{
	if [ "$1" != "$2" ]; then
		fail "$3: expected [$1], got [$2]"
	fi
	echo "ok: $3"
}

assert_contains()
{
	case "$1" in
		*"$2"*) echo "ok: $3" ;;
		*) fail "$3: [$2] not found in: $(printf '%s' "$1" | head -c 2000)" ;;
	esac
}

assert_not_contains()
{
	case "$1" in
		*"$2"*) fail "$3: [$2] found in: $(printf '%s' "$1" | head -c 2000)" ;;
		*) echo "ok: $3" ;;
	esac
}

# wv: run the binary with the test's config. The exit status is kept in
# WV_RC instead of failing the test, since many tests expect a failure.
# Sanitizer builds exit 86 on a report (see run.sh), and a report fails
# the test whatever the expected status was.
wv()
{
	echo "\$ wvetl $*"
	WV_RC=0
	"$WVETL" -c "$WV_CONF" "$@" >"$WV_TMP/out" 2>"$WV_TMP/err" || WV_RC=$?
	echo "  -> exit $WV_RC"
	sed 's/^/  | /' "$WV_TMP/err" | head -n 60
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WV_TMP/err"; then
		fail "sanitizer report from: wvetl $*"
	fi
	if grep -qF -- "$WV_TOKEN" "$WV_TMP/out" "$WV_TMP/err"; then
		fail "the token appears in the output of: wvetl $* (rule 11)"
	fi
	return 0
}

wv_expect()
{
	local want=$1
	shift
	wv "$@"
	assert_eq "$want" "$WV_RC" "exit status of: wvetl $*"
}

wv_control()
{
	curl -fsS -X POST -H 'Content-Type: application/json' -d "$1" \
		"http://127.0.0.1:$WV_PORT/_control" >/dev/null
}

wv_stats()
{
	curl -fsS "http://127.0.0.1:$WV_PORT/_stats"
}

wv_stat()
{
	wv_stats | "$WV_PY" -c 'import json,sys; s=json.load(sys.stdin); print(json.dumps('"$1"'))'
}

psql_q()
{
	psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"
}

# The contract's columns of survey_response and survey_answer (no load
# metadata: loaded-at times and run ids differ between equal loads), as one
# md5 over the rows sorted by their text (so the order of loading is moot).
wv_checksum()
{
	local s=$1
	psql_q "
SELECT md5(coalesce(string_agg(t, E'\n' ORDER BY t), ''))
  FROM (SELECT ROW(r.response_id, r.operation, r.conn_id,
                   extract(epoch FROM r.answered_at)::bigint,
                   r.agent_id, r.agent_name, r.agent_dni, r.skill_id,
                   r.skill_name, r.ani, r.customer_id,
                   r.voice_message_duration_s, r.type_interaction,
                   r.result, r.duration_s, r.voice_message, r.feeling,
                   r.extras::text,
                   (SELECT string_agg(ROW(a.question_no, a.answer_text,
                                          a.answer_num)::text, ','
                                      ORDER BY a.question_no)
                      FROM $s.survey_answer a
                     WHERE a.response_id = r.response_id))::text AS t
          FROM $s.survey_response r) x"
}

# Expected counts for a range from the independent checker, as
# "records rows answers rejects duplicates".
wv_expected_counts()
{
	"$WV_PY" "$WV_TOP/tests/integration/check_rows.py" --summary \
		--from "$1" --to "$2" |
		"$WV_PY" -c 'import json,sys; c=json.load(sys.stdin); print(c["records"], c["rows"], c["answers"], c["rejects"], c["duplicates"])'
}

check_rows()
{
	"$WV_PY" "$WV_TOP/tests/integration/check_rows.py" "$@" ||
		fail "check_rows.py $*"
}
