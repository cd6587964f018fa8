# tests/integration/t0805-id-collision.sh - two identities with one
# response_id (the same second, the same 31 hash bits) never refuse a
# window: both load, always, and reloads stay idempotent (rule 1).
#
# The colliding identities are found by brute force here, from the id's
# documented formula (README "Speed, and the indexes behind it"), and
# checked against SQL survey_response_id() before use.
# Proves:
# - two colliding surveys of one answer (fast path: the second is staged
#   as a possible repeat) both load; the first keeps its id, the second
#   gets the next free id of its second, remembered in etl_id_probe; each
#   keeps its own answers;
# - the same answer through the merge path (both staged) gives the same
#   rows and ids; a reload finds both again: the same rows, ids, answers;
# - a survey whose id an identity of ANOTHER operation already holds in the
#   warehouse (the fast COPY meets it; the window is merged) loads too;
#   after that holder is deleted (as a prune would), reloading keeps the
#   survey at its probed id: no identity is ever stored twice;
# - the ids stay in their second: a day is still one range of ids;
# - dates no Wolkvox operation can have (before 2000-01-01, from 2100 on)
#   are configuration errors (exit 2): --from/--to, sync.start, and a
#   sync.lookback reaching before 2000.

read -r S1 C1A C1B S2 C2A C2B <<<"$("$WV_PY" - <<'PY'
import hashlib, datetime, zoneinfo

def part(b):
    return b"%d:%s" % (len(b), b)

def hbits(op, conn, secs):
    m = hashlib.md5(part(op) + part(conn) + part(str(secs).encode()) + b"0:" + b"0:")
    d = m.digest()
    return int.from_bytes(d[:4], "big") >> 1

tz = zoneinfo.ZoneInfo("America/Bogota")
s1 = int(datetime.datetime(2026, 2, 10, 10, 0, 0, tzinfo=tz).timestamp())
s2 = int(datetime.datetime(2026, 2, 11, 10, 0, 0, tzinfo=tz).timestamp())

# one operation, two conn_ids
seen = {}
i = 0
while True:
    c = b"a-%d" % i
    v = hbits(b"test", c, s1)
    if v in seen:
        p1 = (seen[v], c)
        break
    seen[v] = c
    i += 1
# operation test against operation other
tests, others = {}, {}
i = 0
while True:
    ct, co = b"t-%d" % i, b"o-%d" % i
    vt, vo = hbits(b"test", ct, s2), hbits(b"other", co, s2)
    tests[vt] = ct
    others[vo] = co
    if vt in others:
        p2 = (ct, others[vt])
        break
    if vo in tests:
        p2 = (tests[vo], co)
        break
    i += 1
print(s1, p1[0].decode(), p1[1].decode(), s2, p2[0].decode(), p2[1].decode())
PY
)"
echo "pairs: $C1A/$C1B at $S1 (test); $C2A (test)/$C2B (other) at $S2"

wv_expect 0 migrate
id()
{
	psql_q "SELECT wolkvox.survey_response_id('$1', '$2', to_timestamp($3), NULL, NULL)"
}
[ "$(id test "$C1A" "$S1")" = "$(id test "$C1B" "$S1")" ] || fail "the first pair does not collide"
[ "$(id test "$C2A" "$S2")" = "$(id other "$C2B" "$S2")" ] || fail "the second pair does not collide"
base1=$(id test "$C1A" "$S1")
base2=$(id test "$C2A" "$S2")

rec()
{
	printf '{"date":"%s","conn_id":"%s","q01":"%s","agent_name":"%s"}' "$1" "$2" "$3" "$2"
}
wv_control "{\"per_day\":{\"2026-02-10\":0,\"2026-02-11\":0},\"records\":[
  $(rec "2026-02-10 10:00:00" "$C1A" 1), $(rec "2026-02-10 10:00:00" "$C1B" 2),
  $(rec "2026-02-11 10:00:00" "$C2A" 3), $(rec "2026-02-11 10:00:00" "$C2B" 4)]}"

