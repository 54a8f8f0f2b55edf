"""What every part of the benchmark shares: the bench database, its fixtures, prefilling, machine facts."""

import json
import os
import platform
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = Path(__file__).resolve().parent / "sql"
PG_BINDIR = Path(os.environ.get("FASTQUEUE_PG_BINDIR", "/usr/lib/postgresql/15/bin"))

# The payload every publish script, raw baseline and HTTP publisher sends (kept equal to bench/sql/*.sql).
PAYLOAD = {
    "order_id": 123456,
    "customer_id": "c-0042",
    "status": "created",
    "amount": 99.90,
    "currency": "EUR",
    "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}],
}
ATTRIBUTES = {"event": "created", "region": "eu-west-1"}
RETENTION = 1209600
ACK_DEADLINE = 600  # long leases: within a run, any second delivery of an id is a double delivery

SETTINGS_SHOWN = (
    "server_version",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_level",
    "shared_buffers",
    "work_mem",
    "max_wal_size",
    "checkpoint_timeout",
    "max_connections",
    "autovacuum",
    "autovacuum_naptime",
    "autovacuum_vacuum_scale_factor",
    "jit",
)


@dataclass
class Target:
    """The bench database: an admin URL (any database of the server) and the bench database's name."""

    admin_url: str
    name: str
    results: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        base, _, rest = self.admin_url.rpartition("/")
        query = ""
        if "?" in rest:
            query = "?" + rest.split("?", 1)[1]
        return f"{base}/{self.name}{query}"

    def connect(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True, **kwargs)


def recreate_database(target: Target, echo=print) -> None:
    from app.migrate import migrate

    with psycopg.connect(target.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(target.name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(target.name)))
    migrate(target.url, echo=lambda _: None)
    with target.connect() as conn:
        conn.execute(FIXTURES_SQL)
    echo(f"bench: database {target.name} created and migrated")


def drop_database(target: Target) -> None:
    with psycopg.connect(target.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(target.name)))


_PAYLOAD_SQL = json.dumps(PAYLOAD)
_ATTRIBUTES_SQL = json.dumps(ATTRIBUTES)

# Topics and queues of every case, created through the SQL API; the raw baseline table mirrors
# a message's payload columns and its consume index, without its checks, FK and extra indexes.
FIXTURES_SQL = f"""
select fastqueue.create_topic('bench-one');
select fastqueue.create_queue('bench-one-q', 'bench-one', {ACK_DEADLINE}, {RETENTION});
select fastqueue.create_topic('bench-fanout');
select fastqueue.create_queue('bench-fanout-1', 'bench-fanout', {ACK_DEADLINE}, {RETENTION});
select fastqueue.create_queue('bench-fanout-2', 'bench-fanout', {ACK_DEADLINE}, {RETENTION},
                              message_filters => '{{"event": ["created", "updated"]}}');
select fastqueue.create_queue('bench-fanout-3', 'bench-fanout', {ACK_DEADLINE}, {RETENTION},
                              message_filters => '{{"event": ["created"], "region": ["eu-west-1", "eu-central-1"]}}');
select fastqueue.create_queue('bench-fanout-4', 'bench-fanout', {ACK_DEADLINE}, {RETENTION},
                              filter => 'attributes.event = "created" AND hasPrefix(attributes.region, "eu-")');
select fastqueue.create_queue('bench-fanout-5', 'bench-fanout', {ACK_DEADLINE}, {RETENTION},
                              filter => 'attributes:event AND NOT attributes:test');
select fastqueue.create_queue('bench-fanout-x', 'bench-fanout', {ACK_DEADLINE}, {RETENTION},
                              message_filters => '{{"event": ["deleted"]}}');
select fastqueue.create_topic('bench-batch');
select fastqueue.create_queue('bench-batch-q', 'bench-batch', {ACK_DEADLINE}, {RETENTION});
select fastqueue.create_topic('bench-consume-t');
select fastqueue.create_queue('bench-consume', 'bench-consume-t', {ACK_DEADLINE}, {RETENTION});
select fastqueue.create_topic('bench-depth-t');
select fastqueue.create_queue('bench-depth', 'bench-depth-t', {ACK_DEADLINE}, {RETENTION});
select fastqueue.create_topic('bench-http');
select fastqueue.create_queue('bench-http-q', 'bench-http', {ACK_DEADLINE}, {RETENTION});
select fastqueue.create_queue('bench-http-consume', null, {ACK_DEADLINE}, {RETENTION});
select fastqueue.create_topic('bench-e2e');
select fastqueue.create_queue('bench-e2e-q', 'bench-e2e', {ACK_DEADLINE}, {RETENTION});
create schema bench_raw;
create table bench_raw.messages (
    id uuid primary key default gen_random_uuid(),
    queue_id text not null,
    data jsonb not null,
    attributes jsonb,
    scheduled_at timestamptz not null default clock_timestamp(),
    created_at timestamptz not null default now()
);
create index on bench_raw.messages (queue_id, scheduled_at);
create extension if not exists pg_stat_statements;
"""


