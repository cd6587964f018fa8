#!/usr/bin/python3
"""
bench/profile.py
    Where the time of a load goes, for the benchmark's report. Run inside a
    throwaway cluster like bench.py (`BENCH_PROFILE=1 bash bench/run.sh`),
    on the benchmark's data (BENCH_N records, default 100000):

      copy      each final table's COPY alone, one session, text format
                as wvetl and psql send it, then binary format (the same
                rows, written by COPY TO): the server's cost per table and
                what the input parsing of text costs
      explain   wvetl backfill --reload with auto_explain on its session:
                EXPLAIN ANALYZE of every statement of the merge
      perf      `perf record -g` attached to the server backend(s) of
                wvetl_new and of the floor: the server's top functions
      callgrind wvetl_new under valgrind --tool=callgrind: the client's
                top functions (instructions)

    BENCH_PROFILE_STEPS picks steps ("copy explain perf callgrind").
    Output goes to stdout and to bench/results/profile-<date>/.
"""

import datetime
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from bench import ANSWER_COLS, RESPONSE_COLS, SCHEMA, psql  # noqa: E402

DAY = "2026-03-02"


def say(out, text):
    print(text)
    out.write(text + "\n")
    out.flush()


def copy_step(b, out, reps):
    """Each table alone, text then binary, on a truncated warehouse."""
    w = b.work
    files = {"survey_response": (RESPONSE_COLS, "survey_response.copy"),
             "survey_answer": (ANSWER_COLS, "survey_answer.copy")}
    b.fresh()
    for t, (cols, f) in files.items():
        psql("\\copy %s.%s (%s) FROM '%s'" % (SCHEMA, t, cols,
                                               os.path.join(w, f)))
        psql("\\copy (SELECT %s FROM %s.%s) TO '%s' WITH (FORMAT binary)"
             % (cols, SCHEMA, t, os.path.join(w, t + ".bin")))
    say(out, "\n## copy: one session per table, server CPU s (median of %d)"
        % reps)
    say(out, "| table | text | binary | binary saves |")
    say(out, "|---|---:|---:|---:|")
    for t, (cols, f) in files.items():
        res = {}
        for fmt, path, opt in (("text", f, ""),
                               ("binary", t + ".bin", " WITH (FORMAT binary)")):
            cpu = []
            for _ in range(reps):
                b.fresh()
                m = b.timed("copy", [[
                    "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                    "\\copy %s.%s (%s) FROM '%s'%s" % (
                        SCHEMA, t, cols, os.path.join(w, path), opt)]])
                cpu.append(m["server_cpu_s"])
            res[fmt] = statistics.median(cpu)
        say(out, "| %s | %.2f | %.2f | %.0f%% |" % (
            t, res["text"], res["binary"],
            100 * (1 - res["binary"] / res["text"])))


def server_log():
    """The throwaway cluster's log file (pg_virtualenv keeps it beside its
    configuration), or None."""
    root = os.environ.get("PG_CLUSTER_CONF_ROOT")
    if not root:
        return None
    logdir = os.path.join(os.path.dirname(root), "log")
    try:
        names = sorted(os.listdir(logdir))
    except OSError:
        return None
    return os.path.join(logdir, names[-1]) if names else None


def explain_step(b, out, n):
    """auto_explain on wvetl's own session during a reload; the plans are
    read from the server's log."""
    b.fresh()
    b.version(0)
    b.timed("explain_new", [b.wvetl_cmd(DAY)])
    b.version(1)
    path = server_log()
    if path is None:
        say(out, "\n## explain: the server log was not found")
        return
    start = os.path.getsize(path)
    env = dict(os.environ, PGOPTIONS=(
        "-c session_preload_libraries=auto_explain "
        "-c auto_explain.log_min_duration=20 -c auto_explain.log_analyze=on "
        "-c auto_explain.log_buffers=on -c auto_explain.log_timing=on "
        "-c auto_explain.log_nested_statements=on"))
    r = subprocess.run(b.wvetl_cmd(DAY, True), env=env, capture_output=True,
                       text=True)
    say(out, "\n## explain: wvetl backfill --reload of %d records, "
        "statements over 20 ms (auto_explain)" % n)
    say(out, [x for x in r.stderr.splitlines() if "summary" in x][-1])
    say(out, "```")
    with open(path, errors="replace") as f:
        f.seek(start)
        for line in f:
            if "checkpoint" in line or "HINT:" in line:
                continue
            say(out, line.rstrip()[:400])
    say(out, "```")


