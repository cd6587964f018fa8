#!/usr/bin/python3
"""
tests/server/test_mock.py
    Self-test of the mock Wolkvox API (tests/server/wolkvox_mock.py): the
    tests of wvetl are only as good as the server they talk to, so this
    checks that the mock keeps the documented behaviour the other tests rely
    on (envelope, error messages, 404 for empty windows, the record cap,
    split windows giving the same records, limits counted as violations,
    every fault kind, the control plane).

    usage: test_mock.py URL TOKEN     (URL: the reports_manager.php address)
    Run by tests/integration/t0000-mock.sh against a fresh server.
"""

import http.client
import json
import sys
import threading
import time
import urllib.parse
import urllib.request

URL, TOKEN = sys.argv[1], sys.argv[2]
U = urllib.parse.urlsplit(URL)
BASE = "%s://%s" % (U.scheme, U.netloc)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def api(ini, end, token=TOKEN, report="diagram_4", timeout=30):
    """(status, parsed body or raw text) of one API request."""
    q = urllib.parse.urlencode({"api": report, "date_ini": ini,
                                "date_end": end})
    c = http.client.HTTPConnection(U.hostname, U.port, timeout=timeout)
    headers = {"wolkvox-token": token} if token is not None else {}
    c.request("GET", U.path + "?" + q, headers=headers)
    r = c.getresponse()
    body = r.read()
    c.close()
    try:
        return r.status, json.loads(body)
    except ValueError:
        return r.status, body


def control(obj):
    req = urllib.request.Request(BASE + "/_control",
                                 data=json.dumps(obj).encode(),
                                 method="POST")
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def stats():
    with urllib.request.urlopen(BASE + "/_stats") as r:
        return json.load(r)


def records(ini, end):
    with urllib.request.urlopen("%s/_records?date_ini=%s&date_end=%s"
                                % (BASE, ini, end)) as r:
        return json.load(r)


def raw_get(ini, end, read_timeout):
    """Headers and whatever body bytes arrive before EOF or timeout."""
    import socket
    s = socket.create_connection((U.hostname, U.port))
    s.settimeout(read_timeout)
    s.sendall(("GET %s?api=diagram_4&date_ini=%s&date_end=%s HTTP/1.1\r\n"
               "Host: x\r\nwolkvox-token: %s\r\n\r\n"
               % (U.path, ini, end, TOKEN)).encode())
    data, timed_out = b"", False
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except socket.timeout:
        timed_out = True
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode(), body, timed_out


def test_errors():
    st, b = api("20260105000000", "20260105235959", token=None)
    check(st == 401 and b["msg"] == "PLEASE ENTER THE WOLKVOX-TOKEN",
          "missing token -> 401")
    st, b = api("20260105000000", "20260105235959", token="nope")
    check(st == 403 and b["msg"] == "PLEASE VALIDATE TOKEN",
          "wrong token -> 403 PLEASE VALIDATE TOKEN")
    st, b = api("20260105000000", "20260105235959", report="diagram_9")
    check(st == 400 and b["msg"] == "THE API YOU WANT TO CONSULT DOES NOT EXIST",
          "other api -> 400")
    st, b = api("2026-01-05", "20260105235959")
    check(st == 400 and b["msg"] == "SOME PARAMETERS ARE REQUIRED",
          "bad date -> 400")
    st, b = api("20260101000000", "20260201000000")
    check(st == 400, "32-day range -> 400")
    st, _ = api("20260101000000", "20260131235959")
    check(st == 200, "31-day range accepted")
    s = stats()
    check([v["kind"] for v in s["violations"]] == ["range"],
          "range counted as a violation: %r" % s["violations"])
    check(s["tokens_seen_other"] == 1, "tokens_seen_other")


def test_data():
    st, b = api("20260105000000", "20260105235959")
    check(st == 200 and str(b["code"]) == "200" and b["error"] is None,
          "200 envelope")
    recs = records("20260105000000", "20260105235959")
    check(b["data"] == recs and len(recs) == 40,
          "API data == /_records, 40 per day (%d)" % len(recs))
    # Split windows give the same records in the same order.
    halves = []
    for ini, end in (("20260105000000", "20260105115959"),
                     ("20260105120000", "20260105235959")):
        halves += api(ini, end)[1]["data"]
    check(halves == recs, "two halves == whole day")
    two = api("20260105000000", "20260106235959")[1]["data"]
    check(two == recs + records("20260106000000", "20260106235959"),
          "two days == day + day")
    codes = set()
    for d in range(1, 20):
        st, b = api("202601%02d000000" % d, "202601%02d235959" % d)
        codes.add(type(b["code"]).__name__)
    check(codes == {"int", "str"}, "code as number and string: %r" % codes)
    kinds = set()
    for d in range(0, 24):
        st, b = api("20260105%02d0001" % d, "20260105%02d0001" % d)
        if st == 404:
            check(b["msg"] == "Validate dates entered", "404 msg")
            kinds.add(repr(b.get("data", "missing")))
    check(kinds == {"'missing'", "None", "[]"},
          "404 data missing/null/[]: %r" % kinds)
    # The awkward cases are all there in one day.
    txt = json.dumps(recs)
    for needle in ("\\u0000", "125:00:00", "\"abc\"", "\"si\"", "\"Q11\"",
                   "T0", "\"campaign\"", "\"n/a\""):
        check(needle in txt, "day holds %s" % needle)
    check(sum(1 for r in recs if "date" not in r) >= 1, "a dateless record")
    ids = [(r["conn_id"], r.get("date"), r["agent_id"], r["skill_id"])
           for r in recs]
    check(len(ids) - len(set(ids)) == 2, "two in-answer duplicates")


