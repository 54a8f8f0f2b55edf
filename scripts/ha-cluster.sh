#!/usr/bin/env bash
# A pg_auto_failover formation on one machine, for development and the failover tests: a monitor, a
# primary and one synchronous standby, each a PostgreSQL 15 of its own on a loopback port with its own
# data folder, pg_cron preloaded on both data nodes, the fastqueue database migrated.
#
#   scripts/ha-cluster.sh start [DIR [BASEPORT]]   monitor on BASEPORT, data nodes on BASEPORT+1 and +2;
#                                                  prints the multi-host URL when the formation serves
#   scripts/ha-cluster.sh stop [DIR]               stops the three nodes (the data stays in DIR)
#   scripts/ha-cluster.sh url [DIR]                the multi-host URL of the formation in DIR
#   scripts/ha-cluster.sh status [DIR]             pg_autoctl show state (exit status 0 while it runs)
#
# DIR defaults to /tmp/fastqueue-ha, BASEPORT to 55460. Everything of the formation lives in DIR:
# the three data folders (monitor, node1, node2), pg_autoctl's configuration and state (its XDG
# folders), and each node's log (DIR/node1.log: pg_autoctl's and PostgreSQL's output). A second
# `start` on the same DIR starts the nodes again. FASTQUEUE_HA_FAST=1 (the tests) makes the monitor
# decide a failover within seconds instead of pg_auto_failover's ~30 s, and trades crash safety for
# speed (fsync off) as scripts/pg-cluster.sh --throwaway does.
#
#   scripts/ha-cluster.sh autoctl DIR NODE ARGS...  pg_autoctl ARGS --pgdata DIR/NODE as the nodes' owner
#                                                  (NODE: monitor, node1 or node2), e.g.
#                                                  scripts/ha-cluster.sh autoctl /tmp/fastqueue-ha monitor perform failover
#
# Only 127.0.0.1 is listened on, with trust authentication: a development formation, not a server.
# pg_autoctl, like initdb and postgres, refuses to run as root: as root the nodes belong to `postgres`.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

bindir="${FASTQUEUE_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
dbname=fastqueue

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else (cd / && "$@"); fi
}

# pg_autoctl as the nodes' owner, with the formation's own XDG folders (its configuration and state).
autoctl_command() {
    if [ "$(id -u)" -eq 0 ]; then printf '%s\0' runuser -u postgres --; fi
    printf '%s\0' env XDG_CONFIG_HOME="$dir/xdg/config" XDG_DATA_HOME="$dir/xdg/data" \
        XDG_RUNTIME_DIR="$dir/xdg/run" PG_CONFIG="$bindir/pg_config" pg_autoctl
}
autoctl() {
    local command
    mapfile -d '' command < <(autoctl_command)
    (cd / && "${command[@]}" "$@")
}

monitor_url() { echo "postgres://autoctl_node@127.0.0.1:$(port_of monitor)/pg_auto_failover?sslmode=disable"; }
port_of() { sed -n "s/^$1=//p" "$dir/ports"; }
url() { echo "postgresql://postgres@127.0.0.1:$(port_of node1),127.0.0.1:$(port_of node2)/$dbname?target_session_attrs=read-write"; }

running() { [ -f "$dir/$1.pid" ] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }

# Runs `pg_autoctl run` for a node in the background, in a session of its own, logging to DIR/NODE.log.
run_node() {
    local node="$1"
    running "$node" && return 0
    local command
    mapfile -d '' command < <(autoctl_command)
    # setsid: the node's processes (pg_autoctl and its PostgreSQL) form one process group, whose id is
    # in DIR/NODE.pid, so that a test can kill the whole node at once.
    (cd / && exec setsid "${command[@]}" run --pgdata "$dir/$node") >>"$dir/$node.log" 2>&1 </dev/null &
    echo $! >"$dir/$node.pid"
}

