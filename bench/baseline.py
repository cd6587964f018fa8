#!/usr/bin/python3
"""
bench/baseline.py
    The Python script a user would write instead of wvetl, for the
    benchmark: one GET of the window, json.load of the whole answer, rows
    built in memory, psycopg2 copy_expert into the final tables, one commit.
    It applies the same rules as wvetl to the benchmark's data (placeholders
    to NULL, dates in the API's zone, durations in seconds, one answer row
    per answered q<N>, unknown keys into extras, the same response_id), so
    all three loads of the benchmark end with the same rows (bench/run.sh
    checks that). Also the source of the floor's COPY files (bench/floor.py):
    code of the benchmark's own, sharing nothing with wvetl.

usage: baseline.py URL TOKEN FROM TO [--schema S] [--operation OP] [--tz Z]
    FROM and TO are YYYY-MM-DD; the window is [FROM, TO). PostgreSQL is
    found through the PG* variables. Prints "records=N answers=N".
"""

import argparse
import datetime
import hashlib
import io
import json
import re
import sys
import urllib.parse
import urllib.request
import zoneinfo

RESPONSE_COLS = ("response_id, operation, conn_id, agent_id, agent_name, "
                 "agent_dni, skill_id, skill_name, answered_at, ani, "
                 "customer_id, voice_message_duration_s, type_interaction, "
                 "result, duration_s, voice_message, feeling, extras, run_id")
ANSWER_COLS = "response_id, question_no, answer_text, answer_num"
TEXT_KEYS = ("conn_id", "agent_id", "agent_name", "agent_dni", "skill_id",
             "skill_name")
TEXT_KEYS2 = ("type_interaction", "result")
KNOWN = set(TEXT_KEYS + TEXT_KEYS2) | {"date", "ani", "customer_id",
                                       "voice_message_duration", "time",
                                       "voice_message", "feeling"}
RE_Q = re.compile(r"^[qQ](\d+)$")
RE_DATE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[ T-](\d\d):(\d\d):(\d\d)$")
RE_DUR = re.compile(r"^(?:(\d+):)?(\d\d?):(\d\d)$")
RE_NUM = re.compile(r"^-?\d+(\.\d+)?$")
ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r",
                        "\b": "\\b", "\f": "\\f", "\v": "\\v", "\0": None})


def text(v):
    """A JSON value as column text; placeholders and null -> None."""
    if v is None:
        return None
    if isinstance(v, bool):
        v = "true" if v else "false"
    elif not isinstance(v, str):
        v = json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    if v in ("-", "--") or v.strip(" ") == "":
        return None
    return v


def duration(v):
    """[H]H:MM:SS, MM:SS or seconds -> seconds; None when absent."""
    t = text(v)
    if t is None:
        return None
    if t.isdigit():
        return int(t)
    m = RE_DUR.match(t)
    if m is None:
        return None
    return int(m[1] or 0) * 3600 + int(m[2]) * 60 + int(m[3])


def response_id(operation, conn_id, epoch, agent_id, skill_id):
    """The epoch second (clamped to [0, 2^32 - 1]) << 31 | the
    first 31 bits of md5 over the length-prefixed identity ("0:" for NULL)."""
    h = hashlib.md5()
    for part in (operation, conn_id, str(epoch), agent_id, skill_id):
        b = b"" if part is None else part.encode()
        h.update(b"%d:%s" % (len(b), b))
    return ((min(max(epoch, 0), 2**32 - 1) << 31)
            | (int.from_bytes(h.digest()[:4], "big") >> 1))


def field(v):
    """One COPY text field."""
    return "\\N" if v is None else str(v).translate(ESCAPE)


def record_rows(rec, operation, tz, run_id):
    """(response row, [answer rows]) as COPY text lines, or None when the
    record has no readable date."""
    m = RE_DATE.match(rec.get("date") or "")
    if m is None:
        return None
    local = datetime.datetime(*map(int, m.groups()), tzinfo=tz)
    epoch = int(local.timestamp())
    t = [text(rec.get(k)) for k in TEXT_KEYS]
    rid = response_id(operation, t[0], epoch, t[1], t[4])
    extras, answers = {}, []
    for k, v in rec.items():
        q = RE_Q.match(k)
        if q and int(q[1]) > 0:
            a = text(v)
            if a is not None:
                answers.append("%d\t%s\t%s\t%s\n" % (
                    rid, int(q[1]), field(a),
                    a if RE_NUM.match(a) else "\\N"))
        elif k not in KNOWN:
            extras[k] = v
    cols = [rid, operation] + t + [
        datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
        .strftime("%Y-%m-%d %H:%M:%S+00"),
        text(rec.get("ani")), text(rec.get("customer_id")),
        duration(rec.get("voice_message_duration")),
        text(rec.get("type_interaction")), text(rec.get("result")),
        duration(rec.get("time")), text(rec.get("voice_message")),
        text(rec.get("feeling")),
        json.dumps(extras, ensure_ascii=False) if extras else None, run_id]
    return "\t".join(field(c) for c in cols) + "\n", answers


def fetch(url, token, date_from, date_to):
    """The API's answer for [date_from, date_to), decoded whole."""
    end = date_to - datetime.timedelta(seconds=1)
    q = urllib.parse.urlencode({"api": "diagram_4",
                                "date_ini": date_from.strftime("%Y%m%d%H%M%S"),
                                "date_end": end.strftime("%Y%m%d%H%M%S")})
    req = urllib.request.Request(url + "?" + q,
                                 headers={"wolkvox-token": token})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("token")
    p.add_argument("date_from", type=datetime.date.fromisoformat)
    p.add_argument("date_to", type=datetime.date.fromisoformat)
    p.add_argument("--schema", default="wolkvox")
    p.add_argument("--operation", default="bench")
    p.add_argument("--tz", default="America/Bogota")
    a = p.parse_args()
    import psycopg2                 # Debian's python3-psycopg2

    tz = zoneinfo.ZoneInfo(a.tz)
    doc = fetch(a.url, a.token,
                datetime.datetime.combine(a.date_from, datetime.time()),
                datetime.datetime.combine(a.date_to, datetime.time()))
    responses, answers = io.StringIO(), io.StringIO()
    n = na = 0
    for rec in doc.get("data") or []:
        rows = record_rows(rec, a.operation, tz, 0)
        if rows is None:
            continue
        responses.write(rows[0])
        answers.writelines(rows[1])
        n += 1
        na += len(rows[1])
    responses.seek(0)
    answers.seek(0)
    conn = psycopg2.connect("")
    with conn, conn.cursor() as cur:
        cur.execute("SET search_path TO %s" % a.schema)
        cur.copy_expert("COPY survey_response (%s) FROM STDIN" % RESPONSE_COLS,
                        responses)
        cur.copy_expert("COPY survey_answer (%s) FROM STDIN" % ANSWER_COLS,
                        answers)
    conn.close()
    print("records=%d answers=%d" % (n, na))
    return 0


if __name__ == "__main__":
    sys.exit(main())
