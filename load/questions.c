/*
 * load/questions.c
 *   `wvetl questions`: the question numbers the warehouse holds answers to
 *   (with counts, the range of numeric answers, and the label and scale
 *   when set), and setting a question's label and scale in survey_question,
 *   which the BI views read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "load/load.h"
#include "load/load_int.h"

#define QUESTIONS_COLS 9

/* Questions answered, and questions labelled but never answered. */
static const char questions_list_sql[] =
	"WITH seen AS ("
	"  SELECT r.operation, a.question_no, count(*) AS answers,"
	"   count(a.answer_num) AS numeric_answers, min(a.answer_num) AS lo,"
	"   max(a.answer_num) AS hi"
	"  FROM survey_answer a JOIN survey_response r USING (response_id)"
	"  WHERE $1 = '' OR r.operation = $1 GROUP BY 1, 2),"
	" q AS (SELECT * FROM survey_question WHERE $1 = '' OR operation = $1)"
	" SELECT coalesce(s.operation, q.operation),"
	"  'q' || lpad(coalesce(s.question_no, q.question_no)::text, 2, '0'),"
	"  coalesce(s.answers, 0), coalesce(s.numeric_answers, 0),"
	"  coalesce(s.lo::text, '-'), coalesce(s.hi::text, '-'),"
	"  CASE WHEN q.scale_min IS NULL AND q.scale_max IS NULL THEN '-'"
	"   ELSE coalesce(q.scale_min::text, '') || '..' || coalesce(q.scale_max::text, '') END,"
	"  coalesce(q.kind, '-'), coalesce(q.label, '-')"
	" FROM seen s FULL JOIN q"
	"  ON q.operation = s.operation AND q.question_no = s.question_no"
	" ORDER BY 1, coalesce(s.question_no, q.question_no)";

static const char *const questions_head[QUESTIONS_COLS] = {
	"operation", "question", "answers", "numeric", "min", "max", "scale", "kind", "label"
};

/* NULL keeps a stored value; "" clears it. */
static const char questions_set_sql[] =
	"INSERT INTO survey_question AS q (operation, question_no, label, scale_min, scale_max, kind)"
	" VALUES ($1, $2::int, nullif($3, ''), nullif($4, '')::numeric, nullif($5, '')::numeric,"
	"  nullif($6, ''))"
	" ON CONFLICT (operation, question_no) DO UPDATE SET"
	"  label = CASE WHEN $3 IS NULL THEN q.label ELSE excluded.label END,"
	"  scale_min = CASE WHEN $4 IS NULL THEN q.scale_min ELSE excluded.scale_min END,"
	"  scale_max = CASE WHEN $5 IS NULL THEN q.scale_max ELSE excluded.scale_max END,"
	"  kind = CASE WHEN $6 IS NULL THEN q.kind ELSE excluded.kind END,"
	"  updated_at = excluded.updated_at"
	" RETURNING 'q' || lpad(question_no::text, 2, '0'), coalesce(label, '-'),"
	"  coalesce(scale_min::text, '-'), coalesce(scale_max::text, '-'), kind";

/* questions_numeric: counts and answer range are right-aligned. */
static bool
questions_numeric(int col)
{
	return col >= 2 && col <= 5;
}

/*
 * loader_questions_list: see load.h. One aligned table; the label column
 * is last and not padded. False on failure (logged).
 */
bool
loader_questions_list(Loader *l, FILE *out)
{
	const char *params[1] = {l->operation};
	PGresult   *res = pg_query(l->conn, "listing questions", questions_list_sql, 1, params);
	int			width[QUESTIONS_COLS];
	int			r;
	int			c;

	if (res == NULL)
		return false;
	if (PQntuples(res) == 0)
	{
		fprintf(out, "no answers loaded and no question labelled%s%s\n",
				l->operation[0] ? " for operation " : "", l->operation);
		PQclear(res);
		return true;
	}
	for (c = 0; c < QUESTIONS_COLS; c++)
	{
		width[c] = (int) strlen(questions_head[c]);
		for (r = 0; r < PQntuples(res); r++)
			if (PQgetlength(res, r, c) > width[c])
				width[c] = PQgetlength(res, r, c);
	}
	for (r = -1; r < PQntuples(res); r++)
	{
		for (c = 0; c < QUESTIONS_COLS; c++)
		{
			const char *v = r < 0 ? questions_head[c] : PQgetvalue(res, r, c);

			if (c + 1 == QUESTIONS_COLS)
				fprintf(out, "%s\n", v);
			else
				fprintf(out, questions_numeric(c) ? "%*s  " : "%-*s  ", width[c], v);
		}
	}
	PQclear(res);
	return true;
}

/*
 * loader_questions_set: see load.h. Prints the question's row as stored.
 * False on failure (logged), e.g. a scale whose min is not below its max.
 */
bool
loader_questions_set(Loader *l, int question_no, const char *label,
					 const char *scale_min, const char *scale_max, const char *kind,
					 FILE *out)
{
	char		no[16];
	const char *params[6] = {l->operation, no, label, scale_min, scale_max, kind};
	PGresult   *res;

	if (l->operation[0] == '\0')
	{
		log_error("load", "no operation: set sync.operation (or api.server)");
		return false;
	}
	snprintf(no, sizeof(no), "%d", question_no);
	res = pg_query(l->conn, "setting the question's label, scale and kind",
				   questions_set_sql, 6, params);
	if (res == NULL)
		return false;
	fprintf(out, "operation %s %s: label %s, scale %s..%s%s%s\n", l->operation,
			PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
			PQgetvalue(res, 0, 3), PQgetisnull(res, 0, 4) ? "" : ", kind ",
			PQgetvalue(res, 0, 4));
	PQclear(res);
	return true;
}