wv_expect 0 backfill --from 2026-02-10 --to 2026-02-11
assert_contains "$(cat "$WV_TMP/err")" "the next free id of its second" "the log says what happened"
assert_eq "$C1A $base1 1
$C1B $((base1 + 1)) 2" "$(psql_q "SELECT r.conn_id || ' ' || r.response_id || ' ' || a.answer_text
                                  FROM wolkvox.survey_response r JOIN wolkvox.survey_answer a USING (response_id)
                                  ORDER BY r.response_id")" \
	"both load: the first keeps its id, the second takes the next one, each with its answers"
assert_eq "test $((base1 + 1)) $base1" "$(psql_q "SELECT operation || ' ' || response_id || ' ' || base_id FROM wolkvox.etl_id_probe")" \
	"etl_id_probe remembers it"
c0=$(wv_checksum wolkvox)
# The same answer through the merge path into a fresh schema: both new and
# staged, the one first in the answer keeps the id.
curl -fsS -H "wolkvox-token: $WV_TOKEN" \
	"$WV_URL?api=diagram_4&date_ini=20260210000000&date_end=20260210235959" -o "$WV_TMP/day10.json"
wv_expect 0 --set database.schema=merged replay "$WV_TMP/day10.json" --from 2026-02-10 --to 2026-02-11 --reload
assert_eq "$c0" "$(wv_checksum merged)" "the merge path gives the same rows and ids"
wv_expect 0 backfill --from 2026-02-10 --to 2026-02-11 --reload
assert_contains "$(cat "$WV_TMP/err")" "inserted=0 updated=2" "the reload finds both"
assert_eq "$c0" "$(wv_checksum wolkvox)" "a reload changes nothing (same rows, ids and answers)"

# Another operation's identity holds the id in the warehouse.
wv_expect 0 backfill --from 2026-02-11 --to 2026-02-12
wv_expect 0 --set sync.operation=other backfill --from 2026-02-11 --to 2026-02-12
assert_eq "$((base2 + 1))" "$(psql_q "SELECT response_id FROM wolkvox.survey_response WHERE operation = 'other' AND conn_id = '$C2B'")" \
	"a survey whose id another operation holds takes the next free one"
assert_eq "4" "$(psql_q "SELECT answer_text FROM wolkvox.survey_answer WHERE response_id = $((base2 + 1))")" "with its answer"
assert_eq "3" "$(psql_q "SELECT answer_text FROM wolkvox.survey_answer WHERE response_id = $base2")" \
	"and the holder keeps its own"
# The holder goes (as a prune would remove it); a reload keeps the probed id.
psql_q "DELETE FROM wolkvox.survey_answer WHERE response_id = $base2; DELETE FROM wolkvox.survey_response WHERE response_id = $base2" >/dev/null
wv_expect 0 --set sync.operation=other backfill --from 2026-02-11 --to 2026-02-12 --reload
assert_eq "$((base2 + 1))" "$(psql_q "SELECT string_agg(response_id::text, ',') FROM wolkvox.survey_response WHERE operation = 'other' AND conn_id = '$C2B'")" \
	"after the holder is gone the survey stays at its probed id"
assert_eq 0 "$(psql_q "SELECT count(*) FROM (SELECT 1 FROM wolkvox.survey_response
                        GROUP BY operation, conn_id, answered_at, agent_id, skill_id HAVING count(*) > 1) d")" \
	"no identity is stored twice"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response
                        WHERE response_id < wolkvox.survey_response_id_floor(answered_at)
                           OR response_id >= wolkvox.survey_response_id_floor(answered_at + interval '1 second')")" \
	"every id lies in its second"

# Dates no Wolkvox operation can have are configuration errors (exit 2).
wv_expect 2 backfill --from 1999-12-31 --to 2000-01-02
assert_contains "$(cat "$WV_TMP/err")" "no Wolkvox operation has dates before 2000-01-01" "--from before 2000"
wv_expect 2 extract --from 2100-01-01 --to 2100-01-02
assert_contains "$(cat "$WV_TMP/err")" "from 2100-01-01 on" "--from in 2100"
wv_expect 2 --set database.schema=fresh --set sync.start=1970-01-01 sync
assert_contains "$(cat "$WV_TMP/err")" "sync.start 1970-01-01 is a date no Wolkvox operation can have" "sync.start in 1970"
assert_eq "config_error" "$(psql_q "SELECT status FROM fresh.etl_run")" "recorded as a config_error run"
export WVETL_NOW="2000-02-01 12:00:00"
wv_expect 0 --set database.schema=lb --set sync.start=2000-02-01 sync
wv_expect 2 --set database.schema=lb --set sync.lookback=60d sync
assert_contains "$(cat "$WV_TMP/err")" "sync.lookback reaches back from the watermark (2000-02-01 11:55:00) to before 2000-01-01" \
	"a lookback reaching before 2000"
assert_eq 0 "$(psql_q "SELECT count(*) FROM lb.survey_response WHERE answered_at < '2000-02-01'")" "nothing of it loaded"
