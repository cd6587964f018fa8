#!/usr/bin/python3
"""
tests/server/wolkvox_mock.py
    A local stand-in for Wolkvox's reports_manager API (diagram_4 only), used
    by the integration tests, the demo and the benchmark. Python 3 stdlib.

It speaks the documented envelope {"code","error","msg","data"} and error
messages (../shared/reference/wolkvox-api-facts.md), serves deterministic
awkward data, enforces the API's limits (60000 records, 31 days, one request
in flight per token) and counts every breach, and lets tests inject faults
through a small control plane:

    GET  <...>reports_manager.php?api=diagram_4&date_ini=..&date_end=..
         header wolkvox-token. Errors as documented: 401 no token, 403 wrong
         token, 403 more than 2 in flight, 400 unknown api, 400 bad dates,
         400 range over --max-days; 404 "Validate dates entered" when the
         window holds no record (data missing, null or [] in turn); else 200
         with at most max_records records (code 200 and "200" in turn).
    POST /_control   one JSON object, any of these keys:
         "faults": [..]  appended; each is used "times" times (default 1),
             once "after" successful answers (default 0) have been made
             since it was added. Kinds:
             {"status":403,"msg":".."}     envelope with that status
             {"status":200,"body":"..","content_type":"text/html"}  raw
             ({"body_b64": ".."}: the body's bytes in base64, any bytes)
             {"cut_after":N}   Content-Length of the real body, N bytes, close
             {"delay":S}       sleep S seconds, then the real answer
             {"stall":true}    headers and 16 bytes, then hang until the
                               client closes
             {"trickle":S}     the real body with Content-Length, in 20
                               pieces spread over S seconds (slow, never
                               silent for long)
             {"await_other_token":S}  hold the answer until a request
                               with another token arrives (at most S
                               seconds), then the real answer: the two
                               overlap in the log
             Any fault with "token": K is used only by requests made with
             token number K (see "tokens"), and not counted for others.
         "per_day": {"YYYY-MM-DD": N}   records of that day
         "records": [{..}]   fixed records added to the day of their date
             (or of "_mock_at", a key not served, for dateless records)
         "max_records": N, "token": "..", "reset": true (faults, counters,
         per_day, records, token, tokens, max_records and encoding back to
         the start)
         "tokens": [".."]   more tokens accepted besides "token" (token
             number 0); they are numbers 1, 2, .. in this order
         "encoding": "gzip"|"deflate"|""   compress API answers with it
             (Content-Encoding) when the request's Accept-Encoding offers
             it; "" (the default) never compresses
         "warm": "YYYY-MM-DD"   build a big day now (kept for reuse)
         "bench": {"questions": K, "version": V, "changed": P} or null
             benchmark data (bench/run.sh): clean realistic records with
             q01..qK and no forced features (no duplicates, no rejects);
             version V > 0 changes the answers, feeling and comment of
             about P% of the records (default 10), identities kept
    GET  /_stats     counters: requests, data_requests, max_in_flight,
         violations [{kind: concurrent|range, ..}], windows [[ini, end]],
         statuses {"200": N}, tokens_seen_other, records_served,
         bytes_served (as sent: compressed when encoded), encodings
         {"gzip": N} (answers sent compressed), log [{start, end, done,
         window, status, token}]: one entry per data request, start when
         its headers were read, done when it stopped counting as in flight
         (its answer begins to go out: the client cannot have it before),
         end when its answer was sent (time.time() seconds; status 0 when
         no answer was sent), token the number of the token it was made
         with (-1: none or unknown). Control-plane requests are not
         counted.
    GET  /_records?date_ini=..&date_end=..   the records of a window as a
         JSON array, no cap: what the API holds, for tests to compare with.

With --tls-cert FILE --tls-key FILE it speaks HTTPS only (the tests of
certificate verification and api.ca_file).

Data: the records of one local day are a pure function of (seed, day,
index), so any window, fetched whole or split, gives the same records.
Record i of a day is at wall-clock time i * 86400 / per_day in --tz; a
wall-clock time that a DST spring-forward skips in --tz holds no record (a
repeated one holds one; tests add the other occurrence's records). The
first records of each block of 50 carry one forced awkward feature each
(FEATURES), so even a 40-record day holds every case the tests check.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import select
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import zlib
import zoneinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MSG_NO_TOKEN = "PLEASE ENTER THE WOLKVOX-TOKEN"
MSG_BAD_TOKEN = "PLEASE VALIDATE TOKEN"
MSG_NO_API = "THE API YOU WANT TO CONSULT DOES NOT EXIST"
MSG_PARAMS = "SOME PARAMETERS ARE REQUIRED"
MSG_SIMULTANEOUS = "EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN (2)"
MSG_RANGE = "THE MAXIMUM NUMBER OF DAYS TO CONSULT IS %d"
MSG_NO_DATA = "Validate dates entered"

# Bodies up to this many records are sent with Content-Length; larger ones
# are streamed with chunked transfer encoding.
STREAM_THRESHOLD = 2000
CHUNK_BYTES = 256 * 1024
# Days with at least this many records are generated once and kept.
CACHE_MIN_RECORDS = 20000

# One forced awkward feature per record slot (see record_slot()).
FEATURES = [
    "extra_key",      # 0: unknown keys (string, number, nested)
    "dup",            # 1: same identity as record 0, later wins (no extras)
    "nodate_missing", # 2: no date key: reject
    "nodate_dash",    # 3: date "-": reject
    "date_T",         # 4: 2026-01-05T10:00:00
    "date_compact",   # 5: 20260105100000
    "date_dash",      # 6: 2026-01-05-10:00:00
    "nul",            # 7: agent_name holds U+0000
    "time_abc",       # 8: untypable time -> extras
    "time_125h",      # 9: 125:00:00
    "time_mmss",      # 10: MM:SS
    "time_secs",      # 11: plain seconds
    "q_odd",          # 12: answers "si", 4 (number), "3.5", extra Q11/q012
    "num_fields",     # 13: numbers/bools where text is expected
    "escaped",        # 14: \\uXXXX-escaped text (accents, emoji, RTL)
    "ph_identity",    # 15: agent_id "-", skill_id "": NULL identity parts
    "dup",            # 16: duplicate of the NULL-identity record 15
    "vm_untypable",   # 17: voice_message_duration "n/a" -> extras
    "nodate_garbage", # 18: date "2026-13-45 99:99:99": reject
    "null_value",     # 19: JSON null where text is expected
    "placeholders",   # 20: every optional text a placeholder
    "extra_key",      # 21: unknown keys, on a record that wins
]

AGENTS = [
    ("1001", "José Pérez", "1020304050"),
    ("1002", "María\tGómez", "52987654"),
    ("1003", "Ana\nLínea Nueva", "1098765432"),
    ("1004", "C:\\agentes\\luis", "80123456"),
    ("1005", "Juan \"el Rápido\" Díaz", "79111222"),
    ("1006", "Sofía 😀 Ruiz", "1033444555"),
    ("1007", "محمد الأحمد", "1144556677"),
    ("1008", "Zoë Ñandú O'Brien", "43210987"),
    ("1009", "Luis Martínez ", "71717171"),
    ("1010", "Carlos Ramirez", "10101010"),
]
SKILLS = [
    ("201", "Ventas Móvil"),
    ("202", "Soporte Técnico"),
    ("203", "Cobranza \"VIP\""),
    ("204", "Atención\\Clientes"),
    ("205", "خدمة العملاء"),
    ("206", "Retención 🚀"),
]
TYPES = ["conference", "inbound", "internal call", "internal call_inb",
         "internal call_que", "out_pre", "outbound_ma", "transfer"]
RESULTS = ["abandon", "complete", "incomplete"]
FEELINGS = ["very negative", "negative", "neutral", "positive",
            "very positive"]
PLACEHOLDERS = ["-", "--", "", " "]
ANSWERS = ["1", "2", "3", "4", "5", "10"]
BENCH_COMMENTS = ["Muy buena atención", "El agente resolvió mi problema 👍",
                  "Tardaron mucho en \"contestar\"", "Todo bien\ngracias",
                  "C:\\no sé\tnada", "ممتاز، شكرا", "-", "",
                  "Excelente servicio, la señorita fue muy amable"]


def js(value, ascii_only=False):
    """JSON text of one value (UTF-8 kept unless ascii_only)."""
    return json.dumps(value, ensure_ascii=ascii_only)


# Pre-encoded pools: the per-record hot path only concatenates strings.
J_AGENT_ID = [js(a[0]) for a in AGENTS]
J_AGENT_NAME = [js(a[1]) for a in AGENTS]
J_AGENT_NAME_ESC = [js(a[1], True) for a in AGENTS]
J_AGENT_DNI = [js(a[2]) for a in AGENTS]
J_SKILL_ID = [js(s[0]) for s in SKILLS]
J_SKILL_NAME = [js(s[1]) for s in SKILLS]
J_SKILL_NAME_ESC = [js(s[1], True) for s in SKILLS]
J_TYPES = [js(t) for t in TYPES]
J_RESULTS = [js(r) for r in RESULTS]
J_FEELINGS = [js(f) for f in FEELINGS]
J_PH = [js(p) for p in PLACEHOLDERS]
J_ANSWERS = [js(a) for a in ANSWERS]
J_DASH = '"-"'


def hms(secs):
    return "%02d:%02d:%02d" % (secs // 3600, secs // 60 % 60, secs % 60)


def record_slot(i):
    """The FEATURES index forced on record i, or -1. Dense in small days
    (every block of 50), sparse in big ones (every block of 5000)."""
    slot = i % 50 if i < 1000 else i % 5000
    return slot if slot < len(FEATURES) else -1


def skipped_walls(d, tz):
    """(lo, hi): the seconds after midnight of day d that a DST
    spring-forward skips in tz (no record can be dated there: the real API
    stamps records with wall-clock times that happened), or (0, 0). Found
    by the minute: every zone's transitions are on whole minutes."""
    lo = hi = None
    start = datetime.datetime(d.year, d.month, d.day)
    offsets = {(start + datetime.timedelta(hours=h)).replace(tzinfo=tz).utcoffset()
               for h in range(0, 25, 3)}
    if len(offsets) == 1:
        return (0, 0)       # no change of offset that day: the usual case
    for m in range(24 * 60):
        w = start + datetime.timedelta(minutes=m)
        back = w.replace(tzinfo=tz).astimezone(datetime.timezone.utc) \
            .astimezone(tz).replace(tzinfo=None)
        if back != w:
            if lo is None:
                lo = m * 60
            hi = (m + 1) * 60
        elif lo is not None:
            break
    return (lo, hi) if lo is not None else (0, 0)


