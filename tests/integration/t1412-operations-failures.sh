# tests/integration/t1412-operations-failures.sh - in a sync of several
# operations one failing does not stop the others; the exit status is the
# worst of theirs; --operation picks; status shows them side by side; a
# signal stops them all cleanly; a file without sections is unchanged.
#
# Proves, with four [operation NAME] sections (alpha and beta sharing the
# mock's token, gamma with a second token the mock accepts, delta with a
# token it refuses):
#   - `sync` exits 1: delta's run failed with the API's message, while
#     alpha, beta and gamma committed every window (rows equal the API's);
#   - a token's daily limit on gamma alone: `sync --operation gamma
#     --operation alpha` exits 75 (alpha ok, gamma try_later); with delta
#     instead of alpha it exits 1 (1 over 75);
#   - --operation with an unknown name, and backfill, questions or rejects without
#     --operation while several are configured, exit 2 naming the
#     operations; backfill --operation beta loads beta alone, in beta's
#     zone; questions --operation lists that operation's questions only;
#     extract --operation gamma asks with gamma's token; rejects
#     --operation gamma lists gamma's rejects, retried with --operation;
#   - status lists the four side by side, --operation narrows it;
#   - SIGTERM to a sync of several operations, their requests held by
#     the mock: every started operation's run is recorded interrupted,
#     the one that waited for its token's turn gets a summary line
#     saying interrupted and no run, exit 130;
#   - the file of run.sh, without sections: sync's lines and summary as
#     before (no op= field, operation=test), status without the table;
#   - contrib/operations.example.ini is a valid configuration.

export WVETL_NOW="2026-01-07 12:00:00"
GAMMA_TOKEN=wv-gamma-token-91c4e0b2
MULTI=$WV_TMP/multi.ini
cat >"$MULTI" <<INI
[api]
base_url = $WV_URL
token = $WV_TOKEN
backoff = 0.1s
retries = 2

[sync]
start = 2026-01-06

[operation alpha]

[operation beta]
timezone = America/Lima

[operation gamma]
token = $GAMMA_TOKEN

[operation delta]
token = wv-refused-token-0d3a
INI
chmod 600 "$MULTI"

wvm()
{
	WV_CONF=$MULTI wv "$@"
	if grep -qF -- "$GAMMA_TOKEN" "$WV_TMP/out" "$WV_TMP/err" ||
		grep -qF -- "wv-refused-token-0d3a" "$WV_TMP/out" "$WV_TMP/err"; then
		fail "a token appears in the output of: wvetl $*"
	fi
}

summary_status() { sed -n "s/^summary command=$1 operation=$2 run=[0-9]* status=\([a-z_]*\) .*/\1/p" "$WV_TMP/err"; }

# ---- one operation fails, the others load ----------------------------------
wv_control '{"tokens": ["'"$GAMMA_TOKEN"'"]}'
wvm sync
assert_eq 1 "$WV_RC" "one operation failed: exit 1"
for op in alpha beta gamma; do
	assert_eq ok "$(summary_status sync $op)" "operation $op: summary ok"
	assert_eq "ok|2" "$(psql_q "SELECT r.status || '|' || (SELECT count(*) FROM wolkvox.etl_window w WHERE w.operation = r.operation)
	                           FROM wolkvox.etl_run r WHERE operation = '$op'")" "operation $op: its run ok, two windows committed"
done
check_rows --operation alpha --from 2026-01-06 --to "2026-01-07 11:55:00"
check_rows --operation beta --tz America/Lima --from 2026-01-06 --to "2026-01-07 11:55:00"
check_rows --operation gamma --from 2026-01-06 --to "2026-01-07 11:55:00"
assert_eq failed "$(summary_status sync delta)" "operation delta: summary failed"
assert_eq "failed" "$(psql_q "SELECT status FROM wolkvox.etl_run WHERE operation = 'delta'")" "delta's run failed"
assert_contains "$(psql_q "SELECT error FROM wolkvox.etl_run WHERE operation = 'delta'")" "PLEASE VALIDATE TOKEN" \
	"delta's run says why (the API's message)"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE operation = 'delta'")" "delta loaded nothing"

