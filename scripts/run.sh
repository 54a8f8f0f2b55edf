#!/usr/bin/env bash
# The README's run command: installs what is missing; with FASTQUEUE_DATABASE_URL unset, starts a
# project-local PostgreSQL (data in .fastqueue/pgdata, kept across runs) and stops it again on
# exit; then migrates and serves the API on FASTQUEUE_SERVER_PORT (8000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

if [ -z "${FASTQUEUE_DATABASE_URL:-}" ]; then
    datadir="${FASTQUEUE_PGDATA:-$PWD/.fastqueue/pgdata}"
    port="${FASTQUEUE_PGPORT:-54329}"
    mkdir -p "$(dirname "$datadir")"
    scripts/pg-cluster.sh start "$datadir" "$port" fastqueue
    trap 'scripts/pg-cluster.sh stop "$datadir"; echo "fastqueue: local PostgreSQL stopped"' EXIT
    export FASTQUEUE_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/fastqueue"
    echo "fastqueue: local PostgreSQL on 127.0.0.1:$port, data in $datadir"
fi

.venv/bin/fastqueue db-migrate
# Not exec: the trap above must run when the server stops (Ctrl-C included).
.venv/bin/fastqueue server || true
