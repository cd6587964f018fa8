# tests/integration/t0520-read-only.sh - the commands that show the
# warehouse (status, questions, config) never write to it.
#
# Proves: pointed at a mistyped schema, `status`, `questions` and even
# `questions set` exit 2 naming the schema, and no schema is created;
# `config` needs no database at all; a schema that exists but is not
# wvetl's is refused the same way, and left empty. Once a load has set
# the schema up, `status` and `questions` run in a session whose every
# transaction is read-only (default_transaction_read_only), so they wrote
# nothing; `questions set` is the one that writes, and is refused there.

unq() { sed 's/\\"/"/g' "$WV_TMP/err"; }

wv_expect 2 --set database.schema=wolkvxo status
assert_contains "$(unq)" 'schema "wolkvxo" does not exist in this database: check database.schema' \
	"status names the missing schema"
wv_expect 2 --set database.schema=wolkvxo questions
assert_contains "$(unq)" 'schema "wolkvxo" does not exist' "questions names the missing schema"
wv_expect 2 --set database.schema=wolkvxo questions set 1 --label "Overall"
assert_contains "$(unq)" 'schema "wolkvxo" does not exist' "questions set names it too"
wv_expect 0 --set database.schema=wolkvxo config
assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_namespace WHERE nspname = 'wolkvxo'")" \
	"no schema was created"

psql_q "CREATE SCHEMA other" >/dev/null
wv_expect 2 --set database.schema=other status
assert_contains "$(unq)" 'schema "other" exists but wvetl has not set it up' "a schema not wvetl's"
wv_expect 2 --set database.schema=other questions
assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = 'other'")" "and it is left empty"

wv_expect 0 backfill --from 2026-01-05 --to 2026-01-06
ro="options='-c default_transaction_read_only=on'"
wv_expect 0 --set "database.conninfo=$ro" status
assert_contains "$(cat "$WV_TMP/out")" "operation test" "status in a read-only session"
wv_expect 0 --set "database.conninfo=$ro" questions
assert_contains "$(cat "$WV_TMP/out")" "q01" "questions in a read-only session"
wv_expect 1 --set "database.conninfo=$ro" questions set 1 --label "Overall"
assert_contains "$(cat "$WV_TMP/err")" "read-only transaction" "questions set writes, so it fails there"
