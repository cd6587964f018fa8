# tests/integration/t0513-archive-full.sh - an archive.dir that cannot take
# the answer fails the window: the archive is a promise (README "How a
# window is loaded").
#
# The archive directory is a tmpfs filled to the last byte, mounted in a
# mount namespace of wvetl's own (unshare -rm: no privilege needed, and
# nothing mounted outside). Proves: the backfill exits 1, its summary and
# etl_run say failed, the error names the archive and says the window is
# not loaded, and nothing of the window is committed (no etl_window row, no
# survey row); the same backfill without archive.dir then loads it.

arch=$WV_TMP/arch
mkdir -p "$arch"
wv_expect 0 migrate

echo "\$ wvetl --set archive.dir=<full tmpfs> backfill --from 2026-01-05 --to 2026-01-06"
WV_RC=0
unshare -rm sh -c '
	mount -t tmpfs -o size=64k none "$1" || exit 99
	dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null
	shift
	exec "$@"' sh "$arch" "$WVETL" -c "$WV_CONF" --set archive.dir="$arch" \
	backfill --from 2026-01-05 --to 2026-01-06 >"$WV_TMP/out" 2>"$WV_TMP/err" || WV_RC=$?
sed 's/^/  | /' "$WV_TMP/err"
[ "$WV_RC" != 99 ] || fail "cannot mount a tmpfs in a mount namespace of our own"
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WV_TMP/err"; then
	fail "sanitizer report"
fi
assert_eq 1 "$WV_RC" "a full archive.dir fails the run"
assert_contains "$(cat "$WV_TMP/err")" "No space left on device; the window is not loaded" \
	"the error names the archive's problem"
assert_contains "$(tail -n 1 "$WV_TMP/err")" "status=failed windows=0 " "the summary says failed"
assert_eq failed "$(psql_q "SELECT status FROM wolkvox.etl_run ORDER BY run_id DESC LIMIT 1")" \
	"etl_run says failed"
assert_eq "0 0" "$(psql_q "SELECT (SELECT count(*) FROM wolkvox.etl_window),
                                  (SELECT count(*) FROM wolkvox.survey_response)" | tr '|' ' ')" \
	"nothing of the window is committed"

wv_expect 0 backfill --from 2026-01-05 --to 2026-01-06
assert_eq 1 "$(psql_q "SELECT count(*) FROM wolkvox.etl_window")" "without archive.dir it loads"
