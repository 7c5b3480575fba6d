#!/bin/sh
# A throwaway PostgreSQL server for tests: one data directory, a free loopback port, its socket in DIR. The one
# helper every test that needs PostgreSQL uses (Swift: RiftTestSupport's PostgresTestServer; Python: pgserver.py).
#
#   postgres-test-server.sh start DIR [PID]  initialise DIR (first time), start the server and print its port; with
#                                            PID, stop it when that process is gone (a crashed test leaves nothing)
#   postgres-test-server.sh stop DIR         stop it now (fast shutdown: connections are closed)
#   postgres-test-server.sh destroy DIR      stop it and remove DIR
#
# PostgreSQL refuses to run as root, so as root the server runs as the user postgres (created by the postgresql
# package). Exits 77 when the server binaries are absent, with the reason on stderr.
set -eu
command=$1
dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL server binaries absent (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql" >&2
  exit 77
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
  if [ -f "$dir/data/postmaster.pid" ]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true; fi
}

case $command in
start)
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
  chmod 0700 "$dir"
  if [ ! -d "$dir/data" ]; then
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  if [ ! -f "$dir/port" ]; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' >"$dir/port"
  fi
  port=$(cat "$dir/port")
  # fsync off: a test database need not survive a power cut, and the machine is slow enough.
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null \
    || { tail -n 20 "$dir/server.log" >&2; exit 1; }
  if [ $# -ge 3 ]; then
    watched=$3
    nohup sh -c "while kill -0 $watched 2>/dev/null && [ -d '$dir/data' ]; do sleep 1; done; '$0' destroy '$dir'" \
      >/dev/null 2>&1 </dev/null &
  fi
  echo "$port"
  ;;
stop) stop ;;
destroy)
  stop
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start|stop|destroy DIR [PID]" >&2; exit 2 ;;
esac
