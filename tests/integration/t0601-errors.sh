# tests/integration/t0601-errors.sh - every error message the operator
# meets and its exit status (contract section 2, README "Commands").
#
# Proves: usage errors (unknown command, unknown option, an option without
# its value, an option the command does not take, a missing --from or --to,
# a malformed time, an empty range, a stray argument) exit 2 with a message
# naming what is wrong; configuration errors (unknown key with a "did you
# mean", unknown section, bad value, bad line, key outside a section, a
# cross-key check, a missing file, a bad --set) exit 2 with FILE:LINE: (or
# --set:) in the message and change nothing; an API error that is not
# retried exits 1 with the API's message; the token's daily limit exits 75;
# another run holding the operation's lock exits 75 naming the holder; each
# run of a loading command ends with a summary line whose status matches
# the exit code (usage_error, config_error, failed, try_later, locked).

# expect RC NEEDLE ARGS...: run wvetl, check the exit status and that
# stderr holds NEEDLE (the message as the user reads it: kv quoting undone).
expect()
{
	local rc=$1 needle=$2
	shift 2
	wv_expect "$rc" "$@"
	assert_contains "$(sed 's/\\"/"/g' "$WV_TMP/err")" "$needle" "message of: wvetl $*"
}

# summary_status: the status= of the summary line (the last line of stderr).
summary_status()
{
	tail -n 1 "$WV_TMP/err" | sed -n 's/^summary .* status=\([a-z_]*\) .*/\1/p'
}

# ---- usage errors: exit 2, before anything else happens
expect 2 'unknown command "frobnicate"' frobnicate
expect 2 'unknown option "--bogus"' --bogus status
expect 2 'unknown option -x' -x status
expect 2 'option --from needs a value' backfill --to 2026-01-06 --from
expect 2 'option -c (--config) needs a value' status -c
expect 2 'option --set needs a value' status --set
assert_eq "" "$(summary_status)" "no summary before the command line parses"

expect 2 'sync takes no --from option' sync --from 2026-01-01
assert_eq usage_error "$(summary_status)" "summary status of a usage error"
expect 2 'status takes no --reload option' status --reload
expect 2 'backfill takes no -o/--output option' backfill --from 2026-01-05 --to 2026-01-06 -o x
expect 2 'status: unexpected argument "extra"' status extra
expect 2 '--to is required' backfill --from 2026-01-05
assert_eq usage_error "$(summary_status)" "missing --to: summary says usage_error"
expect 2 '--from is required' extract --to 2026-01-05
expect 2 "--from \"2026-13-01\": expected YYYY-MM-DD, 'YYYY-MM-DD HH:MM:SS' or YYYYmmddHHiiss" \
	backfill --from 2026-13-01 --to 2026-12-01
expect 2 '--to "tomorrow": expected YYYY-MM-DD' backfill --from 2026-01-01 --to tomorrow
expect 2 '--from must be before --to' backfill --from 2026-01-06 --to 2026-01-05
expect 2 'replay needs a FILE' replay --from 2026-01-05 --to 2026-01-06
assert_eq 0 "$(wv_stat 's["requests"]')" "usage errors made no API call"

# ---- configuration errors: exit 2, FILE:LINE: what is wrong
bad=$WV_TMP/bad.ini
conf_error()
{
	local line=$1 needle=$2
	printf '%b' "$3" >"$bad"
	chmod 600 "$bad"
	wv_expect 2 -c "$bad" sync
	assert_contains "$(sed 's/\\"/"/g' "$WV_TMP/err")" "$bad:$line: $needle" "config error at line $line"
	assert_eq config_error "$(summary_status)" "summary status of a config error"
}
conf_error 3 'unknown key "api.bogus"' '[api]\nserver = 1\nbogus = 3\n'
conf_error 2 'unknown key "api.tokne"; did you mean "api.token"?' '[api]\ntokne = x\n'
conf_error 4 'unknown key "sync.window"; did you mean "api.window"?' '[api]\nserver = 1\n[sync]\nwindow = 1d\n'
conf_error 2 'unknown section [databse]' '# c\n[databse]\nconninfo = x\n'
conf_error 2 'api.window: invalid value "3x" (expected a duration like 90s, 5m, 1h or 1d)' '[api]\nwindow = 3x\n'
conf_error 3 'api.max_rejects: invalid value "5 %" (expected a count like 10 or a percent like 1%)' \
	'[api]\n; comment\nmax_rejects = 5 %\n'
conf_error 2 'log.format: invalid value "xml" (expected text or json)' '[log]\nformat = xml\n'
conf_error 2 'expected "key = value", "[section]" or a comment' '[api]\nthis line is nonsense\n'
conf_error 1 'key outside of any [section]' 'server = 1\n'
conf_error 2 'api.window must be between 1s and 31d' '[api]\nwindow = 32d\n'

wv_expect 2 -c "$WV_TMP/nope.ini" sync
assert_contains "$(cat "$WV_TMP/err")" "$WV_TMP/nope.ini: " "a missing file is named"
assert_eq config_error "$(summary_status)" "missing file: config_error"

expect 2 '--set: unknown key "api.tokn"; did you mean "api.token"?' --set api.tokn=x sync
assert_eq config_error "$(summary_status)" "--set error: config_error"
expect 2 '--set: api.retries: invalid value "many"' --set api.retries=many sync
expect 2 'api.token is not set' --set api.token= backfill --from 2026-01-05 --to 2026-01-06
assert_eq config_error "$(summary_status)" "no token: config_error"
expect 2 '--set: api.window must be between 1s and 31d' --set api.window=40d sync
expect 2 '--set no_dot_here: expected SECTION.KEY=VALUE' --set no_dot_here sync
assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_namespace WHERE nspname = 'wolkvox'")" \
	"configuration errors did not even create the schema"
expect 2 'sync.start is not set and no watermark exists yet' sync
assert_eq config_error "$(summary_status)" "no sync.start: config_error"
assert_eq 0 "$(wv_stat 's["requests"]')" "configuration errors made no API call"

# ---- API errors: not retried -> exit 1 with the API's message
expect 1 'PLEASE VALIDATE TOKEN' --set api.token=wrong-token-9e2b backfill --from 2026-01-05 --to 2026-01-06
assert_eq failed "$(summary_status)" "API error: summary status"
assert_eq failed "$(psql_q "SELECT status FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1")" \
	"API error: the run is recorded as failed"

# the token's daily limit: exit 75, try later
wv_control '{"reset":true}'
wv_control '{"faults":[{"status":403,"msg":"TOKEN LIMIT EXCEEDED"}]}'
expect 75 'TOKEN LIMIT EXCEEDED' backfill --from 2026-01-05 --to 2026-01-06
assert_eq try_later "$(summary_status)" "token limit: summary status"

# ---- another run holds the operation's lock: exit 75
wv_control '{"reset":true}'
wv_control '{"faults":[{"delay":30}]}'
"$WVETL" -c "$WV_CONF" backfill --from 2026-02-01 --to 2026-02-02 >/dev/null 2>"$WV_TMP/holder.err" &
holder=$!
for i in $(seq 200); do
	[ "$(wv_stat 's["requests"]')" -ge 1 ] && break
	sleep 0.05
done
expect 75 'operation "test" is being loaded by' backfill --from 2026-01-05 --to 2026-01-06
assert_eq locked "$(summary_status)" "lock busy: summary status"
kill -TERM "$holder"
rc=0
wait "$holder" || rc=$?
assert_eq 130 "$rc" "the lock holder stopped on SIGTERM"
