#!/bin/sh
# tests/testdata.sh - prints the directory of the third-party test corpora
# (blns, JSONTestSuite), which are kept outside the project, unchanged, as
# shared/testdata beside it. Looked for, in order:
#   $WVETL_TESTDATA;
#   ../shared/testdata beside this checkout;
#   ../shared/testdata beside the repository this checkout was cloned from
#   (a clone made elsewhere, e.g. `git clone -q . $(mktemp -d)`).
# Exits 1, saying where it looked, when none holds them.
top=$(cd "$(dirname "$0")/.." && pwd)
tried=""
for d in "${WVETL_TESTDATA:-}" "$top/../shared/testdata" \
	"$(git -C "$top" remote get-url origin 2>/dev/null)/../shared/testdata"; do
	case "$d" in
	"" | /../shared/testdata) continue ;;
	/*) ;;
	*) continue ;;				# a URL: nothing beside it to read
	esac
	if [ -f "$d/blns/blns.json" ] && [ -d "$d/JSONTestSuite/test_parsing" ]; then
		(cd "$d" && pwd)
		exit 0
	fi
	tried="$tried $d"
done
echo "testdata.sh: shared/testdata (blns, JSONTestSuite) not found; looked in:$tried" \
	"(set WVETL_TESTDATA)" >&2
exit 1
