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
cargo test --workspace --no-fail-fast "$@"
