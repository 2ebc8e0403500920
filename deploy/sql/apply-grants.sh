#!/usr/bin/env bash
# Creates the ansinh database and its three least-privilege users from deploy/sql/grants.sql:
# fills in the template's placeholders from the environment and pipes the SQL to the mysql (or
# mariadb) client, so no password appears on a command line.
#
#   deploy/sql/apply-grants.sh [--print] [CLIENT OPTIONS...]
#
# CLIENT OPTIONS go to the client as they are, e.g. `-h db.internal -P 3306 -u root -p`.
# --print writes the SQL to stdout instead of running it (for review, or another client).
#
# Environment:
#   ANSINH_DB                  database name (default ansinh)
#   ANSINH_USER_HOST           host part of the three accounts (default %, any host)
#   ANSINH_SERVER_USER         read-only user of ansinh-server (default ansinh_server)
#   ANSINH_IMPORTER_USER       user of ansinh-import load (default ansinh_importer)
#   ANSINH_MIGRATOR_USER       user of ansinh-import migrate (default ansinh_migrator)
#   ANSINH_SERVER_PASSWORD, ANSINH_IMPORTER_PASSWORD, ANSINH_MIGRATOR_PASSWORD   required
#   MYSQL_CLIENT               client program (default: mysql, else mariadb)
set -euo pipefail
# Bash 5.2 expands `&` in a ${var//pattern/replacement} replacement; passwords may contain it.
shopt -u patsub_replacement 2>/dev/null || true

template="$(dirname "$0")/grants.sql"
fail() { echo "apply-grants: $*" >&2; exit 2; }

print=
if [ "${1:-}" = --print ]; then
  print=1
  shift
fi

db=${ANSINH_DB:-ansinh}
host=${ANSINH_USER_HOST:-%}
server_user=${ANSINH_SERVER_USER:-ansinh_server}
importer_user=${ANSINH_IMPORTER_USER:-ansinh_importer}
migrator_user=${ANSINH_MIGRATOR_USER:-ansinh_migrator}

# Identifiers cannot be bound, so they are checked instead: nothing that could close a quote.
[[ $db =~ ^[A-Za-z0-9_]{1,64}$ ]] || fail "ANSINH_DB='$db' is not a database name: use letters, digits and _ (at most 64)"
[[ $host =~ ^[A-Za-z0-9_.%:/-]{1,255}$ ]] || fail "ANSINH_USER_HOST='$host' is not a host: use a name, an address, a netmask or %"
for variable in ANSINH_SERVER_USER ANSINH_IMPORTER_USER ANSINH_MIGRATOR_USER; do
  case $variable in
    ANSINH_SERVER_USER) value=$server_user ;;
    ANSINH_IMPORTER_USER) value=$importer_user ;;
    ANSINH_MIGRATOR_USER) value=$migrator_user ;;
  esac
  # 32 is MySQL 8's limit for user names.
  [[ $value =~ ^[A-Za-z0-9_]{1,32}$ ]] || fail "$variable='$value' is not a user name: use letters, digits and _ (at most 32)"
done

# A password becomes a string literal: ' is doubled; \ is refused, because whether it escapes
# depends on the server's sql_mode (NO_BACKSLASH_ESCAPES).
password() {
  local variable=$1 value
  value=${!variable:-}
  [ -n "$value" ] || fail "$variable is not set: choose a password (e.g. openssl rand -base64 24)"
  [[ $value != *\\* ]] || fail "$variable contains a backslash; choose one without"
  printf '%s' "${value//\'/\'\'}"
}
server_password=$(password ANSINH_SERVER_PASSWORD)
importer_password=$(password ANSINH_IMPORTER_PASSWORD)
migrator_password=$(password ANSINH_MIGRATOR_PASSWORD)

sql=$(<"$template")
sql=${sql//"{{ANSINH_DB_PATTERN}}"/"${db//_/\\_}"}
sql=${sql//"{{ANSINH_DB}}"/"$db"}
sql=${sql//"{{USER_HOST}}"/"$host"}
sql=${sql//"{{SERVER_USER}}"/"$server_user"}
sql=${sql//"{{IMPORTER_USER}}"/"$importer_user"}
sql=${sql//"{{MIGRATOR_USER}}"/"$migrator_user"}
sql=${sql//"{{SERVER_PASSWORD}}"/"$server_password"}
sql=${sql//"{{IMPORTER_PASSWORD}}"/"$importer_password"}
sql=${sql//"{{MIGRATOR_PASSWORD}}"/"$migrator_password"}
# A placeholder this script does not know means the template and the script disagree.
if [[ $sql =~ \{\{[A-Z_]+\}\} ]]; then
  fail "grants.sql has a placeholder this script does not fill: ${BASH_REMATCH[0]}"
fi

if [ -n "$print" ]; then
  printf '%s\n' "$sql"
  exit 0
fi

client=${MYSQL_CLIENT:-}
if [ -z "$client" ]; then
  client=$(command -v mysql || command -v mariadb || true)
  [ -n "$client" ] || fail "no mysql or mariadb client on PATH (set MYSQL_CLIENT, or use --print)"
fi
printf '%s\n' "$sql" | "$client" "$@"
echo "apply-grants: database $db; users $server_user (read-only), $importer_user (rows), $migrator_user (schema) @ '$host'" >&2