class Day:
    """One local day of generated data: per-day count, epoch of midnight."""

    def __init__(self, seed, day, per_day, tz, bench=None):
        self.seed = seed
        self.bench = bench                  # (questions, version, changed)
        self.day = day                      # "YYYY-MM-DD"
        self.compact = day.replace("-", "")
        self.per_day = per_day
        self.cache = None                   # list of record texts, or None
        d = datetime.date.fromisoformat(day)
        self.midnight_epoch = int(datetime.datetime(
            d.year, d.month, d.day, tzinfo=tz).timestamp())
        self.skipped = skipped_walls(d, tz)

    def nominal(self, i):
        """Seconds after midnight of record i (nondecreasing in i)."""
        return i * 86400 // self.per_day

    def eff_time(self, i):
        """Seconds after midnight the window filter uses for record i: a
        duplicate takes the time of the record it repeats."""
        if self.bench is not None:
            return self.nominal(i)
        slot = record_slot(i)
        if slot >= 0 and FEATURES[slot] == "dup" and i > 0:
            return self.nominal(i - 1)
        return self.nominal(i)

    def first_at_or_after(self, secs):
        """Smallest index whose eff_time >= secs (per_day when none)."""
        lo, hi = 0, self.per_day
        while lo < hi:
            mid = (lo + hi) // 2
            if self.eff_time(mid) < secs:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def skipped_count(self, lo, hi):
        """How many records of [lo, hi) a spring-forward skipped."""
        a, b = self.skipped
        if a == b:
            return 0
        return max(0, min(hi, self.first_at_or_after(b)) -
                   max(lo, self.first_at_or_after(a)))

    def exists(self, i):
        a, b = self.skipped
        return not a <= self.eff_time(i) < b

    def text(self, i):
        """Record i's JSON text, from the cache when the day is cached."""
        return self.cache[i] if self.cache is not None else self.record(i)

    def digest(self, i):
        return hashlib.blake2b(
            b"%d:%s:%d" % (self.seed, self.day.encode(), i),
            digest_size=48).digest()

    def date_text(self, secs, b, feature):
        """The `date` value (JSON text) for a record at secs, or None when
        the record has no date key."""
        h, m, s = secs // 3600, secs // 60 % 60, secs % 60
        if feature == "nodate_missing":
            return None
        if feature == "nodate_dash":
            return J_DASH
        if feature == "nodate_garbage":
            return '"%s-13-45 99:99:99"' % self.day[:4]
        if feature == "date_T":
            return '"%sT%02d:%02d:%02d"' % (self.day, h, m, s)
        if feature == "date_compact":
            return '"%s%02d%02d%02d"' % (self.compact, h, m, s)
        if feature == "date_dash":
            return '"%s-%02d:%02d:%02d"' % (self.day, h, m, s)
        return '"%s %02d:%02d:%02d"' % (self.day, h, m, s)

    def identity(self, i, feature):
        """(agent index, agent_id, skill index, skill_id, conn_id, date) as
        JSON texts for record i; date None when absent."""
        b = self.digest(i)
        secs = self.nominal(i)
        ai, si = b[0] % len(AGENTS), b[1] % len(SKILLS)
        agent_id, skill_id = J_AGENT_ID[ai], J_SKILL_ID[si]
        if feature == "ph_identity":
            agent_id, skill_id = J_DASH, '""'
        elif feature == "num_fields":
            agent_id = AGENTS[ai][0]        # a JSON number
        epoch = self.midnight_epoch + secs - b[2] % 120
        conn_id = '"6736.4628.1040.%d.%d"' % (epoch, i)
        return ai, agent_id, si, skill_id, conn_id, \
            self.date_text(secs, b, feature)

    def record(self, i):
        """JSON object text of record i of the day."""
        if self.bench is not None:
            return self.bench_record(i)
        slot = record_slot(i)
        feature = FEATURES[slot] if slot >= 0 else ""
        b = self.digest(i)
        if feature == "dup" and i > 0:
            ai, agent_id, si, skill_id, conn_id, date = \
                self.identity(i - 1, FEATURES[record_slot(i - 1)]
                              if record_slot(i - 1) >= 0 else "")
        else:
            ai, agent_id, si, skill_id, conn_id, date = \
                self.identity(i, feature)
        esc = feature == "escaped"
        name = (J_AGENT_NAME_ESC if esc else J_AGENT_NAME)[ai]
        if feature == "nul":
            name = js(AGENTS[ai][1][:2] + "\u0000" + AGENTS[ai][1][2:])
        dni = J_AGENT_DNI[ai]
        skill_name = (J_SKILL_NAME_ESC if esc else J_SKILL_NAME)[si]
        ani = '"3%09d"' % (int.from_bytes(b[3:7], "little") % 1000000000)
        cust = '"%d"' % (int.from_bytes(b[7:10], "little"))
        if feature == "num_fields":
            dni = AGENTS[ai][2]
            ani = ani.strip('"')
            cust = "true" if b[10] & 1 else "false"
        elif b[10] < 20:
            cust = J_PH[b[10] % 4]

        parts = ['{"agent_id":', agent_id, ',"agent_name":', name,
                 ',"agent_dni":', dni, ',"skill_id":', skill_id,
                 ',"skill_name":', skill_name]
        if date is not None:
            parts += [',"date":', date]
        parts += [',"conn_id":', conn_id, ',"ani":', ani,
                  ',"customer_id":', cust]
        parts.append(self.answers(b, feature))
        parts += [',"voice_message_duration":', self.vm_duration(b, feature),
                  ',"type_interaction":', J_TYPES[b[21] % len(TYPES)],
                  ',"result":', J_RESULTS[b[22] % len(RESULTS)],
                  ',"time":', self.duration(b, feature),
                  ',"voice_message":', self.voice_message(b, feature, i),
                  ',"feeling":', J_FEELINGS[b[23] % len(FEELINGS)]]
        if feature == "extra_key":
            parts.append(',"campaign":"Q1-2026","score":4.5,'
                         '"tags":{"k":[1,"x",null,true]}')
        parts.append("}")
        rec = "".join(parts)
        if feature == "placeholders":
            for key in ("agent_name", "skill_name", "ani", "type_interaction",
                        "result", "feeling", "agent_dni"):
                rec = _replace_value(rec, key, J_PH[(b[24] + len(key)) % 4])
        return rec

    def bench_record(self, i):
        """Record i in benchmark mode: every field typable, escapes and
        multi-byte text from the pools, K questions (the last a comment)."""
        questions, version, changed = self.bench
        b = self.digest(i)
        secs = self.nominal(i)
        ai, si = b[0] % len(AGENTS), b[1] % len(SKILLS)
        esc = b[2] < 16
        h, m, s = secs // 3600, secs // 60 % 60, secs % 60
        bump = version if version and b[30] % 100 < changed else 0
        parts = ['{"agent_id":', J_AGENT_ID[ai], ',"agent_name":',
                 (J_AGENT_NAME_ESC if esc else J_AGENT_NAME)[ai],
                 ',"agent_dni":', J_AGENT_DNI[ai], ',"skill_id":',
                 J_SKILL_ID[si], ',"skill_name":',
                 (J_SKILL_NAME_ESC if esc else J_SKILL_NAME)[si],
                 ',"date":"%s %02d:%02d:%02d"' % (self.day, h, m, s),
                 ',"conn_id":"6736.4628.1040.%d.%d"' % (
                     self.midnight_epoch + secs, i),
                 ',"ani":"3%09d"' % (int.from_bytes(b[3:7], "little")
                                     % 1000000000),
                 ',"customer_id":"%d"' % int.from_bytes(b[7:10], "little")]
        for q in range(1, questions):
            v = b[(10 + q) % 48]
            a = J_DASH if v < 16 else J_ANSWERS[(v + bump) % len(ANSWERS)]
            parts.append(',"q%02d":%s' % (q, a))
        if questions > 0:
            c = BENCH_COMMENTS[(b[31] + bump) % len(BENCH_COMMENTS)]
            if bump:
                c = c + " (v%d)" % version if c not in ("", "-") else c
            parts.append(',"q%02d":%s' % (questions, js(c)))
        secs_t = int.from_bytes(b[25:27], "little") % 3600
        parts += [',"voice_message_duration":"00:00:%02d"' % (b[28] % 60),
                  ',"type_interaction":', J_TYPES[b[21] % len(TYPES)],
                  ',"result":', J_RESULTS[b[22] % len(RESULTS)],
                  ',"time":"%s"' % hms(secs_t),
                  ',"voice_message":',
                  J_DASH if b[29] < 200 else
                  '"https://vm.example/rec_%d.wav"' % i,
                  ',"feeling":',
                  J_FEELINGS[(b[23] + bump) % len(FEELINGS)], "}"]
        return "".join(parts)

    @staticmethod
    def answers(b, feature):
        """The q01..q10 members (with a leading comma)."""
        out = []
        for q in range(10):
            v = b[11 + q]
            if v < 140:
                a = J_DASH
            elif v < 160:
                a = J_PH[v % 4]
            else:
                a = J_ANSWERS[v % len(ANSWERS)]
            out.append(',"q%02d":%s' % (q + 1, a))
        if feature == "q_odd":
            out[0] = ',"q01":"si"'
            out[1] = ',"q02":4'
            out[2] = ',"q03":"3.5"'
            out.append(',"Q11":"5","q012":"2"')
        return "".join(out)

    @staticmethod
    def duration(b, feature):
        secs = int.from_bytes(b[25:27], "little") % 3600
        if feature == "time_abc":
            return '"abc"'
        if feature == "time_125h":
            return '"125:00:00"'
        if feature == "time_mmss":
            return '"%02d:%02d"' % (secs // 60, secs % 60)
        if feature == "time_secs":
            return '"%d"' % secs
        if feature == "placeholders":
            return J_PH[b[27] % 4]
        return '"%s"' % hms(secs)

    @staticmethod
    def vm_duration(b, feature):
        if feature == "vm_untypable":
            return '"n/a"'
        v = b[28]
        if v < 150:
            return '"00:00:00"'
        if v < 200:
            return J_PH[v % 4]
        return '"00:00:%02d"' % (v % 60)

    @staticmethod
    def voice_message(b, feature, i):
        if feature == "null_value":
            return "null"
        if b[29] < 200:
            return J_DASH
        return '"https://vm.example/rec_%d.wav"' % i


def _replace_value(rec, key, new):
    """Replace the string value of key in a flat record text (test data
    only: the value must be a JSON string without escaped quotes)."""
    k = '"%s":' % key
    start = rec.index(k) + len(k)
    if rec[start] != '"':
        end = rec.index(",", start)
    else:
        end = start + 1
        while rec[end] != '"' or rec[end - 1] == "\\":
            end += 1
        end += 1
    return rec[:start] + new + rec[end:]


def parse_stamp(text):
    """YYYYmmddHHiiss -> datetime (naive wall clock), or None."""
    if not isinstance(text, str) or len(text) != 14 or not text.isdigit():
        return None
    try:
        return datetime.datetime.strptime(text, "%Y%m%d%H%M%S")
    except ValueError:
        return None


def parse_record_date(value):
    """A record's date in any accepted variant -> naive datetime or None."""
    if not isinstance(value, str):
        return None
    v = value
    if len(v) == 19 and v[10] in " T-":
        v = v[:10] + " " + v[11:]
        try:
            return datetime.datetime.strptime(v, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return None
    return parse_stamp(v)


class Fault:
    """One injected fault; see the module docstring of the control plane."""

    def __init__(self, spec, successes_now):
        self.spec = spec
        self.times = int(spec.get("times", 1))
        self.after = int(spec.get("after", 0))
        self.base = successes_now


class State:
    """Everything the handlers share, guarded by one lock."""

    def __init__(self, args):
        self.args = args
        self.tz = zoneinfo.ZoneInfo(args.tz)
        self.lock = threading.Lock()
        self.cache_lock = threading.Lock()   # held while a big day builds
        self.cache = {}                      # (day, per_day) -> texts, LRU
        self.body_cache = {}                 # bench: key -> encoded records
        self.token = args.token
        self.tokens = []                     # accepted besides self.token
        self.max_records = args.max_records
        self.reset()

    def reset(self):
        self.faults = []
        self.bench = None        # (questions, version, changed) or None
        self.per_day = {}
        self.extra = {}          # day -> [(secs, json text)] sorted
        self.in_flight = {}
        self.arrived = {}        # token -> data requests so far
        self.successes = 0
        self.answers_made = 0
        self.encoding = ""
        self.stats = {"requests": 0, "data_requests": 0, "max_in_flight": 0,
                      "violations": [], "windows": [], "statuses": {},
                      "tokens_seen_other": 0, "records_served": 0,
                      "bytes_served": 0, "encodings": {}, "log": []}

    def day(self, day):
        """The Day object for "YYYY-MM-DD", with its cached record texts
        when it is a big day (generation costs ~5 s per million records;
        the benchmark asks for the same big day again and again)."""
        n = self.per_day.get(day, self.args.per_day)
        d = Day(self.args.seed, day, n, self.tz, self.bench)
        if n < CACHE_MIN_RECORDS:
            return d
        key = (day, n, self.bench)
        with self.cache_lock:
            cached = self.cache.get(key)
            if cached is None:
                cached = [d.record(i) for i in range(n)]
                # Keep the two most recently built big days.
                while len(self.cache) >= 2:
                    self.cache.pop(next(iter(self.cache)))
            else:
                del self.cache[key]
            self.cache[key] = cached
        d.cache = cached
        return d

    def bench_body(self, part, n):
        """The first n records of a cached day's window part, joined and
        encoded once (benchmark mode; the two last used are kept)."""
        day, lo, hi, _ = part
        key = (day.day, day.per_day, self.bench, lo, min(hi, lo + n))
        with self.cache_lock:
            body = self.body_cache.pop(key, None)
            if body is None:
                while len(self.body_cache) >= 2:
                    self.body_cache.pop(next(iter(self.body_cache)))
                body = ",".join(day.cache[lo:min(hi, lo + n)]).encode()
            self.body_cache[key] = body
            return body

    def count(self, status, nbytes, enc=None):
        with self.lock:
            s = self.stats["statuses"]
            s[str(status)] = s.get(str(status), 0) + 1
            self.stats["bytes_served"] += nbytes
            if enc:
                e = self.stats["encodings"]
                e[enc] = e.get(enc, 0) + 1

    def token_number(self, token):
        """0 for the main token, 1.. for the extra ones, -1 for any other."""
        if token and token == self.token:
            return 0
        if token in self.tokens:
            return self.tokens.index(token) + 1
        return -1

    def take_fault(self, token_no):
        """The first armed fault (consumed) for a request made with token
        number token_no, or None."""
        with self.lock:
            for f in self.faults:
                if "token" in f.spec and int(f.spec["token"]) != token_no:
                    continue
                if f.times > 0 and self.successes - f.base >= f.after:
                    f.times -= 1
                    return f.spec
        return None

    def control(self, req):
        with self.lock:
            if req.get("reset"):
                self.reset()
                self.token = self.args.token
                self.tokens = []
                self.max_records = self.args.max_records
            for spec in req.get("faults", []):
                self.faults.append(Fault(spec, self.successes))
            for day, n in req.get("per_day", {}).items():
                datetime.date.fromisoformat(day)
                self.per_day[day] = int(n)
            if "max_records" in req:
                self.max_records = int(req["max_records"])
            if "token" in req:
                self.token = req["token"]
            if "tokens" in req:
                self.tokens = [str(t) for t in req["tokens"]]
            if "encoding" in req:
                if req["encoding"] not in ("", "gzip", "deflate"):
                    raise ValueError('encoding: "gzip", "deflate" or ""')
                self.encoding = req["encoding"]
            if "bench" in req:
                b = req["bench"]
                self.bench = None if b is None else (
                    int(b.get("questions", 6)), int(b.get("version", 0)),
                    int(b.get("changed", 10)))
            for rec in req.get("records", []):
                self.add_record(rec)
        # {"warm": "YYYY-MM-DD"}: build a big day's cache now, not during
        # the first timed request.
        if "warm" in req:
            datetime.date.fromisoformat(req["warm"])
            self.day(req["warm"])

    def add_record(self, rec):
        """Add one fixed record in the day of its date (or of its
        "_mock_at" key, which is not served: for records without a readable
        date)."""
        at = rec.pop("_mock_at", None)
        when = parse_record_date(at if at is not None else rec.get("date"))
        if when is None:
            raise ValueError("record without a readable date needs _mock_at")
        day = when.date().isoformat()
        secs = when.hour * 3600 + when.minute * 60 + when.second
        lst = self.extra.setdefault(day, [])
        lst.append((secs, json.dumps(rec, ensure_ascii=False)))
        lst.sort(key=lambda e: e[0])   # stable: insertion order per second

    def window_parts(self, ini, end):
        """[(Day, lo, hi, extras)] of the window [ini, end] (wall clock,
        inclusive), in order; extras are the fixed records inside it."""
        parts = []
        d = ini.date()
        while d <= end.date():
            day = self.day(d.isoformat())
            a = 0 if d > ini.date() else \
                ini.hour * 3600 + ini.minute * 60 + ini.second
            b = 86399 if d < end.date() else \
                end.hour * 3600 + end.minute * 60 + end.second
            lo = day.first_at_or_after(a)
            hi = day.first_at_or_after(b + 1)
            with self.lock:
                ex = [e for e in self.extra.get(d.isoformat(), [])
                      if a <= e[0] <= b]
            parts.append((day, lo, hi, ex))
            d += datetime.timedelta(days=1)
        return parts


def window_records(parts, limit=None):
    """Yield the JSON texts of a window's records in order (at most limit)."""
    n = 0
    for day, lo, hi, ex in parts:
        k = 0
        for i in range(lo, hi):
            if not day.exists(i):
                continue
            t = day.eff_time(i)
            while k < len(ex) and ex[k][0] < t:
                if limit is not None and n >= limit:
                    return
                yield ex[k][1]
                n += 1
                k += 1
            if limit is not None and n >= limit:
                return
            yield day.text(i)
            n += 1
        for e in ex[k:]:
            if limit is not None and n >= limit:
                return
            yield e[1]
            n += 1


def window_count(parts):
    return sum(hi - lo - day.skipped_count(lo, hi) + len(ex)
               for day, lo, hi, ex in parts)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "wolkvox-mock/1"

    # -- plumbing ---------------------------------------------------------

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("mock: %s %s\n" % (self.address_string(),
                                                fmt % args))

    def account(self, status, nbytes):
        """Count an API answer (control-plane answers are not counted)."""
        if getattr(self, "is_api", False):
            self.last_status = status
            self.server.state.count(status, nbytes, self.enc)

    def encoder(self):
        """A fresh compressor for this answer's Content-Encoding, or None
        (see "encoding" in the module docstring)."""
        if self.enc is None:
            return None
        return zlib.compressobj(6, zlib.DEFLATED,
                                31 if self.enc == "gzip" else 15)

    def choose_encoding(self):
        """self.enc: the encoding this API answer will use, or None."""
        st = self.server.state
        offered = [t.split(";")[0].strip().lower() for t in
                   self.headers.get("Accept-Encoding", "").split(",")]
        self.enc = st.encoding if st.encoding and \
            st.encoding in offered else None

    def send_body(self, status, body, ctype="application/json",
                  done=None):
        """Send a whole body with Content-Length; done() runs just before
        the body is written (the request stops counting as in flight)."""
        data = body.encode() if isinstance(body, str) else body
        z = self.encoder() if getattr(self, "is_api", False) else None
        if z is not None:
            data = z.compress(data) + z.flush()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if z is not None:
            self.send_header("Content-Encoding", self.enc)
        self.end_headers()
        if done:
            done()
        self.wfile.write(data)
        self.account(status, len(data))

    def send_envelope(self, status, code, msg, data_member="null",
                      done=None):
        body = '{"code":%s,"error":%s,"msg":%s,"data":%s}' % (
            code, js(msg) if status != 200 else "null", js(msg), data_member)
        self.send_body(status, body, done=done)

    def await_other_token(self, key, seconds):
        """Wait until a request made with a token other than key arrives
        (or is in flight already), or seconds have passed."""
        st = self.server.state

        def others():
            return sum(n for k, n in st.arrived.items() if k != key)
        with st.lock:
            seen = others()
            if any(n > 0 for k, n in st.in_flight.items() if k != key):
                return
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with st.lock:
                if others() > seen:
                    return
            time.sleep(0.01)

    def wait_or_closed(self, seconds):
        """Sleep up to seconds (None: forever), returning early (True) when
        the client closes the connection."""
        deadline = None if seconds is None else time.monotonic() + seconds
        sock = self.connection
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            r, _, _ = select.select([sock], [], [], left)
            if r:
                try:
                    if sock.recv(1, socket.MSG_PEEK) == b"":
                        return True
                except OSError:
                    return True
                # Pipelined bytes: keep waiting without spinning.
                time.sleep(min(0.05, left) if left else 0.05)

    # -- routes -----------------------------------------------------------

    def do_POST(self):
        st = self.server.state
        self.is_api = False
        self.enc = None
        if urllib.parse.urlsplit(self.path).path != "/_control":
            return self.send_body(404, "not found\n", "text/plain")
        n = int(self.headers.get("Content-Length", "0"))
        try:
            req = json.loads(self.rfile.read(n) or b"{}")
            st.control(req)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            return self.send_body(400, js({"error": str(e)}) + "\n")
        self.send_body(200, '{"ok":true}\n')

    def do_GET(self):
        st = self.server.state
        self.is_api = False
        self.enc = None
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        if url.path == "/_stats":
            with st.lock:
                body = json.dumps(st.stats)
            return self.send_body(200, body + "\n")
        if url.path == "/_records":
            return self.serve_records(q)
        self.is_api = True
        self.choose_encoding()
        with st.lock:
            st.stats["requests"] += 1
        if not url.path.endswith("reports_manager.php"):
            return self.send_body(404, "<html><body>404 Not Found</body>"
                                  "</html>\n", "text/html")
        self.serve_api(q)

    def serve_records(self, q):
        st = self.server.state
        ini, end = parse_stamp(q.get("date_ini")), parse_stamp(q.get("date_end"))
        if ini is None or end is None or end < ini:
            return self.send_body(400, '{"error":"bad dates"}\n')
        parts = st.window_parts(ini, end)
        self.send_stream(200, "[", window_records(parts), "]\n", None)

    def serve_api(self, q):
        """One reports_manager request: in-flight accounting around it."""
        st = self.server.state
        token = self.headers.get("wolkvox-token")
        key = token or ""
        start = time.time()
        self.last_status = 0
        with st.lock:
            token_no = st.token_number(token)
        with st.lock:
            st.stats["data_requests"] += 1
            if "date_ini" in q and "date_end" in q:
                st.stats["windows"].append([q["date_ini"], q["date_end"]])
            n = st.in_flight.get(key, 0) + 1
            st.in_flight[key] = n
            st.arrived[key] = st.arrived.get(key, 0) + 1
            st.stats["max_in_flight"] = max(st.stats["max_in_flight"], n)
            if n > 1:
                st.stats["violations"].append(
                    {"kind": "concurrent", "in_flight": n,
                     "window": [q.get("date_ini"), q.get("date_end")]})
        released = []

        def done():
            if not released:
                released.append(time.time())
                with st.lock:
                    # .get: a reset may have cleared the table meanwhile.
                    st.in_flight[key] = max(0, st.in_flight.get(key, 1) - 1)
        try:
            self.answer_api(q, token, token_no, n, done)
        finally:
            done()
            with st.lock:
                st.stats["log"].append(
                    {"start": start, "end": time.time(), "done": released[0],
                     "window": [q.get("date_ini"), q.get("date_end")],
                     "status": self.last_status, "token": token_no})

    def answer_api(self, q, token, token_no, n, done):
        st = self.server.state
        if not token:
            return self.send_envelope(401, "401", MSG_NO_TOKEN, done=done)
        if token_no < 0:
            with st.lock:
                st.stats["tokens_seen_other"] += 1
            return self.send_envelope(403, "403", MSG_BAD_TOKEN, done=done)
        if n > 2:
            return self.send_envelope(403, "403", MSG_SIMULTANEOUS, done=done)
        if q.get("api") != "diagram_4":
            return self.send_envelope(400, "400", MSG_NO_API, done=done)
        ini, end = parse_stamp(q.get("date_ini")), parse_stamp(q.get("date_end"))
        if ini is None or end is None or end < ini:
            return self.send_envelope(400, "400", MSG_PARAMS, done=done)
        if (end - ini).total_seconds() + 1 > st.args.max_days * 86400:
            with st.lock:
                st.stats["violations"].append(
                    {"kind": "range", "window": [q["date_ini"],
                                                 q["date_end"]]})
            return self.send_envelope(400, "400",
                                      MSG_RANGE % st.args.max_days, done=done)
        fault = st.take_fault(token_no)
        if fault and self.apply_fault(fault, q, done, token or ""):
            return
        self.answer_window(q, ini, end, done, fault)

    def apply_fault(self, f, q, done, key):
        """Answer with the fault when it replaces the answer (True); delay,
        await_other_token, cut_after and stall shape the real answer
        instead (False)."""
        if "await_other_token" in f:
            self.await_other_token(key, float(f["await_other_token"]))
            return False
        if "delay" in f:
            if self.wait_or_closed(float(f["delay"])):
                self.close_connection = True
                return True
            return False
        if "cut_after" in f or "stall" in f or "trickle" in f:
            return False
        status = int(f.get("status", 500))
        if "body" in f or "body_b64" in f:
            body = (base64.b64decode(f["body_b64"]) if "body_b64" in f
                    else f["body"])
            self.send_body(status, body,
                           f.get("content_type", "application/json"), done)
        else:
            msg = f.get("msg", "Internal Server Error" if status >= 500
                        else "ERROR")
            self.send_envelope(status, js(str(status)) if status % 2
                               else str(status), msg, done=done)
        return True

    def answer_window(self, q, ini, end, done, fault):
        st = self.server.state
        parts = st.window_parts(ini, end)
        total = window_count(parts)
        n = min(total, st.max_records)
        # The n-th answer picks its variant, so that any three
        # empty windows show all three shapes of `data`, and any two
        # answers both types of `code`.
        with st.lock:
            k = st.answers_made
            st.answers_made += 1
        if n == 0:
            data = ["", ',"data":null', ',"data":[]'][k % 3]
            code = ["404", '"404"'][k // 3 % 2]
            body = '{"code":%s,"error":"NOT FOUND","msg":%s%s}' % (
                code, js(MSG_NO_DATA), data)
            # counted before it is sent: the client may ask again as soon
            # as the answer is in, before this thread goes on ("after")
            with st.lock:
                st.successes += 1
            self.send_body(404, body, done=done)
            return
        code = ["200", '"200"'][k % 2]
        msg = ("%d records were found" if k % 5
               else " %d records were found") % n
        head = '{"code":%s,"error":null,"msg":%s,"data":[' % (code, js(msg))
        if st.bench is not None and fault is None and len(parts) == 1 \
                and self.enc is None and not parts[0][3] and parts[0][0].cache is not None \
                and parts[0][0].skipped == (0, 0):
            with st.lock:
                st.successes += 1
                st.stats["records_served"] += n
            self.send_bench(head, st.bench_body(parts[0], n), done)
            return
        recs = window_records(parts, n)
        if fault and ("cut_after" in fault or "stall" in fault or
                      "trickle" in fault):
            body = (head + ",".join(recs) + "]}").encode()
            self.send_broken(body, fault, done)
            if "trickle" in fault:
                with st.lock:
                    st.successes += 1
                    st.stats["records_served"] += n
            return
        with st.lock:
            st.successes += 1
            st.stats["records_served"] += n
        self.send_stream(200, head, recs, "]}", done)

    def send_bench(self, head, body, done):
        """Send head + the pre-encoded records + "]}" chunked, in 1 MiB
        slices: the benchmark's mock spends next to no CPU per answer."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        view = memoryview(body)
        step = 1024 * 1024
        h = head.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(h), h))
        for off in range(0, len(view), step):
            piece = view[off:off + step]
            self.wfile.write(b"%x\r\n" % len(piece))
            self.wfile.write(piece)
            self.wfile.write(b"\r\n")
        self.wfile.write(b"2\r\n]}\r\n")
        if done:
            done()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.account(200, len(h) + len(body) + 2)

    def send_broken(self, body, fault, done):
        """Announce the whole body, send part of it, then close (cut_after)
        or hang until the client gives up (stall); or send all of it slowly
        (trickle). The cut is made in the body as sent (compressed when
        encoded)."""
        z = self.encoder()
        if z is not None:
            body = z.compress(body) + z.flush()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if z is not None:
            self.send_header("Content-Encoding", self.enc)
        self.end_headers()
        if "trickle" in fault:
            done()
            pause = float(fault["trickle"]) / 20
            step = len(body) // 20 + 1
            for off in range(0, len(body), step):
                time.sleep(pause)
                self.wfile.write(body[off:off + step])
                self.wfile.flush()
            self.account(200, len(body))
            return
        self.close_connection = True
        self.account(200, 0)
        done()
        try:
            if "stall" in fault:
                self.wfile.write(body[:16])
                self.wfile.flush()
                self.wait_or_closed(None)
            else:
                self.wfile.write(body[:int(fault["cut_after"])])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def send_stream(self, status, head, recs, tail, done):
        """Send head + recs joined by ',' + tail: with Content-Length when
        small, else chunked, one chunk per ~256 KiB."""
        first = []
        for r in recs:
            first.append(r)
            if len(first) > STREAM_THRESHOLD:
                break
        if len(first) <= STREAM_THRESHOLD:
            return self.send_body(status, head + ",".join(first) + tail,
                                  done=done)
        z = self.encoder()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        if z is not None:
            self.send_header("Content-Encoding", self.enc)
        self.end_headers()
        sent = 0

        def chunk(data, last=False):
            nonlocal sent
            b = data.encode()
            if z is not None:
                b = z.compress(b) + (z.flush() if last else b"")
            if b:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
            sent += len(b)
        buf = [head + ",".join(first)]
        size = len(buf[0])
        for r in recs:
            buf.append("," + r)
            size += len(r) + 1
            if size >= CHUNK_BYTES:
                chunk("".join(buf))
                buf, size = [], 0
        buf.append(tail)
        chunk("".join(buf), True)
        if done:
            done()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.account(status, sent)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    tls = None                  # an ssl.SSLContext with --tls-cert

    def finish_request(self, request, client_address):
        """With TLS, the handshake runs here, in the request's thread: a
        client that refuses the certificate costs nothing but its thread."""
        if self.tls is None:
            return super().finish_request(request, client_address)
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            conn.close()


def main(argv=None):
    p = argparse.ArgumentParser(description="mock Wolkvox diagram_4 API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--token", default="test-token")
    p.add_argument("--tz", default="America/Bogota")
    p.add_argument("--per-day", type=int, default=40)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-records", type=int, default=60000)
    p.add_argument("--max-days", type=int, default=31)
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--tls-cert", help="serve HTTPS with this certificate")
    p.add_argument("--tls-key", help="the certificate's private key")
    args = p.parse_args(argv)

    srv = Server((args.host, args.port), Handler)
    srv.state = State(args)
    if args.tls_cert:
        srv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.tls.load_cert_chain(args.tls_cert, args.tls_key)
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    if args.verbose:
        sys.stderr.write("mock: listening on %s:%d\n" % (args.host, port))
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