# Settings appended after pg_autoctl's include line, so that they win over its own.
node_settings() {
    echo "# fastqueue: scripts/ha-cluster.sh"
    echo "listen_addresses = '127.0.0.1'"
    echo "max_connections = 200"
    # pg_autoctl sizes shared_buffers for a machine of its own; three nodes share this one.
    echo "shared_buffers = '128MB'"
    echo "shared_preload_libraries = 'pg_cron,pg_stat_statements'"
    # pg_cron runs its jobs in this database, on whichever node is primary (a standby runs none).
    echo "cron.database_name = '$dbname'"
    echo "timezone = 'UTC'"
    echo "logging_collector = off"
    echo "log_min_messages = warning"
    fast_settings
}

fast_settings() {
    # (full_page_writes stays on: pg_rewind, which brings a failed primary back as a standby, needs it.)
    if [ "${FASTQUEUE_HA_FAST:-0}" = 1 ]; then
        echo "fsync = off"
    fi
}

monitor_settings() {
    echo "# fastqueue: scripts/ha-cluster.sh"
    echo "shared_buffers = '128MB'"
    echo "log_min_messages = warning"
    if [ "${FASTQUEUE_HA_FAST:-0}" = 1 ]; then
        # pg_auto_failover's defaults take ~30 s to call a primary lost: seconds here.
        echo "pgautofailover.health_check_period = 1000"
        echo "pgautofailover.health_check_timeout = 1000"
        echo "pgautofailover.health_check_max_retries = 1"
        echo "pgautofailover.health_check_retry_delay = 500"
        echo "pgautofailover.node_considered_unhealthy_timeout = 4000"
        echo "pgautofailover.primary_demote_timeout = 5000"
    fi
    fast_settings
}

append_settings() {
    local pgdata="$1"
    shift
    "$@" | as_owner tee -a "$pgdata/postgresql.conf" >/dev/null
}

wait_for() {
    local what="$1" seconds="$2"
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then
            echo "ha-cluster: $what did not happen within $seconds s; see the logs in $dir" >&2
            autoctl show state --pgdata "$dir/monitor" >&2 || true
            exit 1
        fi
        sleep 0.5
    done
}

psql_at() { "$bindir/psql" -X -q -h 127.0.0.1 -p "$1" -U postgres -d "${2:-postgres}" -tAc "$3"; }
node_is_primary() { [ "$(psql_at "$(port_of "$1")" postgres "select not pg_is_in_recovery()")" = t ]; }
formation_is_serving() {
    # Both data nodes up, one primary with its synchronous standby attached.
    [ -n "$(psql_at "$(port_of node1)" postgres "select 1" && psql_at "$(port_of node2)" postgres "select 1")" ] &&
        [ -n "$("$bindir/psql" -X -q "$(url)" -tAc "select 1 from pg_stat_replication where sync_state in ('sync', 'quorum')")" ]
}
monitor_is_up() { psql_at "$(port_of monitor)" pg_auto_failover "select 1 from pgautofailover.formation limit 1"; }

create_data_node() {
    local node="$1"
    autoctl create postgres --pgdata "$dir/$node" --pgctl "$bindir/pg_ctl" --pgport "$(port_of "$node")" \
        --listen 127.0.0.1 --hostname 127.0.0.1 --name "$node" --dbname "$dbname" --auth trust --no-ssl \
        --monitor "$(monitor_url)" >>"$dir/$node.log" 2>&1
    # pg_autoctl left PostgreSQL running without pg_cron: it restarts it with the settings in place.
    as_owner "$bindir/pg_ctl" -D "$dir/$node" -m fast -w stop >/dev/null 2>&1 || true
    grep -q '^# fastqueue: scripts/ha-cluster.sh' "$dir/$node/postgresql.conf" || append_settings "$dir/$node" node_settings
    run_node "$node"
}

