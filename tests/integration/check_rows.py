#!/usr/bin/python3
"""
tests/integration/check_rows.py
    An independent oracle for what wvetl must have loaded: it takes the
    records the mock API holds for a range (GET /_records), applies the
    contract's rules 1-5 itself (../shared/docs/contract.md section 4), and
    compares the result, column by column and row by row, with what
    PostgreSQL holds (survey_response, survey_answer, etl_reject).

    It shares no code with wvetl on purpose: two implementations of the same
    rules that agree on every value of every row of awkward data.

usage: check_rows.py --from T --to T [--schema S] [--operation OP]
                     [--tz ZONE] [--rejects exact|any] [--summary]
    T is YYYY-MM-DD or "YYYY-MM-DD HH:MM:SS"; the range is [from, to).
    The mock is found through $WV_URL, PostgreSQL through the PG* variables.
    --summary prints the expected counts as JSON and touches no database.
    Exit 0 when everything matches, 1 with a list of differences otherwise.
"""

import argparse
import datetime
import json
import os
import re
import sys
import urllib.parse
import urllib.request
import zoneinfo
from decimal import Decimal

TEXT_COLS = ["conn_id", "agent_id", "agent_name", "agent_dni", "skill_id",
             "skill_name", "ani", "customer_id", "type_interaction", "result",
             "voice_message", "feeling"]
DURATIONS = {"time": "duration_s",
             "voice_message_duration": "voice_message_duration_s"}
KNOWN = set(TEXT_COLS) | set(DURATIONS) | {"date"}

RE_Q = re.compile(r"^[qQ](\d+)$")
RE_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T-](\d{2}):(\d{2}):(\d{2})$")
RE_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$")
RE_HMS = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")
RE_MS = re.compile(r"^(\d{1,2}):([0-5]\d)$")
RE_SECS = re.compile(r"^\d+$")
RE_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


class JNum(str):
    """A JSON number, kept as the text that was sent."""


def jloads(text):
    return json.loads(text, parse_int=JNum, parse_float=JNum)


def plain(v):
    """A JSON value in comparable form: numbers as Decimal."""
    if isinstance(v, JNum):
        return Decimal(v)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def no_nul(v):
    """v with U+0000 removed from every string (for reject raw texts)."""
    if isinstance(v, str) and not isinstance(v, JNum):
        return v.replace("\x00", "")
    if isinstance(v, dict):
        return {no_nul(k): no_nul(x) for k, x in v.items()}
    if isinstance(v, list):
        return [no_nul(x) for x in v]
    return v


def json_text(v):
    """Rule 5: numbers, booleans and nested values as their JSON text."""
    if v is None:
        return None
    if isinstance(v, JNum):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def is_placeholder(t):
    """Rule 2: "", "-", "--" or blanks."""
    return t in ("-", "--") or t.strip(" ") == ""


def text_value(v):
    """(column text or None, whether a U+0000 was removed)."""
    t = json_text(v)
    if t is None:
        return None, False
    nul = "\x00" in t
    t = t.replace("\x00", "")
    return (None if is_placeholder(t) else t), nul


def parse_date(v, tz):
    """Rule 4: the record's date as epoch seconds, or None (reject)."""
    if not isinstance(v, str) or isinstance(v, JNum):
        return None
    m = RE_DATE.match(v) or RE_DATE_COMPACT.match(v)
    if not m:
        return None
    try:
        d = datetime.datetime(*map(int, m.groups()), tzinfo=tz)
    except ValueError:
        return None
    # A wall-clock time a DST fall-back repeats is its later occurrence
    # (fold=1); one a spring-forward skips takes the offset before it
    # (fold=0): PostgreSQL's rule for timestamp AT TIME ZONE, and wvetl's.
    later = d.replace(fold=1)
    if later.timestamp() != d.timestamp() and \
            datetime.datetime.fromtimestamp(later.timestamp(), tz) \
            .replace(tzinfo=None) == d.replace(tzinfo=None):
        return int(later.timestamp())
    return int(d.timestamp())


def parse_duration(t):
    """Rule 4: [H]H:MM:SS, MM:SS or plain seconds -> seconds, or None."""
    m = RE_HMS.match(t)
    if m:
        return int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3])
    m = RE_MS.match(t)
    if m:
        return int(m[1]) * 60 + int(m[2])
    if RE_SECS.match(t):
        return int(t)
    return None


