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
    from fastqueue.commands.migrate import migrate

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
# fastqueue.messages' payload columns and its consume index, without its checks, FK and extra indexes.
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
select fastqueue.create_topic('bench-idle');
select fastqueue.create_queue('bench-idle-q', 'bench-idle', {ACK_DEADLINE}, {RETENTION});
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


@dataclass(frozen=True)
class Store:
    """Where this database keeps its messages. Today's store: one table, fastqueue.messages, a row per
    copy (queue). The rotated store of issue 15 (docs/storage.md): fastqueue.message_bodies (the
    payload once) and fastqueue.deliveries (a row per copy), each partitioned into two slots, with
    fastqueue.messages a view over them. The bench speaks the SQL API; only its fixtures (prefill,
    reset) and its measurements (sizes, counters) need to know which one it runs on."""

    rotated: bool
    leaves: tuple[str, ...]  # the tables that hold the rows: sizes are summed over these
    delivery_leaves: tuple[str, ...]  # of those, the ones with a row per copy: insert/delete counters
    deliveries: str  # the relation to count copies in (a table, or a partitioned parent)
    has_state: bool  # fastqueue.store_state (rotation's counters) exists
    can_rotate: bool  # fastqueue.rotate_store() exists

    @property
    def truncate_targets(self) -> str:
        return "fastqueue.deliveries, fastqueue.message_bodies" if self.rotated else "fastqueue.messages"

    @property
    def description(self) -> str:
        if not self.rotated:
            return "today's store: one table, fastqueue.messages"
        return (
            "the rotated store (docs/storage.md): "
            + ", ".join(self.leaves)
            + ("" if self.can_rotate else "; no fastqueue.rotate_store() in this database")
        )


def store_layout(conn: psycopg.Connection) -> Store:
    rotated, has_state, can_rotate = conn.execute(
        "select to_regclass('fastqueue.deliveries') is not null, to_regclass('fastqueue.store_state') is not null,"
        "       to_regprocedure('fastqueue.rotate_store()') is not null"
    ).fetchone()
    if not rotated:
        return Store(
            False, ("fastqueue.messages",), ("fastqueue.messages",), "fastqueue.messages", has_state, can_rotate
        )

    def leaves_of(parent: str) -> tuple[str, ...]:
        return tuple(
            row[0]
            for row in conn.execute(
                "select relid::regclass::text from pg_partition_tree(%s::regclass) where isleaf order by 1", (parent,)
            )
        )

    deliveries = leaves_of("fastqueue.deliveries")
    return Store(
        True,
        deliveries + leaves_of("fastqueue.message_bodies"),
        deliveries,
        "fastqueue.deliveries",
        has_state,
        can_rotate,
    )


def prefill(conn: psycopg.Connection, queue_id: str, count: int) -> None:
    """Stores `count` available messages in a queue directly (as publish would, without its checks),
    each with its own scheduled_at so the consume order is defined. On the rotated store: a body and a
    delivery per message, both in the current slot, with time-ordered ids as publish makes them."""
    store = store_layout(conn)
    done = 0
    while done < count:
        chunk = min(200_000, count - done)
        if store.rotated:
            # ids made before the inserts (materialized), so neither insert needs the other's rows in order
            conn.execute(
                "with message as materialized ("
                "  select g, fastqueue._new_message_id() as body_id, s.last_value as slot"
                "    from fastqueue.store_slot s, generate_series(1, %(chunk)s) g),"
                " body as ("
                "  insert into fastqueue.message_bodies (slot, id, data, attributes, size_bytes, created_at)"
                "  select m.slot, m.body_id, %(data)s::jsonb, %(attributes)s::jsonb,"
                "         octet_length(%(data)s::jsonb::text) + octet_length(%(attributes)s::jsonb::text), now()"
                "    from message m)"
                " insert into fastqueue.deliveries (slot, id, body_id, queue_id, scheduled_at, expired_at,"
                "                                   created_at, updated_at)"
                " select m.slot, fastqueue._new_message_id(), m.body_id, %(queue)s,"
                "        now() - interval '1 day' + (%(done)s + m.g) * interval '1 microsecond',"
                "        now() + interval '14 days', now(), now()"
                "   from message m",
                {"data": _PAYLOAD_SQL, "attributes": _ATTRIBUTES_SQL, "chunk": chunk, "queue": queue_id, "done": done},
            )
        else:
            conn.execute(
                "insert into fastqueue.messages (queue_id, data, attributes, expired_at, scheduled_at)"
                " select %s, %s::jsonb, %s::jsonb, now() + interval '14 days',"
                "        now() - interval '1 day' + (%s + g) * interval '1 microsecond'"
                "   from generate_series(1, %s) g",
                (queue_id, _PAYLOAD_SQL, _ATTRIBUTES_SQL, done, chunk),
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
    """Copies of messages in the queue (available, delayed or leased)."""
    store = store_layout(conn)
    return conn.execute(f"select count(*) from {store.deliveries} where queue_id = %s", (queue_id,)).fetchone()[0]


def stored_copies(conn: psycopg.Connection) -> int:
    """Copies of messages in all queues (a message published to 5 queues counts 5)."""
    return conn.execute(f"select count(*) from {store_layout(conn).deliveries}").fetchone()[0]


def stored_ids(conn: psycopg.Connection, ids: list[str]) -> int:
    """How many of these message ids are stored (the view on the rotated store, the table today)."""
    return conn.execute("select count(*) from fastqueue.messages where id = any(%s::uuid[])", (ids,)).fetchone()[0]


def store_sizes(conn: psycopg.Connection) -> dict[str, int]:
    """Bytes on disk of the store: heap, TOAST and indexes summed over its tables (both slots of both
    tables on the rotated store). total is heap + TOAST + indexes."""
    store = store_layout(conn)
    heap, indexes, total = conn.execute(
        "select coalesce(sum(pg_relation_size(r)), 0), coalesce(sum(pg_indexes_size(r)), 0),"
        "       coalesce(sum(pg_total_relation_size(r)), 0)"
        "  from unnest(%s::regclass[]) r",
        (list(store.leaves),),
    ).fetchone()
    return {
        "heap_bytes": int(heap),
        "index_bytes": int(indexes),
        "toast_bytes": int(total - heap - indexes),
        "total_bytes": int(total),
    }


def store_state(conn: psycopg.Connection) -> dict | None:
    """Rotation's counters (fastqueue.store_state), or None on a store without it."""
    if not store_layout(conn).has_state:
        return None
    row = conn.execute(
        "select rotations, skips, carried_deliveries, last_outcome from fastqueue.store_state"
    ).fetchone()
    if row is None:
        return None
    return {
        "rotations": int(row[0] or 0),
        "skips": int(row[1] or 0),
        "carried_deliveries": int(row[2] or 0),
        "last_outcome": row[3],
    }


def vacuum_store(conn: psycopg.Connection) -> None:
    conn.execute(f"vacuum analyze {store_layout(conn).truncate_targets}")


def reset_tables(conn: psycopg.Connection, raw: bool = True) -> None:
    """Empty tables, vacuumed and analyzed, so every case starts from the same state (raw=False: a
    database without the bench's raw baseline table, such as a shard of the shards part)."""
    store = store_layout(conn)
    conn.execute(
        f"truncate {store.truncate_targets}, fastqueue.deduplications" + (", bench_raw.messages" if raw else "")
    )
    conn.execute(f"vacuum analyze {store.truncate_targets}")
    if raw:
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
        disk = subprocess.run(
            ["df", "-h", "--output=source,fstype,size", str(ROOT)], capture_output=True, text=True, timeout=5
        ).stdout.splitlines()[-1]
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
