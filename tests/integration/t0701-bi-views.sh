# tests/integration/t0701-bi-views.sh - the BI layer: dimensions kept by the
# load, local dates, question labels, and every view's numbers.
#
# Proves: 69 known records (seeded, served by the mock as fixed records on
# days that hold nothing else), loaded by a backfill in one-day windows
# (fast path), then the first day reloaded (merge path), then a replayed
# body whose record is dated outside its window (rejected: not in the
# dimensions, nor in any view),
# give views whose every figure equals what Python computes on its own from
# the records it served (zoneinfo for local time, plain loops for the
# aggregates; no SQL of the views is reused):
#   - agent and skill: one row per id, the current name is the one of the
#     latest survey with a name (an agent renamed on day 2 shows the new
#     name, even after day 1 is reloaded), first and last seen;
#   - v_response / v_answer: local timestamp and local date in
#     America/Bogota (a survey at 23:30 local is the same local day, the
#     next UTC day), current names, question labels and scales set by
#     `wvetl questions set`, numeric values, top answers;
#   - v_survey_wide: q01..q10 per survey;
#   - v_daily_agent / v_daily_skill: surveys, completed, feelings, shares;
#   - v_daily_agent_question / v_daily_skill_question: answers, average,
#     distribution, top answers and their share.

cat >"$WV_TMP/bi_records.py" <<'PY'
"""Generate the known records (gen) or check the warehouse against them."""
import collections, datetime, decimal, json, random, sys, zoneinfo

TZ = zoneinfo.ZoneInfo("America/Bogota")
PH = {"", "-", "--", " "}
D = decimal.Decimal


