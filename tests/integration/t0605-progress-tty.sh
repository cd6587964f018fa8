# tests/integration/t0605-progress-tty.sh - what a person at a terminal sees
# during a backfill: human-readable lines and one progress line updated in
# place; and that none of it reaches a file or a pipe.
#
# Runs wvetl under a pseudo terminal with script(1) (util-linux, Debian
# package bsdutils). Proves: on a terminal the log lines are
# "HH:MM:SS level [stage] message" (no ts=/level= fields); a progress line
# "windows N/M, R records, X records/s, ETA HH:MM:SS" is drawn with
# carriage returns and erased (\r ESC[K) for every window, 1/3 to 3/3, and
# erased before the summary, which stays on a line of its own; -q and
# log.format = json turn the progress line off on a terminal too; with
# stderr in a file or a pipe there is no progress line and no carriage
# return at all.

command -v script >/dev/null 2>&1 || fail "script(1) is missing (Debian package bsdutils)"

# on_tty ARGS...: run wvetl ARGS under a pseudo terminal; the terminal's
# bytes go to $WV_TMP/tty, the exit status to WV_RC.
on_tty()
{
	local cmd="'$WVETL' -c '$WV_CONF'" a
	for a in "$@"; do cmd="$cmd '$a'"; done
	echo "\$ (tty) wvetl $*"
	WV_RC=0
	script -qfec "$cmd" /dev/null </dev/null >"$WV_TMP/tty" 2>&1 || WV_RC=$?
	echo "  -> exit $WV_RC"
	od -c "$WV_TMP/tty" | head -n 30 | sed 's/^/  | /'
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WV_TMP/tty"; then
		fail "sanitizer report under the terminal"
	fi
}

# count PATTERN FILE: occurrences of an extended regex (bytes, not lines)
count()
{
	"$WV_PY" -c 'import re,sys; print(len(re.findall(sys.argv[1].encode(), open(sys.argv[2], "rb").read())))' "$1" "$2"
}

on_tty backfill --from 2026-01-05 --to 2026-01-08
assert_eq 0 "$WV_RC" "backfill on a terminal"
for n in 1 2 3; do
	[ "$(count "\\r\\x1b\\[Kwindows $n/3, [0-9]+ records, [0-9]+ records/s, ETA [0-9]{2}:[0-9]{2}:[0-9]{2}" "$WV_TMP/tty")" -ge 1 ] ||
		fail "the progress line 'windows $n/3, ... records/s, ETA ..' drawn after a carriage return"
done
echo "ok: progress lines 1/3, 2/3, 3/3 with records/s and ETA"
[ "$(count 'windows 1/3, [1-9][0-9]* records, [1-9][0-9]* records/s' "$WV_TMP/tty")" -ge 1 ] ||
	fail "the rate is measured from the first window on (not 0 records/s)"
echo "ok: a rate after the first window"
[ "$(count '\r\x1b\[K' "$WV_TMP/tty")" -ge 4 ] || fail "the line is erased in place (\\r ESC[K)"
echo "ok: erased in place"
[ "$(count '\r\x1b\[Ksummary command=backfill ' "$WV_TMP/tty")" -eq 1 ] ||
	fail "the progress line is erased before the summary, which starts a line"
echo "ok: the summary starts a clean line"
[ "$(count '[0-9]{2}:[0-9]{2}:[0-9]{2} info  \[pipeline\] backfill of operation "test"' "$WV_TMP/tty")" -eq 1 ] ||
	fail "human-readable lines on a terminal: HH:MM:SS level [stage] message"
echo "ok: human-readable log lines"
assert_eq 0 "$(count '(^|\n|\x1b\[K)ts=[0-9]|level=(trace|debug|info|warn|error)' "$WV_TMP/tty")" "no key=value fields on a terminal"
# the progress line never sits inside a log line: each log line starts
# after a newline or after the erase sequence
assert_eq 0 "$(count 'ETA [0-9:]{8}[0-9]{2}:[0-9]{2}:[0-9]{2} ' "$WV_TMP/tty")" \
	"a log line is never glued to the progress line"

# -q: no progress line on a terminal either; json: neither
on_tty -q backfill --from 2026-01-05 --to 2026-01-08 --reload
assert_eq 0 "$WV_RC" "-q backfill on a terminal"
assert_eq 0 "$(count 'windows [0-9]+/3' "$WV_TMP/tty")" "-q: no progress line"
on_tty --set log.format=json backfill --from 2026-01-05 --to 2026-01-08 --reload
assert_eq 0 "$WV_RC" "json backfill on a terminal"
assert_eq 0 "$(count 'windows [0-9]+/3' "$WV_TMP/tty")" "json: no progress line"
assert_eq 0 "$(count '\x1b' "$WV_TMP/tty")" "json: no escape sequence"

# a file and a pipe: no progress line, no carriage return
wv_expect 0 backfill --from 2026-01-05 --to 2026-01-08 --reload
assert_eq 0 "$(count 'windows [0-9]+/3|\r|\x1b' "$WV_TMP/err")" "stderr to a file: no progress line"
rc=0
"$WVETL" -c "$WV_CONF" backfill --from 2026-01-05 --to 2026-01-08 --reload 2>&1 >/dev/null |
	cat >"$WV_TMP/pipe.err" || rc=$?
assert_eq 0 "$(count 'windows [0-9]+/3|\r|\x1b' "$WV_TMP/pipe.err")" "stderr to a pipe: no progress line"
assert_eq 1 "$(count '(^|\n)summary command=backfill ' "$WV_TMP/pipe.err")" "the pipe got the summary"