def backend_pids():
    return [int(x) for x in psql(
        "SELECT pid FROM pg_stat_activity WHERE backend_type = "
        "'client backend' AND pid <> pg_backend_pid() AND state <> 'idle'"
        ).split()]


def perf_step(b, out, n):
    """perf record -g attached to the busy backends of a case."""
    if shutil.which("perf") is None:
        say(out, "\n## perf: not installed (linux-perf)")
        return
    for case in ("wvetl_new", "floor"):
        b.fresh()
        b.version(0)
        if case == "wvetl_new":
            cmds = [b.wvetl_cmd(DAY)]
        else:
            cmds = [["psql", "-X", "-q", "-c", "\\copy %s.%s (%s) FROM '%s'"
                     % (SCHEMA, t, c, os.path.join(b.work, t + ".copy"))]
                    for t, c in (("survey_response", RESPONSE_COLS),
                                 ("survey_answer", ANSWER_COLS))]
        procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for c in cmds]
        pids, deadline = [], time.monotonic() + 10
        while len(pids) < len(cmds) and time.monotonic() < deadline:
            pids = backend_pids()
            time.sleep(0.05)
        data = os.path.join(b.work, "perf.%s.data" % case)
        perf = subprocess.Popen(
            ["perf", "record", "-q", "-g", "-o", data, "-p",
             ",".join(map(str, pids))], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        for p in procs:
            p.wait()
        perf.terminate()
        perf.wait()
        rep = subprocess.run(
            ["perf", "report", "-i", data, "--no-children", "--stdio",
             "--sort", "sym", "-g", "none", "--percent-limit", "1.5"],
            capture_output=True, text=True).stdout
        say(out, "\n## perf: server backend(s) of %s, %d records "
            "(self time, symbols over 1.5%%)" % (case, n))
        for line in rep.splitlines():
            if line.strip() and not line.startswith("#"):
                say(out, line.rstrip())


def callgrind_step(b, out, n):
    """The client under callgrind: instructions by function."""
    if shutil.which("valgrind") is None:
        say(out, "\n## callgrind: valgrind not installed")
        return
    b.fresh()
    b.version(0)
    cg = os.path.join(b.work, "callgrind.out")
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg]
                   + b.wvetl_cmd(DAY), capture_output=True, check=True)
    rep = subprocess.run(["callgrind_annotate", "--inclusive=no", cg],
                         capture_output=True, text=True).stdout
    say(out, "\n## callgrind: wvetl_new client, %d records (self "
        "instructions, top 25)" % n)
    lines = [x for x in rep.splitlines() if re.match(r"^\s*[0-9,]+ \(", x)
             or "PROGRAM TOTALS" in x]
    for line in lines[:26]:
        say(out, line.rstrip())


def main():
    n = int(os.environ.get("BENCH_N", "100000").split()[0])
    steps = os.environ.get("BENCH_PROFILE_STEPS",
                           "copy explain perf callgrind").split()
    work = tempfile.mkdtemp(prefix="wvetl-profile.")
    outdir = os.path.join(os.environ.get("BENCH_OUT", os.path.join(
        bench.HERE, "results")), "profile-%s" %
        datetime.datetime.now().strftime("%Y%m%d-%H%M"))
    os.makedirs(outdir, exist_ok=True)
    b = bench.Bench(work)
    try:
        b.start_mock()
        r = subprocess.run([b.wvetl, "-q", "-c", b.conf, "migrate"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("profile: wvetl migrate failed:\n" + r.stderr)
        b.server = bench.Server()
        b.setup_day(DAY, n)
        subprocess.run([bench.PY, os.path.join(bench.HERE, "floor.py"),
                        b.url, bench.TOKEN, DAY, "2026-03-03", work],
                       check=True, capture_output=True)
        with open(os.path.join(outdir, "profile.md"), "w") as out:
            say(out, "# profile, %d records; %s" % (n, bench.machine_line()))
            for s in steps:
                {"copy": lambda: copy_step(b, out, b.reps),
                 "explain": lambda: explain_step(b, out, n),
                 "perf": lambda: perf_step(b, out, n),
                 "callgrind": lambda: callgrind_step(b, out, n)}[s]()
        print("\nwritten: %s" % os.path.relpath(outdir, bench.TOP))
    finally:
        b.stop_mock()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