start() {
    local base="${1:-55460}"
    mkdir -p "$dir"
    dir="$(realpath "$dir")"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    chmod 755 "$dir"
    if [ ! -f "$dir/ports" ]; then
        printf 'monitor=%s\nnode1=%s\nnode2=%s\n' "$base" "$((base + 1))" "$((base + 2))" >"$dir/ports"
    fi
    as_owner mkdir -p "$dir/xdg/config" "$dir/xdg/data" "$dir/xdg/run"
    as_owner chmod 700 "$dir/xdg/run"

    if [ ! -f "$dir/monitor/PG_VERSION" ]; then
        echo "ha-cluster: creating the monitor on 127.0.0.1:$(port_of monitor) in $dir/monitor"
        autoctl create monitor --pgdata "$dir/monitor" --pgctl "$bindir/pg_ctl" --pgport "$(port_of monitor)" \
            --hostname 127.0.0.1 --auth trust --no-ssl >>"$dir/monitor.log" 2>&1
        as_owner "$bindir/pg_ctl" -D "$dir/monitor" -m fast -w stop >/dev/null 2>&1 || true
        # pg_autoctl passes the monitor's listen_addresses ('*') on PostgreSQL's command line.
        autoctl config set --pgdata "$dir/monitor" postgresql.listen_addresses 127.0.0.1 >/dev/null
        append_settings "$dir/monitor" monitor_settings
    fi
    run_node monitor
    wait_for "the monitor starting" 60 monitor_is_up

    local node
    for node in node1 node2; do
        if [ ! -f "$dir/$node/PG_VERSION" ]; then
            echo "ha-cluster: creating $node on 127.0.0.1:$(port_of "$node") in $dir/$node"
            create_data_node "$node"
            if [ "$node" = node1 ]; then
                wait_for "node1 becoming the primary" 90 node_is_primary node1
            fi
        else
            run_node "$node"
        fi
    done
    wait_for "the formation serving (a primary with its synchronous standby)" 120 formation_is_serving
    echo "ha-cluster: migrating $dbname"
    FASTQUEUE_DATABASE_URL="$(url)" "$repo/.venv/bin/fastqueue" db-migrate >>"$dir/migrate.log" 2>&1 ||
        { tail -n 20 "$dir/migrate.log" >&2; exit 1; }
    echo "ha-cluster: serving; synchronous_standby_names = $("$bindir/psql" -X -q "$(url)" -tAc 'show synchronous_standby_names')"
    url
}

stop() {
    local node
    [ -f "$dir/ports" ] || { echo "ha-cluster: no formation in $dir" >&2; return 0; }
    for node in node2 node1 monitor; do
        if running "$node"; then
            autoctl stop --pgdata "$dir/$node" >/dev/null 2>&1 || true
            local deadline=$((SECONDS + 60))
            while running "$node" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
            running "$node" && kill -9 "$(cat "$dir/$node.pid")" 2>/dev/null || true
        fi
        rm -f "$dir/$node.pid"
        # A PostgreSQL left behind (its pg_autoctl killed): stop it too.
        if [ -f "$dir/$node/postmaster.pid" ]; then
            as_owner "$bindir/pg_ctl" -D "$dir/$node" -m fast -w -t 60 stop >/dev/null 2>&1 || true
        fi
    done
    echo "ha-cluster: stopped the formation in $dir"
}

status() {
    [ -f "$dir/ports" ] || { echo "ha-cluster: no formation in $dir" >&2; return 1; }
    autoctl show state --pgdata "$dir/monitor"
    running monitor && running node1 && running node2
}

command="${1:-}"
dir="${2:-/tmp/fastqueue-ha}"
case "$command" in
    start) start "${3:-55460}" ;;
    stop) stop ;;
    url) [ -f "$dir/ports" ] || { echo "ha-cluster: no formation in $dir" >&2; exit 1; }; url ;;
    status) status ;;
    autoctl) [ $# -ge 3 ] || { echo "usage: $0 autoctl DIR NODE ARGS..." >&2; exit 2; }
        dir="$(realpath "$dir")"; node="$3"; shift 3; autoctl "$@" --pgdata "$dir/$node" ;;
    *) echo "usage: $0 start [DIR [BASEPORT]] | stop [DIR] | url [DIR] | status [DIR] | autoctl DIR NODE ARGS..." >&2; exit 2 ;;
esac
