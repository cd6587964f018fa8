# tests/integration/t0811-privacy.sh - privacy.ani, privacy.customer_id,
# privacy.agent_dni: personal values protected before anything is written.
#
# Proves: a backfill of three days (one record with the same caller on two
# days, one rejected record holding a caller's number) with ani = hash,
# customer_id = hash, agent_dni = drop and archive.dir set, at -vv:
#   - survey_response.ani and customer_id hold exactly HMAC-SHA256(key,
#     value) ("hmac:" + hex), computed here by Python's hmac from the
#     records the API served, so the caller of two days has one value;
#     agent_dni is NULL everywhere;
#   - no clear number (of ani, customer_id with 6 digits or more, agent_dni)
#     is anywhere in the database (pg_dump --data-only of every table,
#     etl_reject.raw_record included), in the archives (zcat) or in the
#     logs, nor is the key;
#   - replaying the archives into another schema gives the same rows
#     (wv_checksum), and so does loading the days again (--reload);
#   - hash without privacy.key_file, or with a key too short, is a
#     configuration error (exit 2) before anything is done.

key=$WV_TMP/privacy.key
printf 'test-key-not-secret-0123456789\n' >"$key"
chmod 600 "$key"
arch=$WV_TMP/arch
priv=(--set privacy.ani=hash --set privacy.customer_id=hash --set privacy.agent_dni=drop
	--set privacy.key_file="$key")

wv_control '{"per_day":{"2026-01-05":30,"2026-01-06":30,"2026-01-07":30},"records":[
 {"date":"2026-01-05 10:00:00","conn_id":"same-1","agent_id":"1","ani":"3009990001","customer_id":"88887777","agent_dni":"99001122","q01":"5"},
 {"date":"2026-01-06 10:00:00","conn_id":"same-2","agent_id":"1","ani":"3009990001","customer_id":"88887777","agent_dni":"99001122","q01":"4"},
 {"_mock_at":"2026-01-07 09:00:00","conn_id":"nodate","ani":"3009990002","customer_id":"77776666","agent_dni":"99003344"}]}'

wv_expect 0 -vv "${priv[@]}" --set archive.dir="$arch" backfill --from 2026-01-05 --to 2026-01-08
cp "$WV_TMP/err" "$WV_TMP/backfill.log"

# what the API holds, in clear
curl -fsS "http://127.0.0.1:$WV_PORT/_records?date_ini=20260105000000&date_end=20260107235959" \
	>"$WV_TMP/served.json"
"$WV_PY" - "$WV_TMP/served.json" "$key" "$WV_TMP" <<'PY'
import hashlib, hmac, json, sys
recs = json.load(open(sys.argv[1]))
key = open(sys.argv[2], "rb").read().rstrip(b"\n")
out = sys.argv[3]
PH = {"", "-", "--"}

def text(v):
    if v is None:
        return None
    if isinstance(v, str):
        return None if v.strip() == "" or v in PH else v
    return json.dumps(v, separators=(",", ":"))  # numbers, booleans as JSON text

def h(v):
    return "hmac:" + hmac.new(key, v.encode(), hashlib.sha256).hexdigest()

clear, anis, custs = set(), set(), set()
for r in recs:
    for k in ("ani", "customer_id", "agent_dni"):
        v = text(r.get(k))
        if v is not None and sum(c.isdigit() for c in v) >= 6:
            clear.add(v)
    if "date" in r and r.get("date") not in (None, "-", ""):
        a, c = text(r.get("ani")), text(r.get("customer_id"))
        if a is not None:
            anis.add(h(a))
        if c is not None:
            custs.add(h(c))
open(out + "/clear.txt", "w").write("\n".join(sorted(clear)) + "\n")
open(out + "/ani.txt", "w").write("\n".join(sorted(anis)) + "\n")
open(out + "/cust.txt", "w").write("\n".join(sorted(custs)) + "\n")
PY
[ "$(wc -l <"$WV_TMP/clear.txt")" -gt 40 ] || fail "too few clear values to search for"
grep -qx 3009990001 "$WV_TMP/clear.txt" || fail "the fixed caller is not among the served values"

