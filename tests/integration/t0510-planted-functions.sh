# tests/integration/t0510-planted-functions.sh - wvetl never runs a function
# another role planted (README "Security").
#
# Another role, allowed to create objects in public (as every role was
# before PostgreSQL 15) and in the warehouse schema, plants functions that
# the loader's statements or the SQL functions' bodies would resolve to if
# search_path reached them: to_timestamp(bigint) (an exact match for
# to_timestamp($1::bigint), so it beats pg_catalog's to_timestamp(double
# precision) wherever it lives), hashtextextended(text, integer) (the lock
# keys), and md5(text) and ceil(numeric) (the bodies of
# survey_response_id() and survey_response_id_floor()). Each records its
# call in a table and then does what the built-in does, so a call would not
# even fail the run.
#
# Proves: migrate, backfill (fast and merge), sync, replay, status and
# questions call none of them; and the SQL functions and the BI views run
# by a session whose search_path puts public before pg_catalog call none of
# them either (the functions pin their search_path), and still give the
# ids the loader gave.

# LOGIN: on Citus (make test-citus) the coordinator runs mallory's DDL on
# the workers by connecting as mallory.
mallory=t0510_mallory
psql_q "DO \$\$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$mallory') THEN
		CREATE ROLE $mallory LOGIN;
	END IF; END \$\$;
GRANT CREATE ON SCHEMA public TO $mallory;
CREATE TABLE public.planted_calls (fn text, at timestamptz DEFAULT now());
GRANT INSERT, SELECT ON public.planted_calls TO PUBLIC;
ALTER TABLE public.planted_calls OWNER TO $mallory" >/dev/null

# plant SCHEMA: mallory's functions in SCHEMA.
plant()
{
	local s=$1
	psql_q "SET ROLE $mallory;
CREATE FUNCTION $s.to_timestamp(bigint) RETURNS timestamptz LANGUAGE plpgsql AS \$\$
BEGIN INSERT INTO public.planted_calls (fn) VALUES ('$s.to_timestamp');
	RETURN pg_catalog.to_timestamp(\$1::float8); END \$\$;
CREATE FUNCTION $s.hashtextextended(text, integer) RETURNS bigint LANGUAGE plpgsql AS \$\$
BEGIN INSERT INTO public.planted_calls (fn) VALUES ('$s.hashtextextended');
	RETURN pg_catalog.hashtextextended(\$1, \$2); END \$\$;
CREATE FUNCTION $s.md5(text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN INSERT INTO public.planted_calls (fn) VALUES ('$s.md5');
	RETURN pg_catalog.md5(\$1); END \$\$;
CREATE FUNCTION $s.ceil(numeric) RETURNS numeric LANGUAGE plpgsql AS \$\$
BEGIN INSERT INTO public.planted_calls (fn) VALUES ('$s.ceil');
	RETURN pg_catalog.ceil(\$1); END \$\$" >/dev/null
}

calls()
{
	psql_q "SELECT count(*) || coalesce(': ' || string_agg(DISTINCT fn, ', '), '')
	          FROM public.planted_calls"
}

plant public
# the planted functions work, and are what a careless search_path reaches
assert_eq 7 "$(psql_q "SET search_path = public, pg_catalog; SELECT extract(epoch FROM to_timestamp(7::bigint))::int")" \
	"the planted to_timestamp answers as the built-in does"
assert_eq "1: public.to_timestamp" "$(calls)" "and records its call"
psql_q "TRUNCATE public.planted_calls" >/dev/null

wv_expect 0 migrate
psql_q "GRANT CREATE ON SCHEMA wolkvox TO $mallory" >/dev/null
# on Citus (make test-citus) creating mallory's functions takes USAGE of
# the schema too (Citus reads it to send them to the workers): a stronger
# mallory, the same test
if [ "${WV_CITUS:-}" = 1 ]; then
	psql_q "GRANT USAGE ON SCHEMA wolkvox TO $mallory" >/dev/null
fi
plant wolkvox

wv_expect 0 backfill --from 2026-01-05 --to 2026-01-07
wv_expect 0 backfill --reload --from 2026-01-05 --to 2026-01-06
WVETL_NOW="2026-01-07 12:00:00" wv_expect 0 --set sync.start=2026-01-07 sync
curl -fsS -H "wolkvox-token: $WV_TOKEN" \
	"$WV_URL?api=diagram_4&date_ini=20260105000000&date_end=20260105235959" -o "$WV_TMP/body.json"
wv_expect 0 --set database.schema=replayed replay "$WV_TMP/body.json" --from 2026-01-05 --to 2026-01-06
wv_expect 0 status
wv_expect 0 questions
assert_eq 0 "$(calls)" "no planted function was called by wvetl"

# The SQL functions, called with public first: the ids the loader gave.
read -r n same <<<"$(psql_q "SET search_path = public, pg_catalog, wolkvox;
	SELECT count(*), count(*) FILTER (WHERE response_id =
	       survey_response_id(operation, conn_id, answered_at, agent_id, skill_id))
	  FROM wolkvox.survey_response" | tr '|' ' ')"
[ "$n" -gt 0 ] || fail "rows were loaded"
assert_eq "$n" "$same" "survey_response_id() gives every row its id"
psql_q "SET search_path = public, pg_catalog, wolkvox;
	SELECT count(*) FROM v_answer; SELECT count(*) FROM v_daily_agent" >/dev/null
assert_eq 0 "$(calls)" "the SQL functions and the views called no planted function"
