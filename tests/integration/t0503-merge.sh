# tests/integration/t0503-merge.sh - merge on identity (contract rule 1):
# in-answer duplicates, changed records, overlapping windows, and an
# identity another window loaded.
#
# Proves, on a day holding only fixed records (X once; Y three times and Z,
# whose agent_id and skill_id are placeholders (NULL), twice, each repeat
# with other values):
# - the first backfill is one API call and a fast window: three rows, the
#   last of each identity's records wins (its columns, and its answers
#   only), three duplicates counted in the window, the run and the summary;
# - the same day again with --reload after X changed (new agent name, one
#   answer changed, one gone, one new): one API call, X keeps its
#   response_id and first_loaded_at, takes the new values and exactly the
#   new answers; three updates, three duplicates, still three rows;
# - a misaligned window inside the loaded one, loaded again with --reload
#   (merge mode), changes nothing and adds no row;
# - when rows exist that no etl_window row accounts for (the windows' rows
#   were deleted), the fast load meets them: the window is fetched once
#   more and merged (two API calls), the log says so, and nothing changes;
# - no identity ever has two rows (NULLs equal).

DAY=2026-02-10
wv_control '{"per_day": {"2026-02-10": 0, "2026-02-11": 0}}'

# rec CONN AGENT SKILL TIME NAME ANSWERS: one record's JSON.
rec()
{
	printf '{"agent_id":"%s","agent_name":"%s","skill_id":"%s","date":"%s %s","conn_id":"%s",' \
		"$2" "$5" "$3" "$DAY" "$4" "$1"
	printf '"ani":"3001234567","time":"00:01:30"%s}' "$6"
}
X1=$(rec X1 1001 201 09:00:00 "Ana" ',"q01":"5","q02":"4","q03":"si"')
X2=$(rec X1 1001 201 09:00:00 "Ana B" ',"q01":"1","q03":"no","q04":"7"')
Y1=$(rec Y1 1002 202 10:00:00 "v1" ',"q01":"1","q02":"1"')
Y2=$(rec Y1 1002 202 10:00:00 "v2" ',"q01":"2"')
Y3=$(rec Y1 1002 202 10:00:00 "v3" ',"q01":"3","q05":"5"')
Z1=$(rec Z1 - "" 11:00:00 "z1" ',"q01":"9"')
Z2=$(rec Z1 - "" 11:00:00 "z2" ',"q02":"8"')

answers_of()
{
	psql_q "SELECT string_agg(question_no || '=' || answer_text, ',' ORDER BY question_no)
	          FROM wolkvox.survey_answer a JOIN wolkvox.survey_response r USING (response_id)
	         WHERE conn_id = '$1'"
}
name_of() { psql_q "SELECT agent_name FROM wolkvox.survey_response WHERE conn_id = '$1'"; }
no_identity_twice()
{
	assert_eq 0 "$(psql_q "SELECT count(*) FROM (SELECT 1 FROM wolkvox.survey_response
	                         GROUP BY operation, conn_id, answered_at, agent_id, skill_id
	                         HAVING count(*) > 1) d")" "$1: no identity has two rows"
	assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.survey_answer a WHERE NOT EXISTS
	                         (SELECT 1 FROM wolkvox.survey_response r WHERE r.response_id = a.response_id)")" \
		"$1: no answer without its response"
}
last_run() { psql_q "SELECT records, inserted, updated, duplicates FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1" | tr '|' ' '; }

# --- in-answer duplicates, fast -----------------------------------------------

wv_control "{\"records\": [$X1, $Y1, $Z1, $Y2, $Z2, $Y3]}"
wv_expect 0 backfill --from $DAY --to 2026-02-11
assert_eq 1 "$(wv_stat 's["data_requests"]')" "duplicates in the answer: one API call, no refetch"
assert_contains "$(cat "$WV_TMP/err")" "records=6 inserted=3 updated=0 duplicates=3" "summary counts"
assert_eq "6 3 0 3" "$(last_run)" "etl_run counts"
assert_eq "fast|6|3|3" "$(psql_q "SELECT mode, records, inserted, duplicates FROM wolkvox.etl_window")" \
	"a fast window, duplicates counted"
