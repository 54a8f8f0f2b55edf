#!/usr/bin/env bash
# The README's test command: installs what is missing, runs the linters first (ruff check, ruff format
# --check, mypy --strict over app/; any finding stops here), starts a throwaway PostgreSQL with pg_cron
# preloaded, runs pytest (arguments are passed on) and, beside it in a database of its own, the pgTAP
# suite with pg_prove (its output is shown after pytest's), stops the cluster, and exits non-zero if
# either failed. Without arguments, tests/api then runs again through a 2-shard router
# (FASTQUEUE_TEST_SHARDED=2, docs/sharding.md, Tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test

echo "== lint (ruff check, ruff format --check, mypy)"
if ! { .venv/bin/ruff check --quiet . && .venv/bin/ruff format --check --quiet . && .venv/bin/mypy; }; then
    echo "lint failed (above). Most of it fixes itself: .venv/bin/ruff format . && .venv/bin/ruff check --fix ." >&2
    exit 1
fi

bindir="${FASTQUEUE_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
workdir="$(mktemp -d /tmp/fastqueue-test.XXXXXX)"
chmod 755 "$workdir"
port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
pgtap_pid=""
cleanup() {
    if [[ -n "$pgtap_pid" ]]; then kill "$pgtap_pid" 2>/dev/null || true; wait "$pgtap_pid" 2>/dev/null || true; fi
    scripts/pg-cluster.sh stop "$workdir/pgdata" || true
    rm -rf "$workdir"
}
trap cleanup EXIT

scripts/pg-cluster.sh start "$workdir/pgdata" "$port" fastqueue --throwaway
export FASTQUEUE_TEST_ADMIN_URL="postgresql://postgres@127.0.0.1:$port/postgres"
export FASTQUEUE_TEST_CRON_DATABASE="fastqueue"
export FASTQUEUE_TEST_OUTPUT="${FASTQUEUE_TEST_OUTPUT:-$PWD/test-output}"
mkdir -p "$FASTQUEUE_TEST_OUTPUT"

status=0
# pgTAP first in the order of work, but beside pytest in time: its database is migrated here, before
# pytest migrates any (both create the cluster's roles), then pg_prove runs in the background while
# pytest runs, and its output, kept in a file, is shown after pytest's.
echo "== pgTAP (pg_prove): migrating its database; it runs beside pytest, its output follows pytest's"
psql=("$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1)
"${psql[@]}" -d postgres -c "create database fastqueue_pgtap"
FASTQUEUE_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/fastqueue_pgtap" .venv/bin/fastqueue db-migrate >/dev/null
"${psql[@]}" -d fastqueue_pgtap -c "create extension if not exists pgtap"
# The tests' helper schema, fastqueue_tests: loaded here only, never by db-migrate.
"${psql[@]}" -d fastqueue_pgtap -f db/tests/support/fastqueue_tests.sql
# pg_prove runs every area folder of db/tests (and any file at its top), not support/: no tests there.
mapfile -t pgtap_paths < <(find db/tests -mindepth 1 -maxdepth 1 ! -name support \( -type d -o -name '*.sql' \) | sort)
pgtap_log="$workdir/pg_prove.log"
pg_prove -h 127.0.0.1 -p "$port" -U postgres -d fastqueue_pgtap --ext .sql -r "${pgtap_paths[@]}" >"$pgtap_log" 2>&1 &
pgtap_pid=$!

echo "== pytest"
.venv/bin/python -m pytest "$@" || status=$?
if [ $# -eq 0 ]; then
    echo "== pytest tests/api through a 2-shard router (FASTQUEUE_TEST_SHARDED=2)"
    FASTQUEUE_TEST_SHARDED=2 .venv/bin/python -m pytest tests/api || status=$?
fi

echo "== pgTAP (pg_prove, ran beside pytest)"
pgtap_status=0
wait "$pgtap_pid" || pgtap_status=$?
pgtap_pid=""
cat "$pgtap_log"
if [[ $pgtap_status -ne 0 ]]; then
    echo "pg_prove failed (exit $pgtap_status)" >&2
    status=$pgtap_status
fi

exit $status
