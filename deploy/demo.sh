#!/usr/bin/env bash
# The demo: a database, the schema and reference data, the sample import, the server, and the
# sample questions with their answers.
#
#   deploy/demo.sh             then leaves the server running until Ctrl-C or SIGTERM
#   deploy/demo.sh --no-serve  stops the server after the answers and exits 0 (for scripts
#                              and CI; ANSINH_DEMO_EXIT=1 does the same)
#
# The server's log goes to .tmp/demo/server.log, not to the terminal, so what the demo prints is
# its steps and the answers. Variables: ANSINH_DB_SERVER_URL (the MySQL server, see
# deploy/local-db.sh), ANSINH_DEMO_DATABASE (default ansinh_demo), ANSINH_LISTEN (default
# 127.0.0.1:50051), RUST_LOG (what the server logs, default info).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: deploy/demo.sh [--no-serve]"
  echo "  --no-serve  stop the server after the sample questions and exit (ANSINH_DEMO_EXIT=1)"
}

serve=1
if [ "${ANSINH_DEMO_EXIT:-}" = 1 ]; then
  serve=0
fi
for arg in "$@"; do
  case $arg in
    --no-serve) serve=0 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "demo.sh: unknown argument: $arg" >&2
      usage >&2
      exit 2
      ;;
  esac
done

listen=${ANSINH_LISTEN:-127.0.0.1:50051}
export ANSINH_LISTEN=$listen
host=${listen%:*}
port=${listen##*:}
listening() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }
if listening; then
  echo "demo.sh: something already listens on $listen (another demo?); stop it, or set ANSINH_LISTEN to a free address" >&2
  exit 1
fi

server_url=$(deploy/local-db.sh)
database=${ANSINH_DEMO_DATABASE:-ansinh_demo}
# The database goes before any options of the server's URL (`...:3306?prefer_socket=false`).
server_base=${server_url%%\?*}
export DATABASE_URL="${server_base%/}/$database${server_url#"$server_base"}"
log_dir=.tmp/demo
log=$log_dir/server.log
mkdir -p "$log_dir"

server=
stop_server() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  server=
}
trap stop_server EXIT
# Interrupted while setting up: stop (the EXIT trap stops the server if it started).
trap 'exit 130' INT
trap 'exit 143' TERM

echo "==> building"
# The binaries as deploy/test.sh builds them, and the example client with the workspace's
# features, so that neither rebuild relinks binaries the tests are running.
cargo build --workspace --bins
cargo build --workspace --examples
bin=target/debug

echo "==> database $DATABASE_URL: schema and reference data"
"$bin/ansinh-import" migrate

echo "==> importing examples/sample"
"$bin/ansinh-import" load --operator demo examples/sample/observations.csv examples/sample/targets.csv

echo "==> starting ansinh-server on $listen (its log: $log)"
RUST_LOG=${RUST_LOG:-info} "$bin/ansinh-server" >"$log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  listening && break
  if ! kill -0 "$server" 2>/dev/null; then
    wait "$server" || status=$?
    server=
    echo "demo.sh: ansinh-server exited with status ${status:-0} before listening; the end of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if ! listening; then
  echo "demo.sh: ansinh-server did not listen on $listen within 30 s; see $log" >&2
  exit 1
fi

echo "==> the sample questions ($bin/examples/query http://$listen)"
"$bin/examples/query" "http://$listen"

if [ "$serve" = 0 ]; then
  stop_server
  echo "==> done; ansinh-server stopped (its log: $log)"
  exit 0
fi

trap 'echo; echo "==> stopping ansinh-server"; stop_server; echo "==> done (its log: $log)"; exit 0' INT TERM
echo "==> ansinh-server keeps running on $listen; Ctrl-C (or kill -TERM $$) stops it. Its log: $log"
status=0
wait "$server" || status=$?
server=
echo "demo.sh: ansinh-server exited by itself with status $status; the end of $log:" >&2
tail -n 20 "$log" >&2
exit 1
