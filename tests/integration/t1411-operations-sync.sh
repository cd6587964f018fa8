# tests/integration/t1411-operations-sync.sh - one sync loads several
# operations, several at once, never two requests at once with one token.
#
# Proves, with three [operation NAME] sections in one file, alpha and beta
# sharing the mock's token and gamma with a second token (from a
# token_file) in another time zone, and the mock holding the first request
# of each token until a request with the other token arrives
# (await_other_token): one `wvetl sync` exits 0; each operation gets its
# own run (ok), summary line, watermark and rows, equal to what the API
# holds read in its own zone; the mock's request log shows the token
# shared by alpha and beta never had two requests at once (each starts
# after the previous one was answered) while requests with the two tokens
# did overlap; every log line of the run names its operation; neither
# token shows anywhere. Then `sync --operation beta` syncs beta alone, and
# with api.min_interval = 0.4s alpha's and beta's requests, in two
# processes, still start at least 0.4 s after the previous one ended.

export WVETL_NOW="2026-01-07 12:00:00"
GAMMA_TOKEN=wv-gamma-token-91c4e0b2
printf '%s\n' "$GAMMA_TOKEN" >"$WV_TMP/gamma.token"
chmod 600 "$WV_TMP/gamma.token"
MULTI=$WV_TMP/multi.ini
cat >"$MULTI" <<INI
[api]
base_url = $WV_URL
token = $WV_TOKEN
timezone = America/Bogota
backoff = 0.1s
retries = 3

[sync]
start = 2026-01-05

[operation alpha]

[operation beta]
sync.start = 2026-01-05

[operation gamma]
token_file = $WV_TMP/gamma.token
timezone = Europe/Madrid
INI
chmod 600 "$MULTI"

# wvm ARGS: wv with the three-operation file; neither token may show.
wvm()
{
	WV_CONF=$MULTI wv "$@"
	if grep -qF -- "$GAMMA_TOKEN" "$WV_TMP/out" "$WV_TMP/err"; then
		fail "gamma's token appears in the output of: wvetl $*"
	fi
}

wv_control '{"tokens": ["'"$GAMMA_TOKEN"'"],
             "faults": [{"await_other_token": 30, "token": 0},
                        {"await_other_token": 30, "token": 1}]}'
wvm sync
assert_eq 0 "$WV_RC" "the sync of three operations exits 0"
err=$(cat "$WV_TMP/err")
for op in alpha beta gamma; do
	assert_eq 1 "$(grep -c "^summary command=sync operation=$op run=[0-9]* status=ok windows=3 " "$WV_TMP/err")" \
		"operation $op: its own summary line, ok, three windows"
	assert_eq "sync|ok" "$(psql_q "SELECT command || '|' || status FROM wolkvox.etl_run WHERE operation = '$op'")" \
		"operation $op: its own run, ok"
done
assert_eq "alpha|America/Bogota|2026-01-07 11:55:00
beta|America/Bogota|2026-01-07 11:55:00
gamma|Europe/Madrid|2026-01-07 11:55:00" \
	"$(psql_q "SELECT operation, timezone, to_char(watermark AT TIME ZONE timezone, 'YYYY-MM-DD HH24:MI:SS')
	            FROM wolkvox.etl_state ORDER BY 1")" \
	"each operation's watermark, in its own zone"
check_rows --operation alpha --from 2026-01-05 --to "2026-01-07 11:55:00"
check_rows --operation beta --from 2026-01-05 --to "2026-01-07 11:55:00"
check_rows --operation gamma --tz Europe/Madrid --from 2026-01-05 --to "2026-01-07 11:55:00"
echo "ok: every operation holds what the API holds, read in its own zone"

# The mock's request log: [start, done] of each request, per token. (An
# entry is added just after its answer went out: wait until every request
# the mock counted has its entry.)
for i in $(seq 100); do
	[ "$(wv_stat 'len(s["log"]) == s["data_requests"]')" = true ] && break
	sleep 0.05
done
wv_stats >"$WV_TMP/stats.json"
read -r n0 n1 serial overlap <<<"$("$WV_PY" - "$WV_TMP/stats.json" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))["log"]
by = {0: [], 1: []}
for e in log:
    by[e["token"]].append(e)
t0 = sorted(by[0], key=lambda e: e["start"])
# one at a time: each request of token 0 starts after the previous one
# stopped being in flight (its answer began to go out)
serial = all(b["start"] > a["done"] for a, b in zip(t0, t0[1:]))
overlap = any(a["start"] < b["done"] and b["start"] < a["done"]
              for a in by[0] for b in by[1])
print(len(by[0]), len(by[1]), int(serial), int(overlap))
PY
)"
assert_eq "6 3" "$n0 $n1" "alpha and beta made six requests with their token, gamma three with its own"
assert_eq 1 "$serial" "the shared token never had two requests in flight (the log's order)"
assert_eq 1 "$overlap" "requests with the two tokens overlapped: the operations ran at once"
assert_eq '[]' "$(wv_stat 's["violations"]')" "the mock saw no violation"
assert_eq 1 "$(wv_stat 's["max_in_flight"]')" "never two in flight with one token"

for op in alpha beta gamma; do
	assert_contains "$err" "op=$op pid=" "log lines name operation $op"
done
# every line but the summaries and the parent's own names its operation
lines=$(grep -v '^summary ' "$WV_TMP/err" | grep -v 'msg="syncing 3 operations' | grep -vc ' op=' || true)
assert_eq 0 "$lines" "every log line of an operation names it"

# --operation: beta alone
wvm sync --operation beta
assert_eq 0 "$WV_RC" "sync --operation beta exits 0"
assert_eq 1 "$(grep -c '^summary ' "$WV_TMP/err")" "one summary line"
assert_contains "$(cat "$WV_TMP/err")" "summary command=sync operation=beta" "it is beta's"
assert_eq "alpha 1
beta 2
gamma 1" "$(psql_q "SELECT operation || ' ' || count(*) FROM wolkvox.etl_run GROUP BY operation ORDER BY 1")" \
	"only beta ran again"

# api.min_interval between two operations sharing a token
wv_control '{"reset": true, "tokens": ["'"$GAMMA_TOKEN"'"]}'
wvm --set api.min_interval=0.4s sync --operation alpha --operation beta
assert_eq 0 "$WV_RC" "alpha and beta with api.min_interval: exit 0"
for i in $(seq 100); do
	[ "$(wv_stat 'len(s["log"]) == s["data_requests"]')" = true ] && break
	sleep 0.05
done
gap=$(wv_stats | "$WV_PY" -c '
import json, sys
log = sorted(json.load(sys.stdin)["log"], key=lambda e: e["start"])
print("%d %.3f" % (len(log), min(b["start"] - a["end"] for a, b in zip(log, log[1:]))))')
echo "requests and smallest gap: $gap"
assert_eq 2 "${gap% *}" "one request each"
"$WV_PY" -c "import sys; sys.exit(0 if ${gap#* } >= 0.39 else 1)" ||
	fail "beta's request came closer than api.min_interval after alpha's: ${gap#* }s"
echo "ok: the operations sharing a token kept api.min_interval between their requests"
