"""The shards part of `make bench` (docs/sharding.md): fastqueue behind a PL/Proxy router.

On the bench's server it builds, one after the other, routers over 1, 2 and 4 shard databases
(copies of one migrated database, numbered and routed by `migrate_sharded`, as `fastqueue db-migrate`
with FASTQUEUE_SHARD_URLS does), and measures with sqlbench's pgbench runner (prepared statements):

- router overhead per call: the same script at 1 client through the router and directly on the
  shard that holds its topic and queue; the difference of the average latencies of publish, consume
  and ack (pgbench -r for the two statements of consume + ack), with the CPU each call cost the
  pgbench sessions' server processes (/proc, as sqlbench samples it) on the router and on the shard;
- publish and consume throughput at 4 and 16 clients with 1, 2 and 4 shards (and on one database
  without a router), the load spread over topics of which each shard holds its share.

Every database it makes is dropped again at the end. All of them share this machine's cores: the
figures show what the router costs, not what separate machines would gain.
"""

import os
import statistics
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from bench.common import (
    ACK_DEADLINE,
    RETENTION,
    Target,
    prefill,
    queue_depth,
    reset_tables,
    stored_copies,
    vacuum_store,
)
from bench.sqlbench import pgbench

SHARD_COUNTS = (1, 2, 4)
# Topics (each with one queue) the throughput runs spread their load over: a multiple of every shard
# count, each shard holding the same number of them.
TOPICS = 16
# First guesses of consume messages/s for sizing the prefills (16 clients, 1 client); the later runs at
# a client count use the most it measured so far, times 1.5, with a margin of 1.5 and a floor.
_CONSUME_GUESS = 15_000
_OVERHEAD_CONSUME_GUESS = 3_000
_PREFILL_FLOOR = 5_000
_PREFILL_CAP = 2_000_000

FIXTURES = (
    ("bench-one", "bench-one-q"),  # publish_one.sql
    ("bench-consume-t", "bench-consume"),  # consume_ack_1.sql
)


def plproxy_missing(target: Target) -> str | None:
    """Why this server cannot run the part, or None."""
    with psycopg.connect(target.admin_url, autocommit=True) as conn:
        if conn.execute("select 1 from pg_available_extensions where name = 'plproxy'").fetchone():
            return None
    return "PL/Proxy is not installed on the bench's server (Debian: postgresql-15-plproxy)"


class Sharded:
    """A router database over `count` shard databases on the bench's server."""

    def __init__(self, target: Target, count: int) -> None:
        self.prefix = f"{target.name}_s{count}"
        self.count = count
        self.router = Target(target.admin_url, f"{self.prefix}_router")
        self.shards = [Target(target.admin_url, f"{self.prefix}_shard{k}") for k in range(count)]

    @property
    def databases(self) -> list[str]:
        return [self.router.name] + [shard.name for shard in self.shards]


def _drop(admin_url: str, names: list[str]) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def build(target: Target, count: int, template: str) -> Sharded:
    """The router and its shards (copies of `template`, a migrated database no one is connected to),
    numbered and routed as `fastqueue db-migrate` with FASTQUEUE_SHARD_URLS does."""
    from fastqueue.commands.sharding import migrate_sharded

    sharded = Sharded(target, count)
    _drop(target.admin_url, sharded.databases)
    with psycopg.connect(target.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(sharded.router.name)))
        for shard in sharded.shards:
            conn.execute(
                sql.SQL("create database {} template {}").format(sql.Identifier(shard.name), sql.Identifier(template))
            )
    migrate_sharded(
        sharded.router.url,
        [shard.url for shard in sharded.shards],
        os.environ.get("FASTQUEUE_ROUTER_PASSWORD"),
        echo=lambda _: None,
    )
    return sharded


def _create_topic(router: psycopg.Connection, topic: str, queue: str) -> int:
    router.execute("select fastqueue.create_topic(%s)", (topic,))
    router.execute("select fastqueue.create_queue(%s, %s, %s, %s)", (queue, topic, ACK_DEADLINE, RETENTION))
    row = router.execute("select fastqueue_router.topic_shard(%s)", (topic,)).fetchone()
    assert row is not None
    return int(row[0])


