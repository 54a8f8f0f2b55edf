#!/usr/bin/env bash
# A project-local PostgreSQL 15 cluster on loopback, built from the system's binaries, with pg_cron
# preloaded. Used by the README's run command (data kept under the checkout) and test command
# (a throwaway folder).
#
#   scripts/pg-cluster.sh start DATADIR PORT DBNAME [--throwaway]
#   scripts/pg-cluster.sh stop DATADIR
#
# initdb and postgres refuse to run as root, so as root the cluster belongs to the `postgres` user.
# Only 127.0.0.1 is listened on, with trust authentication: a development cluster, not a server.
set -euo pipefail

bindir="${FASTQUEUE_PG_BINDIR:-/usr/lib/postgresql/15/bin}"

# Runs a command as the cluster's owner, from /: the postgres user may not be allowed into the
# caller's folder (a checkout under /root, say).
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

start() {
    local datadir port="$2" dbname="$3" throwaway="${4:-}"
    datadir="$(realpath -m "$1")"
    if [ ! -f "$datadir/PG_VERSION" ]; then
        mkdir -p "$datadir"
        [ "$(id -u)" -eq 0 ] && chown postgres: "$datadir"
        chmod 700 "$datadir"
        if ! as_owner test -w "$datadir"; then
            echo "pg-cluster: the postgres user cannot write $datadir (a parent folder is closed to it)." >&2
            echo "pg-cluster: set FASTQUEUE_PGDATA to a folder it can reach, e.g. /var/lib/fastqueue/pgdata" >&2
            exit 1
        fi
        as_owner "$bindir/initdb" -D "$datadir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
        {
            echo "# fastqueue: project-local cluster"
            echo "listen_addresses = '127.0.0.1'"
            echo "unix_socket_directories = ''"
            echo "max_connections = 200"
            echo "shared_preload_libraries = 'pg_cron,pg_stat_statements'"
            echo "cron.database_name = '$dbname'"
            echo "timezone = 'UTC'"
            echo "log_min_messages = warning"
            if [ "$throwaway" = "--throwaway" ]; then
                # Tests rebuild this cluster every run: trading crash safety for speed is fine here.
                echo "fsync = off"
                echo "full_page_writes = off"
            fi
        } | as_owner tee -a "$datadir/postgresql.conf" >/dev/null
    fi
    if as_owner "$bindir/pg_ctl" -D "$datadir" status >/dev/null 2>&1; then
        echo "pg-cluster: already running in $datadir"
    else
        # Queue tables turn over all the time: autovacuum looks every 10 s, not every minute (given
        # here, not in postgresql.conf, so clusters made before get it too).
        as_owner "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -o "-p $port -c autovacuum_naptime=10s" -w -t 60 start >/dev/null
    fi
    local psql=("$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
    if [ -z "$("${psql[@]}" -tAc "select 1 from pg_database where datname = '$dbname'")" ]; then
        "${psql[@]}" -c "create database \"$dbname\""
    fi
}

stop() {
    local datadir
    datadir="$(realpath -m "$1")"
    if [ -f "$datadir/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$datadir" -m fast -w -t 60 stop >/dev/null
    fi
}

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    *) echo "usage: $0 start DATADIR PORT DBNAME [--throwaway] | stop DATADIR" >&2; exit 2 ;;
esac
