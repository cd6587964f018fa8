"""tests/integration/rollup_records.py - known records for the rollup tests,
and every figure of the rollup views computed from them in Python.

    rollup_records.py control V        the mock's /_control JSON serving
                                       version V of the records
    rollup_records.py check V          compare every view with version V

Version 0: 400 records over four local days (Sunday 2026-03-29 to Wednesday
2026-04-01: two weeks, two months), agents and skills with ids, one agent
and one skill placeholder (NULL id), surveys at 23:30 local (the next UTC
day), in-answer duplicates on 2026-03-30 (the later wins), answers such as
05 (the value 5), 4.5, si, No, placeholders and comments over 200 bytes.
Version 1 changes a tenth of them: answers removed or changed, result and
feeling changed, and agent 1002 renamed. Questions: 1 csat (scale 1..5),
2 nps, 3 ces, 4 yes_no, 5 text (the test sets the kinds).

Nothing here reads the views' SQL: local days come from zoneinfo, weeks
from isoweekday, every figure from plain loops.
"""
import collections
import datetime
import decimal
import json
import random
import sys
import zoneinfo

TZ = zoneinfo.ZoneInfo("America/Bogota")
PH = {"", "-", "--"}
D = decimal.Decimal
DAYS = ["2026-03-29", "2026-03-30", "2026-03-31", "2026-04-01"]
KINDS = {1: ("csat", D(1), D(5)), 2: ("nps", D(0), D(10)), 3: ("ces", None, None),
         4: ("yes_no", None, None), 5: ("text", None, None)}
LONG = "Comentario largo: " + "muy buena atención, " * 15


