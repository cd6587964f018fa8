# tests/integration/t0702-questions.sh - `wvetl questions`: list the question
# numbers answered, set and clear a question's label and scale.
#
# Proves: on a fresh database the command exits 2 naming the schema it
# did not find (it never creates one); after a migrate it says nothing is
# there; after a load it lists one line per question number answered with
# its answer count (equal to survey_answer's own count), numeric count and
# range; `set N --label --min --max` stores them in survey_question and the
# list and v_answer show them; an option left out keeps its value and an
# empty one clears it; a label set for an unanswered question is listed;
# bad uses exit 2 (no number, not a number, options without set, options
# on another command) and a scale whose min is not below its max exits 1
# with PostgreSQL's reason, leaving the stored scale as it was.

wv_expect 2 questions
assert_contains "$(sed 's/\\"/"/g' "$WV_TMP/err")" 'schema "wolkvox" does not exist' "no warehouse yet"
wv_expect 0 migrate
wv_expect 0 questions
assert_contains "$(cat "$WV_TMP/out")" "no answers loaded" "empty warehouse"

wv_expect 0 backfill --from 2026-01-05 --to 2026-01-07
wv_expect 0 questions
out=$(cat "$WV_TMP/out")
echo "$out"
assert_eq "operation question answers numeric min max scale kind label" \
	"$(echo "$out" | head -n 1 | tr -s ' ')" "header"
want=$(psql_q "SELECT 'q' || lpad(question_no::text, 2, '0') || ' ' || count(*) || ' ' || count(answer_num)
                 FROM wolkvox.survey_answer GROUP BY question_no ORDER BY question_no")
assert_eq "$want" "$(echo "$out" | tail -n +2 | awk '{print $2, $3, $4}')" \
	"one line per question with its counts"

wv_expect 0 questions set 1 --label "Overall satisfaction" --min 1 --max 5
assert_eq "operation test q01: label Overall satisfaction, scale 1..5" "$(cat "$WV_TMP/out")" "set prints the row"
wv_expect 0 questions set 1 --max 10
wv_expect 0 questions set 14 --label "Not asked yet"
wv_expect 0 questions
assert_contains "$(cat "$WV_TMP/out" | tr -s ' ')" "q01 " "q01 listed"
assert_contains "$(grep '^test *q01 ' "$WV_TMP/out" | tr -s ' ')" "1..10 - Overall satisfaction" \
	"--max alone keeps the label and min"
assert_contains "$(grep '^test *q14 ' "$WV_TMP/out" | tr -s ' ')" "q14 0 0 - - - - Not asked yet" \
	"a labelled question without answers is listed"
assert_eq "Overall satisfaction|10" \
	"$(psql_q "SELECT DISTINCT question, scale_max FROM wolkvox.v_answer WHERE question_no = 1")" \
	"v_answer shows the label and scale"

wv_expect 0 questions set 1 --label ""
assert_eq "|1|10" "$(psql_q "SELECT label, scale_min, scale_max FROM wolkvox.survey_question WHERE question_no = 1")" \
	"an empty label clears it, the scale stays"
assert_eq "q01" "$(psql_q "SELECT DISTINCT question FROM wolkvox.v_answer WHERE question_no = 1")" \
	"without a label the views say q01"

wv_expect 1 questions set 1 --min 20
assert_contains "$(cat "$WV_TMP/err")" "check constraint" "min above max is refused by PostgreSQL"
assert_eq "1|10" "$(psql_q "SELECT scale_min, scale_max FROM wolkvox.survey_question WHERE question_no = 1")" \
	"the refused scale left the stored one"

wv_expect 2 questions set
wv_expect 2 questions set x
wv_expect 2 questions set 0
wv_expect 2 questions frob 1
wv_expect 2 questions set 1 --min abc
wv_expect 2 questions --label x
wv_expect 2 status --label x
wv_expect 2 replay a.json b.json --from 2026-01-05 --to 2026-01-06
