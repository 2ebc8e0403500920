#!/usr/bin/env bash
# Runs every test of the workspace against a real MySQL-compatible server: the one named by
# TEST_DATABASE_URL, or the one deploy/local-db.sh finds or starts (installing MariaDB if needed).
# Each test creates and drops its own database on that server.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  TEST_DATABASE_URL=$(deploy/local-db.sh)
  export TEST_DATABASE_URL
fi
echo "test.sh: testing against ${TEST_DATABASE_URL}" >&2

# The end-to-end tests in tests/ run the real binaries; build them first.
cargo build --workspace --bins
# CI keeps only the end of the output, and cargo reports a failing test where its target ran:
# the failures are repeated at the end.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! cargo test --workspace --no-fail-fast "$@" 2>&1 | tee "$log"; then
  echo
  echo "test.sh: the failures, repeated from above:"
  awk '/^ *Running / { target = $0 }
       /^failures:$/ && !shown { print target; shown = 1 }
       shown { print }
       /^test result:/ { shown = 0 }' "$log" | tail -n 300
  exit 1
fi
