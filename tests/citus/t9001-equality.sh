# tests/citus/t9001-equality.sh - one node and Citus hold the same data.
#
# Proves: the same workload, run once into a plain database (database.citus
# = off; a database of the coordinator without the extension, so plain
# PostgreSQL) and once into the test's Citus database (database.citus = on,
# its big tables distributed), leaves identical tables and identical view
# output, compared as checksums: survey_response and survey_answer (the
# contract's columns), agent, skill, etl_reject, etl_window, etl_state,
# etl_run's counts, and every row of each view, as the loader and as a
# reader role granted the operation (wvetl grant: its personal columns
# NULL, on Citus through sql/citus/903's functions). The workload:
# a backfill of five days whose answers hold in-answer duplicates and
# records without a date (rejects), plus fixed records on 2026-02-02; a
# --reload of that day after its records changed (an answer changed, one
# no longer sent, one added, a record gone, a new record); two syncs with a
# lookback over what the backfill loaded. The Citus side must really be
# distributed (pg_dist_partition), and the checksums are printed.

plain=${PGDATABASE}_one
dropdb --if-exists "$plain" >/dev/null 2>&1 || true
createdb "$plain"
trap 'dropdb --if-exists "$plain" >/dev/null 2>&1 || true' EXIT

rec()
{
	printf '{"conn_id":"c.%s","agent_id":"%s","skill_id":"3","date":"2026-02-02 10:00:0%s",%s}' \
		"$1" "$2" "$1" "$3"
}
nodate='{"conn_id":"c.9","agent_id":"7","date":"not a date","q01":"5","_mock_at":"2026-02-02 10:00:09"}'

# workload WHERE...: the same calls, with WHERE's --set arguments
workload()
{
	wv_control '{"reset": true}'
	wv_control "{\"records\":[$(rec 1 7 '"q01":"5","q02":"4","q03":"3","feeling":"neutral"'),$(rec 2 8 '"q01":"4","q02":"4"'),$(rec 2 8 '"q01":"3","q02":"2"'),$(rec 3 7 '"q01":"1"'),$nodate]}"
	wv_expect 0 "$@" backfill --from 2026-01-05 --to 2026-01-10
	wv_expect 0 "$@" backfill --from 2026-02-02 --to 2026-02-03
	wv_control '{"reset": true}'
	wv_control "{\"records\":[$(rec 1 7 '"q01":"1","q02":"-","q03":"3","q04":"2","feeling":"positive"'),$(rec 2 8 '"q01":"3","q02":"2"'),$(rec 4 9 '"q01":"2"'),$nodate]}"
	wv_expect 0 "$@" backfill --reload --from 2026-02-02 --to 2026-02-03
	WVETL_NOW="2026-01-09 12:00:00" wv_expect 0 "$@" --set sync.start=2026-01-08 sync
	WVETL_NOW="2026-01-09 18:00:00" wv_expect 0 "$@" --set sync.start=2026-01-08 --set sync.lookback=1d sync
}

workload --set database.conninfo="dbname=$plain" --set database.citus=off
workload
psql_q "DO \$\$BEGIN CREATE ROLE wv_eq_reader; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$"
wv_expect 0 --set database.conninfo="dbname=$plain" --set database.citus=off grant wv_eq_reader --operation test
wv_expect 0 grant wv_eq_reader --operation test

assert_eq "survey_answer survey_response " \
	"$(psql_q "SELECT logicalrelid::regclass::text FROM pg_dist_partition WHERE partmethod = 'h'
	            ORDER BY 1" | sed 's/^wolkvox\.//' | tr '\n' ' ')" \
	"on Citus, the survey tables are distributed"
assert_eq 0 "$(psql -X -A -t -d "$plain" -c "SELECT count(*) FROM pg_extension WHERE extname = 'citus'")" \
	"the one-node database has no Citus"

# sums DB: "name count md5" per table and view, one per line (as
# $AS_ROLE when set)
sum_of()
{
	psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$1" -c "${AS_ROLE:+SET ROLE $AS_ROLE;} SELECT count(*) || ' ' ||
		md5(coalesce(string_agg(x::text, E'\n' ORDER BY x::text), '')) FROM $2 x"
}
sums()
{
	local v
	echo "survey_tables $(PGDATABASE=$1 wv_checksum wolkvox)"
	echo "agent $(sum_of "$1" "(SELECT operation, agent_id, agent_name, name_at, first_seen, last_seen FROM wolkvox.agent)")"
	echo "skill $(sum_of "$1" "(SELECT operation, skill_id, skill_name, name_at, first_seen, last_seen FROM wolkvox.skill)")"
	echo "etl_reject $(sum_of "$1" "(SELECT operation, window_from, window_to, reason, raw_record, raw_md5,
		resolved_at IS NULL AS open FROM wolkvox.etl_reject)")"
	echo "etl_window $(sum_of "$1" "(SELECT operation, window_from, window_to, records, inserted, updated,
		duplicates, rejects, api_calls, mode FROM wolkvox.etl_window)")"
	echo "etl_state $(sum_of "$1" "(SELECT operation, watermark, timezone, report FROM wolkvox.etl_state)")"
	echo "etl_run $(sum_of "$1" "(SELECT run_id, operation, command, range_from, range_to, status, records,
		inserted, updated, duplicates, rejects, api_calls FROM wolkvox.etl_run)")"
	# every view (a view's rows through OFFSET 0: on Citus a whole-row
	# reference to the view itself would go to the workers, which do not
	# have the view's row type)
	for v in $(psql -X -A -t -d "$1" -c "SELECT table_name FROM information_schema.views
	                                     WHERE table_schema = 'wolkvox' ORDER BY 1"); do
		echo "$v $(sum_of "$1" "(SELECT * FROM wolkvox.$v OFFSET 0)")"
	done
}
# reader_sums DB: every view the reader was granted, as the reader
reader_sums()
{
	local v
	for v in $(psql -X -A -t -d "$1" -c "SELECT relation FROM wolkvox.reader_relation
	                                     WHERE kind = 'view' ORDER BY 1"); do
		echo "$v $(AS_ROLE=wv_eq_reader sum_of "$1" "(SELECT * FROM wolkvox.$v OFFSET 0)")"
	done
}
# compare FN WHAT: FN's sums on both databases, printed, equal; leaves
# the one node's in $one
compare()
{
	local citus
	one=$($1 "$plain")
	citus=$($1 "$PGDATABASE")
	echo "$2, one node:"; echo "$one" | sed 's/^/  /'
	echo "$2, citus:"; echo "$citus" | sed 's/^/  /'
	assert_eq "$one" "$citus" "one node and Citus: $2 the same"
}
compare sums "tables and views"
assert_contains "$one" "v_answer " "the views were compared"
compare reader_sums "every view as a reader"
assert_contains "$one" "v_survey_wide " "the reader's views were compared"
assert_not_contains "$one" " 0 d41d8cd98f00b204e9800998ecf8427e" "the reader reads rows in every view"
assert_eq 1 "$(psql_q "SELECT (count(*) > 100)::int FROM wolkvox.survey_response")" "the workload loaded rows"
assert_eq 1 "$(psql_q "SELECT (count(*) > 0)::int FROM wolkvox.etl_reject")" "and rejects"
assert_eq 1 "$(psql_q "SELECT (sum(duplicates) > 0)::int FROM wolkvox.etl_window")" "and duplicates"
assert_eq 1 "$(psql_q "SELECT (count(*) > 0)::int FROM wolkvox.etl_window WHERE mode = 'merge' AND updated > 0")" \
	"and merges of changed records"