def records():
    rnd = random.Random(7)
    agents = [("1001", None), ("1002", "Bob Díaz"), ("1003", "Carla \"C\" Ruiz")]
    skills = [("201", "Ventas"), ("202", "Soporte\tTécnico")]
    answers = ["1", "2", "3", "4", "5", "5", "10", "-", "", "si", "4.5"]
    feelings = ["very negative", "negative", "neutral", "positive",
                "very positive", "-"]
    out = []
    days = ["2026-03-01", "2026-03-02", "2026-03-03"]
    for i in range(66):
        day = days[i % 3]
        secs = 600 + i * 1200          # spread over the day, unique
        ai = rnd.randrange(3)
        aid, name = agents[ai]
        if aid == "1001":              # renamed on day 2 at 08:00
            name = "Ana Old" if (day, secs) < ("2026-03-02", 8 * 3600) else "Ana New"
        if rnd.random() < 0.15:
            name = "-"                 # a placeholder: no name
        sid, sname = skills[rnd.randrange(2)]
        r = {"agent_id": aid, "agent_name": name, "agent_dni": "99",
             "skill_id": sid, "skill_name": sname,
             "date": "%s %02d:%02d:%02d" % (day, secs // 3600, secs // 60 % 60, secs % 60),
             "conn_id": "c.%d" % i, "ani": "300", "customer_id": "1",
             "voice_message_duration": "00:00:00",
             "type_interaction": "inbound",
             "result": rnd.choice(["complete", "complete", "abandon", "incomplete"]),
             "time": "00:01:00", "voice_message": "-",
             "feeling": rnd.choice(feelings)}
        for q in range(1, 11):
            r["q%02d" % q] = rnd.choice(answers) if q <= 4 else "-"
        out.append(r)
    # Across midnight: 23:30 local on day 1 is 04:30 UTC on day 2.
    late = dict(out[0], conn_id="c.late", date="2026-03-01 23:30:00",
                agent_name="Ana Old", q01="5", q02="10", q03="1", q04="-")
    out.append(late)
    # The old name, latest on day 1 but earlier than the rename.
    out.append(dict(late, conn_id="c.late2", date="2026-03-01 23:59:59"))
    # Day 3, agent 1001 without a name: the current name stays "Ana New".
    out.append(dict(late, conn_id="c.noname", date="2026-03-03 23:00:00",
                    agent_name="--"))
    return out


def outlier():
    """The record of the replayed body: dated outside its window."""
    return {"agent_id": "1099", "agent_name": "Zed Outside", "agent_dni": "1",
            "skill_id": "299", "skill_name": "Fuera", "date": "2026-03-05 10:00:00",
            "conn_id": "c.out", "ani": "1", "customer_id": "1",
            "voice_message_duration": "00:00:00", "type_interaction": "inbound",
            "result": "complete", "time": "00:00:10", "voice_message": "-",
            "feeling": "positive", "q01": "4", "q02": "-", "q03": "-", "q04": "-",
            "q05": "-", "q06": "-", "q07": "-", "q08": "-", "q09": "-", "q10": "-"}


def val(v):
    return None if v is None or v.strip(" ") == "" or v in PH else v


def num(t):
    try:
        return D(t)
    except decimal.InvalidOperation:
        return None


def r4(x):
    return None if x is None else x.quantize(D("0.0001"), decimal.ROUND_HALF_UP)


LABELS = {1: ("Overall satisfaction", D(1), D(5)), 2: (None, None, D(10))}


def expected(recs):
    surveys = []
    for r in recs:
        wall = datetime.datetime.strptime(r["date"], "%Y-%m-%d %H:%M:%S")
        s = {"conn_id": r["conn_id"], "wall": wall, "date": wall.date(),
             "utc": wall.replace(tzinfo=TZ).astimezone(datetime.timezone.utc),
             "agent_id": r["agent_id"], "name": val(r["agent_name"]),
             "skill_id": r["skill_id"], "sname": val(r["skill_name"]),
             "result": val(r["result"]), "feeling": val(r["feeling"]),
             "answers": {}}
        for q in range(1, 11):
            t = val(r["q%02d" % q])
            if t is not None:
                s["answers"][q] = (t, num(t))
        surveys.append(s)
    dims = {}
    for kind, idk, namek in (("agent", "agent_id", "name"), ("skill", "skill_id", "sname")):
        d = {}
        for s in sorted(surveys, key=lambda s: s["utc"]):
            e = d.setdefault(s[idk], {"name": None, "first": s["utc"], "last": s["utc"]})
            e["last"] = s["utc"]
            if s[namek] is not None:
                e["name"] = s[namek]
        dims[kind] = d
    return surveys, dims


def daily(surveys, dims, key, namekey):
    out = {}
    groups = collections.defaultdict(list)
    for s in surveys:
        groups[(s["date"], s[key])].append(s)
    for (day, k), ss in groups.items():
        n = len(ss)
        fk = [s for s in ss if s["feeling"] is not None]
        pos = sum(s["feeling"] == "positive" for s in ss)
        vpos = sum(s["feeling"] == "very positive" for s in ss)
        comp = sum(s["result"] == "complete" for s in ss)
        out[(day, k)] = (dims[k]["name"], n, comp, r4(D(comp) / n), len(fk), pos, vpos,
                         r4(D(pos + vpos) / len(fk)) if fk else None,
                         r4(D(vpos) / len(fk)) if fk else None)
    return out


def daily_q(surveys, key):
    out = {}
    groups = collections.defaultdict(list)
    for s in surveys:
        for q, (t, v) in s["answers"].items():
            groups[(s["date"], s[key], q)].append((t, v))
    for (day, k, q), aa in groups.items():
        nums = [v for _, v in aa if v is not None]
        dist = collections.Counter(t if v is None else
                                   str(int(v)) if v == v.to_integral_value() else str(v)
                                   for t, v in aa)
        smax = LABELS.get(q, (None, None, None))[2]
        top = None if smax is None else sum(v >= smax for v in nums)
        out[(day, k, q)] = (len(aa), len(nums), r4(sum(nums) / len(nums)) if nums else None,
                            dict(dist), top,
                            r4(D(top) / len(nums)) if smax is not None and nums else None)
    return out


def check(recs):
    import psycopg2
    conn = psycopg2.connect("")
    cur = conn.cursor()
    cur.execute("SET search_path TO wolkvox")
    surveys, dims = expected(recs)
    bad = []

    def eq(what, want, got):
        if want == got:
            return
        if isinstance(want, dict) and isinstance(got, dict):
            for k in sorted(set(want) | set(got), key=repr)[:400]:
                if want.get(k, "missing") != got.get(k, "missing"):
                    bad.append("%s %r: expected %r, got %r" % (what, k, want.get(k, "missing"),
                                                               got.get(k, "missing")))
        else:
            bad.append("%s: expected %r, got %r" % (what, want, got))

    # dimensions
    for kind in ("agent", "skill"):
        cur.execute("SELECT %s_id, %s_name, first_seen, last_seen FROM %s WHERE operation = 'test'"
                    % (kind, kind, kind))
        got = {r[0]: (r[1], r[2], r[3]) for r in cur.fetchall()}
        want = {k: (e["name"], e["first"], e["last"]) for k, e in dims[kind].items()}
        eq(kind + " dimension", want, got)
    # v_answer (and v_response through it)
    cur.execute("SELECT conn_id, question_no, local_date, answered_local, agent_name, skill_name,"
                " question, question_label, answer_text, answer_num, is_top FROM v_answer")
    got = {(r[0], r[1]): r[2:] for r in cur.fetchall()}
    want = {}
    for s in surveys:
        for q, (t, v) in s["answers"].items():
            label, smin, smax = LABELS.get(q, (None, None, None))
            want[(s["conn_id"], q)] = (
                s["date"], s["wall"], dims["agent"][s["agent_id"]]["name"],
                dims["skill"][s["skill_id"]]["name"], label or "q%02d" % q, label, t, v,
                None if smax is None or v is None else v >= smax)
    eq("v_answer rows", want, got)
    cur.execute("SELECT count(*) FROM v_response")
    eq("v_response rows", len(surveys), cur.fetchone()[0])
    # v_survey_wide
    cols = ", ".join("q%02d, q%02d_text" % (q, q) for q in range(1, 11))
    cur.execute("SELECT conn_id, local_date, agent_name, %s FROM v_survey_wide" % cols)
    got = {r[0]: r[1:] for r in cur.fetchall()}
    want = {}
    for s in surveys:
        row = [s["date"], dims["agent"][s["agent_id"]]["name"]]
        for q in range(1, 11):
            t, v = s["answers"].get(q, (None, None))
            row += [v, t]
        want[s["conn_id"]] = tuple(row)
    eq("v_survey_wide", want, got)
    # daily
    for kind, key, nk in (("agent", "agent_id", "name"), ("skill", "skill_id", "sname")):
        cur.execute("SELECT local_date, %s_id, %s_name, surveys, completed, completed_share,"
                    " with_feeling, positive, very_positive, positive_share, very_positive_share"
                    " FROM v_daily_%s" % (kind, kind, kind))
        got = {(r[0], r[1]): r[2:] for r in cur.fetchall()}
        eq("v_daily_" + kind, daily(surveys, dims[kind], key, nk), got)
        cur.execute("SELECT local_date, %s_id, question_no, answers, numeric_answers, answer_avg,"
                    " distribution, top, top_share FROM v_daily_%s_question" % (kind, kind))
        got = {(r[0], r[1], r[2]): (r[3], r[4], r[5], r[6], r[7], r[8]) for r in cur.fetchall()}
        eq("v_daily_%s_question" % kind, daily_q(surveys, key), got)
    for b in bad:
        print("MISMATCH " + b)
    if bad:
        sys.exit(1)
    print("ok: %d surveys, %d answers: every view matches" %
          (len(surveys), sum(len(s["answers"]) for s in surveys)))


if __name__ == "__main__":
    recs = records()
    if sys.argv[1] == "control":
        days = {"2026-02-28": 0, "2026-03-01": 0, "2026-03-02": 0, "2026-03-03": 0,
                "2026-03-04": 0}
        print(json.dumps({"per_day": days, "records": recs}))
    elif sys.argv[1] == "body":
        print(json.dumps({"code": 200, "error": None, "msg": "ok", "data": [outlier()]}))
    elif sys.argv[1] == "check":
        check(recs)
PY
bi() { "$WV_PY" "$WV_TMP/bi_records.py" "$@"; }

wv_control "$(bi control)"
wv_expect 0 backfill --from 2026-02-28 --to 2026-03-05
assert_eq 69 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response")" "69 surveys loaded"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window WHERE mode <> 'fast'")" \
	"every window took the fast path"
wv_expect 0 questions set 1 --label "Overall satisfaction" --min 1 --max 5
wv_expect 0 questions set 2 --max 10

# Surveys at 23:30 and 23:59:59 local belong to the local day, not the UTC one.
assert_eq "2026-03-01|2026-03-02" \
	"$(psql_q "SELECT local_date, (answered_at AT TIME ZONE 'UTC')::date FROM wolkvox.v_response WHERE conn_id = 'c.late'")" \
	"23:30 in Bogota: local date 2026-03-01, UTC date 2026-03-02"
assert_eq "Ana New" "$(psql_q "SELECT agent_name FROM wolkvox.agent WHERE agent_id = '1001'")" \
	"the renamed agent has its new name"
assert_eq 1 "$(psql_q "SELECT count(DISTINCT agent_name) FROM wolkvox.v_answer WHERE agent_id = '1001'")" \
	"one current name for the renamed agent in v_answer"
bi check

# Day 1 again, through the merge path: its surveys carry the old name, but
# an older survey does not bring an old name back.
wv_expect 0 backfill --from 2026-03-01 --to 2026-03-02 --reload
assert_eq 1 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window WHERE mode = 'merge'")" \
	"the reload merged"
assert_eq "Ana New" "$(psql_q "SELECT agent_name FROM wolkvox.agent WHERE agent_id = '1001'")" \
	"reloading an older day keeps the current name"
bi check

# A body whose record is dated outside the window it is replayed as: the
# record is rejected (t0801), so neither the views nor the dimensions see it.
bi body >"$WV_TMP/outlier.json"
wv_expect 1 replay "$WV_TMP/outlier.json" --from 2026-03-10 --to 2026-03-11
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.agent WHERE agent_id = '1099'")" \
	"a record dated outside its window does not reach the dimensions"
bi check