# ---- worst of: 75 only when nothing failed ---------------------------------
wv_control '{"faults": [{"status": 403, "msg": "TOKEN LIMIT EXCEEDED", "token": 1, "times": 100}]}'
wvm sync --operation gamma --operation alpha
assert_eq 75 "$WV_RC" "gamma's token at its limit, alpha ok: exit 75"
assert_eq try_later "$(summary_status sync gamma)" "gamma: try_later"
assert_eq ok "$(summary_status sync alpha)" "alpha: ok"
assert_eq 2 "$(grep -c '^summary ' "$WV_TMP/err")" "two operations, two summary lines"
wvm sync --operation gamma --operation delta
assert_eq 1 "$WV_RC" "gamma must try later, delta failed: exit 1"
assert_eq "try_later failed" "$(summary_status sync gamma) $(summary_status sync delta)" "each says its own"

# ---- picking operations -------------------------------------------------------
wvm sync --operation nosuch
assert_eq 2 "$WV_RC" "an unknown operation: exit 2"
assert_contains "$(cat "$WV_TMP/err")" "--operation nosuch: no such operation in $MULTI (configured: alpha, beta, gamma, delta)" \
	"it names the configured operations"
wvm backfill --from 2026-01-05 --to 2026-01-06
assert_eq 2 "$WV_RC" "backfill with several operations and no --operation: exit 2"
assert_contains "$(cat "$WV_TMP/err")" "backfill works on one operation: name it with --operation NAME" "it says to name one"
assert_contains "$(cat "$WV_TMP/err")" "summary command=backfill operation=- run=0 status=config_error" \
	"its summary line names no operation"
wvm backfill --operation beta --from 2026-01-05 --to 2026-01-06
assert_eq 0 "$WV_RC" "backfill --operation beta exits 0"
assert_contains "$(cat "$WV_TMP/err")" "op=beta pid=" "its lines name beta"
assert_contains "$(cat "$WV_TMP/err")" "[2026-01-05 00:00:00, 2026-01-06 00:00:00) America/Lima" "in beta's zone"
check_rows --operation beta --tz America/Lima --from 2026-01-05 --to "2026-01-07 11:55:00"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.survey_response WHERE operation <> 'beta'
                        AND answered_at < '2026-01-06 00:00:00-05'")" "no other operation got that day"

wvm extract --operation gamma --from 2026-01-05 --to 2026-01-06 -o "$WV_TMP/gamma.jsonl"
assert_eq 75 "$WV_RC" "extract --operation gamma uses gamma's token (at its limit: exit 75)"
wv_control '{"reset": true, "tokens": ["'"$GAMMA_TOKEN"'"]}'
wvm extract --operation gamma --from 2026-01-05 --to 2026-01-06 -o "$WV_TMP/gamma.jsonl"
assert_eq 0 "$WV_RC" "extract --operation gamma exits 0"
assert_eq 40 "$(wc -l <"$WV_TMP/gamma.jsonl")" "the day's 40 records"
wvm questions
assert_eq 2 "$WV_RC" "questions with several operations and no --operation: exit 2"
wvm questions --operation gamma
assert_eq 0 "$WV_RC" "questions --operation gamma exits 0"
assert_contains "$(cat "$WV_TMP/out")" "q01" "it lists gamma's questions"
wvm questions --operation delta
assert_eq 0 "$WV_RC" "questions --operation delta exits 0"
assert_not_contains "$(cat "$WV_TMP/out")" "q01" "delta has answered none"

wvm rejects
assert_eq 2 "$WV_RC" "rejects with several operations and no --operation: exit 2"
wvm rejects --operation gamma
assert_eq 0 "$WV_RC" "rejects --operation gamma exits 0"
assert_contains "$(cat "$WV_TMP/out")" "operation gamma (times in America/Bogota): 6 open reject(s)" \
	"gamma's rejects only (its two days' three each)"
assert_contains "$(cat "$WV_TMP/out")" "wvetl backfill --reload --operation gamma --from" \
	"the commands that retry them name gamma"
assert_eq 6 "$(psql_q "SELECT count(*) FROM wolkvox.etl_reject WHERE operation = 'gamma'")" "as the warehouse holds"

