#!/usr/bin/env bash
# The demo: a database, the schema and reference data, the sample import, the server, and a
# sample query. Leaves the server running in the foreground until Ctrl-C unless
# ANSINH_DEMO_EXIT=1 (then it stops the server after the query, as CI does).
set -euo pipefail
cd "$(dirname "$0")/.."

server_url=$(deploy/local-db.sh)
database=${ANSINH_DEMO_DATABASE:-ansinh_demo}
export DATABASE_URL="$server_url/$database"
listen=${ANSINH_LISTEN:-127.0.0.1:50051}
export ANSINH_LISTEN=$listen

echo "==> building"
cargo build --bins --examples -p ansinh-server -p ansinh-importer
bin=target/debug

echo "==> database $DATABASE_URL"
"$bin/ansinh-import" migrate

echo "==> importing examples/sample"
"$bin/ansinh-import" load --operator demo examples/sample/observations.csv examples/sample/targets.csv

echo "==> starting ansinh-server on $listen"
"$bin/ansinh-server" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/${listen%:*}/${listen##*:}") 2>/dev/null && break
  sleep 0.1
done

echo "==> sample query"
"$bin/examples/query" "http://$listen"

if [ "${ANSINH_DEMO_EXIT:-}" = 1 ]; then
  exit 0
fi
echo "==> ansinh-server is running on $listen (Ctrl-C stops it)"
wait $server
