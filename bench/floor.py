#!/usr/bin/python3
"""
bench/floor.py
    Writes the benchmark's floor: the rows a window must become, as two
    COPY text files (survey_response.copy, survey_answer.copy) that
    `psql \\copy` loads into the final tables. The rows are built by the
    benchmark's own code (bench/baseline.py's record_rows), never by wvetl,
    from the answer the mock API serves for the window. Not timed: the
    floor is what PostgreSQL needs to take these rows in, with no client
    work in front of it.

usage: floor.py URL TOKEN FROM TO OUTDIR [--operation OP] [--tz Z]
    Prints one JSON object: records, answers, body_bytes (the answer's
    size), response_bytes, answer_bytes.
"""

import argparse
import datetime
import json
import os
import sys
import urllib.parse
import urllib.request
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baseline  # noqa: E402  (the benchmark's own normalizer)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("token")
    p.add_argument("date_from", type=datetime.date.fromisoformat)
    p.add_argument("date_to", type=datetime.date.fromisoformat)
    p.add_argument("outdir")
    p.add_argument("--operation", default="bench")
    p.add_argument("--tz", default="America/Bogota")
    a = p.parse_args()
    tz = zoneinfo.ZoneInfo(a.tz)
    end = datetime.datetime.combine(a.date_to, datetime.time()) - \
        datetime.timedelta(seconds=1)
    q = urllib.parse.urlencode({
        "api": "diagram_4",
        "date_ini": a.date_from.strftime("%Y%m%d000000"),
        "date_end": end.strftime("%Y%m%d%H%M%S")})
    req = urllib.request.Request(a.url + "?" + q,
                                 headers={"wolkvox-token": a.token})
    with urllib.request.urlopen(req) as r:
        body = r.read()
    doc = json.loads(body)
    n = na = 0
    rpath = os.path.join(a.outdir, "survey_response.copy")
    apath = os.path.join(a.outdir, "survey_answer.copy")
    with open(rpath, "w") as rf, open(apath, "w") as af:
        for rec in doc.get("data") or []:
            rows = baseline.record_rows(rec, a.operation, tz, 0)
            if rows is None:
                continue
            rf.write(rows[0])
            af.writelines(rows[1])
            n += 1
            na += len(rows[1])
    print(json.dumps({"records": n, "answers": na, "body_bytes": len(body),
                      "response_bytes": os.path.getsize(rpath),
                      "answer_bytes": os.path.getsize(apath)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
