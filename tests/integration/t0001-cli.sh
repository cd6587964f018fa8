# tests/integration/t0001-cli.sh - the command line of contract section 2.
#
# Proves: --help, --version and COMMAND --help exit 0 and print to stdout,
# even with no config file at all; an unknown command, an unknown option, a
# missing or malformed argument exit 2 (usage); a config without a token or
# without an endpoint, or a config file that does not exist, exit 2 with a
# message naming what is missing; $WOLKVOX_TOKEN wins over the file's token
# (a config whose token is wrong works once the variable holds the right
# one), checked with `extract`, which needs no database.

wv_expect 0 --help
assert_contains "$(cat "$WV_TMP/out")" "backfill" "--help lists the commands"
wv_expect 0 --version
grep -qE '[0-9]+\.[0-9]+' "$WV_TMP/out" || fail "--version prints a version"

for cmd in migrate sync backfill replay extract status; do
	wv_expect 0 "$cmd" --help
	assert_contains "$(cat "$WV_TMP/out")" "$cmd" "$cmd --help on stdout"
done

# Help needs no config: run with none anywhere (cwd has no wvetl.ini).
rc=0
"$WVETL" --help >/dev/null 2>&1 || rc=$?
assert_eq 0 "$rc" "--help without any config file"
rc=0
"$WVETL" backfill --help >/dev/null 2>&1 || rc=$?
assert_eq 0 "$rc" "backfill --help without any config file"

wv_expect 2 frobnicate
wv_expect 2 --no-such-option status
wv_expect 2 backfill --from 2026-01-05
wv_expect 2 backfill --from not-a-date --to 2026-01-06
wv_expect 2 backfill --from 2026-01-05 --to 2026-01-06 --bogus
wv_expect 2 --set no_dot_here status
wv_expect 2 replay

# A config file that does not exist.
rc=0
"$WVETL" -c "$WV_TMP/nope.ini" status >"$WV_TMP/out" 2>"$WV_TMP/err" || rc=$?
assert_eq 2 "$rc" "missing config file is a configuration error"
assert_contains "$(cat "$WV_TMP/err")" "nope.ini" "the error names the file"

# No token (and no $WOLKVOX_TOKEN): a configuration error, before any call.
grep -v '^token' "$WV_CONF" >"$WV_TMP/notoken.ini"
rc=0
"$WVETL" -c "$WV_TMP/notoken.ini" extract --from 2026-01-05 --to 2026-01-06 \
	>"$WV_TMP/out" 2>"$WV_TMP/err" || rc=$?
cat "$WV_TMP/err"
assert_eq 2 "$rc" "missing token is a configuration error"
assert_contains "$(tr 'A-Z' 'a-z' <"$WV_TMP/err")" "token" "the error names the token"

# No endpoint: neither api.server nor api.base_url.
grep -v '^base_url' "$WV_CONF" >"$WV_TMP/nourl.ini"
rc=0
"$WVETL" -c "$WV_TMP/nourl.ini" extract --from 2026-01-05 --to 2026-01-06 \
	>"$WV_TMP/out" 2>"$WV_TMP/err" || rc=$?
cat "$WV_TMP/err"
assert_eq 2 "$rc" "missing endpoint is a configuration error"
grep -qiE 'server|base_url' "$WV_TMP/err" || fail "the error names api.server/api.base_url"
assert_eq 0 "$(wv_stat 's["data_requests"]')" "no API call was made by config errors"

# $WOLKVOX_TOKEN wins over the file's token.
sed 's/^token.*/token = wrong-file-token/' "$WV_CONF" >"$WV_TMP/wrongtok.ini"
rc=0
WOLKVOX_TOKEN=$WV_TOKEN "$WVETL" -c "$WV_TMP/wrongtok.ini" extract \
	--from 2026-01-05 --to 2026-01-06 >"$WV_TMP/out" 2>"$WV_TMP/err" || rc=$?
cat "$WV_TMP/err"
assert_eq 0 "$rc" "extract with \$WOLKVOX_TOKEN"
assert_eq 40 "$(wc -l <"$WV_TMP/out")" "extract wrote one line per record"
assert_eq 0 "$(wv_stat 's["tokens_seen_other"]')" "the file's token was not sent"
