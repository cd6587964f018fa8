# tests/integration/t0620-ranges.sh - absurd values are refused before
# anything is done (exit 2), naming the key and its sane range.
#
# Proves: api.retries = 10^20 (past int64), sync.lookback = 100000d,
# api.timeout = 999999999999999d, a 64-byte database.schema (PostgreSQL
# would cut it to another name), and `questions set --min NaN`, `--max
# Infinity` or `--min 0x10` exit 2 with the reason (the file's line for a
# value from the file); no schema is created, no API call made. The
# largest values in range are taken.

expect2()
{
	local needle=$1
	shift
	wv_expect 2 "$@"
	assert_contains "$(sed 's/\\"/"/g' "$WV_TMP/err")" "$needle" "refused: $*"
}

expect2 'api.retries: "99999999999999999999" is out of range (0 to 100)' \
	--set api.retries=99999999999999999999 backfill --from 2026-01-05 --to 2026-01-06
expect2 'sync.lookback: "100000d" is out of range (0s to 366d)' --set sync.lookback=100000d sync
expect2 'api.timeout: "999999999999999d" is out of range (at most 1d)' \
	--set api.timeout=999999999999999d sync
long=$(printf 'w%.0s' $(seq 64))
expect2 "database.schema is 64 bytes long: PostgreSQL names have at most 63" \
	--set "database.schema=$long" migrate
expect2 'questions: --min "NaN" is not a finite number' questions set 1 --min NaN
expect2 'questions: --max "Infinity" is not a finite number' questions set 1 --max Infinity
expect2 'questions: --min "0x10" is not a finite number' questions set 1 --min 0x10

cp "$WV_CONF" "$WV_TMP/bad.ini"
printf '[sync]\nlookback = 100000d\n' >>"$WV_TMP/bad.ini"
line=$(grep -n '^lookback' "$WV_TMP/bad.ini" | cut -d: -f1)
expect2 "$WV_TMP/bad.ini:$line: sync.lookback: \"100000d\" is out of range (0s to 366d)" \
	-c "$WV_TMP/bad.ini" sync

assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'w%'")" \
	"nothing was created"
assert_eq 0 "$(wv_stat 's["requests"]')" "no API call was made"

# the largest values in range are taken
wv_expect 0 --set api.retries=100 --set sync.lookback=366d --set "database.schema=${long%w}" config
assert_contains "$(cat "$WV_TMP/out")" "sync.lookback          = 366d" "366d of lookback is taken"
