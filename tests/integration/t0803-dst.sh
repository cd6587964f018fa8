# tests/integration/t0803-dst.sh - windows in zones with DST (contract rule
# 13), against mock APIs told their time zone.
#
# Proves, for America/Santiago, America/Asuncion, America/New_York,
# Europe/Madrid and America/Mexico_City (2021, before Mexico dropped DST),
# across both transitions, with api.timezone set to the zone:
# - backfill exits 0; the API is never sent date_ini after date_end (the
#   mock answers that with 400), nor a wall-clock second twice;
# - day windows start and end on local midnights, as PostgreSQL reads them
#   ((local date)::timestamp AT TIME ZONE zone), also after Santiago's and
#   Asuncion's skipped midnights: no drift; each asks its whole day;
# - every loaded row is what the independent oracle expects (check_rows.py,
#   which reads wall-clock times by the same rule), and v_response puts
#   each survey on the local day of the window it came in.
# New York's repeated hour (2026-11-01 01:00-01:59), and Santiago's
# (2026-04-04 23:00-23:59), holding records of both occurrences: they load
# at the later occurrence, the instant PostgreSQL gives the same wall time
# (answered_at = 'wall'::timestamp AT TIME ZONE zone); hour windows ask the
# repeated hour once (no request for the window made only of its earlier
# occurrence, which is still recorded as loaded: no gap); record-cap splits
# that fall inside it load the same rows.

pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done' EXIT

# tz_mock ZONE: a mock told ZONE, 48 records a day (every 30 minutes);
# its URL in MURL, its port in MPORT.
tz_mock()
{
	local dir i
	dir=$WV_TMP/mock-$(echo "$1" | tr / _)
	mkdir -p "$dir"
	"$WV_PY" "$WV_MOCK" --port 0 --port-file "$dir/port" --token "$WV_TOKEN" \
		--tz "$1" --per-day 48 >"$dir/log" 2>&1 &
	pids="$pids $!"
	for i in $(seq 200); do
		[ -s "$dir/port" ] && break
		sleep 0.05
	done
	MPORT=$(cat "$dir/port")
	MURL="http://127.0.0.1:$MPORT/api/v2/reports_manager.php"
}

mstat()
{
	curl -fsS "http://127.0.0.1:$MPORT/_stats" |
		"$WV_PY" -c 'import json,sys; s=json.load(sys.stdin); print(json.dumps('"$1"'))'
}

mcontrol()
{
	curl -fsS -X POST -H 'Content-Type: application/json' -d "$1" \
		"http://127.0.0.1:$MPORT/_control" >/dev/null
}

# asked_ok MODE: no inverted window, no wall-clock second asked twice
# (MODE split: but by a window and then by its halves), and (MODE days)
# every window a whole local day (from its first wall second).
asked_ok()
{
	curl -fsS "http://127.0.0.1:$MPORT/_stats" | "$WV_PY" -c '
import json, sys
s = json.load(sys.stdin)
w = sorted(s["windows"])
assert s["violations"] == [], s["violations"]
assert w, "no request"
for ini, end in w:
    assert ini <= end, "inverted: %s > %s" % (ini, end)
    if sys.argv[1] == "days":
        assert end[8:] == "235959", "not a whole day: %s %s" % (ini, end)
        assert ini[8:] in ("000000", "010000"), "not from the day start: %s" % ini
for (a, b), (c, d) in zip(w, w[1:]):
    # a split window was asked whole first, then by halves
    assert c > b or sys.argv[1] == "split", "asked twice: [%s, %s] and [%s, %s]" % (a, b, c, d)
print("ok: %d requests, none inverted, none overlapping" % len(w))
' "$1" || fail "the requests sent to the API"
}

# midnights_ok SCHEMA ZONE: every window bound is a local midnight as
# PostgreSQL reads it, and every survey's local day is its window's.
midnights_ok()
{
	assert_eq 0 "$(psql_q "SELECT count(*) FROM $1.etl_window
	                        WHERE window_from <> ((window_from AT TIME ZONE '$2')::date::timestamp AT TIME ZONE '$2')
	                           OR window_to <> ((window_to AT TIME ZONE '$2')::date::timestamp AT TIME ZONE '$2')")" \
		"$2: windows on local midnights, as PostgreSQL reads them"
	assert_eq 0 "$(psql_q "SELECT count(*) FROM $1.v_response r JOIN $1.etl_window w
	                        ON r.answered_at >= w.window_from AND r.answered_at < w.window_to
	                        WHERE r.local_date <> (w.window_from AT TIME ZONE '$2')::date")" \
		"$2: each survey on its window's local day in v_response"
}

# zone_case ZONE SCHEMA FROM1 TO1 FROM2 TO2: day backfills across both
# transitions (into SCHEMA1 and SCHEMA2), from the mock tz_mock started.
zone_case()
{
	local zone=$1 s=$2
	wv_expect 0 --set api.base_url="$MURL" --set api.timezone="$zone" --set database.schema="${s}1" \
		backfill --from "$3" --to "$4"
	wv_expect 0 --set api.base_url="$MURL" --set api.timezone="$zone" --set database.schema="${s}2" \
		backfill --from "$5" --to "$6"
	asked_ok days
	midnights_ok "${s}1" "$zone"
	midnights_ok "${s}2" "$zone"
	WV_URL=$MURL check_rows --schema "${s}1" --tz "$zone" --from "$3" --to "$4"
	WV_URL=$MURL check_rows --schema "${s}2" --tz "$zone" --from "$5" --to "$6"
}

