# tests/integration/t0000-mock.sh - the mock API itself keeps its contract.
#
# Every other test trusts tests/server/wolkvox_mock.py to behave like the
# documented API (envelope, error messages, 404 for an empty window, the
# 60000-record cap, deterministic data that splits cleanly) and to count
# what it sees. This runs its self-test (tests/server/test_mock.py) against
# the server run.sh started, so a broken mock fails loudly here instead of
# making the tool's tests pass or fail for the wrong reason. Needs no wvetl.

"$WV_PY" "$WV_TOP/tests/server/test_mock.py" "$WV_URL" "$WV_TOKEN" ||
	fail "mock self-test"
