# tests/integration/t0607-install.sh - what an operator installs and reads:
# make install, the man page, contrib/'s systemd units and cron line, and
# that --help, the man page, the README and config.example.ini agree with
# the program on every key, default and exit status.
#
# Proves: `make install PREFIX=/usr DESTDIR=tmp` installs the binary (runs),
# the man page (with /usr/local replaced by the prefix), the SQL files, the
# example config and contrib/ (ExecStart pointing at the prefix); the man
# page renders with `man --warnings` and not one warning (and a broken page
# would give one); systemd-analyze verify passes the service and timer with
# no message at all (ExecStart pointed at the installed binary, MANPATH at
# the installed man page), and fails a broken copy; the cron file's job line
# is 5 time fields, a user and a command sh -n accepts, with no bare '%';
# every key of `wvetl --help` is in wvetl.1, README and config.example.ini
# with the same default; the exit statuses of common/etl.h are exactly those
# listed by README, wvetl.1 and --help; COMMAND --help lists its options
# with their defaults and the keys it reads; config.example.ini loads.

dest=$WV_TMP/dest
make -s -C "$WV_TOP" -o bin/wvetl install PREFIX=/usr DESTDIR="$dest" >"$WV_TMP/make.out" 2>&1 ||
	{ cat "$WV_TMP/make.out"; fail "make install"; }
for f in usr/bin/wvetl usr/share/man/man1/wvetl.1 usr/share/doc/wvetl/config.example.ini \
	usr/share/doc/wvetl/README.md usr/share/doc/wvetl/contrib/wvetl-sync.service \
	usr/share/doc/wvetl/contrib/wvetl-sync.timer usr/share/doc/wvetl/contrib/wvetl.cron; do
	[ -f "$dest/$f" ] || fail "make install did not install /$f"
