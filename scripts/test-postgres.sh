#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, run as a non-root user.
#
#   scripts/test-postgres.sh start DIR   # prints the URL to export as BOUNDARY_BOT_POSTGRES_URL
#   scripts/test-postgres.sh stop DIR
#
# Needs PostgreSQL's server binaries (Debian: `apt-get install postgresql`;
# .ci/run installs them). The cluster lives in DIR (trust authentication on
# 127.0.0.1 only, fsync off: test data only) and listens on $PGPORT
# (default 55432). When run as root, the cluster runs as the `postgres`
# user (created by Debian's package), since PostgreSQL refuses to run as
# root.
set -euo pipefail

die() { echo "test-postgres.sh: error: $*" >&2; exit 1; }
[[ $# -eq 2 ]] || die "usage: $0 start|stop DIR"
action=$1
dir=$(realpath -m "$2")
port=${PGPORT:-55432}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[[ -n "$bin" && -x "$bin/initdb" ]] || die "PostgreSQL's server binaries are not installed (Debian: apt-get install postgresql)"

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' user (Debian's postgresql package creates it)"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case $action in
  start)
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
      as_owner "$bin/initdb" -D "$dir/data" -U bot -A trust --no-sync >"$dir/initdb.log" 2>&1 \
        || die "initdb failed; see $dir/initdb.log"
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null \
      || die "the server did not start; see $dir/server.log"
    echo "postgres://bot@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null || true
    ;;
  *) die "usage: $0 start|stop DIR" ;;
esac