psql_q "SELECT DISTINCT ani FROM wolkvox.survey_response WHERE ani IS NOT NULL ORDER BY 1" >"$WV_TMP/db_ani.txt"
# the rows whose identity repeats keep the later record's values: compare
# as sets, each stored hash must be one computed from a served value
comm -23 "$WV_TMP/db_ani.txt" "$WV_TMP/ani.txt" >"$WV_TMP/unknown_ani.txt"
assert_eq 0 "$(wc -l <"$WV_TMP/unknown_ani.txt")" "every stored ani is HMAC-SHA256(key, a served ani)"
[ "$(wc -l <"$WV_TMP/db_ani.txt")" -gt 40 ] || fail "too few hashed ani values"
psql_q "SELECT DISTINCT customer_id FROM wolkvox.survey_response WHERE customer_id IS NOT NULL ORDER BY 1" >"$WV_TMP/db_cust.txt"
assert_eq 0 "$(comm -23 "$WV_TMP/db_cust.txt" "$WV_TMP/cust.txt" | wc -l)" \
	"every stored customer_id is HMAC-SHA256(key, a served customer_id)"
assert_eq "1|2" "$(psql_q "SELECT count(DISTINCT ani), count(*) FROM wolkvox.survey_response
	WHERE conn_id IN ('same-1', 'same-2')")" "the same caller on two days: one hashed value"
assert_contains "$(psql_q "SELECT ani FROM wolkvox.survey_response WHERE conn_id = 'same-1'")" "hmac:" \
	"the fixed caller is stored hashed"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE agent_dni IS NOT NULL")" \
	"agent_dni = drop leaves NULL in every row"
assert_contains "$(psql_q "SELECT raw_record FROM wolkvox.etl_reject WHERE raw_record LIKE '%nodate%'")" \
	'"ani":"hmac:' "a reject's raw record holds the protected ani"

search()
{
	local what=$1 file=$2 hits
	hits=$(grep -F -o -f "$WV_TMP/clear.txt" "$file" | sort -u | head -5 || true)
	assert_eq "" "$hits" "no clear personal number in $what"
	if grep -qF 'test-key-not-secret' "$file"; then
		fail "the HMAC key appears in $what"
	fi
	echo "ok: the key is not in $what"
}
pg_dump --data-only --no-owner >"$WV_TMP/dump.sql"
[ "$(grep -c 'hmac:' "$WV_TMP/dump.sql")" -gt 40 ] || fail "the dump holds too few hashes: is it the warehouse?"
search "the database (pg_dump --data-only)" "$WV_TMP/dump.sql"
find "$arch" -name '*.gz' | sort >"$WV_TMP/archives"
assert_eq 3 "$(wc -l <"$WV_TMP/archives")" "three archives"
for f in $(cat "$WV_TMP/archives"); do zcat "$f"; echo; done >"$WV_TMP/archives.txt"
[ "$(grep -c 'hmac:' "$WV_TMP/archives.txt")" -gt 0 ] || fail "the archives hold no hash"
search "the archives (zcat)" "$WV_TMP/archives.txt"
search "the logs (-vv)" "$WV_TMP/backfill.log"

# the archives, replayed, give the same rows; so does a reload
for day in 05 06 07; do
	next=$(printf '%02d' $((10#$day + 1)))
	wv_expect 0 "${priv[@]}" --set database.schema=replayed replay \
		"$arch/test/2026/01/diagram_4_202601${day}000000_202601${next}000000.json.gz" \
		--from "2026-01-$day" --to "2026-01-$next"
done
assert_eq "$(wv_checksum wolkvox)" "$(wv_checksum replayed)" "replayed protected archives == the backfill, row for row"
sum=$(wv_checksum wolkvox)
wv_expect 0 "${priv[@]}" backfill --reload --from 2026-01-05 --to 2026-01-08
assert_eq "$sum" "$(wv_checksum wolkvox)" "loading the days again gives the same values"

# hash needs a key: exit 2, nothing done
runs=$(psql_q "SELECT count(*) FROM wolkvox.etl_run")
wv_expect 2 --set privacy.ani=hash backfill --from 2026-01-05 --to 2026-01-06
assert_contains "$(cat "$WV_TMP/err")" "hash needs privacy.key_file" "hash without a key file is a configuration error"
printf 'short' >"$WV_TMP/short.key"
wv_expect 2 --set privacy.ani=hash --set privacy.key_file="$WV_TMP/short.key" backfill --from 2026-01-05 --to 2026-01-06
assert_contains "$(cat "$WV_TMP/err")" "the key must have at least 16" "a short key is refused"
assert_eq "$runs" "$(psql_q "SELECT count(*) FROM wolkvox.etl_run")" "nothing was run"