def normalize(rec, tz):
    """One API record -> None (reject) or (identity, row, answers, extras,
    nul): what the warehouse must hold for it."""
    answered_at = parse_date(rec.get("date"), tz)
    if answered_at is None:
        return None
    row, extras, answers, nul = {"answered_at": answered_at}, {}, {}, False
    for c in TEXT_COLS:
        row[c], removed = text_value(rec.get(c))
        nul = nul or removed
    for key, col in DURATIONS.items():
        t = json_text(rec.get(key))
        row[col] = None
        if t is None or is_placeholder(t):
            continue
        row[col] = parse_duration(t)
        if row[col] is None:
            extras[key] = rec[key]          # untypable: kept as sent
    for key, v in rec.items():
        m = RE_Q.match(key)
        if m and int(m[1]) > 0:
            t = json_text(v)
            if t is not None and not is_placeholder(t):
                answers[int(m[1])] = (t, Decimal(t) if RE_DECIMAL.match(t)
                                      else None)
        elif key not in KNOWN:
            extras[key] = v                 # unknown key: its JSON value
    ident = (row["conn_id"], answered_at, row["agent_id"], row["skill_id"])
    return ident, row, answers, plain(extras), nul


def expected(records, tz):
    """Rule 1 over a list of records in answer order: the later wins."""
    rows, rejects, dups = {}, [], 0
    for rec in records:
        n = normalize(rec, tz)
        if n is None:
            rejects.append(rec)
            continue
        if n[0] in rows:
            dups += 1
            del rows[n[0]]                  # keep answer order of the winner
        rows[n[0]] = n[1:]
    return rows, rejects, dups


def parse_range_end(text):
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y%m%d%H%M%S"):
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise SystemExit("check_rows: bad time %r" % text)


def fetch_records(url, t_from, t_to):
    u = urllib.parse.urlsplit(url)
    end = t_to - datetime.timedelta(seconds=1)
    q = urllib.parse.urlencode({"date_ini": t_from.strftime("%Y%m%d%H%M%S"),
                                "date_end": end.strftime("%Y%m%d%H%M%S")})
    with urllib.request.urlopen("%s://%s/_records?%s"
                                % (u.scheme, u.netloc, q)) as r:
        return jloads(r.read().decode())


class Diff:
    def __init__(self):
        self.items = []

    def add(self, what):
        self.items.append(what)


def load_db(schema, operation):
    import psycopg2
    conn = psycopg2.connect("")
    conn.set_client_encoding("UTF8")
    cur = conn.cursor()
    cols = ", ".join(TEXT_COLS)
    cur.execute(
        "SELECT response_id, extract(epoch FROM answered_at)::bigint, %s, "
        "duration_s, voice_message_duration_s, extras::text "
        "FROM %s.survey_response WHERE operation = %%s" % (cols, schema),
        (operation,))
    db_rows, by_id = {}, {}
    for r in cur.fetchall():
        row = dict(zip(TEXT_COLS, r[2:2 + len(TEXT_COLS)]))
        row["answered_at"] = int(r[1])
        row["duration_s"], row["voice_message_duration_s"] = r[-3], r[-2]
        extras = plain(jloads(r[-1])) if r[-1] is not None else None
        ident = (row["conn_id"], row["answered_at"], row["agent_id"],
                 row["skill_id"])
        # [response_id, row, extras, identity seen twice, answers]
        db_rows[ident] = by_id[r[0]] = [r[0], row, extras,
                                         ident in db_rows, {}]
    cur.execute(
        "SELECT a.response_id, a.question_no, a.answer_text, "
        "a.answer_num::text FROM %s.survey_answer a JOIN %s.survey_response "
        "r USING (response_id) WHERE r.operation = %%s" % (schema, schema),
        (operation,))
    for rid, qno, text, num in cur.fetchall():
        by_id[rid][4][qno] = (text, Decimal(num) if num is not None else None)
    # No FK is declared (sql/001_init.sql), so check the reference here.
    cur.execute("SELECT count(*) FROM %s.survey_answer a WHERE NOT EXISTS "
                "(SELECT 1 FROM %s.survey_response r WHERE r.response_id = "
                "a.response_id)" % (schema, schema))
    orphans = cur.fetchone()[0]
    cur.execute("SELECT 1 FROM information_schema.columns WHERE "
                "table_schema = %s AND table_name = 'etl_reject' AND "
                "column_name = 'operation'", (schema,))
    where = " WHERE operation = %s" if cur.fetchone() else ""
    cur.execute("SELECT row_to_json(r)::text FROM %s.etl_reject r%s"
                % (schema, where), (operation,) if where else None)
    rejects = [jloads(t) for (t,) in cur.fetchall()]
    conn.close()
    return db_rows, rejects, orphans


