#!/usr/bin/env bash
# A project-local PostgreSQL 15 cluster on loopback, built from the system's binaries, with pg_cron
# preloaded. Used by the README's run command (data kept under the checkout) and test command
# (a throwaway folder).
#
#   scripts/pg-cluster.sh start DATADIR PORT DBNAME [--throwaway]
#   scripts/pg-cluster.sh stop DATADIR
#   scripts/pg-cluster.sh status DATADIR     (exit status 0 while it runs)
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

# Makes the cluster in a fresh sibling folder and renames it to DATADIR once initdb succeeded, so a
# failed attempt leaves nothing that would make the next one fail. An empty DATADIR (left by an older
# failed attempt) is replaced; a non-empty one without a cluster is refused, not touched.
init() {
    local datadir="$1" dbname="$2" throwaway="$3" parent fresh
    if [ -d "$datadir" ]; then
        if [ -n "$(ls -A "$datadir")" ]; then
            echo "pg-cluster: $datadir is not empty but holds no PostgreSQL cluster: move it away, or set FASTQUEUE_PGDATA to another folder" >&2
            exit 1
        fi
        rmdir "$datadir"
    fi
    parent="$(dirname "$datadir")"
    mkdir -p "$parent"
    fresh="$(mktemp -d "$parent/.pgdata-new.XXXXXX")"
    # shellcheck disable=SC2064  # expanded now: $fresh is local
    trap "rm -rf '$fresh'" EXIT
    [ "$(id -u)" -eq 0 ] && chown postgres: "$fresh"
    chmod 700 "$fresh"
    if ! as_owner test -w "$fresh"; then
        echo "pg-cluster: the postgres user cannot write $datadir (a parent folder is closed to it, as root's home /root is)." >&2
        echo "pg-cluster: unset FASTQUEUE_PGDATA (make run then keeps the data under /var/lib/fastqueue), or set it to a folder the postgres user can reach" >&2
        exit 1
    fi
    echo "pg-cluster: creating a PostgreSQL cluster in $datadir"
    as_owner "$bindir/initdb" -D "$fresh" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
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
    } | as_owner tee -a "$fresh/postgresql.conf" >/dev/null
    mv "$fresh" "$datadir"
    trap - EXIT
}

start() {
    local datadir port="$2" dbname="$3" throwaway="${4:-}"
    datadir="$(realpath -m "$1")"
    if [ ! -f "$datadir/PG_VERSION" ]; then
        init "$datadir" "$dbname" "$throwaway"
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

# Exit status 0 when a cluster is running in DATADIR.
status() {
    local datadir
    datadir="$(realpath -m "$1")"
    [ -f "$datadir/PG_VERSION" ] && as_owner "$bindir/pg_ctl" -D "$datadir" status >/dev/null 2>&1
}

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    status) shift; status "$@" ;;
    *) echo "usage: $0 start DATADIR PORT DBNAME [--throwaway] | stop DATADIR | status DATADIR" >&2; exit 2 ;;
esac
