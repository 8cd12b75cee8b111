#!/usr/bin/env bash
# Starts what the test suite talks to, if it is not running yet: PostgreSQL 15
# (with a role `cairn` that may create test databases), MariaDB (a user
# `cairn` that may create databases named cairn_*) and libvirtd with virtlogd
# (there is no systemd on these machines). Installs what is missing.
# Idempotent. Prints the environment the tests need, for `eval`. Arguments
# pick services (postgres, mariadb, libvirt); the default is all.
set -euo pipefail
# Only the export lines go to stdout (the caller evals them), and only once
# every service is up; everything else, including whatever the service tools
# print, goes to stderr. The daemons started here must not inherit stdout:
# a caller reading it through a pipe, as `$(...)` does, would wait for them
# to exit. So the exports are gathered in a file and printed at the end.
exports=$(mktemp)
trap 'rm -f "$exports"' EXIT
emit() { printf '%s\n' "$*" >>"$exports"; }
{
want=" ${*:-postgres mariadb libvirt} "
apt_install() {
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

PG_PASSWORD=cairn-test
if [[ $want == *" postgres "* ]]; then
if ! command -v pg_ctlcluster >/dev/null; then
  echo "services: installing PostgreSQL"
  apt_install postgresql
fi
if command -v pg_ctlcluster >/dev/null; then
  if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
    pg_createcluster 15 main >/dev/null
  fi
  pg_lsclusters -h | awk '$4 != "online" {print $1, $2}' | while read -r ver name; do
    pg_ctlcluster "$ver" "$name" start
  done
  su postgres -c "psql -qtA -c \"SELECT 1 FROM pg_roles WHERE rolname='cairn'\"" | grep -q 1 ||
    su postgres -c "psql -q -c \"CREATE ROLE cairn LOGIN CREATEDB PASSWORD '$PG_PASSWORD'\""
  # DROP DATABASE ... WITH (FORCE) in the test fixtures must also stop an
  # autovacuum worker busy in that database, which needs pg_signal_backend.
  su postgres -c "psql -q -v ON_ERROR_STOP=1 -c 'SET client_min_messages = warning' -c 'GRANT pg_signal_backend TO cairn'"
  port=$(pg_lsclusters -h | awk 'NR==1 {print $3}')
  emit "export CAIRN_TEST_PG_URL=postgresql://cairn:$PG_PASSWORD@127.0.0.1:$port/postgres"
fi
fi

if [[ $want == *" mariadb "* ]]; then
  command -v mariadbd >/dev/null || { echo "services: installing MariaDB"; apt_install mariadb-server; }
  if ! mysqladmin ping --silent >/dev/null 2>&1; then
    service mariadb start
  fi
  mysql -uroot -e "CREATE USER IF NOT EXISTS 'cairn'@'127.0.0.1' IDENTIFIED BY '$PG_PASSWORD';
    GRANT ALL PRIVILEGES ON \`cairn\\_%\`.* TO 'cairn'@'127.0.0.1'; FLUSH PRIVILEGES;"
  emit "export CAIRN_TEST_MYSQL_URL=mysql://cairn:$PG_PASSWORD@127.0.0.1:3306/"
fi

if [[ $want == *" libvirt "* ]] && command -v libvirtd >/dev/null; then
  [ -e /dev/kvm ] && chmod 0666 /dev/kvm
  pgrep --ns $$ --nslist pid -x virtlogd >/dev/null || virtlogd -d
  pgrep --ns $$ --nslist pid -x libvirtd >/dev/null || libvirtd -d
  for _ in $(seq 100); do
    virsh -c qemu:///system version >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
} >&2
cat "$exports"
