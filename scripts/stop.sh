#!/usr/bin/env bash
# The README's stop command (make stop): stops the project-local PostgreSQL that `make run` starts (the
# data folder of FASTQUEUE_PGDATA, from the environment or .env, or its default), and says what it did.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/local-settings.sh

datadir="$(realpath -m "$FASTQUEUE_PGDATA")"
if scripts/pg-cluster.sh status "$datadir"; then
    scripts/pg-cluster.sh stop "$datadir"
    echo "fastqueue: stopped the local PostgreSQL in $datadir"
else
    echo "fastqueue: nothing was running (looked in $datadir)"
    echo "fastqueue: a cluster started with another FASTQUEUE_PGDATA is stopped with that one set (make run printed it)"
fi
