#!/usr/bin/python3
"""
bench/ab.py
    A/B of two wvetl builds on the benchmark's data, in alternating order,
    so that the machine's noise falls on both alike: each repetition times
    a new window (truncated warehouse) and then its reload (~10% of the
    records changed) with build A, then the same with build B. Run inside a
    throwaway cluster like bench.py:

      make ab A=/path/to/old/wvetl B=bin/wvetl

    (bench/run.sh runs this file when WV_BENCH_AB is set.) Environment:
    AB_A, AB_B (the two binaries), BENCH_N (one N, default 1000000),
    BENCH_REPS (default 3), BENCH_QUESTIONS (6). Prints each run and the
    medians; writes nothing.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

DAY = "2026-03-02"


def main():
    a, b_ = os.environ["AB_A"], os.environ["AB_B"]
    n = int(os.environ.get("BENCH_N", "1000000").split()[0])
    work = tempfile.mkdtemp(prefix="wvetl-ab.")
    b = bench.Bench(work)
    times = {(w, c): [] for w in "AB" for c in ("new", "reload")}
    try:
        b.start_mock()
        r = subprocess.run([b.wvetl, "-q", "-c", b.conf, "migrate"],
                                 capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("ab: wvetl migrate failed:\n" + r.stderr)
        b.server = bench.Server()
        b.setup_day(DAY, n)
        for rep in range(b.reps):
            for which, binary in (("A", a), ("B", b_)):
                for case, reload in (("new", False), ("reload", True)):
                    if reload:
                        b.version(1)
                        bench.psql("CHECKPOINT")
                    else:
                        b.fresh()
                        b.version(0)
                    argv = [binary] + b.wvetl_cmd(DAY, reload)[1:]
                    m = b.timed("ab", [argv])
                    times[(which, case)].append(m["seconds"])
                    bench.log("rep %d %s %-6s %6.2f s  server cpu %.2f s" % (
                        rep + 1, which, case, m["seconds"], m["server_cpu_s"]))
    finally:
        b.stop_mock()
        shutil.rmtree(work, ignore_errors=True)
    print("N=%d, %d repetitions; A=%s B=%s" % (n, b.reps, a, b_))
    for case in ("new", "reload"):
        print("%-6s A median %6.2f s  B median %6.2f s" % (
            case, statistics.median(times[("A", case)]),
            statistics.median(times[("B", case)])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