done
echo "ok: installed files"
assert_eq 755 "$(stat -c %a "$dest/usr/bin/wvetl")" "the binary is 0755"
assert_eq 644 "$(stat -c %a "$dest/usr/share/man/man1/wvetl.1")" "the man page is 0644"
for f in "$WV_TOP"/sql/[0-9][0-9][0-9]_*.sql "$WV_TOP"/sql/citus/[0-9][0-9][0-9]_*.sql; do
	g=${f#"$WV_TOP"/sql/}
	cmp -s "$f" "$dest/usr/share/wvetl/sql/$g" || fail "sql/$g installed"
done
assert_eq "$(ls "$WV_TOP"/sql/[0-9][0-9][0-9]_*.sql "$WV_TOP"/sql/citus/[0-9][0-9][0-9]_*.sql | wc -l)" \
	"$(find "$dest/usr/share/wvetl/sql" -type f | wc -l)" \
	"every SQL file installed (sql/citus/ too), no other"
"$dest/usr/bin/wvetl" --version | grep -qE '^wvetl [0-9]+\.[0-9]+' || fail "the installed binary runs"
assert_eq 0 "$(grep -c /usr/local "$dest/usr/share/man/man1/wvetl.1" || true)" "man page: paths use PREFIX"
assert_contains "$(cat "$dest/usr/share/man/man1/wvetl.1")" "/usr/share/doc/wvetl/config.example.ini" \
	"man page names the installed example config"
assert_eq "ExecStart=/usr/bin/wvetl sync" \
	"$(grep '^ExecStart=' "$dest/usr/share/doc/wvetl/contrib/wvetl-sync.service")" \
	"the installed unit runs the installed binary"

# ---- the man page renders without a warning
if command -v man >/dev/null 2>&1; then
	for page in "$WV_TOP/wvetl.1" "$dest/usr/share/man/man1/wvetl.1"; do
		warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
		assert_eq "" "$warnings" "man --warnings -l $(basename "$page"): no warning"
	done
	{ cat "$WV_TOP/wvetl.1"; printf '.XY undefined macro\n'; } >"$WV_TMP/broken.1"
	[ -n "$(MANWIDTH=80 man --warnings -l "$WV_TMP/broken.1" 2>&1 >/dev/null)" ] ||
		fail "man --warnings reports a broken page (the check can fail)"
	MANWIDTH=200 man -l "$WV_TOP/wvetl.1" 2>/dev/null | col -b >"$WV_TMP/man.txt"
else
	echo "SKIP: man (Debian package man-db) is not installed: the man page is not rendered"
	sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/^\.[A-Z]* *//' -e 's/"//g' "$WV_TOP/wvetl.1" >"$WV_TMP/man.txt"
fi

# ---- systemd units
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$WV_TMP/units"
	sed "s|^ExecStart=/usr/bin/wvetl|ExecStart=$dest/usr/bin/wvetl|" \
		"$dest/usr/share/doc/wvetl/contrib/wvetl-sync.service" >"$WV_TMP/units/wvetl-sync.service"
	cp "$dest/usr/share/doc/wvetl/contrib/wvetl-sync.timer" "$WV_TMP/units/"
	rc=0
	out=$(cd "$WV_TMP/units" && MANPATH=$dest/usr/share/man \
		systemd-analyze verify ./wvetl-sync.service ./wvetl-sync.timer 2>&1) || rc=$?
	echo "$out"
	assert_eq 0 "$rc" "systemd-analyze verify: exit 0"
	assert_eq "" "$out" "systemd-analyze verify: not one message"
	sed 's/^Type=oneshot/Type=oneshoot/' "$WV_TMP/units/wvetl-sync.service" >"$WV_TMP/units/broken.service"
	rc=0
	out=$(cd "$WV_TMP/units" && MANPATH=$dest/usr/share/man systemd-analyze verify ./broken.service 2>&1) || rc=$?
	assert_contains "$out" "oneshoot" "systemd-analyze verify reports a broken unit (the check can fail)"
else
	echo "SKIP: systemd-analyze is not installed: the units are not verified"
fi
grep -q '^SuccessExitStatus=75$' "$WV_TOP/contrib/wvetl-sync.service" || fail "the service accepts exit 75"
grep -q '^Unit=wvetl-sync.service$' "$WV_TOP/contrib/wvetl-sync.timer" || fail "the timer starts the service"

# ---- the cron line
"$WV_PY" - "$dest/usr/share/doc/wvetl/contrib/wvetl.cron" >"$WV_TMP/cron.cmd" <<'EOF' || fail "the cron file parses"
import re, sys
field = r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*"
jobs = 0
for n, line in enumerate(open(sys.argv[1]), 1):
    line = line.rstrip("\n")
    if not line.strip() or line.lstrip().startswith("#"):
        continue
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", line):
        continue  # an environment line
    parts = line.split(None, 6)
    if len(parts) != 7:
        sys.exit("line %d: not 5 time fields, a user and a command: %r" % (n, line))
    for f in parts[:5]:
        if not re.fullmatch(field, f):
            sys.exit("line %d: bad time field %r" % (n, f))
    if not re.fullmatch(r"[a-z_][a-z0-9_-]*", parts[5]):
        sys.exit("line %d: bad user %r" % (n, parts[5]))
    if re.search(r"(?<!\\)%", parts[6]):
        sys.exit("line %d: a bare %% in the command (cron makes it a newline)" % n)
    if not parts[6].startswith("/usr/bin/wvetl sync") and not parts[6].startswith("wvetl sync"):
        sys.exit("line %d: the command does not run wvetl sync: %r" % (n, parts[6]))
    print(parts[6])
    jobs += 1
if jobs != 1:
    sys.exit("%d job lines" % jobs)
EOF
sh -n "$WV_TMP/cron.cmd" || fail "the cron command is valid sh"
echo "ok: the cron line: 5 time fields, user, a valid sh command"
# the job line's exit handling: silent on 0 and 75, one line otherwise
for st in 0 75 1 2; do
	printf '#!/bin/sh\nexit %s\n' "$st" >"$WV_TMP/wvetl"
	chmod +x "$WV_TMP/wvetl"
	said=$(cd "$WV_TMP" && PATH=$WV_TMP:$PATH sh -c "$(sed 's|2>>/var/log/wvetl/sync.log|2>/dev/null|' "$WV_TMP/cron.cmd")")
	case $st in
		0 | 75) assert_eq "" "$said" "cron: silent on exit $st" ;;
		*) assert_contains "$said" "failed with exit status $st" "cron: one line on exit $st" ;;
	esac
done