tz_mock America/Asuncion
zone_case America/Asuncion asu 2023-03-23 2023-03-28 2023-09-28 2023-10-04
tz_mock Europe/Madrid
zone_case Europe/Madrid mad 2026-03-27 2026-03-31 2026-10-23 2026-10-27
tz_mock America/Mexico_City
zone_case America/Mexico_City mex 2021-04-02 2021-04-06 2021-10-29 2021-11-02

# Santiago: the skipped midnight (2026-09-06) and the repeated 23:00 hour
# (2026-04-04), with a record of each occurrence of 23:30.
tz_mock America/Santiago
mcontrol '{"records":[{"date":"2026-04-04 23:30:00","conn_id":"scl-first"},{"date":"2026-04-04 23:30:00","conn_id":"scl-second"}]}'
zone_case America/Santiago scl 2026-04-02 2026-04-08 2026-09-03 2026-09-09
assert_eq "2" "$(psql_q "SELECT count(*) FROM scl1.survey_response WHERE conn_id LIKE 'scl-%'
                          AND answered_at = '2026-04-05 03:30:00+00'
                          AND answered_at = '2026-04-04 23:30:00'::timestamp AT TIME ZONE 'America/Santiago'")" \
	"Santiago's repeated 23:30 is its later occurrence (-04), as PostgreSQL reads it"
assert_eq "2026-04-04" "$(psql_q "SELECT DISTINCT local_date FROM scl1.v_response WHERE conn_id LIKE 'scl-%'")" \
	"on its local day"
assert_eq "2026-09-06 01:00:00" "$(psql_q "SELECT to_char(window_from AT TIME ZONE 'America/Santiago', 'YYYY-MM-DD HH24:MI:SS')
                                            FROM scl2.etl_window WHERE window_to - window_from < interval '24 hours'")" \
	"the day without a midnight starts at 01:00, the instant it begins (23 hours)"

# New York: both occurrences of 01:30 on 2026-11-01.
tz_mock America/New_York
mcontrol '{"records":[{"date":"2026-11-01 01:30:00","conn_id":"nyc-first"},{"date":"2026-11-01 01:30:00","conn_id":"nyc-second"}]}'
zone_case America/New_York nyc 2026-03-06 2026-03-11 2026-10-30 2026-11-04
assert_eq "2" "$(psql_q "SELECT count(*) FROM nyc2.survey_response WHERE conn_id LIKE 'nyc-%'
                          AND answered_at = '2026-11-01 06:30:00+00'
                          AND answered_at = '2026-11-01 01:30:00'::timestamp AT TIME ZONE 'America/New_York'")" \
	"New York's repeated 01:30 is its later occurrence (-05), as PostgreSQL reads it"
assert_eq "25" "$(psql_q "SELECT extract(epoch FROM window_to - window_from)::int / 3600 FROM nyc2.etl_window
                                 WHERE window_from = '2026-11-01 00:00:00'::timestamp AT TIME ZONE 'America/New_York'")" \
	"the fall-back day is one window of 25 hours"

# Hour windows across the repeated hour: 01:xx is asked once; the window
# made of its earlier occurrence asks nothing and is recorded all the same.
mcontrol '{"reset":true}'
mcontrol '{"records":[{"date":"2026-11-01 01:30:00","conn_id":"nyc-first"},{"date":"2026-11-01 01:30:00","conn_id":"nyc-second"}]}'
wv_expect 0 --set api.base_url="$MURL" --set api.timezone=America/New_York --set database.schema=nych \
	--set api.window=1h backfill --from "2026-11-01 00:00:00" --to "2026-11-01 04:00:00"
asked_ok hours
assert_eq '[["20261101000000", "20261101005959"], ["20261101010000", "20261101015959"], ["20261101020000", "20261101025959"], ["20261101030000", "20261101035959"]]' \
	"$(mstat 's["windows"]')" "hour windows: the repeated hour asked once"
assert_eq "5|0" "$(psql_q "SELECT count(*), count(*) FILTER (WHERE lead IS NOT NULL AND lead <> window_to)
                           FROM (SELECT window_to, lead(window_from) OVER (ORDER BY window_from) AS lead
                                   FROM nych.etl_window) w")" "five windows, no gap between them"
WV_URL=$MURL check_rows --schema nych --tz America/New_York --from "2026-11-01 00:00:00" --to "2026-11-01 04:00:00"

# Record-cap splits, some inside the repeated hour: the same rows.
mcontrol '{"reset":true}'
mcontrol '{"max_records":5,"records":[{"date":"2026-11-01 01:30:00","conn_id":"nyc-first"},{"date":"2026-11-01 01:30:00","conn_id":"nyc-second"}]}'
wv_expect 0 --set api.base_url="$MURL" --set api.timezone=America/New_York --set database.schema=nycs \
	--set api.max_records=5 backfill --from 2026-10-31 --to 2026-11-02
asked_ok split
WV_URL=$MURL check_rows --schema nycs --tz America/New_York --from 2026-10-31 --to 2026-11-02