def test_cap_and_control():
    control({"per_day": {"2026-02-01": 70000}, "max_records": 60000})
    st, b = api("20260201000000", "20260201235959", timeout=120)
    check(st == 200 and len(b["data"]) == 60000,
          "capped at 60000: %d" % len(b["data"]))
    full = records("20260201000000", "20260201235959")
    check(len(full) == 70000 and full[:60000] == b["data"],
          "cap serves the first 60000")
    check(full[60000:] == api("20260201170000", "20260201235959",
                              timeout=120)[1]["data"][-10000:],
          "later part of a split")
    rec = {"agent_id": "9", "date": "2026-03-01 10:00:00",
           "conn_id": "x.1", "skill_id": "1", "q01": "5"}
    bad = {"agent_id": "9", "date": "-", "conn_id": "x.2",
           "_mock_at": "2026-03-01 10:00:00"}
    control({"records": [rec, bad], "per_day": {"2026-03-01": 0}})
    st, b = api("20260301000000", "20260301235959")
    check(st == 200 and b["data"] == [rec, {k: v for k, v in bad.items()
                                            if k != "_mock_at"}],
          "fixed records served: %r" % (b,))
    st, b = api("20260301100001", "20260301235959")
    check(st == 404, "fixed records filtered by time")


def test_faults():
    control({"reset": True})
    control({"faults": [{"status": 403, "msg": "Servidor en mantenimiento",
                         "times": 2}, {"status": 500, "times": 1}]})
    got = [api("20260105000000", "20260105235959")[0] for _ in range(4)]
    check(got == [403, 403, 500, 200], "403 x2, 500, then 200: %r" % got)
    control({"faults": [{"body": "<html>oops</html>", "status": 200,
                         "content_type": "text/html"}]})
    st, b = api("20260105000000", "20260105235959")
    check(st == 200 and b == b"<html>oops</html>", "html body fault")
    control({"faults": [{"status": 403, "msg": "TOKEN LIMIT EXCEEDED",
                         "after": 2, "times": 1000}]})
    got = [api("20260105000000", "20260105235959")[0] for _ in range(4)]
    check(got == [200, 200, 403, 403], "limit after 2: %r" % got)
    control({"reset": True})
    control({"faults": [{"cut_after": 100}]})
    head, body, _ = raw_get("20260105000000", "20260105235959", 10)
    check("Content-Length" in head and len(body) == 100, "cut after 100")
    control({"faults": [{"stall": True}]})
    t0 = time.time()
    head, body, timed_out = raw_get("20260105000000", "20260105235959", 1)
    check(timed_out and len(body) == 16 and time.time() - t0 < 5, "stall")
    control({"faults": [{"delay": 1}]})
    t0 = time.time()
    st, _ = api("20260105000000", "20260105235959")
    check(st == 200 and time.time() - t0 >= 1, "delay 1 s")
    time.sleep(0.3)
    s = stats()
    check(s["violations"] == [] and s["max_in_flight"] == 1,
          "no violation from sequential requests: %r" % s["violations"])


def test_concurrency():
    control({"reset": True, "faults": [{"delay": 1, "times": 3}]})
    out = []
    ts = [threading.Thread(target=lambda: out.append(
        api("20260105000000", "20260105235959")[0])) for _ in range(3)]
    for t in ts:
        t.start()
        time.sleep(0.1)
    for t in ts:
        t.join()
    s = stats()
    check(sorted(out) == [200, 200, 403], "third in flight -> 403: %r" % out)
    check(s["max_in_flight"] == 3 and
          sum(v["kind"] == "concurrent" for v in s["violations"]) == 2,
          "concurrency violations counted: %r" % s)


def api_encoded(ini, end, accept):
    """(status, Content-Encoding, raw body bytes) with that Accept-Encoding."""
    q = urllib.parse.urlencode({"api": "diagram_4", "date_ini": ini,
                                "date_end": end})
    c = http.client.HTTPConnection(U.hostname, U.port, timeout=30)
    h = {"wolkvox-token": TOKEN}
    if accept is not None:
        h["Accept-Encoding"] = accept
    c.request("GET", U.path + "?" + q, headers=h)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheader("Content-Encoding"), body


