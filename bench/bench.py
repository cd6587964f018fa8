#!/usr/bin/python3
"""
bench/bench.py
    The benchmark behind `make bench` (bench/run.sh starts it inside a
    throwaway PostgreSQL cluster, PG* variables set). For each N of
    BENCH_N it times, on the same database and the same mock API answer,
    each case BENCH_REPS times (median reported), cases interleaved so that
    the machine's noise falls on all of them alike:

      wvetl_new     wvetl backfill of a window new to the warehouse (the
                    fast path), truncated warehouse
      wvetl_reload  wvetl backfill --reload of the same window over the
                    rows just loaded, the mock serving ~10% of the records
                    changed (merge path)
      floor         two `psql \\copy` of the same rows, written by the
                    benchmark's own code (floor.py), into the same final
                    tables, started together; time until both finish
      python        bench/baseline.py: urllib + json.load + psycopg2
                    copy_expert into the same tables
      floor_1tx     the floor's two `\\copy` in one session and one
                    transaction, one after the other: what PostgreSQL
                    allows a loader that commits a window atomically (one
                    transaction is one backend); a reference, not a target

    Every case runs under /usr/bin/time -v (peak RSS, client CPU); the
    server's CPU is what the postmaster's children used meanwhile. The
    first repetition checks that wvetl, the floor and the baseline leave
    the same rows (a checksum of every contract column). Then wvetl's peak
    RSS is measured at answers of BENCH_SIZES MiB. Prints one table and
    writes it as CSV (and Markdown) under bench/results/.

Environment: BENCH_N ("100000 1000000"), BENCH_REPS (3), BENCH_SIZES
("1 32 256"), BENCH_QUESTIONS (6), BENCH_WVETL (bin/wvetl), BENCH_OUT
(bench/results).
"""

import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PY = "/usr/bin/python3"
TOKEN = "bench-token"
TZ = "America/Bogota"
SCHEMA = "wolkvox"
CASES = ("wvetl_new", "wvetl_reload", "floor", "python", "floor_1tx")
RESPONSE_COLS = ("response_id, operation, conn_id, agent_id, agent_name, "
                 "agent_dni, skill_id, skill_name, answered_at, ani, "
                 "customer_id, voice_message_duration_s, type_interaction, "
                 "result, duration_s, voice_message, feeling, extras, run_id")
ANSWER_COLS = "response_id, question_no, answer_text, answer_num"
TRUNCATE = ("TRUNCATE survey_response, survey_answer, etl_window, "
            "etl_reject, etl_state, etl_run")
# Order-independent checksum of every contract column of both tables.
CHECKSUM = """
SELECT (SELECT count(*) || ':' || coalesce(sum(hashtextextended(ROW(
          r.response_id, r.operation, r.conn_id,
          extract(epoch FROM r.answered_at)::bigint, r.agent_id, r.agent_name,
          r.agent_dni, r.skill_id, r.skill_name, r.ani, r.customer_id,
          r.voice_message_duration_s, r.type_interaction, r.result,
          r.duration_s, r.voice_message, r.feeling, r.extras::text)::text,
          0)::numeric), 0) FROM survey_response r)
    || ' ' ||
       (SELECT count(*) || ':' || coalesce(sum(hashtextextended(ROW(
          a.response_id, a.question_no, a.answer_text, a.answer_num)::text,
          0)::numeric), 0) FROM survey_answer a)
"""


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def env_list(name, default):
    return [int(x) for x in os.environ.get(name, default).split()]


