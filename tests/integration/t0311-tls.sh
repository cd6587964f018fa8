# tests/integration/t0311-tls.sh - TLS verification is always on for https;
# api.ca_file trusts a private CA (contract: api.ca_file).
#
# Proves, against a second mock speaking HTTPS with a self-signed
# certificate for 127.0.0.1 (made here with openssl): without api.ca_file
# the certificate is refused, the run exits 1 at once (no retry: retrying
# cannot make it trusted) with a message that names the fix, and no request
# reaches the API; with api.ca_file = that certificate, `extract` gets every
# record; a certificate whose name is not the host's is refused even when
# its CA file is given (the host name is checked too); a CA file that does
# not exist is an error, not a silent fallback to no verification.

tls=$WV_TMP/tls
mkdir -p "$tls"
mkcert()	# mkcert NAME SAN
{
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$tls/$1.key" -out "$tls/$1.pem" -days 2 -subj "/CN=$1" \
		-addext "subjectAltName=$2" 2>/dev/null || fail "openssl cannot make a certificate"
}
mkcert good "IP:127.0.0.1"
mkcert other "DNS:other.example"

# start_tls_mock NAME: an HTTPS mock with that certificate; port in tls_port
tls_pid=""
trap '[ -z "$tls_pid" ] || kill "$tls_pid" 2>/dev/null' EXIT
start_tls_mock()
{
	[ -z "$tls_pid" ] || { kill "$tls_pid"; wait "$tls_pid" 2>/dev/null || true; }
	rm -f "$tls/port"
	"$WV_PY" "$WV_MOCK" --port 0 --port-file "$tls/port" --token "$WV_TOKEN" \
		--tls-cert "$tls/$1.pem" --tls-key "$tls/$1.key" >"$tls/mock.log" 2>&1 &
	tls_pid=$!
	for _ in $(seq 100); do
		[ -s "$tls/port" ] && break
		sleep 0.05
	done
	[ -s "$tls/port" ] || fail "the TLS mock did not start: $(cat "$tls/mock.log")"
	tls_port=$(cat "$tls/port")
	tls_url="https://127.0.0.1:$tls_port/api/v2/reports_manager.php"
}
tls_stat()
{
	curl -fsSk "https://127.0.0.1:$tls_port/_stats" |
		"$WV_PY" -c 'import json,sys; s=json.load(sys.stdin); print(json.dumps('"$1"'))'
}

start_tls_mock good
wv_expect 1 --set api.base_url="$tls_url" extract --from 2026-01-05 --to 2026-01-06 -o "$WV_TMP/x.jsonl"
assert_contains "$(cat "$WV_TMP/err")" "the TLS certificate of 127.0.0.1:$tls_port was refused" "an untrusted certificate is refused"
assert_contains "$(cat "$WV_TMP/err")" "set api.ca_file" "the message names the fix"
assert_not_contains "$(cat "$WV_TMP/err")" "retry" "not retried"
assert_eq 0 "$(tls_stat 's["data_requests"]')" "no request reached the API"

wv_expect 0 --set api.base_url="$tls_url" --set api.ca_file="$tls/good.pem" extract --from 2026-01-05 --to 2026-01-06 -o "$WV_TMP/x.jsonl"
assert_eq 40 "$(wc -l <"$WV_TMP/x.jsonl")" "with api.ca_file: every record of the day"
assert_eq 1 "$(tls_stat 's["data_requests"]')" "one request over TLS"

before=$(tls_stat 's["data_requests"]')
wv_expect 2 --set api.base_url="$tls_url" --set api.ca_file="$tls/missing.pem" extract --from 2026-01-05 --to 2026-01-06
assert_contains "$(cat "$WV_TMP/err")" "api.ca_file $tls/missing.pem cannot be read: No such file or directory" \
	"a missing CA file is a configuration error, named"
assert_eq "$before" "$(tls_stat 's["data_requests"]')" "found before any request"

start_tls_mock other
wv_expect 1 --set api.base_url="$tls_url" --set api.ca_file="$tls/other.pem" extract --from 2026-01-05 --to 2026-01-06
assert_contains "$(cat "$WV_TMP/err")" "was refused" "a certificate for another name is refused, CA trusted or not"
assert_eq 0 "$(tls_stat 's["data_requests"]')" "no request reached the API"
