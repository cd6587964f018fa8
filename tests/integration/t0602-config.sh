# tests/integration/t0602-config.sh - where the configuration comes from and
# what `wvetl config` shows (README "Configuration").
#
# Proves: `wvetl config` prints every key with its effective value and its
# source (default, FILE:LINE, environment (WOLKVOX_TOKEN), --set), never the
# token nor a password of the connection string nor $PGPASSWORD, and lists
# the PG* variables libpq will read; precedence default < file < $WOLKVOX_TOKEN
# < --set; the file is -c, else $WVETL_CONFIG, else ./wvetl.ini, else none;
# a file holding the token or a database password (password= twice,
# sslpassword, in a URI's query) that group or others can read gives one
# warning (and a private one none), and no spelling of a password shows; a
# connection string over 300 bytes with ';' in
# it, read from the file, reaches libpq intact (the server sees its
# application_name).

# value KEY: the value column of KEY in $WV_TMP/out; source KEY: its comment.
value()
{
	sed -n "s/^$1 *= \(.*[^ ]\) *# .*/\1/p" "$WV_TMP/out"
}
source_of()
{
	sed -n "s/^$1 *= .* # \(.*\)$/\1/p" "$WV_TMP/out"
}

wv_expect 0 config
assert_eq "# configuration file: $WV_CONF" "$(head -n 1 "$WV_TMP/out")" "config names the file read"
"$WVETL" --help | sed -n 's/^  \([a-z]*\.[a-z_]*\) .*/\1/p' | sort >"$WV_TMP/help-keys"
assert_eq "$(cat "$WV_TMP/help-keys")" "$(sed -n 's/^\([a-z]*\.[a-z_]*\) *= .*/\1/p' "$WV_TMP/out" | sort)" \
	"config prints every key --help lists"
assert_eq "*** (${#WV_TOKEN} characters)" "$(value api.token)" "token masked"
line=$(grep -n '^token' "$WV_CONF" | cut -d: -f1)
assert_eq "$WV_CONF:$line" "$(source_of api.token)" "the token's source is FILE:LINE"
assert_eq "$WV_URL" "$(value api.base_url)" "base_url from the file"
assert_eq "$WV_CONF:$(grep -n '^base_url' "$WV_CONF" | cut -d: -f1)" "$(source_of api.base_url)" \
	"base_url's line"
assert_eq 0.1s "$(value api.backoff)" "a duration as written"
assert_eq 1d "$(value api.window)" "a default duration in its unit"
assert_eq default "$(source_of api.window)" "a default's source"
assert_eq "100%" "$(value api.max_rejects)" "max_rejects default"
assert_contains "$(cat "$WV_TMP/out")" "#   PGDATABASE=$PGDATABASE" "config lists libpq's PG* variables"
if [ -n "${PGPASSWORD:-}" ]; then
	assert_contains "$(cat "$WV_TMP/out")" "#   PGPASSWORD=***" "PGPASSWORD is masked"
	assert_not_contains "$(cat "$WV_TMP/out")" "$PGPASSWORD" "PGPASSWORD's value is not printed"
fi

# environment beats the file, --set beats both
rc=0
WOLKVOX_TOKEN=env-token-5521 "$WVETL" -c "$WV_CONF" --set api.window=12h --set sync.lag=90 \
	config >"$WV_TMP/out" 2>"$WV_TMP/err" || rc=$?
assert_eq 0 "$rc" "config with env and --set"
assert_eq "*** (14 characters)" "$(value api.token)" "the environment's token (14 characters), masked"
assert_eq "environment (WOLKVOX_TOKEN)" "$(source_of api.token)" "the token's source is the environment"
assert_not_contains "$(cat "$WV_TMP/out" "$WV_TMP/err")" "env-token-5521" "env token not printed"
assert_eq 12h "$(value api.window)" "--set value"
assert_eq "--set" "$(source_of api.window)" "--set source"
assert_eq 90s "$(value sync.lag)" "a bare number is seconds"
rc=0
WOLKVOX_TOKEN=env-token-5521 "$WVETL" -c "$WV_CONF" --set api.token=set-token-77 config \
	>"$WV_TMP/out" 2>&1 || rc=$?
assert_eq "*** (12 characters)" "$(value api.token)" "--set wins over the environment"
assert_eq "--set" "$(source_of api.token)" "--set source for the token"

