# tests/integration/t0950-citus-key.sh - database.citus on a server that is
# not a Citus coordinator.
#
# Proves: database.citus takes off or on, nothing else (exit 2 naming the
# key); with on, migrate, status and backfill on a database without the
# citus extension exit 2 with a message that says what the server is not,
# and create nothing; with off (the default) the same database migrates.
# (Runs in make test and in make test-citus: its own database never has
# the extension.)

plain=${PGDATABASE}_plain
dropdb --if-exists "$plain" >/dev/null 2>&1 || true
createdb "$plain"
trap 'dropdb --if-exists "$plain" >/dev/null 2>&1 || true' EXIT
on="--set database.conninfo=dbname=$plain --set database.citus=on"

wv_expect 2 --set database.citus=maybe migrate
assert_contains "$(cat "$WV_TMP/err")" 'database.citus: invalid value' "a bad value names the key"
assert_contains "$(cat "$WV_TMP/err")" '(expected off or on)' "and what it takes"

for cmd in migrate status "backfill --from 2026-01-05 --to 2026-01-06"; do
	# shellcheck disable=SC2086
	wv_expect 2 $on $cmd
	assert_contains "$(cat "$WV_TMP/err")" "database.citus = on, but database" "$cmd: the error says why"
	assert_contains "$(cat "$WV_TMP/err")" "$plain" "$cmd: and names the database"
	assert_contains "$(cat "$WV_TMP/err")" "has no citus extension" "$cmd: and what it lacks"
done
assert_eq 0 "$(psql -X -A -t -d "$plain" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'wolkvox'")" \
	"nothing was created"

wv_expect 0 --set database.conninfo="dbname=$plain" --set database.citus=off migrate
assert_eq 0 "$(psql -X -A -t -d "$plain" -c "SELECT count(*) FROM wolkvox.schema_migrations WHERE version >= 900")" \
	"off: no Citus step recorded"