def spread_topics(router: psycopg.Connection, count: int) -> list[str]:
    """TOPICS topic ids, TOPICS / count on each shard (fastqueue_router.hash_shard says where an id
    lands), in the order shard 0, 1, ..., 0, 1, ...: topic j is on shard j % count. Created, each with
    its queue (the topic's id + "-q"), through the router."""
    per_shard: list[list[str]] = [[] for _ in range(count)]
    for n in range(100 * TOPICS):  # bounded: hashtext spreads ids evenly, a few dozen suffice
        if all(len(ids) == TOPICS // count for ids in per_shard):
            break
        candidate = f"bench-shard-{n}"
        row = router.execute("select fastqueue_router.hash_shard(%s)", (candidate,)).fetchone()
        assert row is not None
        if len(per_shard[row[0]]) < TOPICS // count:
            per_shard[row[0]].append(candidate)
    topics = [per_shard[j % count][j // count] for j in range(TOPICS)]
    for topic in topics:
        placed = _create_topic(router, topic, f"{topic}-q")
        assert placed == topics.index(topic) % count, (topic, placed)
    return topics


def _reset(shards: list[Target]) -> None:
    for shard in shards:
        with shard.connect() as conn:
            reset_tables(conn, raw=False)


def _prefill(shards: list[Target], queues: list[str], per_queue: int) -> None:
    for shard in shards:
        with shard.connect() as conn:
            placed = {row[0] for row in conn.execute("select id from fastqueue.queues where id = any(%s)", (queues,))}
            for queue in sorted(placed):
                prefill(conn, queue, per_queue)
            vacuum_store(conn)


def _depths(shards: list[Target], queues: list[str]) -> dict[str, int]:
    """Each queue's depth, summed over the shards (a queue is on one of them)."""
    depths = dict.fromkeys(queues, 0)
    for shard in shards:
        with shard.connect() as conn:
            for queue in queues:
                depths[queue] += queue_depth(conn, queue)
    return depths


def _copies(shards: list[Target]) -> int:
    total = 0
    for shard in shards:
        with shard.connect() as conn:
            total += stored_copies(conn)
    return total


def measure_overhead(sharded: Sharded, duration: float, echo: Callable[[str], None]) -> list[dict[str, Any]]:
    """publish_one.sql, then consume_ack_1.sql (pgbench -r: consume and ack apart), at 1 client through
    the router and directly on the shard holding the topic and queue. In rounds of about 3 s that
    alternate the two ways (one round for runs under 6 s), the figures the medians over the rounds:
    a burst of other work on the machine then moves one round, not one side of the comparison."""
    with sharded.router.connect() as router:
        shard_of = {topic: _create_topic(router, topic, queue) for topic, queue in FIXTURES}
    publish_shard = sharded.shards[shard_of["bench-one"]]
    consume_shard = sharded.shards[shard_of["bench-consume-t"]]
    rounds = max(1, int(duration // 3))
    seconds = duration / rounds
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for number in range(1, rounds + 1):
        for way, publish_target, consume_target in (
            ("router", sharded.router, sharded.router),
            ("direct", publish_shard, consume_shard),
        ):
            _reset(sharded.shards)
            echo(f"bench shards: publish at 1 client, {way}, {seconds:.0f} s (round {number} of {rounds})")
            runs.setdefault(("publish", way), []).append(pgbench(publish_target, "publish_one.sql", 1, seconds))
            _reset(sharded.shards)
            needed = int(_OVERHEAD_CONSUME_GUESS * 1.5 * seconds * 1.5) + _PREFILL_FLOOR
            _prefill([consume_shard], ["bench-consume"], needed)
            echo(f"bench shards: consume + ack at 1 client, {way}, {seconds:.0f} s (queue prefilled with {needed:,})")
            result = pgbench(consume_target, "consume_ack_1.sql", 1, seconds, per_statement=True)
            if len(result["statements"]) < 2:
                raise RuntimeError(f"pgbench -r gave no per-statement latencies for consume_ack_1.sql: {result}")
            if _depths([consume_shard], ["bench-consume"])["bench-consume"] == 0:
                raise RuntimeError("bench shards: the overhead run's queue ran dry; raise _OVERHEAD_CONSUME_GUESS")
            runs.setdefault(("consume", way), []).append({**result, "latency_ms": result["statements"][0][0]})
            runs.setdefault(("ack", way), []).append({**result, "latency_ms": result["statements"][1][0]})
    _reset(sharded.shards)

    def median(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return statistics.median(known) if known else None

    rows = []
    for call in ("publish", "consume", "ack"):
        routed, direct = runs[(call, "router")], runs[(call, "direct")]
        router_ms = [r["latency_ms"] for r in routed]
        direct_ms = [r["latency_ms"] for r in direct]
        rows.append(
            {
                "call": call,
                "shards": sharded.count,
                "rounds": rounds,
                "router_us": statistics.median(router_ms) * 1000,
                "direct_us": statistics.median(direct_ms) * 1000,
                # the median of each round's difference (router and direct ran one after the other)
                "overhead_us": statistics.median(a - b for a, b in zip(router_ms, direct_ms, strict=True)) * 1000,
                "router_us_rounds": [x * 1000 for x in router_ms],
                "direct_us_rounds": [x * 1000 for x in direct_ms],
                # per commit of the pgbench sessions' own database, i.e. per call; consume and ack run
                # in one script, so theirs is the mean of the two calls
                "router_cpu_us_per_call": median([r["backend_cpu_us_per_commit"] for r in routed]),
                "direct_cpu_us_per_call": median([r["backend_cpu_us_per_commit"] for r in direct]),
                "router_command": routed[0]["command"],
                "direct_command": direct[0]["command"],
            }
        )
    return rows


def measure_throughput(
    sharded: Sharded | None,
    direct: Target | None,
    topics: list[str],
    clients_list: list[int],
    duration: float,
    measured: dict[str, float],
    echo: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Publish and consume at each client count through the router over `sharded`, or (sharded None)
    directly on the one database `direct` that holds every topic."""
    entry = sharded.router if sharded else direct
    shards = sharded.shards if sharded else [direct]
    assert entry is not None and all(shards)
    stores: list[Target] = [s for s in shards if s is not None]
    queues = [f"{topic}-q" for topic in topics]
    variables = {
        "topics": "{" + ",".join(topics) + "}",
        "queues": "{" + ",".join(queues) + "}",
        "topic_count": str(len(topics)),
    }
    where = f"{sharded.count} shard(s)" if sharded else "1 database, no router"
    rows = []
    for clients in clients_list:
        _reset(stores)
        echo(f"bench shards: publish at {clients} clients, {where}, {duration:.0f} s")
        result = pgbench(entry, "shards_publish.sql", clients, duration, variables)
        seconds = max(1, round(duration))
        moved = _copies(stores)
        rows.append(_row("publish", sharded, clients, result, moved, seconds, 0))
        _reset(stores)
        key = f"consume-{clients}" + ("" if sharded else "-alone")  # without the router it runs faster
        rate = measured.get(key, _CONSUME_GUESS)
        per_queue = min(_PREFILL_CAP, int(rate * 1.5 * seconds * 1.5) + _PREFILL_FLOOR) // len(queues) + 1
        _prefill(stores, queues, per_queue)
        needed = per_queue * len(queues)
        echo(f"bench shards: consume at {clients} clients, {where}, {duration:.0f} s (prefilled {needed:,})")
        result = pgbench(entry, "shards_consume.sql", clients, duration, variables)
        depths = _depths(stores, queues)
        row = _row("consume", sharded, clients, result, needed - sum(depths.values()), seconds, needed)
        row["ran_dry"] = min(depths.values()) == 0  # some consumes found a queue empty: too few measured
        measured[key] = max(measured.get(key, 0.0), row["messages_per_second"])
        rows.append(row)
    _reset(stores)
    return rows


def _row(
    kind: str, sharded: Sharded | None, clients: int, result: dict[str, Any], moved: int, seconds: int, prefilled: int
) -> dict[str, Any]:
    return {
        "case": kind,
        "shards": sharded.count if sharded else 0,  # 0: one database, no router
        "clients": clients,
        "tps": result["tps"],
        "messages": moved,
        "messages_per_second": moved / seconds,
        "latency_ms": result["latency_ms"],
        "failed": result["failed"],
        "prefilled": prefilled,
        "ran_dry": False,
        "entry_cpu_us_per_commit": result["backend_cpu_us_per_commit"],
        "command": result["command"],
    }


def run(
    target: Target,
    clients_list: list[int],
    duration: float,
    counts: list[int] | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    from fastqueue.commands.migrate import migrate

    reason = plproxy_missing(target)
    if reason:
        echo(f"bench shards: not run: {reason}")
        return {"skipped": reason}
    counts = list(counts or SHARD_COUNTS)
    if any(n < 1 or n & (n - 1) or TOPICS % n for n in counts):
        raise SystemExit(f"bench: shard counts must be powers of two dividing {TOPICS}, not {counts}")
    template = f"{target.name}_shard_template"
    made: list[str] = [template]
    overhead: list[dict[str, Any]] = []
    throughput: list[dict[str, Any]] = []
    placement: dict[str, list[int]] = {}
    measured: dict[str, float] = {}
    try:
        _drop(target.admin_url, [template])
        with psycopg.connect(target.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(template)))
        migrate(Target(target.admin_url, template).url, echo=lambda _: None)
        for count in counts:
            echo(f"bench shards: building a router over {count} shard(s)")
            sharded = build(target, count, template)
            made += sharded.databases
            with sharded.router.connect() as router:
                topics = spread_topics(router, count)
            placement[str(count)] = [sum(1 for j in range(TOPICS) if j % count == k) for k in range(count)]
            if count == counts[0]:
                overhead = measure_overhead(sharded, duration, echo)
            throughput += measure_throughput(sharded, None, topics, clients_list, duration, measured, echo)
            _drop(target.admin_url, sharded.databases)
        # the same load on one database without a router: the template itself, its copies made
        alone = Target(target.admin_url, template)
        with alone.connect() as conn:
            for topic in topics:
                conn.execute("select fastqueue.create_topic(%s)", (topic,))
                conn.execute(
                    "select fastqueue.create_queue(%s, %s, %s, %s)", (f"{topic}-q", topic, ACK_DEADLINE, RETENTION)
                )
        throughput = measure_throughput(None, alone, topics, clients_list, duration, measured, echo) + throughput
    finally:
        _drop(target.admin_url, made)
    return {
        "overhead": overhead,
        "throughput": throughput,
        "shard_counts": counts,
        "clients": clients_list,
        "duration": duration,
        "topics": TOPICS,
        "topics_per_shard": placement,
        "cores": os.cpu_count(),
    }


def _f(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def render(result: dict[str, Any], cores: str | None = None) -> list[str]:
    """The section's body (below its heading)."""
    if "skipped" in result:
        return [f"Not run: {result['skipped']}."]
    cores = cores or str(result.get("cores") or "its")
    overhead, throughput = result["overhead"], result["throughput"]
    rounds = overhead[0].get("rounds", 1) if overhead else 1
    lines = [
        f"Routers over {', '.join(str(n) for n in result['shard_counts'])} shard databases, one after the other,"
        " built on the bench's server as `fastqueue db-migrate` with FASTQUEUE_SHARD_URLS builds them"
        " (docs/sharding.md), driven by pgbench with prepared statements like the SQL level."
        f" **One machine:** the router and every shard are databases of one PostgreSQL server sharing this"
        f" machine's {cores} cores (and pgbench runs beside them), so these figures show what the router"
        " costs, not the gain of shards on separate machines (docs/sharding.md's throughput model).",
        "",
        "Router overhead per call: the same script (`bench/sql/publish_one.sql`, `bench/sql/consume_ack_1.sql`)"
        f" at 1 client for {_f(result['duration'])} s through the router and directly on the shard that holds"
        f" its topic and queue, in {rounds} round{'s' if rounds != 1 else ''} alternating the two (medians over"
        " the rounds; the overhead is the median of each round's difference); average latency per call"
        " (pgbench; consume and ack apart with `-r`) and the"
        " CPU the pgbench sessions' server processes used per call (/proc, middle 60 % of the run; through"
        " the router that is the router's sessions only, the shard's work for them is not in it; consume and"
        " ack run in one script, so they show the mean of the two calls).",
        "",
    ]
    lines += _table(
        [
            "call",
            "direct avg µs",
            "through the router avg µs",
            "router overhead µs",
            "router sessions CPU µs/call",
            "shard sessions CPU µs/call (direct)",
        ],
        [
            [
                r["call"],
                _f(r["direct_us"]),
                _f(r["router_us"]),
                _f(r["overhead_us"]),
                _f(r["router_cpu_us_per_call"]),
                _f(r["direct_cpu_us_per_call"]),
            ]
            for r in overhead
        ],
    )
    per_shard = ", ".join(
        f"{n} shard{'s' if n != '1' else ''}: {' + '.join(str(x) for x in split)}"
        for n, split in result["topics_per_shard"].items()
    )
    lines += [
        "",
        f"Throughput: {result['topics']} topics with one queue each, placed so that every shard holds its"
        f" share ({per_shard}); `bench/sql/shards_publish.sql` publishes one message to a topic chosen at"
        " random per call, `bench/sql/shards_consume.sql` consumes 10 from a random queue and acks them"
        " with one ack_messages (the queues prefilled on their shards). messages/s counts the rows stored"
        ' or deleted on the shards. "1 database, no router": the same scripts and topics on one database'
        " without a router (the migrated database the shards were copied from).",
        "",
    ]
    counts = [0] + [n for n in result["shard_counts"]]
    by_key = {(r["case"], r["clients"], r["shards"]): r for r in throughput}
    rows = []
    for case in ("publish", "consume"):
        for clients in result["clients"]:
            cells = []
            for n in counts:
                r = by_key.get((case, clients, n))
                if r is None:
                    cells.append("–")
                    continue
                note = " (ran dry)" if r["ran_dry"] else ""
                note += f" ({r['failed']} failed)" if r["failed"] else ""
                cells.append(f"{_f(r['messages_per_second'])}{note}")
            rows.append([case, str(clients)] + cells)
    lines += _table(
        ["case", "clients"]
        + ["1 database, no router" if n == 0 else f"{n} shard{'s' if n > 1 else ''}" for n in counts],
        rows,
    )
    return lines


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def throughput_of(result: dict[str, Any], case: str, clients: int, shards: int) -> float | None:
    for r in result.get("throughput", []):
        if (r["case"], r["clients"], r["shards"]) == (case, clients, shards):
            return float(r["messages_per_second"])
    return None