# ---- keys and defaults agree everywhere
"$WVETL" --help >"$WV_TMP/help.txt"
keys=$(sed -n 's/^  \([a-z]*\.[a-z_]*\) .*/\1/p' "$WV_TMP/help.txt")
"$WVETL" -c /dev/null config | sed -n 's/^\([a-z]*\.[a-z_]*\) *= .*/\1/p' | sort >"$WV_TMP/config-keys"
assert_eq "$(cat "$WV_TMP/config-keys")" "$(echo "$keys" | sort)" "--help lists every key wvetl config prints"
[ "$(echo "$keys" | wc -l)" -ge 27 ] || fail "--help lists the keys (at least the 27 of the first release)"
for k in $keys; do
	def=$(sed -n "s/^  $k  *\([^ ]*\) .*/\1/p" "$WV_TMP/help.txt")
	section=${k%%.*}
	name=${k#*.}
	case $def in
		-)
			grep -qE "^ *$k( |\$)" "$WV_TMP/man.txt" || fail "wvetl.1 lists $k (no default)"
			grep -qF "| \`$k\` | — |" "$WV_TOP/README.md" ||
				grep -qF "| \`$k\` | the server code |" "$WV_TOP/README.md" || fail "README lists $k without default"
			;;
		'""')
			grep -qF "$k (default: empty)" "$WV_TMP/man.txt" || fail "wvetl.1: $k (default: empty)"
			grep -qF "| \`$k\` | \`\"\"\` |" "$WV_TOP/README.md" || fail "README: $k default \"\""
			;;
		*)
			grep -qF "$k (default: $def)" "$WV_TMP/man.txt" || fail "wvetl.1: $k (default: $def)"
			grep -qF "| \`$k\` | \`$def\` |" "$WV_TOP/README.md" || fail "README: $k default $def"
			;;
	esac
	# config.example.ini: in its section, set or commented out; a set value is the default
	line=$(awk -v s="[$section]" -v k="$name" '
		/^\[/ { cur = $0 }
		cur == s && ($0 ~ "^;?" k " *=") { print; exit }' "$WV_TOP/config.example.ini")
	[ -n "$line" ] || fail "config.example.ini documents $k in [$section]"
	case $line in
		';'*) ;;
		*)
			v=$(echo "$line" | sed 's/^[^=]*= *//')
			case $def in
				-) ;;	# an example value for a key without default
				'""') assert_eq "" "$v" "config.example.ini: $k is the default" ;;
				*) assert_eq "$def" "$v" "config.example.ini: $k is the default" ;;
			esac
			;;
	esac
done
echo "ok: every key and default in wvetl.1, README.md and config.example.ini"

rc=0
"$WVETL" -c "$dest/usr/share/doc/wvetl/config.example.ini" config >"$WV_TMP/out" 2>"$WV_TMP/err" || rc=$?
cat "$WV_TMP/err"
assert_eq 0 "$rc" "the installed config.example.ini is a valid configuration"

# ---- exit statuses agree everywhere
codes=$(sed -n 's/^#define EXIT_[A-Z]* *\([0-9]*\).*/\1/p' "$WV_TOP/common/etl.h" | sort -n | tr '\n' ' ')
assert_eq "0 1 2 75 130 " "$codes" "common/etl.h's exit statuses"
readme=$(sed -n '/^### Exit status/,/^###/p' "$WV_TOP/README.md" | sed -n 's/^| `\([0-9]*\)` |.*/\1/p' | sort -n | tr '\n' ' ')
assert_eq "$codes" "$readme" "README's exit status table"
man=$(sed -n '/^EXIT STATUS/,/^ENVIRONMENT/p' "$WV_TMP/man.txt" | sed -n 's/^ *\([0-9][0-9]*\)\( .*\)\{0,1\}$/\1/p' | sort -n | tr '\n' ' ')
assert_eq "$codes" "$man" "wvetl.1's EXIT STATUS"
helpcodes=$(sed -n '/^Exit status:/,/^$/p' "$WV_TMP/help.txt" | grep -oE '(^|[ ;:]) ?[0-9]+ [a-z]' |
	grep -oE '[0-9]+' | sort -n | tr '\n' ' ')
assert_eq "$codes" "$helpcodes" "--help's exit statuses"

# ---- COMMAND --help: options with defaults, and the keys it reads
wv_expect 0 backfill --help
out=$(cat "$WV_TMP/out")
assert_contains "$out" "--from T               the first second of the range (required)" "backfill --help: --from"
assert_contains "$out" "--to T                 the end of the range, not included (required)" "backfill --help: --to"
assert_contains "$out" "(default: skip windows already loaded)" "backfill --help: --reload's default"
assert_contains "$out" "  api.window             1d " "backfill --help: a key with its default"
assert_not_contains "$out" "-o, --output" "backfill --help: no extract option"
wv_expect 0 extract --help
assert_contains "$(cat "$WV_TMP/out")" "-o, --output FILE      where the JSON lines go (default: standard output)" \
	"extract --help: -o with its default"
wv_expect 0 sync --help
assert_contains "$(cat "$WV_TMP/out")" "  sync.lag               5m " "sync --help: sync.lag with its default"
assert_contains "$(cat "$WV_TMP/out")" "  sync.lookback          1h " "sync --help: sync.lookback with its default"
assert_not_contains "$(cat "$WV_TMP/out")" "--from" "sync --help: no --from"
