#!/usr/bin/env bash
# Makes sure a MySQL-compatible server is reachable for the demo and the tests, and prints its
# server URL (no database part) on stdout, e.g. `mysql://root@127.0.0.1:3306`.
#
# Order of preference:
#   1. $ANSINH_DB_SERVER_URL, when set (taken as is);
#   2. unless ANSINH_LOCAL_DB_OWN=1, a server already answering at 127.0.0.1:3306 as root with an empty password;
#   3. the project's own throwaway MariaDB under .tmp/mariadb (started if it is not running),
#      installing Debian's mariadb-server first when its binaries are missing.
# Everything it says besides the URL goes to stderr.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
state="$repo/.tmp/mariadb"
port=${ANSINH_LOCAL_DB_PORT:-3307}
log() { echo "local-db: $*" >&2; }

if [ -n "${ANSINH_DB_SERVER_URL:-}" ]; then
  echo "$ANSINH_DB_SERVER_URL"
  exit 0
fi

client() { command -v mariadb || command -v mysql || true; }

answers() { # host port -> 0 when root with an empty password can run a query
  local c; c=$(client)
  if [ -n "$c" ]; then
    "$c" --protocol=tcp -h "$1" -P "$2" -uroot --connect-timeout=2 -e 'SELECT 1' >/dev/null 2>&1
  else
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
  fi
}

# ANSINH_LOCAL_DB_OWN=1 skips the server at 3306 (to exercise the throwaway path).
if [ -z "${ANSINH_LOCAL_DB_OWN:-}" ] && answers 127.0.0.1 3306; then
  echo "mysql://root@127.0.0.1:3306"
  exit 0
fi

if answers 127.0.0.1 "$port"; then
  echo "mysql://root@127.0.0.1:$port"
  exit 0
fi

find_bin() { command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || true; }

if [ -z "$(find_bin mariadbd)" ] || [ -z "$(find_bin mariadb-install-db)" ]; then
  log "MariaDB is not installed; installing Debian's mariadb-server (needs root)"
  if [ "$(id -u)" -ne 0 ]; then
    log "not root: install mariadb-server yourself or set ANSINH_DB_SERVER_URL"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >&2
fi

# Its own tmpdir: a starting mariadbd deletes every #sql file in its tmpdir, which must not be
# the /tmp that other servers on the machine use for their temporary tables.
mkdir -p "$state/tmp"
if [ ! -d "$state/data/mysql" ]; then
  log "initialising a throwaway MariaDB in $state"
  user_opt=()
  [ "$(id -u)" -eq 0 ] && user_opt=(--user=root)
  "$(find_bin mariadb-install-db)" --no-defaults --datadir="$state/data" --tmpdir="$state/tmp" \
    --auth-root-authentication-method=normal --skip-test-db "${user_opt[@]}" >"$state/install.log" 2>&1 \
    || { log "mariadb-install-db failed; see $state/install.log"; exit 1; }
fi

log "starting MariaDB on 127.0.0.1:$port"
user_opt=()
[ "$(id -u)" -eq 0 ] && user_opt=(--user=root)
nohup "$(find_bin mariadbd)" --no-defaults --datadir="$state/data" --socket="$state/mysqld.sock" \
  --pid-file="$state/mysqld.pid" --tmpdir="$state/tmp" --port="$port" --bind-address=127.0.0.1 \
  --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
  --innodb-buffer-pool-size=512M --max-connections=500 --local-infile=1 \
  "${user_opt[@]}" >"$state/mysqld.log" 2>&1 &

for _ in $(seq 1 100); do
  if answers 127.0.0.1 "$port"; then
    echo "mysql://root@127.0.0.1:$port"
    exit 0
  fi
  sleep 0.2
done
log "MariaDB did not answer within 20 s; see $state/mysqld.log"
exit 1
