# tests/integration/t0401-naughty-strings.sh - every text value reaches
# PostgreSQL byte for byte (contract rules 2, 3 and 5), end to end over
# HTTP, whatever it holds.
#
# Proves: each of the 515 strings of the Big List of Naughty Strings
# (../shared/testdata/blns/blns.json), and a few more that COPY and JSON
# treat specially (\., \N, a lone backslash, CR LF, zero-width and RTL
# marks, a BOM, U+2028, U+10FFFF, 20 kB strings of escapes, emoji and
# tabs, strings holding U+0000), is served by the mock API in one day's
# records as agent_name, skill_name, voice_message, q01 and an unknown key
# "naughty"; after `backfill`, PostgreSQL's bytes (convert_to(.., 'UTF8'))
# equal the sent UTF-8 bytes, one by one, for all five places:
#   - placeholders ("", "-", "--", blanks) are NULL in the columns and give
#     no answer row, but stay as sent in extras (an unknown key's value is
#     kept as its JSON value);
#   - U+0000 is removed and the record's extras lists the keys under
#     _nul_removed (and a value that is a placeholder once it is removed
#     is NULL); extras holds nothing else;
#   - answer_num is the value's number exactly when it is a decimal;
# and the same answer body, fetched with curl and replayed into another
# schema, loads the same rows.

testdata=$(sh "$WV_TOP/tests/testdata.sh") || fail "the blns corpus is needed"
blns=$testdata/blns/blns.json

"$WV_PY" - "$blns" "$WV_TMP/control.json" "$WV_TMP/sent.json" <<'EOF'
import json, sys
blns_path, control_path, sent_path = sys.argv[1:]
strings = json.load(open(blns_path, encoding="utf-8"))
mixed = "é\t\\\n😀\\.\\N\r\"'\u200f"
strings += [
    "\\.", "\\N", "\\.\n", "a\\.b", "\\\\N", "\\", "\\\\", "\t", "\n", "\r",
    "\r\n", "\b\f\v", "\u200b", "\u200f\u202e", "\ufeff", "\u2028\u2029",
    "\U0010FFFF", "\uFFFF", "'", '"', "😀", "\u0001\u001f\u007f",
    "a\u0000b", "\u0000", "\u0000-\u0000", " \u0000 ",
    "x" * 20000, (mixed * 2000)[:20000], ("ab\u0000" * 7000),
]
records = []
for i, s in enumerate(strings):
    records.append({
        "date": "2026-01-05 %02d:%02d:00" % (i // 60, i % 60),
        "conn_id": "naughty-%d" % i, "agent_id": "1", "skill_id": "1",
        "agent_name": s, "skill_name": s, "voice_message": s,
        "q01": s, "naughty": s})
with open(control_path, "w") as f:
    json.dump({"per_day": {"2026-01-05": 0}, "records": records}, f)
json.dump(strings, open(sent_path, "w"))
print("%d strings, %d of them from blns" % (len(strings), len(strings) - 29))
EOF
wv_control "@$WV_TMP/control.json"
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-06
assert_eq '{"200": 1}' "$(wv_stat 's["statuses"]')" "one answer, over HTTP"

# compare SCHEMA: every string in its five places, byte for byte.
compare()
{
	"$WV_PY" - "$WV_TMP/sent.json" "$1" <<'EOF'
import decimal, json, re, sys, psycopg2
strings = json.load(open(sys.argv[1]))
schema = sys.argv[2]
conn = psycopg2.connect("")
cur = conn.cursor()
cur.execute("""
SELECT r.conn_id, convert_to(r.agent_name, 'UTF8'), convert_to(r.skill_name, 'UTF8'),
       convert_to(r.voice_message, 'UTF8'),
       (SELECT convert_to(a.answer_text, 'UTF8') FROM {s}.survey_answer a
         WHERE a.response_id = r.response_id AND a.question_no = 1),
       (SELECT a.answer_num::text FROM {s}.survey_answer a
         WHERE a.response_id = r.response_id AND a.question_no = 1),
       (SELECT count(*) FROM {s}.survey_answer a WHERE a.response_id = r.response_id),
       convert_to(r.extras->>'naughty', 'UTF8'), r.extras
  FROM {s}.survey_response r""".format(s=schema))
rows = {r[0]: r for r in cur.fetchall()}

def placeholder(v):
    return v in ("", "-", "--") or all(c in " \t" for c in v)

def b(x):
    return None if x is None else bytes(x)

bad = 0
compared = 0
def check(i, what, want, got):
    global bad, compared
    compared += 1
    if want != got:
        bad += 1
        if bad <= 10:
            print("string %d, %s: sent %.120r (%s), PostgreSQL has %.120r (%s)"
                  % (i, what, want, len(want) if isinstance(want, bytes) else "-",
                     got, len(got) if isinstance(got, bytes) else "-"))

for i, s in enumerate(strings):
    row = rows.pop("naughty-%d" % i, None)
    if row is None:
        bad += 1
        print("string %d: no row" % i)
        continue
    v = s.replace("\0", "")
    col = None if placeholder(v) else v.encode("utf-8")
    _, name, skill, vm, ans, num, n_ans, naughty, extras = row
    check(i, "agent_name", col, b(name))
    check(i, "skill_name", col, b(skill))
    check(i, "voice_message", col, b(vm))
    check(i, "q01 answer_text", col, b(ans))
    check(i, "answer rows", 0 if col is None else 1, n_ans)
    want_num = None
    if col is not None and re.fullmatch(r"[+-]?[0-9]+(\.[0-9]+)?", v):
        want_num = decimal.Decimal(v)
    check(i, "answer_num", want_num, None if num is None else decimal.Decimal(num))
    check(i, "extras naughty", v.encode("utf-8"), b(naughty))
    want_extras = {"naughty": v}
    if "\0" in s:
        want_extras["_nul_removed"] = ["agent_name", "skill_name", "voice_message", "q01", "naughty"]
    check(i, "extras", want_extras, extras)
if rows:
    bad += 1
    print("rows nobody sent: %s" % sorted(rows)[:5])
print("%s: %d strings, %d values compared, %d differ" % (schema, len(strings), compared, bad))
sys.exit(1 if bad else 0)
EOF
}
compare wolkvox || fail "a string did not arrive byte for byte"
echo "ok: every string arrived byte for byte"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_reject")" "no reject"

# The same body replayed from a file loads the same rows.
curl -fsS -H "wolkvox-token: $WV_TOKEN" \
	"$WV_URL?api=diagram_4&date_ini=20260105000000&date_end=20260105235959" -o "$WV_TMP/body.json"
wv_expect 0 --set database.schema=replayed replay "$WV_TMP/body.json" --from 2026-01-05 --to 2026-01-06
compare replayed || fail "a string did not arrive byte for byte (replay)"
assert_eq "$(wv_checksum wolkvox)" "$(wv_checksum replayed)" "replayed body == served body"