# which file: -c, else $WVETL_CONFIG, else ./wvetl.ini, else none
mkdir -p "$WV_TMP/cwd"
printf '[sync]\noperation = from-cwd\n' >"$WV_TMP/cwd/wvetl.ini"
printf '[sync]\noperation = from-env-var\n' >"$WV_TMP/envvar.ini"
(cd "$WV_TMP/cwd" && "$WVETL" config) >"$WV_TMP/out"
assert_eq from-cwd "$(value sync.operation)" "./wvetl.ini is read"
(cd "$WV_TMP/cwd" && WVETL_CONFIG=$WV_TMP/envvar.ini "$WVETL" config) >"$WV_TMP/out"
assert_eq from-env-var "$(value sync.operation)" "\$WVETL_CONFIG wins over ./wvetl.ini"
(cd "$WV_TMP/cwd" && WVETL_CONFIG=$WV_TMP/envvar.ini "$WVETL" -c "$WV_CONF" config) >"$WV_TMP/out"
assert_eq test "$(value sync.operation)" "-c wins over \$WVETL_CONFIG"
(cd "$WV_TMP" && "$WVETL" config) >"$WV_TMP/out"
assert_contains "$(head -n 1 "$WV_TMP/out")" "no configuration file was read" "no file at all is fine"
rc=0
(cd "$WV_TMP" && WVETL_CONFIG=$WV_TMP/missing.ini "$WVETL" config) >/dev/null 2>"$WV_TMP/err" || rc=$?
assert_eq 2 "$rc" "a \$WVETL_CONFIG that does not exist is an error"
assert_contains "$(cat "$WV_TMP/err")" "missing.ini" "the error names it"

# a file holding the token, readable by others: one warning; chmod 600: none
chmod 644 "$WV_CONF"
wv_expect 0 config
assert_eq 1 "$(grep -c 'level=warn .*holds api.token and is readable by group or others' "$WV_TMP/err")" \
	"warning for a 0644 file holding the token"
assert_contains "$(cat "$WV_TMP/err")" "$WV_CONF" "the warning names the file"
chmod 640 "$WV_CONF"
wv_expect 0 config
assert_eq 1 "$(grep -c 'readable by group or others' "$WV_TMP/err")" "warning for 0640"
chmod 600 "$WV_CONF"
wv_expect 0 config
assert_eq 0 "$(grep -c 'readable by group or others' "$WV_TMP/err")" "no warning for 0600"
grep -v '^token' "$WV_CONF" >"$WV_TMP/notoken.ini"
chmod 644 "$WV_TMP/notoken.ini"
rc=0
"$WVETL" -c "$WV_TMP/notoken.ini" config >/dev/null 2>"$WV_TMP/err" || rc=$?
assert_eq 0 "$(grep -c 'readable by group or others' "$WV_TMP/err")" "no warning without a token in the file"
# a database password in the file is a secret too, however spelt
for ci in "host=db password=Sekr1t" "postgresql://u@db/d?application_name=x&password=Sekr1t" \
	"host=db sslpassword=Sekr1t" "host=db password=first password=Sekr1t"; do
	sed "s|^conninfo.*|conninfo = ${ci//&/\\&}|" "$WV_TMP/notoken.ini" >"$WV_TMP/pw.ini"
	chmod 644 "$WV_TMP/pw.ini"
	rc=0
	"$WVETL" -c "$WV_TMP/pw.ini" config >"$WV_TMP/out" 2>"$WV_TMP/err" || rc=$?
	assert_eq 1 "$(grep -c 'holds a password in database.conninfo and is readable by group or others' "$WV_TMP/err")" \
		"warning for a 0644 file with $ci"
	assert_not_contains "$(cat "$WV_TMP/out" "$WV_TMP/err")" "Sekr1t" "no password shown: $ci"
	assert_not_contains "$(cat "$WV_TMP/out" "$WV_TMP/err")" "first" "not even one overridden: $ci"
done

# a long connection string with ';' and a password, from the file: it
# names a database that does not exist first and the test's database last
# (libpq takes the last), so only a line read whole connects
app="wvetl;long-conninfo-test"
long="dbname=no_such_database host=${PGHOST:-localhost} port=${PGPORT:-5432}"
long="$long user=${PGUSER:-postgres} password='${PGPASSWORD:-x}' application_name='$app'"
long="$long options='-c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0'"
while [ ${#long} -lt 300 ]; do long="$long keepalives=1"; done
long="$long dbname=$PGDATABASE"
sed "s|^conninfo.*|conninfo = $long|" "$WV_CONF" >"$WV_TMP/long.ini"
chmod 600 "$WV_TMP/long.ini"
rc=0
"$WVETL" -c "$WV_TMP/long.ini" config >"$WV_TMP/out" 2>"$WV_TMP/err" || rc=$?
assert_eq 0 "$rc" "config with a ${#long}-byte conninfo"
assert_contains "$(value database.conninfo)" "password=*** dbname=$PGDATABASE host=" \
	"the conninfo is shown as libpq reads it (the last dbname=), its password masked"
assert_contains "$(value database.conninfo)" "application_name=$app keepalives=1" "its tail too"
if [ -n "${PGPASSWORD:-}" ]; then
	assert_not_contains "$(cat "$WV_TMP/out")" "$PGPASSWORD" "the conninfo's password is not shown"
fi
rc=0
"$WVETL" -c "$WV_TMP/long.ini" migrate >"$WV_TMP/out" 2>"$WV_TMP/err" || rc=$?
cat "$WV_TMP/err"
assert_eq 0 "$rc" "migrate through the ${#long}-byte conninfo (its last dbname= arrived)"
assert_eq 1 "$(psql_q "SELECT count(*) FROM pg_namespace WHERE nspname = 'wolkvox'")" \
	"the schema was made in the test's database"