def test_encoding_trickle_log():
    import zlib
    # (answers vary in code and msg from one to the next: compare data)
    plain = api_encoded("20260105000000", "20260105235959", "gzip")
    check(plain[1] is None, "no encoding unless asked by control")
    plain = json.loads(plain[2])["data"]
    control({"encoding": "gzip"})
    st, enc, body = api_encoded("20260105000000", "20260105235959",
                                "deflate, gzip;q=1.0")
    check(st == 200 and enc == "gzip" and
          json.loads(zlib.decompress(body, 31))["data"] == plain,
          "gzip answer")
    st, enc, body = api_encoded("20260105000000", "20260105235959", None)
    check(enc is None and json.loads(body)["data"] == plain,
          "not offered: identity")
    control({"encoding": "deflate"})
    st, enc, body = api_encoded("20260105000000", "20260105235959",
                                "gzip, deflate")
    check(enc == "deflate" and json.loads(zlib.decompress(body))["data"]
          == plain, "deflate answer")
    # a big (chunked) answer and an error envelope are encoded too
    control({"encoding": "gzip", "per_day": {"2026-01-06": 3000}})
    st, enc, body = api_encoded("20260106000000", "20260106235959", "gzip")
    check(enc == "gzip" and len(json.loads(zlib.decompress(body, 31))
                                ["data"]) == 3000, "chunked gzip answer")
    control({"faults": [{"status": 500}]})
    st, enc, body = api_encoded("20260106000000", "20260106235959", "gzip")
    check(st == 500 and enc == "gzip" and
          json.loads(zlib.decompress(body, 31))["code"] == 500,
          "gzip error answer")
    s = stats()
    check(s["encodings"] == {"gzip": 3, "deflate": 1},
          "encodings counted: %r" % s["encodings"])
    check([e["status"] for e in s["log"]] == [200, 200, 200, 200, 200, 500]
          and all(e["end"] >= e["start"] for e in s["log"]) and
          s["log"][0]["window"] == ["20260105000000", "20260105235959"],
          "request log: %r" % s["log"])
    control({"reset": True})
    control({"faults": [{"trickle": 1}]})
    t0 = time.time()
    st, b = api("20260105000000", "20260105235959")
    check(st == 200 and b["data"] == plain and time.time() - t0 >= 0.9,
          "trickle: whole body over 1 s")
    e = stats()["log"][0]
    check(e["end"] - e["start"] >= 0.9, "trickle logged: %r" % e)


def settled_log(n):
    """The request log once it holds n entries (an entry is added just
    after its answer went out: the client may be faster)."""
    for _ in range(500):
        log = stats()["log"]
        if len(log) >= n:
            return log
        time.sleep(0.01)
    return stats()["log"]


def test_tokens():
    """Extra tokens, faults for one token, await_other_token, and the
    request log's token numbers and done times."""
    control({"reset": True, "tokens": ["second-token-5e1d"]})
    st, _ = api("20260105000000", "20260105235959", token="second-token-5e1d")
    check(st == 200, "an extra token is accepted: %r" % st)
    st, b = api("20260105000000", "20260105235959", token="not-a-token")
    check(st == 403 and b["msg"] == "PLEASE VALIDATE TOKEN",
          "an unknown token is refused")
    # a fault for token 1 is not taken by token 0's request
    control({"faults": [{"status": 500, "token": 1}]})
    st0, _ = api("20260106000000", "20260106235959")
    st1, _ = api("20260106000000", "20260106235959", token="second-token-5e1d")
    check(st0 == 200 and st1 == 500, "per-token fault: %r %r" % (st0, st1))
    log = sorted(settled_log(4), key=lambda e: e["start"])
    check([e["token"] for e in log] == [1, -1, 0, 1],
          "token numbers in the log: %r" % log)
    check(all(e["start"] <= e["done"] <= e["end"] for e in log),
          "done between start and end: %r" % log)
    # await_other_token: token 0 is held until token 1 is in flight
    control({"reset": True, "tokens": ["second-token-5e1d"],
             "faults": [{"await_other_token": 20, "token": 0}]})
    out = []
    t = threading.Thread(target=lambda: out.append(
        api("20260105000000", "20260105235959")[0]))
    t0 = time.time()
    t.start()
    while stats()["data_requests"] < 1:
        time.sleep(0.02)
    st1, _ = api("20260105000000", "20260105235959", token="second-token-5e1d")
    t.join()
    log = sorted(settled_log(2), key=lambda e: e["start"])
    check(out == [200] and st1 == 200 and time.time() - t0 < 15,
          "await_other_token answers once the other token came: %r" % out)
    check([e["token"] for e in log] == [0, 1] and
          log[1]["start"] < log[0]["done"],
          "the two requests overlap: %r" % log)
    control({"reset": True})
    st, _ = api("20260105000000", "20260105235959", token="second-token-5e1d")
    check(st == 403, "reset forgets the extra tokens")
    settled_log(1)


def test_big_stream():
    control({"reset": True, "per_day": {"2026-04-01": 50000}})
    t0 = time.time()
    st, b = api("20260401000000", "20260401235959", timeout=120)
    check(st == 200 and len(b["data"]) == 50000, "50000 streamed")
    print("50000 records in %.1f s" % (time.time() - t0))


for t in (test_errors, test_data, test_cap_and_control, test_faults,
          test_concurrency, test_encoding_trickle_log, test_tokens,
          test_big_stream):
    control({"reset": True})
    t()
print("mock self-test: %d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