assert_eq 3 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response")" "three rows"
assert_eq "v3" "$(name_of Y1)" "Y: the last record wins"
assert_eq "1=3,5=5" "$(answers_of Y1)" "Y: the last record's answers only"
assert_eq "z2|t|t" "$(psql_q "SELECT agent_name, agent_id IS NULL, skill_id IS NULL
                                FROM wolkvox.survey_response WHERE conn_id = 'Z1'")" \
	"Z (NULL identity parts): the last record wins"
assert_eq "2=8" "$(answers_of Z1)" "Z: the last record's answers only"
assert_eq "1=5,2=4,3=si" "$(answers_of X1)" "X: its answers"
no_identity_twice "first load"
x_id=$(psql_q "SELECT response_id FROM wolkvox.survey_response WHERE conn_id = 'X1'")
x_first=$(psql_q "SELECT first_loaded_at FROM wolkvox.survey_response WHERE conn_id = 'X1'")
c1=$(wv_checksum wolkvox)

# --- a changed record ------------------------------------------------------------

wv_control "{\"reset\": true, \"per_day\": {\"2026-02-10\": 0, \"2026-02-11\": 0},
             \"records\": [$X2, $Y1, $Z1, $Y2, $Z2, $Y3]}"
wv_expect 0 backfill --from $DAY --to 2026-02-11 --reload
assert_eq 1 "$(wv_stat 's["data_requests"]')" "reload: one API call"
assert_eq "6 0 3 3" "$(last_run)" "reload: three updated, three duplicates"
assert_eq 3 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response")" "still three rows"
assert_eq "$x_id|$x_first|Ana B|t" \
	"$(psql_q "SELECT response_id, first_loaded_at, agent_name, last_loaded_at > first_loaded_at
	            FROM wolkvox.survey_response WHERE conn_id = 'X1'")" \
	"X: same row, same first_loaded_at, the new values"
assert_eq "1=1,3=no,4=7" "$(answers_of X1)" "X: its answers replaced by the new set"
assert_eq "1=3,5=5" "$(answers_of Y1)" "Y unchanged"
no_identity_twice "reload"
c2=$(wv_checksum wolkvox)
[ "$c1" != "$c2" ] || fail "the changed record must change the checksum"

# --- a misaligned window inside the loaded one -----------------------------------------

# Windows are planned from local midnights: [06:00, 24:00) lies inside the
# loaded day (skipped unless --reload) and [00:00, 06:00) of the next day is new.
wv_expect 0 backfill --from "$DAY 06:00:00" --to "2026-02-11 06:00:00" --reload
assert_eq "merge" "$(psql_q "SELECT mode FROM wolkvox.etl_window WHERE window_from = '$DAY 06:00:00-05'")" \
	"the overlapping window was merged"
assert_eq "$c2" "$(wv_checksum wolkvox)" "overlap: nothing changed"
no_identity_twice "overlap"

# --- rows that no loaded window accounts for --------------------------------------------

psql_q "DELETE FROM wolkvox.etl_window" >/dev/null
wv_control '{"reset": true}'
wv_control "{\"per_day\": {\"2026-02-10\": 0, \"2026-02-11\": 0}, \"records\": [$X2, $Y1, $Z1, $Y2, $Z2, $Y3]}"
wv_expect 0 backfill --from $DAY --to 2026-02-11
assert_eq 2 "$(wv_stat 's["data_requests"]')" "an identity another window loaded: fetched once more"
assert_contains "$(cat "$WV_TMP/err")" "holds records another window already loaded; fetching it again (one more API call)" \
	"the log says why the window is fetched again"
assert_eq "merge" "$(psql_q "SELECT mode FROM wolkvox.etl_window")" "merged"
assert_eq "6 0 3 3" "$(last_run)" "counts of the merge"
assert_eq "$c2" "$(wv_checksum wolkvox)" "nothing changed"
no_identity_twice "refetch"
