#!/bin/sh
# tools/install-deps.sh - installs the Debian packages wvetl needs to build,
# test, demo and benchmark, when they are missing. Only Debian packages are
# fetched. Runs apt-get as root, or through sudo.
set -eu
PKGS="build-essential pkg-config libcurl4-openssl-dev libyajl-dev libpq-dev \
zlib1g-dev libglib2.0-dev libxxhash-dev libcmocka-dev postgresql postgresql-contrib \
python3 python3-psycopg2 clang libclang-rt-14-dev valgrind time curl jq bsdutils"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "wvetl: installing missing Debian packages:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "wvetl: need root or sudo to install:$missing" >&2; exit 1; }
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
