# tests/integration/t0316-untrusted-input.sh - what comes from outside the
# operator's hands cannot redirect the token, drive the terminal, or
# write through a planted file.
#
# Proves:
#   - api.server must be a server code: "0010.evil.com#" (which would put
#     the token in a request to evil.com) and one with a CR LF (a header)
#     exit 2 before any request;
#   - api.base_url over plain http is refused (exit 2) unless its host is
#     this machine: http://127.0.0.1 and http://localhost work, https://
#     anything is taken;
#   - the API's msg with terminal escapes (ESC [2J, an OSC title, BEL, the
#     C1 CSI) reaches neither the log lines (key=value, nor on a terminal
#     the human form) nor etl_run.error with a single control character;
#   - the archive's temporary file is not at a predictable name: a symbolic
#     link planted at the name the process would have used (FILE.tmp.PID)
#     is neither followed nor replaced, and the archive file is a regular
#     file of mode 0600.

unq() { sed 's/\\"/"/g' "$WV_TMP/err"; }

wv_expect 2 --set api.base_url= --set 'api.server=0010.evil.com#' extract --from 2026-01-05 --to 2026-01-06
assert_contains "$(unq)" "api.server must be the operation's server code, 1 to 16 letters or digits" \
	"a server code with a host name in it"
wv_expect 2 --set "api.server=0010$(printf '\r\nX-Evil: 1')" sync
assert_contains "$(unq)" "api.server must be" "a server code with a header in it"
wv_expect 2 --set api.base_url=http://wv0010.wolkvox.com/api/v2/reports_manager.php extract \
	--from 2026-01-05 --to 2026-01-06
assert_contains "$(unq)" "api.base_url must be an https:// URL (http:// only to this machine" \
	"plain http to another host"
wv_expect 2 --set "api.base_url=http://127.0.0.1@evil.example:$WV_PORT/x" extract --from 2026-01-05 --to 2026-01-06
assert_contains "$(unq)" "api.base_url must be an https:// URL" "user info is not a host"
assert_eq 0 "$(wv_stat 's["requests"]')" "no request was made"
wv_expect 0 --set "api.base_url=http://localhost:$WV_PORT/api/v2/reports_manager.php" \
	extract --from 2026-01-05 --to 2026-01-06
wv_expect 0 extract --from 2026-01-05 --to 2026-01-06
assert_eq 2 "$(wv_stat 's["requests"]')" "http to localhost and 127.0.0.1 is taken"

# the API's words with terminal escapes
"$WV_PY" - "$WV_TMP/evil.json" <<'PY'
import json, sys
msg = "BAD \x1b[2J\x1b]0;pwned\x07 \x9b31m RED \x7f end"
body = json.dumps({"code": 400, "error": "x", "msg": msg})
json.dump({"faults": [{"status": 200, "body": body, "times": 3}]}, open(sys.argv[1], "w"))
PY
wv_control "@$WV_TMP/evil.json"
wv_expect 0 migrate
wv_expect 1 backfill --from 2026-01-05 --to 2026-01-06
assert_contains "$(cat "$WV_TMP/err")" "API answered code 400: BAD ?[2J?]0;pwned? ?31m RED ? end" \
	"the message is shown with its controls as '?'"
"$WV_PY" - "$WV_TMP/err" <<'PY' || fail "a control character reached the log"
import re, sys
t = open(sys.argv[1], "rb").read().decode()
bad = re.findall(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", t)
sys.exit(1 if bad else 0)
PY
assert_eq "f" "$(psql_q "SELECT bool_or(error ~ E'[\\\\x01-\\\\x08\\\\x0b-\\\\x1f\\\\x7f\\\\u0080-\\\\u009f]')
                         FROM wolkvox.etl_run")" "etl_run.error holds no control character"
assert_contains "$(psql_q "SELECT error FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1")" \
	"BAD ?[2J?]0;pwned?" "etl_run.error says what the API said"
script -qfec "'$WVETL' -c '$WV_CONF' -q backfill --from 2026-01-05 --to 2026-01-06" /dev/null \
	</dev/null >"$WV_TMP/tty" 2>&1 || true
assert_contains "$(cat "$WV_TMP/tty")" "API answered code 400: BAD ?[2J?]0;pwned?" "on a terminal too"
"$WV_PY" - "$WV_TMP/tty" <<'PY' || fail "a control character reached the terminal"
import sys
t = open(sys.argv[1], "rb").read()
bad = [c for c in t if (c < 0x20 and c not in (0x0a, 0x0d, 0x09)) or c == 0x7f] + \
      [1 for i in range(len(t) - 1) if t[i] == 0xc2 and 0x80 <= t[i + 1] <= 0x9f]
sys.exit(1 if bad else 0)
PY
echo "ok: no control character on the terminal"

# a symbolic link planted where the archive's temporary file used to go
wv_control '{"reset":true}'
mkdir -p "$WV_TMP/arch/test/2026/01"
printf 'precious\n' >"$WV_TMP/victim"
final="$WV_TMP/arch/test/2026/01/diagram_4_20260105000000_20260106000000.json.gz"
rc=0
bash -c 'ln -s "$1" "$2.tmp.$$" && exec "$3" -c "$4" --set "archive.dir=$5" backfill --from 2026-01-05 --to 2026-01-06' \
	plant "$WV_TMP/victim" "$final" "$WVETL" "$WV_CONF" "$WV_TMP/arch" >"$WV_TMP/out" 2>"$WV_TMP/err" || rc=$?
cat "$WV_TMP/err"
assert_eq 0 "$rc" "the backfill with an archive"
assert_eq "precious" "$(cat "$WV_TMP/victim")" "the planted link was not followed"
[ -f "$final" ] && [ ! -L "$final" ] || fail "the archive is a regular file"
assert_eq 600 "$(stat -c %a "$final")" "the archive file is private (0600)"
zcat "$final" | head -c 20 | grep -q '"code"' || fail "the archive holds the body"
assert_eq 1 "$(find "$WV_TMP/arch" -name '*.tmp.*' -type l | wc -l)" "the planted link is still there, untouched"
echo "ok: the archive does not write through a planted link"