def records(version):
    rnd = random.Random(13)
    agents = [("1001", "Ana"), ("1002", "Bob"), ("1003", "Carla"), ("-", "-")]
    skills = [("201", "Ventas"), ("202", "Soporte"), ("", "-")]
    q1 = ["1", "2", "3", "4", "5", "5", "05", "4", "-", "4.5"]
    q2 = [str(i) for i in range(11)] + ["-"]
    q3 = ["1", "2", "3", "4", "5", "6", "7", "3.5", "-"]
    q4 = ["si", "No", "sí", "1", "2", "SI", "no", "-"]
    q5 = ["Bien", "Mal", "-", "-", LONG, LONG + "x", "tab\there"]
    out = []
    for i in range(400):
        day = DAYS[i % 4]
        secs = (i * 7919) % 86400
        if i % 37 == 0:
            secs = 23 * 3600 + 30 * 60 + i % 60      # 23:30 local: next UTC day
        aid, name = agents[rnd.randrange(4)]
        sid, sname = skills[rnd.randrange(3)]
        r = {"agent_id": aid, "agent_name": name, "agent_dni": "9",
             "skill_id": sid, "skill_name": sname,
             "date": "%s %02d:%02d:%02d" % (day, secs // 3600, secs // 60 % 60, secs % 60),
             "conn_id": "r.%d" % i, "ani": "300", "customer_id": "1",
             "voice_message_duration": "0", "type_interaction": "inbound",
             "result": rnd.choice(["complete", "complete", "abandon", "-"]),
             "time": "60", "voice_message": "-",
             "feeling": rnd.choice(["very negative", "negative", "neutral", "positive",
                                    "very positive", "-"]),
             "q01": rnd.choice(q1), "q02": rnd.choice(q2), "q03": rnd.choice(q3),
             "q04": rnd.choice(q4), "q05": rnd.choice(q5)}
        for q in range(6, 11):
            r["q%02d" % q] = "-"
        if version >= 1 and i % 10 == 3:               # a tenth changed
            r["result"] = "abandon" if r["result"] == "complete" else "complete"
            r["feeling"] = "positive" if r["feeling"] != "positive" else "negative"
            r["q01"] = "-"                               # an answer removed
            r["q02"] = str((int(r["q02"]) + 3) % 11) if r["q02"] != "-" else "9"
            r["q05"] = "-"
        if version >= 1 and aid == "1002":
            r["agent_name"] = "Bob Renamed"
        out.append(r)
    # In-answer duplicates on 2026-03-30: the later of the two wins.
    for i in range(1, 400, 40):
        if out[i]["date"].startswith("2026-03-30"):
            out.append(dict(out[i], q01="1", q03="7", feeling="very positive"))
    return out


def val(v):
    return None if v is None or v.strip(" ") == "" or v in PH else v


def num(t):
    try:
        d = D(t)
    except decimal.InvalidOperation:
        return None
    return d if t.lstrip("+-").replace(".", "", 1).isdigit() else None


def r4(x, q="0.0001"):
    return None if x is None else x.quantize(D(q), decimal.ROUND_HALF_UP)


def surveys_of(recs):
    """One survey per identity, the later record winning."""
    by = collections.OrderedDict()
    for r in recs:
        wall = datetime.datetime.strptime(r["date"], "%Y-%m-%d %H:%M:%S")
        s = {"date": wall.date(), "hour": wall.hour,
             "agent_id": val(r["agent_id"]), "agent_name": val(r["agent_name"]),
             "skill_id": val(r["skill_id"]), "skill_name": val(r["skill_name"]),
             "utc": wall.replace(tzinfo=TZ), "result": val(r["result"]),
             "feeling": val(r["feeling"]), "answers": {}}
        for q in range(1, 11):
            t = val(r["q%02d" % q])
            if t is not None:
                s["answers"][q] = (t, num(t))
        by[(r["conn_id"], r["date"], s["agent_id"], s["skill_id"])] = s
    return list(by.values())


def names(surveys, idk, namek):
    out = {}
    for s in sorted(surveys, key=lambda s: s["utc"]):
        if s[idk] is not None and s[namek] is not None:
            out[s[idk]] = s[namek]
    return out


def starts(d):
    return {"day": d, "week": d - datetime.timedelta(days=d.isoweekday() - 1),
            "month": d.replace(day=1)}


def survey_figures(ss):
    n = len(ss)
    comp = sum(s["result"] == "complete" for s in ss)
    wf = sum(s["feeling"] is not None for s in ss)
    pos = sum(s["feeling"] == "positive" for s in ss)
    vpos = sum(s["feeling"] == "very positive" for s in ss)
    return (n, comp, r4(D(comp) / n), wf, pos, vpos,
            r4(D(pos + vpos) / wf) if wf else None, r4(D(vpos) / wf) if wf else None)


def value_text(t, v):
    return t if v is None else str(v)


def question_figures(q, aa):
    kind, smin, smax = KINDS[q]
    nums = [v for _, v in aa if v is not None]
    dist = collections.Counter(value_text(t, v) for t, v in aa)
    avg = r4(sum(nums) / len(nums)) if nums else None
    top = sum(v >= smax for v in nums) if smax is not None else None
    top_share = r4(D(top) / len(nums)) if smax is not None and nums else None
    csat = nps = ces = yes = None
    if kind == "csat" and nums:
        csat = r4(D(sum(v >= smax - 1 for v in nums)) / len(nums))
    if kind == "nps":
        base = [v for v in nums if 0 <= v <= 10]
        if base:
            p = sum(v >= 9 for v in base)
            d = sum(v <= 6 for v in base)
            nps = r4(D(100 * (p - d)) / len(base), "0.01")
    if kind == "ces":
        ces = avg
    if kind == "yes_no":
        y = sum(v == 1 or value_text(t, v).lower() in ("si", "sí", "s", "yes", "y")
                for t, v in aa)
        yes = r4(D(y) / len(aa))
    return (len(aa), len(nums) if nums else None, sum(nums) if nums else None, avg,
            dict(dist), top, top_share, kind, csat, nps, ces, yes)


def expected(recs):
    ss = surveys_of(recs)
    nm = {"agent": names(ss, "agent_id", "agent_name"),
          "skill": names(ss, "skill_id", "skill_name")}
    surv = collections.defaultdict(list)
    ans = collections.defaultdict(list)
    hours = collections.defaultdict(list)
    for s in ss:
        for period, start in starts(s["date"]).items():
            hours[(period, start, s["hour"])].append(s)
            for dim in ("agent", "skill"):
                key = s[dim + "_id"]
                surv[(dim, period, start, key)].append(s)
                for q, a in s["answers"].items():
                    ans[(dim, period, start, key, q)].append(a)
    want = {}
    for (dim, period, start, key), group in surv.items():
        want[("v_period_" + dim, period, start, key)] = \
            (nm[dim].get(key),) + survey_figures(group)
    for (dim, period, start, key, q), aa in ans.items():
        want[("v_period_%s_question" % dim, period, start, key, q)] = \
            (nm[dim].get(key),) + question_figures(q, aa)
    for (period, start, h), group in hours.items():
        want[("v_period_hour", period, start, h)] = survey_figures(group)[:2] + \
            survey_figures(group)[3:6]
    return want


def got_rows(cur):
    got = {}
    for dim in ("agent", "skill"):
        cur.execute("SELECT period, period_start, %s_id, %s_name, surveys, completed,"
                    " completed_share, with_feeling, positive, very_positive, positive_share,"
                    " very_positive_share FROM v_period_%s" % (dim, dim, dim))
        for r in cur.fetchall():
            got[("v_period_" + dim,) + r[:3]] = r[3:]
        cur.execute("SELECT local_date, %s_id, %s_name, surveys, completed,"
                    " completed_share, with_feeling, positive, very_positive, positive_share,"
                    " very_positive_share FROM v_daily_%s" % (dim, dim, dim))
        for r in cur.fetchall():
            got[("v_period_" + dim, "day (v_daily)") + r[:2]] = r[2:]
        cols = ("%s_name, answers, numeric_answers, answer_sum, answer_avg, distribution, top,"
                " top_share, kind, csat, nps, ces, yes_share" % dim)
        cur.execute("SELECT period, period_start, %s_id, question_no, %s FROM v_period_%s_question"
                    % (dim, cols, dim))
        for r in cur.fetchall():
            got[("v_period_%s_question" % dim,) + r[:4]] = r[4:]
        cur.execute("SELECT local_date, %s_id, question_no, %s FROM v_daily_%s_question"
                    % (dim, cols, dim))
        for r in cur.fetchall():
            got[("v_period_%s_question" % dim, "day (v_daily)") + r[:3]] = r[3:]
    cur.execute("SELECT period, period_start, hour, surveys, completed, with_feeling, positive,"
                " very_positive FROM v_period_hour")
    for r in cur.fetchall():
        got[("v_period_hour",) + r[:3]] = r[3:]
    cur.execute("SELECT local_date, hour, surveys, completed, with_feeling, positive,"
                " very_positive FROM v_daily_hour")
    for r in cur.fetchall():
        got[("v_period_hour", "day (v_daily)") + r[:2]] = r[2:]
    return got


def check(version):
    import psycopg2
    conn = psycopg2.connect("")
    cur = conn.cursor()
    cur.execute("SET search_path TO wolkvox")
    want = expected(records(version))
    for k, v in list(want.items()):
        if k[1] == "day":                      # the daily views: the same rows
            want[(k[0], "day (v_daily)") + k[2:]] = v
    got = got_rows(cur)
    bad = []
    for k in sorted(set(want) | set(got), key=repr):
        w, g = want.get(k, "missing"), got.get(k, "missing")
        if w != g:
            bad.append("%r: expected %r, got %r" % (k, w, g))
    for b in bad[:40]:
        print("MISMATCH " + b)
    if bad:
        print("%d mismatches of %d rows" % (len(bad), len(want)))
        sys.exit(1)
    print("ok: version %d, %d view rows, every figure matches" % (version, len(want)))


if __name__ == "__main__":
    v = int(sys.argv[2])
    if sys.argv[1] == "control":
        print(json.dumps({"reset": True, "per_day": {d: 0 for d in DAYS},
                          "records": records(v)}))
    elif sys.argv[1] == "check":
        check(v)
