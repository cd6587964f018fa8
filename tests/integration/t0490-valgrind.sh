# tests/integration/t0490-valgrind.sh - the optimized bin/wvetl (no
# sanitizers) under valgrind's memcheck, on the paths that load and the
# paths that fail. Also `make valgrind`.
#
# Proves: a backfill of two days from the mock API (HTTP, transform, COPY,
# commit), a replay of a body full of odd values (U+0000, ill-formed
# UTF-8, nested values, rejects), a body that turns into garbage (retried,
# then failed), a window over api.max_rejects, and a replay of invalid JSON
# each end with the expected exit status and with no memcheck error and no
# definite or indirect leak (--errors-for-leak-kinds=definite,indirect
# --error-exitcode=99). Memory libcurl, GLib or libpq keep until exit
# ("still reachable") is not a leak.

bin=${WV_VALGRIND_BIN:-$WV_TOP/bin/wvetl}
[ -x "$bin" ] || fail "$bin not built (make)"
command -v valgrind >/dev/null || fail "valgrind not installed (make deps)"

# vg WANT ARGS...: bin/wvetl ARGS under memcheck; the exit status must be
# WANT (99 is memcheck's: an error or a leak).
vg()
{
	local want=$1 rc=0
	shift
	echo "\$ valgrind wvetl $*"
	valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		--log-file="$WV_TMP/vg.log" "$bin" -c "$WV_CONF" "$@" \
		>"$WV_TMP/out" 2>"$WV_TMP/err" || rc=$?
	sed 's/^/  | /' "$WV_TMP/err" | grep -E 'level=(error|warn)|summary' | head -n 5
	if [ -s "$WV_TMP/vg.log" ]; then
		sed 's/^/  vg| /' "$WV_TMP/vg.log" | head -n 80
	fi
	[ "$rc" -ne 99 ] || fail "memcheck reported errors or leaks: wvetl $*"
	assert_eq "$want" "$rc" "exit status under valgrind of: wvetl $*"
	! grep -qE 'definitely lost: [1-9]|indirectly lost: [1-9]|Invalid (read|write)|uninitialised' \
		"$WV_TMP/vg.log" || fail "memcheck log of: wvetl $*"
}

vg 0 backfill --from 2026-01-05 --to 2026-01-07
check_rows --from 2026-01-05 --to 2026-01-07

printf '%s' '{"code":"200","data":[{"date":"2026-02-01 10:00:00","agent_name":"a\u0000b\udc00",
"q01":4.5,"q02":true,"tags":{"k":[1,"x",null]},"time":"abc"},{"conn_id":"no date"},"x",[1]]}' \
	>"$WV_TMP/odd.json"
j0=$(psql_q "SELECT count(*) FROM wolkvox.etl_reject")
vg 0 replay "$WV_TMP/odd.json" --from 2026-02-01 --to 2026-02-02
assert_eq $((j0 + 3)) "$(psql_q "SELECT count(*) FROM wolkvox.etl_reject")" "odd body: rejects kept"

curl -fsS -H "wolkvox-token: $WV_TOKEN" \
	"$WV_URL?api=diagram_4&date_ini=20260110000000&date_end=20260110235959" -o "$WV_TMP/body.json"
"$WV_PY" -c 'import json,sys; b=open(sys.argv[1]).read(); c=b.index("},{",3000)+2; print(json.dumps({"faults":[{"status":200,"body":b[:c]+"@garbage","times":2}]}))' \
	"$WV_TMP/body.json" >"$WV_TMP/control.json"
wv_control "@$WV_TMP/control.json"
vg 1 --set api.retries=1 backfill --from 2026-01-10 --to 2026-01-11
assert_contains "$(cat "$WV_TMP/err")" "invalid JSON at byte" "garbage: the message"

vg 1 --set api.max_rejects=1 backfill --from 2026-01-11 --to 2026-01-12
assert_contains "$(cat "$WV_TMP/err")" "more than api.max_rejects (1)" "max_rejects: the message"

printf '[{"date":"2026-02-02 10:00:00"},{"a":[1,2,}]' >"$WV_TMP/bad.json"
vg 1 replay "$WV_TMP/bad.json" --from 2026-02-02 --to 2026-02-03
assert_contains "$(cat "$WV_TMP/err")" "invalid JSON at byte" "invalid JSON: the message"
