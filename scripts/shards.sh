#!/usr/bin/env bash
# A sharded fastqueue for development and tests (docs/sharding.md): N shard databases and a router
# database, made empty; `fastqueue db-migrate` then migrates the shards and installs the router.
#
#   scripts/shards.sh create PORT PREFIX N [TEMPLATE]
#                                              on the local cluster at 127.0.0.1:PORT (user postgres):
#                                              databases PREFIX_router and PREFIX_shard0 .. PREFIX_shard(N-1),
#                                              the shards copied from database TEMPLATE if given (an
#                                              unsharded fastqueue database migrated already: faster)
#   scripts/shards.sh drop PORT PREFIX         drops them again (every PREFIX_router / PREFIX_shardK), and
#                                              their pg_cron jobs in the cluster's cron database
#   scripts/shards.sh clusters DIR PORT N      separate local throwaway clusters: the router's on PORT
#                                              (DIR/router), shard K's on PORT+1+K (DIR/shardK), with
#                                              databases fastqueue_router and fastqueue_shardK
#   scripts/shards.sh stop-clusters DIR        stops every cluster under DIR that `clusters` started
#
# create and clusters end by printing the two settings db-migrate and the gateway read, ready for eval:
#   FASTQUEUE_DATABASE_URL=postgresql://postgres@127.0.0.1:PORT/PREFIX_router
#   FASTQUEUE_SHARD_URLS=postgresql://postgres@127.0.0.1:PORT/PREFIX_shard0,...
# N must be a power of two (PL/Proxy maps a hash to a shard with hash & (N - 1)).
set -euo pipefail
cd "$(dirname "$0")/.."

bindir="${FASTQUEUE_PG_BINDIR:-/usr/lib/postgresql/15/bin}"

psql_at() {
    local port="$1"
    shift
    "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

require_count() {
    local count="$1"
    if ! [[ "$count" =~ ^[0-9]+$ ]] || [ "$count" -lt 1 ] || [ $((count & (count - 1))) -ne 0 ]; then
        echo "shards: the number of shards must be a power of two (1, 2, 4, 8, ...), not '$count'" >&2
        exit 2
    fi
}

require_prefix() {
    if ! [[ "$1" =~ ^[a-z_][a-z0-9_]*$ ]]; then
        echo "shards: the prefix must be lower-case letters, digits and underscores, not '$1'" >&2
        exit 2
    fi
}

create_database() {
    local port="$1" name="$2" template="${3:-}"
    if [ -z "$(psql_at "$port" -tAc "select 1 from pg_database where datname = '$name'")" ]; then
        psql_at "$port" -c "create database \"$name\"${template:+ template \"$template\"}"
    fi
}

create() {
    local port="$1" prefix="$2" count="$3" template="${4:-}" urls="" k
    require_prefix "$prefix"
    require_count "$count"
    create_database "$port" "${prefix}_router"
    for ((k = 0; k < count; k++)); do
        create_database "$port" "${prefix}_shard$k" "$template"
        urls+="${urls:+,}postgresql://postgres@127.0.0.1:$port/${prefix}_shard$k"
    done
    echo "FASTQUEUE_DATABASE_URL=postgresql://postgres@127.0.0.1:$port/${prefix}_router"
    echo "FASTQUEUE_SHARD_URLS=$urls"
}

drop() {
    local port="$1" prefix="$2" name cron_database
    require_prefix "$prefix"
    # db-migrate scheduled each shard's pg_cron jobs from the server's cron database: they go too.
    cron_database="$(psql_at "$port" -tAc "select current_setting('cron.database_name', true)")"
    for name in $(psql_at "$port" -tAc "select datname from pg_database
                                          where datname = '${prefix}_router' or datname ~ '^${prefix}_shard[0-9]+\$'"); do
        if [ -n "$cron_database" ] && [ "$cron_database" != "$name" ] &&
            [ -n "$(psql_at "$port" -d "$cron_database" -tAc "select 1 from pg_extension where extname = 'pg_cron'")" ]; then
            psql_at "$port" -d "$cron_database" -tAc "select count(cron.unschedule(jobid)) from cron.job where database = '$name'" >/dev/null
        fi
        psql_at "$port" -c "drop database \"$name\" with (force)"
    done
}

clusters() {
    local dir="$1" port="$2" count="$3" urls="" k
    require_count "$count"
    mkdir -p "$dir"
    chmod 755 "$dir"
    scripts/pg-cluster.sh start "$dir/router" "$port" fastqueue_router --throwaway
    for ((k = 0; k < count; k++)); do
        scripts/pg-cluster.sh start "$dir/shard$k" $((port + 1 + k)) "fastqueue_shard$k" --throwaway
        urls+="${urls:+,}postgresql://postgres@127.0.0.1:$((port + 1 + k))/fastqueue_shard$k"
    done
    echo "FASTQUEUE_DATABASE_URL=postgresql://postgres@127.0.0.1:$port/fastqueue_router"
    echo "FASTQUEUE_SHARD_URLS=$urls"
}

stop_clusters() {
    local dir="$1" datadir
    for datadir in "$dir"/router "$dir"/shard*; do
        [ -d "$datadir" ] && scripts/pg-cluster.sh stop "$datadir"
    done
    return 0
}

case "${1:-}" in
    create) [ $# -eq 4 ] || [ $# -eq 5 ] || { echo "usage: $0 create PORT PREFIX N [TEMPLATE]" >&2; exit 2; }
            create "$2" "$3" "$4" "${5:-}" ;;
    drop) [ $# -eq 3 ] || { echo "usage: $0 drop PORT PREFIX" >&2; exit 2; }; drop "$2" "$3" ;;
    clusters) [ $# -eq 4 ] || { echo "usage: $0 clusters DIR PORT N" >&2; exit 2; }; clusters "$2" "$3" "$4" ;;
    stop-clusters) [ $# -eq 2 ] || { echo "usage: $0 stop-clusters DIR" >&2; exit 2; }; stop_clusters "$2" ;;
    *) echo "usage: $0 create PORT PREFIX N [TEMPLATE] | drop PORT PREFIX | clusters DIR PORT N | stop-clusters DIR" >&2; exit 2 ;;
esac