# ---- status side by side -----------------------------------------------------------
wvm status
assert_eq 0 "$WV_RC" "status exits 0"
out=$(cat "$WV_TMP/out")
head -n 5 "$WV_TMP/out" | sed 's/^/  status: /'
assert_contains "$(head -n 1 "$WV_TMP/out")" "operation  time zone       watermark" "a table of the operations first"
assert_eq "alpha America/Bogota
beta America/Lima
gamma America/Bogota
delta America/Bogota" "$(sed -n '2,5p' "$WV_TMP/out" | awk '{print $1, $2}')" "one line per configured operation, in its zone"
assert_contains "$(sed -n 5p "$WV_TMP/out")" "failed" "delta's line shows its failed run"
for op in alpha beta gamma delta; do
	assert_contains "$out" "operation $op (times in" "then $op's details"
done
wvm status --operation gamma
assert_eq 2 "$(grep -c '^operation ' "$WV_TMP/out")" "status --operation gamma: the table's head and gamma's details"
assert_contains "$(sed -n 2p "$WV_TMP/out")" "gamma " "the table holds gamma"
assert_not_contains "$(cat "$WV_TMP/out")" "alpha" "and nothing of alpha"

# ---- a signal stops them all ------------------------------------------------------
wv_control '{"reset": true, "tokens": ["'"$GAMMA_TOKEN"'"],
             "faults": [{"delay": 30, "times": 10}]}'
"$WVETL" -c "$MULTI" --set sync.start=2026-01-01 sync --operation alpha --operation beta --operation gamma \
	>"$WV_TMP/sig.out" 2>"$WV_TMP/sig.err" &
pid=$!
for i in $(seq 300); do
	[ "$(wv_stat 's["data_requests"]')" -ge 2 ] && break
	sleep 0.1
done
[ "$(wv_stat 's["data_requests"]')" -ge 2 ] || fail "alpha's and gamma's first requests reached the mock"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
sed 's/^/  | /' "$WV_TMP/sig.err"
assert_eq 130 "$rc" "SIGTERM: exit 130"
assert_eq 2 "$(psql_q "SELECT count(*) FROM wolkvox.etl_run WHERE status = 'interrupted' AND operation IN ('alpha', 'gamma')")" \
	"alpha's and gamma's runs were recorded interrupted"
assert_eq 0 "$(psql_q "SELECT count(*) FROM wolkvox.etl_run WHERE status = 'running'")" "no run left running"
for op in alpha beta gamma; do
	assert_eq interrupted "$(sed -n "s/^summary command=sync operation=$op run=[0-9]* status=\([a-z_]*\) .*/\1/p" "$WV_TMP/sig.err")" \
		"operation $op: summary interrupted"
done
assert_contains "$(cat "$WV_TMP/sig.err")" "summary command=sync operation=beta run=0 status=interrupted" \
	"beta, waiting for its token's turn, was not started"
assert_eq 2 "$(psql_q "SELECT count(*) FROM wolkvox.etl_run WHERE operation = 'beta'")" "and has no run of this sync (its sync and backfill before)"

# ---- a file without sections: as before ----------------------------------------
wv_control '{"reset": true}'
wv_expect 0 --set sync.start=2026-01-06 sync
assert_not_contains "$(cat "$WV_TMP/err")" " op=" "no op= field on a one-operation file's lines"
assert_contains "$(cat "$WV_TMP/err")" "summary command=sync operation=test run=" "the summary names operation test"
wv_expect 0 status
assert_contains "$(head -n 1 "$WV_TMP/out")" "operation test (times in America/Bogota)" "status starts with the operation, no table"
wv_expect 0 status --operation test
wv_expect 2 status --operation alpha
assert_contains "$(cat "$WV_TMP/err")" "no such operation" "a one-operation file has only its own"

# ---- the example file --------------------------------------------------------------
printf 'example-token-2f9a\n' >"$WV_TMP/example.token"
chmod 600 "$WV_TMP/example.token"
"$WVETL" -c "$WV_TOP/contrib/operations.example.ini" --set api.token_file="$WV_TMP/example.token" \
	config >"$WV_TMP/out" 2>"$WV_TMP/err" || fail "contrib/operations.example.ini loads: $(cat "$WV_TMP/err")"
assert_eq 3 "$(grep -c '^\[operation ' "$WV_TMP/out")" "the example has three operations"
