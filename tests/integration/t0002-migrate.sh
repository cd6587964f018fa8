# tests/integration/t0002-migrate.sh - `migrate` builds the warehouse of
# contract section 4, and running it again changes nothing.
#
# Proves: the six tables exist in the configured schema; survey_response and
# survey_answer have the contract's columns with the contract's types and
# keys; a second `migrate` exits 0 and leaves the catalog (pg_dump
# --schema-only) and every table's contents, except run bookkeeping, byte
# for byte as they were; --set database.schema puts the warehouse in another
# schema, leaving the first alone.

wv_expect 0 migrate

for t in survey_response survey_answer etl_run etl_window etl_state etl_reject; do
	assert_eq "wolkvox.$t" "$(psql_q "SELECT to_regclass('wolkvox.$t')")" "table $t exists"
done

# column:type as format_type prints it, for the columns the contract names.
coltypes()
{
	psql_q "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ' ' ORDER BY attname)
	          FROM pg_attribute
	         WHERE attrelid = 'wolkvox.$1'::regclass AND attnum > 0 AND NOT attisdropped
	           AND attname = ANY (string_to_array('$2', ' '))"
}
assert_eq "agent_dni:text agent_id:text agent_name:text ani:text answered_at:timestamp with time zone conn_id:text customer_id:text duration_s:integer extras:jsonb feeling:text operation:text response_id:bigint result:text skill_id:text skill_name:text type_interaction:text voice_message:text voice_message_duration_s:integer" \
	"$(coltypes survey_response 'response_id operation conn_id agent_id agent_name agent_dni skill_id skill_name answered_at ani customer_id voice_message_duration_s type_interaction result duration_s voice_message feeling extras')" \
	"survey_response columns and types"
assert_eq "answer_num:numeric answer_text:text question_no:integer response_id:bigint" \
	"$(coltypes survey_answer 'response_id question_no answer_text answer_num')" \
	"survey_answer columns and types"

pkey()
{
	psql_q "SELECT string_agg(a.attname, ',' ORDER BY k.ord)
	          FROM pg_constraint c
	          CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
	          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
	         WHERE c.conrelid = 'wolkvox.$1'::regclass AND c.contype = 'p'"
}
assert_eq "response_id" "$(pkey survey_response)" "survey_response primary key"
assert_eq "response_id,question_no" "$(pkey survey_answer)" "survey_answer primary key"
# survey_answer.response_id references survey_response: sql/001_init.sql
# deliberately declares no FOREIGN KEY (its per-row check costs more than
# the COPY), so the reference is checked on the data instead, by
# check_rows.py (no orphan answers) in t0003 and t0004.

# pg_dump >= 15.14 brackets its output with \restrict KEY lines whose KEY
# is random on every call: drop them.
snapshot()
{
	pg_dump --schema-only --no-owner -n wolkvox |
		grep -v '^\\\(un\)\?restrict ' >"$WV_TMP/$1.schema.sql"
	pg_dump --data-only -n wolkvox --exclude-table-data=wolkvox.etl_run |
		grep -v '^\\\(un\)\?restrict ' >"$WV_TMP/$1.data.sql"
	# The pipes hide pg_dump's status: make sure there was a dump.
	grep -q 'CREATE TABLE wolkvox.survey_answer' "$WV_TMP/$1.schema.sql" ||
		fail "pg_dump of schema wolkvox"
	grep -q 'PostgreSQL database dump complete' "$WV_TMP/$1.data.sql" ||
		fail "pg_dump of the data of schema wolkvox"
}
snapshot first
wv_expect 0 migrate
snapshot second
diff -u "$WV_TMP/first.schema.sql" "$WV_TMP/second.schema.sql" ||
	fail "a second migrate changed the catalog"
diff -u "$WV_TMP/first.data.sql" "$WV_TMP/second.data.sql" ||
	fail "a second migrate changed table contents"
echo "ok: a second migrate changed nothing"

# Another schema, through --set; the first one is untouched.
wv_expect 0 --set database.schema=other migrate
assert_eq "other.survey_answer" "$(psql_q "SELECT to_regclass('other.survey_answer')")" \
	"--set database.schema=other migrates into schema other"
snapshot third
diff -u "$WV_TMP/first.schema.sql" "$WV_TMP/third.schema.sql" ||
	fail "migrating schema other changed schema wolkvox"