def prefill(conn: psycopg.Connection, queue_id: str, count: int) -> None:
    """Stores `count` available messages in a queue directly (as publish would, without its checks),
    each with its own scheduled_at so the consume order is defined."""
    done = 0
    while done < count:
        chunk = min(200_000, count - done)
        # A body and a delivery per message in the current slot (the store's tables, docs/storage.md).
        conn.execute(
            "with message as materialized ("
            "  select g, fastqueue._new_message_id() as body_id, s.last_value as slot"
            "    from fastqueue.store_slot s, generate_series(1, %s) g),"
            " body as ("
            "  insert into fastqueue.message_bodies (slot, id, data, attributes, size_bytes, created_at)"
            "  select m.slot, m.body_id, %s::jsonb, %s::jsonb, octet_length(%s::jsonb::text) + octet_length(%s::jsonb::text), now()"
            "    from message m)"
            " insert into fastqueue.deliveries (slot, body_id, queue_id, scheduled_at, expired_at, created_at, updated_at)"
            " select m.slot, m.body_id, %s, now() - interval '1 day' + (%s + m.g) * interval '1 microsecond',"
            "        now() + interval '14 days', now(), now()"
            "   from message m",
            (chunk, _PAYLOAD_SQL, _ATTRIBUTES_SQL, _PAYLOAD_SQL, _ATTRIBUTES_SQL, queue_id, done),
        )
        done += chunk


def prefill_raw(conn: psycopg.Connection, count: int) -> None:
    conn.execute(
        "insert into bench_raw.messages (queue_id, data, attributes, scheduled_at)"
        " select 'raw', %s::jsonb, %s::jsonb, now() - interval '1 day' + g * interval '1 microsecond'"
        "   from generate_series(1, %s) g",
        (_PAYLOAD_SQL, _ATTRIBUTES_SQL, count),
    )


def queue_depth(conn: psycopg.Connection, queue_id: str) -> int:
    return conn.execute("select count(*) from fastqueue.deliveries where queue_id = %s", (queue_id,)).fetchone()[0]


def reset_tables(conn: psycopg.Connection) -> None:
    """Empty tables, vacuumed and analyzed, so every case starts from the same state."""
    conn.execute("truncate fastqueue.deliveries, fastqueue.message_bodies, fastqueue.deduplications, bench_raw.messages")
    conn.execute("vacuum analyze fastqueue.deliveries, fastqueue.message_bodies")
    conn.execute("vacuum analyze bench_raw.messages")


def server_settings(target: Target) -> dict[str, str]:
    with target.connect() as conn:
        return {name: conn.execute(f"show {name}").fetchone()[0] for name in SETTINGS_SHOWN}


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        match = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        if match:
            memory = f"{int(match.group(1)) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    try:
        disk = subprocess.run(["df", "-h", "--output=source,fstype,size", str(ROOT)], capture_output=True,
                              text=True, timeout=5).stdout.splitlines()[-1]
    except (OSError, subprocess.SubprocessError, IndexError):
        disk = "unknown"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "disk (checkout)": disk,
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def now() -> float:
    return time.monotonic()
