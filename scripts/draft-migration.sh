#!/usr/bin/env bash
# Drafts the next migration: builds one database from db/migrations and one from db/schema.sql in
# a throwaway cluster, and prints the SQL (from migra) that turns the first into the second.
# Review it, then save it as db/migrations/NNNN_what_it_does.sql with a first line saying why.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh >&2

bindir="${FASTQUEUE_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
workdir="$(mktemp -d /tmp/fastqueue-draft.XXXXXX)"
chmod 755 "$workdir"
port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
trap 'scripts/pg-cluster.sh stop "$workdir/pgdata" || true; rm -rf "$workdir"' EXIT
scripts/pg-cluster.sh start "$workdir/pgdata" "$port" migrated --throwaway >&2
"$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "create database declared"

base="postgresql://postgres@127.0.0.1:$port"
FASTQUEUE_DATABASE_URL="$base/migrated" .venv/bin/fastqueue db-migrate >&2
.venv/bin/python scripts/schema_diff.py build-declared "$base/declared"
.venv/bin/python scripts/schema_diff.py "$base/migrated" "$base/declared"
