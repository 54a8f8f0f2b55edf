#!/usr/bin/env bash
# The README's run command (make run): installs what running needs; with FASTQUEUE_DATABASE_URL unset,
# starts a project-local PostgreSQL (its data kept across runs, see scripts/local-settings.sh for where)
# and stops it again on exit; then migrates and serves the API on FASTQUEUE_SERVER_HOST (127.0.0.1)
# and FASTQUEUE_SERVER_PORT (8000). Settings come from the environment or .env, as for the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/local-settings.sh
scripts/bootstrap.sh run

# Loopback unless told otherwise: without FASTQUEUE_AUTH_TOKENS the API is open, and any web page the
# developer opens could call a server listening on every interface from their network.
export FASTQUEUE_SERVER_HOST="${FASTQUEUE_SERVER_HOST:-127.0.0.1}"

if [ -z "${FASTQUEUE_DATABASE_URL:-}" ]; then
    datadir="$(realpath -m "$FASTQUEUE_PGDATA")"
    port="$FASTQUEUE_PGPORT"
    if [ "$(id -u)" -eq 0 ] && [[ "$datadir" == /var/lib/fastqueue/* ]]; then
        # Folders the postgres user (the cluster's owner when run as root) can pass through.
        install -d -m 755 /var/lib/fastqueue "$(dirname "$datadir")"
    fi
    scripts/pg-cluster.sh start "$datadir" "$port" fastqueue
    trap 'scripts/pg-cluster.sh stop "$datadir"; echo "fastqueue: local PostgreSQL stopped"' EXIT
    export FASTQUEUE_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/fastqueue"
    echo "fastqueue: local PostgreSQL on 127.0.0.1:$port, data in $datadir (for the checkout $PWD)"
fi

.venv/bin/fastqueue db-migrate
echo "fastqueue: serving on http://$FASTQUEUE_SERVER_HOST:${FASTQUEUE_SERVER_PORT:-8000} (Ctrl-C stops it)"
# Not exec: the trap above must run when the server stops (Ctrl-C included).
.venv/bin/fastqueue server || true