def psql(sql, db=None):
    """Run SQL in the benchmark's database (search_path = the schema)."""
    env = dict(os.environ, PGOPTIONS="-c search_path=%s" % SCHEMA)
    if db:
        env["PGDATABASE"] = db
    r = subprocess.run(["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                        "-c", sql], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("bench: psql failed: %s\n%s" % (sql[:80], r.stderr))
    return r.stdout.strip()


def parse_time_v(path):
    """/usr/bin/time -v output -> (peak RSS KiB, user s, sys s, status)."""
    text = open(path).read()

    def num(label):
        m = re.search(re.escape(label) + r":\s*([0-9.]+)", text)
        return float(m.group(1)) if m else 0.0
    return (int(num("Maximum resident set size (kbytes)")),
            num("User time (seconds)"), num("System time (seconds)"),
            int(num("Exit status")))


class Server:
    """The PostgreSQL server's CPU time, from /proc: the postmaster's
    reaped children (backends that have exited) plus its live children."""

    def __init__(self):
        ddir = psql("SHOW data_directory")
        try:
            with open(os.path.join(ddir, "postmaster.pid")) as f:
                self.pid = int(f.readline())
        except OSError:
            self.pid = None
        self.tick = os.sysconf("SC_CLK_TCK")

    def _stat(self, pid):
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        return s[s.rindex(")") + 2:].split()

    def sample(self):
        """(CPU seconds so far, number of client backends, live or not yet
        reaped)."""
        if self.pid is None:
            return 0.0, 0
        try:
            st = self._stat(self.pid)
            total = sum(int(x) for x in st[11:15])  # utime stime cutime cstime
            kids = 0
            for task in os.listdir("/proc"):
                if not task.isdigit():
                    continue
                try:
                    c = self._stat(int(task))
                except OSError:
                    continue
                if int(c[1]) == self.pid:
                    total += int(c[11]) + int(c[12])
                    kids += c[0] == "Z" or self._is_backend(int(task))
            return total / self.tick, kids
        except OSError:
            return 0.0, 0

    @staticmethod
    def _is_backend(pid):
        """A client's backend ("postgres: .. user db host(port) ..")."""
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                return b"(" in f.read() or False
        except OSError:
            return False

    def cpu_idle(self):
        """CPU seconds so far, once no client backend is left (those of
        clients that just ended have exited and been reaped) and two
        samples in a row agree (a child reaped during a sample's scan of
        /proc would be missed). Polled, at most 5 s."""
        deadline = time.monotonic() + 5
        last = None
        while True:
            cpu, kids = self.sample()
            if kids == 0 and cpu == last or time.monotonic() > deadline:
                return cpu
            last = cpu if kids == 0 else None
            time.sleep(0.02)


class Bench:
    def __init__(self, work):
        self.work = work
        self.wvetl = os.path.join(work, "wvetl")
        shutil.copy2(os.environ.get("BENCH_WVETL",
                                    os.path.join(TOP, "bin", "wvetl")),
                     self.wvetl)
        self.reps = int(os.environ.get("BENCH_REPS", "3"))
        self.questions = int(os.environ.get("BENCH_QUESTIONS", "6"))
        self.mock = None
        self.results = []          # dict rows for the CSV
        self.checks = []           # (what, ok, detail)

    # -- the mock API and wvetl's config ----------------------------------

    def start_mock(self):
        pf = os.path.join(self.work, "mock.port")
        self.mock_log = open(os.path.join(self.work, "mock.log"), "w")
        self.mock = subprocess.Popen(
            [PY, os.path.join(TOP, "tests", "server", "wolkvox_mock.py"),
             "--port", "0", "--port-file", pf, "--token", TOKEN, "--tz", TZ,
             "--max-records", "100000000"],
            stdout=self.mock_log, stderr=subprocess.STDOUT)
        for _ in range(200):
            if os.path.exists(pf):
                break
            time.sleep(0.05)
        self.port = int(open(pf).read())
        self.url = "http://127.0.0.1:%d/api/v2/reports_manager.php" % self.port
        self.conf = os.path.join(self.work, "wvetl.ini")
        fd = os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("[api]\nbase_url = %s\ntoken = %s\ntimezone = %s\n"
                    "max_records = 100000000\nwindow = 1d\n"
                    "[database]\nconninfo =\nschema = %s\n"
                    "[sync]\noperation = bench\n"
                    % (self.url, TOKEN, TZ, SCHEMA))

    def stop_mock(self):
        if self.mock is not None:
            self.mock.terminate()
            self.mock.wait()
            self.mock = None

    def mock_cpu(self):
        try:
            with open("/proc/%d/stat" % self.mock.pid) as f:
                s = f.read()
            st = s[s.rindex(")") + 2:].split()
            return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return 0.0

    def control(self, obj):
        req = urllib.request.Request(
            "http://127.0.0.1:%d/_control" % self.port,
            data=json.dumps(obj).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as r:
            r.read()

    def version(self, v):
        self.control({"bench": {"questions": self.questions, "version": v}})

    def prefetch(self, day):
        """Fetch the window once, untimed: the mock builds and keeps the
        encoded answer, so no timed case pays for generating it."""
        d0 = datetime.date.fromisoformat(day)
        q = "api=diagram_4&date_ini=%s000000&date_end=%s235959" % (
            d0.strftime("%Y%m%d"), d0.strftime("%Y%m%d"))
        req = urllib.request.Request(self.url + "?" + q,
                                     headers={"wolkvox-token": TOKEN})
        n = 0
        with urllib.request.urlopen(req, timeout=600) as r:
            while True:
                b = r.read(1 << 20)
                if not b:
                    break
                n += len(b)
        return n

    def setup_day(self, day, n, versions=(1, 0)):
        """Day `day` with n records in these versions, answers pre-built
        (the last version given stays selected)."""
        for v in versions:
            self.control({"bench": {"questions": self.questions,
                                    "version": v},
                          "per_day": {day: n}, "warm": day})
            size = self.prefetch(day)
        return size

    # -- timing ---------------------------------------------------------

    def fresh(self):
        psql(TRUNCATE)
        psql("CHECKPOINT")

    def timed(self, name, cmds, env=None):
        """Run cmds (a list of argv) together, each under /usr/bin/time -v;
        wall time until all end. Returns a dict of measures."""
        procs, tfiles, outs = [], [], []
        srv0, mock0 = self.server.cpu_idle(), self.mock_cpu()
        t0 = time.monotonic()
        for i, argv in enumerate(cmds):
            tf = os.path.join(self.work, "%s.%d.time" % (name, i))
            of = open(os.path.join(self.work, "%s.%d.out" % (name, i)), "w")
            procs.append(subprocess.Popen(
                ["/usr/bin/time", "-v", "-o", tf] + argv, stdout=of,
                stderr=subprocess.STDOUT, env=env))
            tfiles.append(tf)
            outs.append(of)
        for p in procs:
            p.wait()
        wall = time.monotonic() - t0
        srv = self.server.cpu_idle() - srv0
        mock = self.mock_cpu() - mock0
        m = {"seconds": wall, "rss_kib": 0, "user_s": 0.0, "sys_s": 0.0,
             "server_cpu_s": srv, "mock_cpu_s": mock, "output": ""}
        for p, tf, of in zip(procs, tfiles, outs):
            of.close()
            rss, user, sys_, status = parse_time_v(tf)
            out = open(of.name).read()
            m["output"] += out
            if p.returncode != 0 or status != 0:
                raise SystemExit("bench: %s failed (exit %s):\n%s"
                                 % (name, p.returncode, out[-3000:]))
            m["rss_kib"] += rss        # processes running together: summed
            m["user_s"] += user
            m["sys_s"] += sys_
        return m

    def wvetl_cmd(self, day, reload=False):
        d0 = datetime.date.fromisoformat(day)
        argv = [self.wvetl, "-c", self.conf, "backfill"]
        if reload:
            argv.append("--reload")
        return argv + ["--from", day, "--to",
                       (d0 + datetime.timedelta(days=1)).isoformat()]

    def baseline_cmd(self, day):
        d1 = (datetime.date.fromisoformat(day) +
              datetime.timedelta(days=1)).isoformat()
        return [PY, os.path.join(HERE, "baseline.py"), self.url, TOKEN, day,
                d1, "--schema", SCHEMA, "--operation", "bench", "--tz", TZ]

    def run_case(self, case, day, n):
        if case == "wvetl_new":
            self.fresh()
            self.version(0)
            m = self.timed(case, [self.wvetl_cmd(day)])
            want = "inserted=%d " % n
        elif case == "wvetl_reload":
            self.version(1)       # over wvetl_new's rows: ~10% changed
            psql("CHECKPOINT")
            m = self.timed(case, [self.wvetl_cmd(day, True)])
            want = "updated=%d " % n
        elif case == "floor":
            self.fresh()
            m = self.timed(case, [
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                 "\\copy %s.survey_response (%s) FROM '%s'"
                 % (SCHEMA, RESPONSE_COLS,
                    os.path.join(self.work, "survey_response.copy"))],
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                 "\\copy %s.survey_answer (%s) FROM '%s'"
                 % (SCHEMA, ANSWER_COLS,
                    os.path.join(self.work, "survey_answer.copy"))]])
            want = None
        elif case == "floor_1tx":
            self.fresh()
            m = self.timed(case, [
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", "BEGIN",
                 "-c", "\\copy %s.survey_response (%s) FROM '%s'"
                 % (SCHEMA, RESPONSE_COLS,
                    os.path.join(self.work, "survey_response.copy")),
                 "-c", "\\copy %s.survey_answer (%s) FROM '%s'"
                 % (SCHEMA, ANSWER_COLS,
                    os.path.join(self.work, "survey_answer.copy")),
                 "-c", "COMMIT"]])
            want = None
        else:
            self.fresh()
            self.version(0)
            m = self.timed(case, [self.baseline_cmd(day)])
            want = "records=%d " % n
        if want and want not in m["output"] + " ":
            raise SystemExit("bench: %s did not load %d records:\n%s"
                             % (case, n, m["output"][-3000:]))
        return m

    def check(self, what, ok, detail):
        self.checks.append((what, ok, detail))
        log("check %s: %s (%s)" % (what, "ok" if ok else "FAILED", detail))

    # -- one N ------------------------------------------------------------

    def run_n(self, n, day):
        log("N=%d: building day %s" % (n, day))
        body = self.setup_day(day, n)
        floor = json.loads(subprocess.run(
            [PY, os.path.join(HERE, "floor.py"), self.url, TOKEN, day,
             (datetime.date.fromisoformat(day) +
              datetime.timedelta(days=1)).isoformat(), self.work,
             "--operation", "bench", "--tz", TZ],
            check=True, capture_output=True, text=True).stdout)
        if floor["records"] != n:
            raise SystemExit("bench: floor.py wrote %d records, not %d"
                             % (floor["records"], n))
        log("N=%d: body %d bytes, %d answers" % (n, body, floor["answers"]))
        runs = {c: [] for c in CASES}
        for rep in range(self.reps):
            for case in CASES:
                m = self.run_case(case, day, n)
                runs[case].append(m)
                log("N=%d rep %d %-12s %7.2f s  rss %7d KiB  client cpu "
                    "%.2f s  server cpu %.2f s" % (
                        n, rep + 1, case, m["seconds"], m["rss_kib"],
                        m["user_s"] + m["sys_s"], m["server_cpu_s"]))
                if rep == 0:
                    m["checksum"] = psql(CHECKSUM)
            if rep == 0:
                self.verify(n, day, runs)
        floor_med = statistics.median(x["seconds"] for x in runs["floor"])
        for case in CASES:
            secs = [x["seconds"] for x in runs[case]]
            med = statistics.median(secs)
            self.results.append({
                "n": n, "case": case, "answers": floor["answers"],
                "body_bytes": body, "seconds": round(med, 3),
                "min_s": round(min(secs), 3), "max_s": round(max(secs), 3),
                "spread_pct": round(100 * (max(secs) - min(secs)) / med, 1),
                "records_per_s": round(n / med),
                "ratio_to_floor": round(med / floor_med, 2),
                "peak_rss_kib": max(x["rss_kib"] for x in runs[case]),
                "client_cpu_s": round(statistics.median(
                    x["user_s"] + x["sys_s"] for x in runs[case]), 2),
                "server_cpu_s": round(statistics.median(
                    x["server_cpu_s"] for x in runs[case]), 2),
                "mock_cpu_s": round(statistics.median(
                    x["mock_cpu_s"] for x in runs[case]), 2),
                "reps": len(secs)})

    def verify(self, n, day, runs):
        new = runs["wvetl_new"][0]["checksum"]
        self.check("N=%d floor rows == wvetl rows" % n,
                   runs["floor"][0]["checksum"] == new, new)
        self.check("N=%d python rows == wvetl rows" % n,
                   runs["python"][0]["checksum"] == new, new)
        self.check("N=%d floor_1tx rows == wvetl rows" % n,
                   runs["floor_1tx"][0]["checksum"] == new, new)
        rel = runs["wvetl_reload"][0]["checksum"]
        # What the reload must leave: the changed answer, loaded fresh by
        # the benchmark's own code.
        self.fresh()
        self.version(1)
        self.timed("verify", [self.baseline_cmd(day)])
        want = psql(CHECKSUM)
        self.check("N=%d reload rows == changed answer's rows" % n,
                   rel == want and rel != new, rel)

    # -- memory at answer sizes --------------------------------------------

    def run_sizes(self, sizes_mib, avg_bytes):
        day0 = datetime.date(2026, 4, 1)
        for i, mib in enumerate(sizes_mib):
            day = (day0 + datetime.timedelta(days=i)).isoformat()
            n = max(1, round(mib * 1048576 / avg_bytes))
            body = self.setup_day(day, n, (0,))
            rss = []
            for _ in range(self.reps):
                self.fresh()
                m = self.timed("size", [self.wvetl_cmd(day)])
                rss.append(m["rss_kib"])
            log("answer of %d bytes (%d records): wvetl peak RSS %s KiB"
                % (body, n, rss))
            self.results.append({
                "n": n, "case": "wvetl_rss_at_%dMiB" % mib, "answers": "",
                "body_bytes": body, "seconds": round(m["seconds"], 3),
                "min_s": "", "max_s": "", "spread_pct": "",
                "records_per_s": round(n / m["seconds"]),
                "ratio_to_floor": "", "peak_rss_kib": max(rss),
                "client_cpu_s": round(m["user_s"] + m["sys_s"], 2),
                "server_cpu_s": round(m["server_cpu_s"], 2),
                "mock_cpu_s": round(m["mock_cpu_s"], 2),
                "reps": len(rss)})

    # -- targets and output -------------------------------------------------

    def targets(self):
        """[(target, measured, met)] for the issue's targets."""
        out = []
        by = {(r["n"], r["case"]): r for r in self.results}
        ns = sorted({r["n"] for r in self.results if r["case"] in CASES})
        for n in ns:
            new, rel = by[(n, "wvetl_new")], by[(n, "wvetl_reload")]
            out.append(("N=%d new window <= 1.3x floor" % n,
                        "%.2fx" % new["ratio_to_floor"],
                        new["ratio_to_floor"] <= 1.3))
            out.append(("N=%d reloaded window <= 3x floor" % n,
                        "%.2fx" % rel["ratio_to_floor"],
                        rel["ratio_to_floor"] <= 3.0))
            one = by.get((n, "floor_1tx"))
            if one is not None:
                out.append(("(reference) N=%d new window vs the floor in one "
                            "transaction" % n, "%.2fx (floor_1tx %.2fx floor)"
                            % (new["seconds"] / one["seconds"],
                               one["ratio_to_floor"]), None))
        wv_rss = [r["peak_rss_kib"] for r in self.results
                  if r["case"].startswith("wvetl")]
        if wv_rss:
            out.append(("wvetl peak RSS <= 32 MiB in every run",
                        "max %.1f MiB" % (max(wv_rss) / 1024),
                        max(wv_rss) <= 32 * 1024))
        sizes = sorted((r for r in self.results
                        if r["case"].startswith("wvetl_rss_at_")),
                       key=lambda r: r["body_bytes"])
        if len(sizes) >= 2:
            grow = sizes[-1]["peak_rss_kib"] - sizes[0]["peak_rss_kib"]
            out.append(("RSS grows < 4 MiB from the smallest to the largest "
                        "answer", "%+.1f MiB (%d -> %d bytes)" % (
                            grow / 1024, sizes[0]["body_bytes"],
                            sizes[-1]["body_bytes"]), grow < 4 * 1024))
        big = max(ns) if ns else None
        if big is not None and big >= 1000000:
            py, new = by[(big, "python")], by[(big, "wvetl_new")]
            sp = py["seconds"] / new["seconds"]
            mem = py["peak_rss_kib"] / new["peak_rss_kib"]
            out.append(("N=%d >= 6x faster than python" % big,
                        "%.1fx" % sp, sp >= 6))
            out.append(("N=%d >= 100x less memory than python" % big,
                        "%.0fx" % mem, mem >= 100))
        return out

    def write(self, machine):
        cols = ["n", "case", "answers", "body_bytes", "seconds", "min_s",
                "max_s", "spread_pct", "records_per_s", "ratio_to_floor",
                "peak_rss_kib", "client_cpu_s", "server_cpu_s", "mock_cpu_s",
                "reps"]
        outdir = os.environ.get("BENCH_OUT", os.path.join(HERE, "results"))
        os.makedirs(outdir, exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M")
        csv = os.path.join(outdir, "bench-%s.csv" % stamp)
        with open(csv, "w") as f:
            f.write("# %s\n" % machine)
            f.write(",".join(cols) + "\n")
            for r in self.results:
                f.write(",".join(str(r[c]) for c in cols) + "\n")
        lines = ["| N | case | median s | spread | records/s | ratio to floor "
                 "| peak RSS | client CPU s | server CPU s |",
                 "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in self.results:
            lines.append("| %s | %s | %s | %s | %s | %s | %.1f MiB | %s | %s |"
                         % (r["n"], r["case"], r["seconds"],
                            "%s%%" % r["spread_pct"] if r["spread_pct"] != ""
                            else "", "{:,}".format(r["records_per_s"]),
                            "%.2fx" % r["ratio_to_floor"]
                            if r["ratio_to_floor"] != "" else "",
                            r["peak_rss_kib"] / 1024, r["client_cpu_s"],
                            r["server_cpu_s"]))
        lines.append("")
        lines.append("| target | measured | met |")
        lines.append("|---|---|---|")
        for t, v, ok in self.targets():
            lines.append("| %s | %s | %s |" % (
                t, v, "" if ok is None else "yes" if ok else "**no**"))
        for what, ok, detail in self.checks:
            lines.append("")
            lines.append("check: %s: %s" % (what, "ok" if ok else "FAILED"))
        md = os.path.join(outdir, "bench-%s.md" % stamp)
        with open(md, "w") as f:
            f.write("%s\n\n%s\n" % (machine, "\n".join(lines)))
        print(machine)
        print("\n".join(lines))
        print("\nwritten: %s, %s" % (os.path.relpath(csv, TOP),
                                     os.path.relpath(md, TOP)))


def machine_line():
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1048576
    pg = psql("SHOW server_version")
    fs = psql("SHOW fsync")
    return ("machine: %d cores, %d GiB, %s, PostgreSQL %s (fsync=%s), "
            "load average %s" % (
                os.cpu_count(), mem, platform.platform(terse=True), pg, fs,
                " ".join(open("/proc/loadavg").read().split()[:3])))


def main():
    work = tempfile.mkdtemp(prefix="wvetl-bench.")
    b = Bench(work)
    try:
        b.start_mock()
        r = subprocess.run([b.wvetl, "-q", "-c", b.conf, "migrate"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("bench: wvetl migrate failed:\n" + r.stderr)
        b.server = Server()
        machine = machine_line()
        log(machine)
        ns = env_list("BENCH_N", "100000 1000000")
        day0 = datetime.date(2026, 3, 2)
        avg = None
        for i, n in enumerate(ns):
            b.run_n(n, (day0 + datetime.timedelta(days=i)).isoformat())
            avg = b.results[-1]["body_bytes"] / n
        sizes = env_list("BENCH_SIZES", "1 32 256")
        if sizes and avg:
            b.run_sizes(sizes, avg)
        b.write(machine + "; load average at the end %s" % " ".join(
            open("/proc/loadavg").read().split()[:3]))
    finally:
        b.stop_mock()
        shutil.rmtree(work, ignore_errors=True)
    failed = [c for c in b.checks if not c[1]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