def reject_raw(row):
    """The record an etl_reject row holds: the first column that is (or
    whose text parses as) a JSON object."""
    for v in row.values():
        if isinstance(v, dict):
            return v
        if isinstance(v, str):
            try:
                o = jloads(v)
            except ValueError:
                continue
            if isinstance(o, dict):
                return o
    return None


def compare_rows(exp, db_rows, diff):
    for ident, (row, answers, extras, nul) in exp.items():
        got = db_rows.get(ident)
        if got is None:
            diff.add("missing row %r" % (ident,))
            continue
        _, grow, gextras, dup, ganswers = got
        if dup:
            diff.add("identity loaded twice: %r" % (ident,))
        for col, v in row.items():
            if grow[col] != v:
                diff.add("%r %s: expected %r, got %r" % (ident, col, v,
                                                         grow[col]))
        if ganswers != answers:
            diff.add("%r answers: expected %r, got %r" % (ident, answers,
                                                          ganswers))
        gextras = gextras or {}
        for k, v in extras.items():
            if gextras.get(k, KeyError) != v:
                diff.add("%r extras[%s]: expected %r, got %r" % (
                    ident, k, v, gextras.get(k, "(absent)")))
        others = set(gextras) - set(extras)
        if nul and not others:
            diff.add("%r: U+0000 removed but extras has no note: %r"
                     % (ident, gextras))
        if not nul and others:
            diff.add("%r: unexpected extras keys %r" % (ident,
                                                        sorted(others)))
    for ident in db_rows:
        if ident not in exp:
            diff.add("unexpected row %r" % (ident,))


def compare_rejects(exp_rejects, db_rejects, mode, diff):
    want = [plain(no_nul(r)) for r in exp_rejects]
    seen = [False] * len(want)
    for row in db_rejects:
        raw = reject_raw(row)
        raw = plain(no_nul(raw)) if raw is not None else None
        hits = [i for i, w in enumerate(want) if w == raw and
                (mode == "any" or not seen[i])]
        if not hits:
            diff.add("unexpected etl_reject row %s" % json.dumps(row)[:300])
            continue
        seen[hits[0]] = True
    for i, ok in enumerate(seen):
        if not ok:
            diff.add("record not in etl_reject: %s"
                     % json.dumps(exp_rejects[i], ensure_ascii=False)[:300])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--from", dest="t_from", required=True)
    p.add_argument("--to", dest="t_to", required=True)
    p.add_argument("--schema", default="wolkvox")
    p.add_argument("--operation", default="test")
    p.add_argument("--tz", default="America/Bogota")
    p.add_argument("--url", default=os.environ.get("WV_URL"))
    p.add_argument("--rejects", choices=("exact", "any"), default="exact")
    p.add_argument("--summary", action="store_true")
    a = p.parse_args()
    tz = zoneinfo.ZoneInfo(a.tz)
    records = fetch_records(a.url, parse_range_end(a.t_from),
                            parse_range_end(a.t_to))
    exp, exp_rejects, dups = expected(records, tz)
    counts = {"records": len(records), "rows": len(exp),
              "answers": sum(len(v[1]) for v in exp.values()),
              "rejects": len(exp_rejects), "duplicates": dups}
    if a.summary:
        print(json.dumps(counts))
        return 0
    db_rows, db_rejects, orphans = load_db(a.schema, a.operation)
    diff = Diff()
    if orphans:
        diff.add("%d survey_answer rows reference no survey_response" % orphans)
    compare_rows(exp, db_rows, diff)
    compare_rejects(exp_rejects, db_rejects, a.rejects, diff)
    for d in diff.items[:40]:
        print("check_rows:", d)
    if len(diff.items) > 40:
        print("check_rows: ... and %d more" % (len(diff.items) - 40))
    print("check_rows: %s: %s; %d difference(s)" % (
        a.schema, ", ".join("%s=%d" % kv for kv in counts.items()),
        len(diff.items)))
    return 1 if diff.items else 0


if __name__ == "__main__":
    sys.exit(main())
