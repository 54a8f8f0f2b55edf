"""Turns the results into the printed table and BENCHMARKS.md (and the raw figures as JSON: bench/BENCHMARKS.json for the committed report)."""

import json
import os
import sys
from pathlib import Path
from typing import Any

from bench import shardbench
from bench.endurance import PROBE_INTERVAL

PROBE_INTERVAL_MS = round(PROBE_INTERVAL * 1000)

# The parts of `make bench`, in the order they run, and the keys of the results each one writes.
PARTS = ("sql", "http", "endurance", "push", "shards")
PART_KEYS = {
    "sql": ("sql", "depth"),
    "http": ("http",),
    "endurance": ("endurance",),
    "push": ("push",),
    "shards": ("shards",),
}
SHARDS_SECTION = "## Sharding (PL/Proxy router)"

SECTIONS = (
    "## Machine",
    "## PostgreSQL",
    "## Commands",
    "## SQL level",
    "## Consume latency versus queue depth",
    "## HTTP level",
    "## Endurance",
    SHARDS_SECTION,
    "## Targets",
)


def _f(value, digits=0, suffix="") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{suffix}"
    return f"{value:,}{suffix}"


def _mib(value) -> str:
    return "–" if value is None else f"{value / 1048576:,.1f} MiB"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def targets(results: dict) -> list[dict]:
    """Each target: what it asks, the figure, the ratio to the requirement, met or not (None: not measured)."""
    out = []
    current = {"parts": ("sql",)}  # the part(s) whose figures the targets added next come from

    def add(name: str, figure, required: float, unit: str = "", higher_is_better: bool = True, detail: str = ""):
        parts = current["parts"]
        if figure is None:
            out.append(
                {
                    "target": name,
                    "figure": None,
                    "required": required,
                    "ratio": None,
                    "met": None,
                    "detail": detail,
                    "unit": unit,
                    "op": ">=" if higher_is_better else "<=",
                    "parts": parts,
                }
            )
            return
        ratio = figure / required if higher_is_better else (required / figure if figure else None)
        met = figure >= required if higher_is_better else figure <= required
        out.append(
            {
                "target": name,
                "figure": figure,
                "required": required,
                "ratio": ratio,
                "met": met,
                "unit": unit,
                "detail": detail,
                "op": ">=" if higher_is_better else "<=",
                "parts": parts,
            }
        )

    sql = {(r["case"], r["clients"]): r for r in results.get("sql", {}).get("rows", [])}

    def ratio_of(case: str, baseline: str, clients: int, key: str = "tps"):
        row, base = sql.get((case, clients)), sql.get((baseline, clients))
        return row[key] / base[key] if row and base and base[key] else None

    # issue 15's figures (each a ratio within this run); they replace the earlier publish, consume+ack,
    # batch publish, depth and held-snapshot targets
    for clients in (4, 16):
        add(
            f"SQL publish to 1 queue / raw INSERT TPS at {clients} clients",
            ratio_of("publish_one", "raw_insert", clients),
            0.8,
            "x",
            detail="issue 15",
        )
    for clients in (4, 16):
        add(
            f"SQL consume+ack with ack_message_ids, 1 per cycle / raw SKIP LOCKED dequeue, messages/s at {clients} clients",
            ratio_of("consume_ack_next_1", "raw_dequeue", clients, "messages_per_second"),
            0.8,
            "x",
            detail="issue 15: one call per cycle",
        )
    for clients in (4, 16):
        add(
            f"SQL publish fanning out to 5 queues / publish to 1 queue, TPS at {clients} clients",
            ratio_of("publish_fanout5", "publish_one", clients),
            0.8,
            "x",
            detail="issue 15; the bench's payload",
        )
    one_4k = [r for r in sql.values() if r["case"] == "publish_one_4k" and r.get("messages_published")]
    fan_4k = [r for r in sql.values() if r["case"] == "publish_fanout5_4k" and r.get("messages_published")]

    def pooled(rows: list[dict]):
        published = sum(r["messages_published"] for r in rows)
        return sum(r["store_growth_bytes"] for r in rows) / published if published else None

    b1, b5 = pooled(one_4k), pooled(fan_4k)
    add(
        "SQL publish fanning out to 5 queues / publish to 1 queue, on-disk bytes per message, 4 KiB payload",
        b5 / b1 if b1 and b5 else None,
        1.3,
        "x",
        higher_is_better=False,
        detail="issue 15; "
        + (
            f"{b5:,.0f} / {b1:,.0f} bytes: growth of the store's heap + TOAST + indexes over the"
            " runs ÷ messages published, summed over the client counts"
            if b1 and b5
            else "not run"
        ),
    )
    for clients in sorted({c for (_, c) in sql}):
        add(
            f"SQL publish_batch of 100 / raw 100-row INSERT, messages/s at {clients} client{'s' if clients > 1 else ''}",
            ratio_of("publish_batch100", "raw_insert100", clients, "messages_per_second"),
            0.8,
            "x",
            detail="issue 15",
        )
    at16 = [r for r in sql.values() if r["clients"] == 16 and r.get("lock_samples")]
    worst = max(at16, key=lambda r: r["slow_locks_max"] or 0) if at16 else None
    add(
        "SQL cases at 16 clients: relation locks not on the fast path (pg_locks fastpath = false), most in one sample",
        worst and worst["slow_locks_max"],
        0,
        "",
        higher_is_better=False,
        detail="docs/storage.md's lock-manager check; per case in SQL level"
        + (f"; worst: {worst['case']}" if worst and worst["slow_locks_max"] else ""),
    )
    for clients in (4, 16):
        add(
            f"SQL consume+ack (100) / raw dequeue of 100 at {clients} clients",
            ratio_of("consume_ack_100", "raw_dequeue100", clients, "messages_per_second"),
            0.7,
            "x",
            detail="batch form",
        )

    current["parts"] = ("http",)
    http = {(r["case"], r["clients"], r["workers"]): r for r in results.get("http", {}).get("rows", [])}
    pub1, pub2 = http.get(("publish", 16, 1)), http.get(("publish", 16, 2))
    con1, con2 = http.get(("consume+ack", 16, 1)), http.get(("consume+ack", 16, 2))
    add("HTTP publish, 1 worker, 16 clients: requests/s", pub1 and pub1["requests_per_second"], 2_000, " req/s")
    add(
        "HTTP consume+ack (limit=10, batch ack), 1 worker, 16 clients: messages/s",
        con1 and con1["messages_per_second"],
        3_000,
        " msg/s",
    )
    add("HTTP publish p99, 1 worker, 16 clients", pub1 and pub1["p99_ms"], 30, " ms", higher_is_better=False)
    add("HTTP consume+ack p99, 1 worker, 16 clients", con1 and con1["p99_ms"], 30, " ms", higher_is_better=False)
    # issue 17: the gateway's cost. Efficiency: HTTP against the SQL call it makes, in the same run.
    sql_publish, sql_consume = sql.get(("publish_one", 16)), sql.get(("consume_ack_10", 16))
    current["parts"] = ("http", "sql")
    add(
        "HTTP publish requests/s / SQL publish to 1 queue TPS, 1 worker, 16 clients",
        pub1 and sql_publish and sql_publish["tps"] and pub1["requests_per_second"] / sql_publish["tps"],
        0.5,
        "x",
        detail="issue 17: gateway efficiency",
    )
    add(
        "HTTP consume+ack messages/s / SQL consume 10 + ack_messages messages/s, 1 worker, 16 clients",
        con1
        and sql_consume
        and sql_consume["messages_per_second"]
        and con1["messages_per_second"] / sql_consume["messages_per_second"],
        0.5,
        "x",
        detail="issue 17: gateway efficiency",
    )
    current["parts"] = ("http",)
    for case in ("publish", "consume+ack", "consume-with-acks"):
        row = http.get((case, 16, 1))
        add(
            f"HTTP {case}: server CPU per request, 1 worker, 16 clients",
            row and row.get("cpu_us_per_request"),
            400,
            " µs",
            higher_is_better=False,
            detail="issue 17: the server's utime + stime (/proc) over the run ÷ requests",
        )
    for case in ("publish", "consume+ack"):
        one, two = http.get((case, 16, 1)), http.get((case, 16, 2))
        add(
            f"HTTP {case}: server CPU per request, 2 workers / 1 worker at 16 clients",
            one
            and two
            and one.get("cpu_us_per_request")
            and two.get("cpu_us_per_request")
            and two["cpu_us_per_request"] / one["cpu_us_per_request"],
            1.0,
            "x",
            higher_is_better=False,
            detail="issue 17: scaling measured as CPU per request, which must not grow with workers",
        )
    idle = results.get("http", {}).get("idle")
    idle_detail = (
        f"issue 17: {idle['clients']:,} clients, wait_seconds={idle['wait_seconds']}, 1 worker" if idle else "issue 17"
    )
    add(
        "HTTP long polling, 1,000 idle clients: server CPU, % of one core",
        idle and idle["server_cpu_percent_of_core"],
        5,
        " %",
        higher_is_better=False,
        detail=idle_detail,
    )
    add(
        "HTTP long polling, 1,000 idle clients: database statements/s",
        idle and idle["database_statements_per_second"],
        2,
        "/s",
        higher_is_better=False,
        detail=idle_detail + "; pg_stat_statements calls",
    )
    add(
        "HTTP publish, 2 workers / 1 worker at 16 clients",
        pub1 and pub2 and pub2["requests_per_second"] / pub1["requests_per_second"],
        1.5,
        "x",
    )
    add(
        "HTTP consume+ack, 2 workers / 1 worker at 16 clients",
        con1 and con2 and con2["messages_per_second"] / con1["messages_per_second"],
        1.5,
        "x",
    )

    current["parts"] = ("sql",)
    depth = results.get("depth", {}).get("rows", [])
    if len(depth) >= 2 and depth[0]["consume_ms"] and depth[-1]["consume_ms"]:
        add(
            f"consume(10) latency at {depth[-1]['depth']:,} / at {depth[0]['depth']:,} queued",
            depth[-1]["consume_ms"] / depth[0]["consume_ms"],
            1.5,
            "x",
            higher_is_better=False,
            detail="issue 15",
        )
    else:
        add("consume(10) latency at 1M / at 1k queued", None, 1.5, "x", higher_is_better=False)

    current["parts"] = ("endurance",)
    endurance = results.get("endurance", {})
    steady, held = endurance.get("steady"), endurance.get("held")

    def ratio(a, b):
        return a / b if a is not None and b else None

    if steady:
        add(
            "steady endurance: last-minute / first-minute messages consumed/s",
            ratio(steady["last_consumed_per_s"], steady["first_consumed_per_s"]),
            0.9,
            "x",
            detail="issue 15",
        )
        add(
            "steady endurance: store size (heap + TOAST + indexes), last minute / first minute (means of the samples)",
            ratio(steady.get("store_bytes_last_mean"), steady.get("store_bytes_first_mean")),
            1.25,
            "x",
            higher_is_better=False,
            detail="issue 15",
        )
    else:
        add("steady endurance: last-minute / first-minute messages consumed/s", None, 0.9, "x")
    if held:
        add(
            "held snapshot: minute-10 / minute-1 messages consumed/s",
            ratio(held["last_consumed_per_s"], held["first_consumed_per_s"]),
            0.8,
            "x",
            detail="issue 15; last / first window of the held run",
        )
        add(
            "held snapshot: minute-10 consumed/s / the steady run's minute 10",
            ratio(held["last_consumed_per_s"], steady and steady["last_consumed_per_s"]),
            0.8,
            "x",
            detail="issue 15",
        )
        add(
            "held snapshot: store size (heap + TOAST + indexes) in the last minute / the steady run's (means of the samples)",
            ratio(held.get("store_bytes_last_mean"), steady and steady.get("store_bytes_last_mean")),
            3.0,
            "x",
            higher_is_better=False,
            detail="issue 15: at the end; "
            + (
                f"{_mib(held.get('store_bytes_last_mean'))} / {_mib(steady.get('store_bytes_last_mean'))}"
                if steady
                else "no steady run"
            ),
        )
        backlog = held.get("backlog_seconds")
        add(
            "held snapshot: backlog at the end, in seconds of publishing (depth ÷ last minute's published/s)",
            backlog,
            60,
            " s",
            higher_is_better=False,
            detail=f"issue 15: below one minute of publishing; depth {held['sizes_last']['depth']:,}",
        )
        add(
            "held snapshot: first minute after release / steady first minute, consumed/s",
            ratio(held.get("after_release_consumed_per_s"), steady and steady["first_consumed_per_s"]),
            0.9,
            "x",
            detail="back to normal within a minute of release (normal: >= 0.9x)",
        )
    else:
        add("held snapshot: minute-10 / minute-1 messages consumed/s", None, 0.8, "x")

    # issue 21: the PL/Proxy router (bench/shardbench.py); one machine, so no gain from shards is expected
    current["parts"] = ("shards",)
    shards = results.get("shards") or {}
    overhead = {r["call"]: r for r in shards.get("overhead", [])}
    for call in ("publish", "consume", "ack"):
        row = overhead.get(call)
        add(
            f"Sharding: router overhead per {call} call, 1 client (through the router − direct on the shard)",
            row and row["overhead_us"],
            ROUTER_OVERHEAD_US,
            " µs",
            higher_is_better=False,
            detail="issue 21 measures, sets no value; the required value is ours: average latency difference"
            + (f", {row['router_us']:,.0f} µs vs {row['direct_us']:,.0f} µs" if row else ""),
        )
    top = 16 if 16 in shards.get("clients", []) else max(shards.get("clients") or [16])
    for case in ("publish", "consume"):
        alone = shardbench.throughput_of(shards, case, top, 0)
        one = shardbench.throughput_of(shards, case, top, 1)
        add(
            f"Sharding: {case} messages/s at {top} clients, 1 shard through the router / 1 database without it",
            alone and one and one / alone,
            0.8,
            "x",
            detail="issue 21 measures, sets no value; the required value is ours: the router's cost in throughput"
            + (f"; {one:,.0f} / {alone:,.0f} msg/s" if alone and one else ""),
        )
        for count in (2, 4):
            more = shardbench.throughput_of(shards, case, top, count)
            add(
                f"Sharding: {case} messages/s at {top} clients, {count} shards / 1 shard (one machine)",
                one and more and more / one,
                1.0,
                "x",
                detail="issue 21 measures, sets no value; the required value is ours: the shards share this machine's cores, so >= 1 means spreading costs"
                " nothing, not the gain of separate machines"
                + (f"; {more:,.0f} / {one:,.0f} msg/s" if one and more else ""),
            )
    return out


# A router call may cost at most this much more latency than the same call on its shard: a loopback
# round trip and a placement read by primary key, about a quarter of a publish on one database.
ROUTER_OVERHEAD_US = 250


def record_measured(results: dict, part_minutes: dict[str, float]) -> None:
    """Notes, per part this run measured, when and at which commit (results["measured"]), so that a
    later run with --only can carry the part over and say where its figures come from."""
    meta = results["meta"]
    results["measured"] = {
        part: {
            "finished_at": meta["finished_at"],
            "commit": meta.get("commit"),
            "command": meta["command"],
            "run_minutes": meta["elapsed_minutes"],
            "part_minutes": part_minutes.get(part),
            "duration": meta.get("duration"),
            "carried": False,
        }
        for part in meta["parts"]
    }


def carry_over(results: dict, previous: dict) -> list[str]:
    """Keeps, for every part this run did not measure, the previous results' figures, with when they
    were measured (previous["measured"][part], or for a results file from before carry-over its
    run's meta). Returns the parts carried."""
    measured = results.setdefault("measured", {})
    earlier = previous.get("measured") or {}
    carried = []
    for part in PARTS:
        if part in results["meta"]["parts"] or not all(key in previous for key in PART_KEYS[part]):
            continue
        for key in PART_KEYS[part]:
            results[key] = previous[key]
        if part in earlier:
            origin = dict(earlier[part])
        else:
            meta = previous.get("meta", {})
            origin = {
                "finished_at": meta.get("finished_at"),
                "commit": meta.get("commit"),
                "command": meta.get("command"),
                "run_minutes": meta.get("elapsed_minutes"),
                "part_minutes": None,
                "duration": meta.get("duration"),
            }
        origin["carried"] = True
        measured[part] = origin
        carried.append(part)
    results["meta"]["carried"] = carried
    return carried


def carried_label(results: dict, part: str) -> str | None:
    """The sentence that says a section's figures come from an earlier run, or None if this run measured them."""
    origin = (results.get("measured") or {}).get(part)
    if not origin or not origin.get("carried"):
        return None
    commit = f"commit {origin['commit']}" if origin.get("commit") else "a commit not recorded"
    took = []
    if origin.get("duration") is not None:
        took.append(f"{origin['duration']} s per case")
    if origin.get("part_minutes") is not None:
        took.append(f"this part took {origin['part_minutes']:.1f} minutes")
    if origin.get("run_minutes") is not None:
        took.append(f"its run {origin['run_minutes']:.1f} minutes")
    return (
        f"Carried over: measured {origin.get('finished_at') or 'at a time not recorded'} at {commit} by"
        f" `{origin.get('command') or 'a command not recorded'}`"
        + (f" ({', '.join(took)})" if took else "")
        + f"; the run that wrote this file did not run the {part} part."
    )


def _section_head(results: dict, heading: str, part: str) -> list[str]:
    label = carried_label(results, part)
    return ["", heading, ""] + ([f"> {label}", ""] if label else [])


def render(results: dict) -> str:
    meta = results["meta"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {meta['finished_at']} by `{meta['command']}` ({meta['elapsed_minutes']:.1f} minutes)."
        " Generated by bench/ (see docs/development.md); the raw figures and every endurance"
        f" sample are in `{meta['json_name']}`.",
        "",
    ]
    if meta.get("note"):
        lines += ["> " + meta["note"], ""]
    lines += ["## Machine", ""]
    lines += _table(["", ""], [[k, v] for k, v in meta["machine"].items()])
    lines += [
        "",
        "## PostgreSQL",
        "",
        f"Cluster: {meta['cluster']}. Durability as a real deployment: fsync and synchronous_commit as"
        " shown (a bench refuses nothing, it reports them). Everything runs on loopback on this one machine:"
        " PostgreSQL, the gateway and the load generators share its cores.",
        "",
    ]
    lines += _table(["setting", "value"], [[k, f"`{v}`"] for k, v in meta["settings"].items()])
    lines += ["", "## Commands", "", "```", meta["command"], "```", ""]
    lines += [
        f"Options: per-case duration {meta['duration']} s, SQL clients {meta['clients']}, HTTP clients"
        f" {meta['http_clients']}, server workers {meta['workers']}, depths {meta['depths']}, endurance"
        f" {meta['endurance_duration']} s sampled every {meta['sample_interval']} s. Parts run: {', '.join(meta['parts'])}"
        + (f" (SQL cases: {', '.join(meta['cases'])})" if meta.get("cases") else "")
        + "."
        + (
            f" Carried over from earlier runs (this run did not measure them): {', '.join(meta['carried'])};"
            " each of their sections says when and at which commit it was measured."
            if meta.get("carried")
            else ""
        )
        + (f" Commit: {meta['commit']}." if meta.get("commit") else ""),
        "",
    ]
    sql = results.get("sql")
    lines += _section_head(results, "## SQL level", "sql")[1:]
    if sql:
        cmd = sql["rows"][0]["command"] if sql["rows"] else ""
        lines += [
            "pgbench with the scripts in `bench/sql/` (prepared statements, `-j` = min(clients, cores)),"
            f" e.g. `{cmd}`. Store: {sql.get('store', 'not recorded')}. Each case starts from truncated,"
            " vacuumed tables; consume and dequeue cases"
            " start from a prefilled queue sized so it does not run dry. messages/s counts the rows really"
            ' stored or deleted (a message published to 5 queues counts 5); "vs" is TPS over the'
            " baseline's TPS at the same client count (messages/s for consume): the raw baseline, or for the"
            " 4 KiB fan-out the 4 KiB publish to 1 queue. The raw table `bench_raw.messages` has the same"
            " payload columns, a uuid primary key and the same (queue_id, scheduled_at) index, without"
            ' fastqueue\'s functions and its other indexes. "server CPU µs/commit" is the CPU the pgbench'
            " sessions' server processes used (from /proc) per committed database transaction over the"
            " middle 60 % of the run (a consume+ack script run is two commits): it moves much less with"
            ' other load on the machine than TPS does, and says what one call costs the server. "bytes/msg"'
            " (4 KiB cases): growth of the store's heap + TOAST + indexes (every table of the store, both"
            " slots on the rotated store) over the run ÷ messages published (script runs that committed);"
            " nothing rotates or cleans up during the SQL part unless a pg_cron job does so in the bench's"
            ' database ("rotations" counts them from fastqueue.store_state when it exists; in a'
            " publish-only case a rotation can only retire an empty slot or skip: it moves no bytes)."
            ' "locks not fast-path": every 0.2 s, the relation locks in pg_locks held by the case\'s'
            " sessions with fastpath = false, max / mean per sample (the lock-manager contention check of"
            ' docs/storage.md); "most relations locked": the most relations one session had locked in a'
            " sample (PostgreSQL 15 keeps the locks of at most 16 relations per session on the fast path).",
            "",
        ]
        rows = []
        for r in sql["rows"]:
            note = "RAN DRY" if r["ran_dry"] else ""
            if r["failed"]:
                note += f" {r['failed']} failed"
            if r.get("rotations"):
                note += f" {r['rotations']} rotations"
            cpu = r.get("backend_cpu_us_per_commit")
            locks = f"{_f(r['slow_locks_max'])} / {_f(r['slow_locks_mean'], 1)}" if r.get("lock_samples") else "–"
            rows.append(
                [
                    r["label"],
                    r["clients"],
                    _f(r["tps"]),
                    _f(r["messages_per_second"]),
                    _f(r["latency_ms"], 2),
                    _f(r["ratio"], 2, "x") if r["ratio"] is not None else "",
                    _f(cpu) if cpu else "",
                    _f(r.get("bytes_per_message")) if r.get("bytes_per_message") else "",
                    locks,
                    _f(r.get("relation_locks_per_backend_max")) if r.get("lock_samples") else "–",
                    note.strip(),
                ]
            )
        lines += _table(
            [
                "case",
                "clients",
                "TPS",
                "messages/s",
                "avg latency ms",
                "vs",
                "server CPU µs/commit",
                "bytes/msg",
                "locks not fast-path, max / mean",
                "most relations locked by one session",
                "notes",
            ],
            rows,
        )
        top = max(r["clients"] for r in sql["rows"]) if sql["rows"] else None
        checked = [r for r in sql["rows"] if r["clients"] == top and r.get("lock_samples")]
        if checked:
            worst = max(checked, key=lambda r: r["slow_locks_max"] or 0)
            where = f" ({worst['case']})" if worst["slow_locks_max"] else ""
            lines += [
                "",
                f"Lock-manager check at {top} clients: relation locks not on the fast path, at most"
                f" {_f(worst['slow_locks_max'])} in one sample{where}; most relations one"
                f" session had locked: {_f(max(r['relation_locks_per_backend_max'] or 0 for r in checked))}.",
            ]
    else:
        lines.append("Not run (`--only`).")
    lines += _section_head(results, "## Consume latency versus queue depth", "sql")
    depth = results.get("depth")
    if depth:
        lines += [
            "One client runs `bench/sql/depth_consume10.sql`: consume 10, ack_messages them, publish_batch 10"
            " new ones so the depth stays put; the consume statement's own average latency (pgbench -r).",
            "",
        ]
        lines += _table(
            ["queued messages", "consume(10) avg ms", "whole cycle avg ms", "cycles/s", "depth at end"],
            [
                [_f(r["depth"]), _f(r["consume_ms"], 3), _f(r["cycle_ms"], 3), _f(r["tps"]), _f(r["depth_after"])]
                for r in depth["rows"]
            ],
        )
    else:
        lines.append("Not run (`--only`).")
    lines += _section_head(results, "## HTTP level", "http")
    http = results.get("http")
    if http:
        pool = http.get("pool_max_size", "10")
        lines += [
            "The bench's own asyncio HTTP/1.1 client (`bench/httpbench.py`, one process, one keep-alive"
            " connection per concurrent client) against `fastqueue server` started by the bench on a free"
            f" loopback port (FASTQUEUE_DATABASE_POOL_MAX_SIZE {pool} per worker). publish: POST"
            " /topics/{id}/messages, one message, one queue. consume+ack: GET /queues/{id}/messages?limit=10"
            " then POST /messages/ack with the ids, from a prefilled queue. consume-with-acks: the same with"
            " one request per cycle, POST /queues/{id}/messages/consume {limit: 10, ack_ids: the previous"
            " batch} (messages/s counts the ids acked by requests answered 200). end-to-end: half the clients"
            " publish, half consume with wait_seconds=1 and batch-ack; delivery latency is publish request"
            " sent to consume response received. lost / duplicates are checked on every id (checked ="
            " ids tracked). requests/s counts every HTTP request (a consume+ack cycle is two)."
            " sqs-send and sqs-receive+delete: the same over the SQS JSON protocol (docs/sqs.md), SendMessage"
            " to one queue, and ReceiveMessage (10) then DeleteMessageBatch with the receipt handles; each"
            " runs half the duration. server CPU µs/request: the `fastqueue server` processes' utime + stime"
            " (/proc/<pid>/stat, every process of its process group) over the run ÷ requests, counted after a"
            " warm-up of as many concurrent clients (5 requests each) that grows each worker's pool first.",
            "",
        ]
        rows = []
        for r in http["rows"]:
            delivery = ""
            if "delivery_p50_ms" in r:
                delivery = f"{_f(r['delivery_p50_ms'], 1)} / {_f(r['delivery_p99_ms'], 1)}"
            errors = ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "0"
            rows.append(
                [
                    r["case"],
                    r["workers"],
                    r["clients"],
                    _f(r["requests_per_second"]),
                    _f(r["messages_per_second"]),
                    _f(r.get("cpu_us_per_request")),
                    _f(r["p50_ms"], 1),
                    _f(r["p99_ms"], 1),
                    delivery,
                    _f(r["checked"]),
                    r["lost"],
                    r["duplicates"],
                    errors + (" (ran dry)" if r.get("ran_dry") else ""),
                ]
            )
        lines += _table(
            [
                "case",
                "workers",
                "clients",
                "requests/s",
                "messages/s",
                "server CPU µs/request",
                "p50 ms",
                "p99 ms",
                "delivery p50 / p99 ms",
                "checked",
                "lost",
                "duplicates",
                "errors",
            ],
            rows,
        )
        idle = http.get("idle")
        if idle:
            errors = ", ".join(f"{k}: {v}" for k, v in idle["errors"].items()) or "0"
            lines += [
                "",
                f"long-poll-idle: {idle['clients']:,} connections, each long polling an empty queue (GET"
                f" /queues/{{id}}/messages?wait_seconds={idle['wait_seconds']}, again as soon as it answers),"
                f" one worker; measured over {idle['window_seconds']:.0f} s after a warm-up: server CPU"
                f" {_f(idle['server_cpu_percent_of_core'], 1)} % of one core (utime + stime from /proc),"
                f" database {_f(idle['database_statements_per_second'], 2)} statements/s (pg_stat_statements"
                f" calls in the bench database), {_f(idle['polls_answered'])} polls answered, messages received"
                f" {idle['messages_received']} (none expected), errors {errors}.",
            ]
        ok = all(r["lost"] == 0 and r["duplicates"] == 0 for r in http["rows"])
        lines += ["", f"Loss and double-delivery checks: {'all passed' if ok else 'FAILED (see lost / duplicates)'}."]
    else:
        lines.append("Not run (`--only`).")
    lines += _section_head(results, "## Endurance", "endurance")
    endurance = results.get("endurance")
    if endurance:
        s = endurance["steady"]
        rotated = "rotations" in s
        lines += [
            f"pgbench `publish_one.sql` ({s['publishers']} clients) and `consume_ack_10.sql` ({s['consumers']}"
            " clients, 10 ms back-off when empty) on one queue at once, unthrottled. Store:"
            f" {s.get('store', 'not recorded')}. Rotation: {s.get('rotation', 'not recorded')}. Every"
            f" {s['interval']:.0f} s a sample of the store's insert/delete counters (on the rotated store,"
            " summed over both slots of fastqueue.deliveries; published = inserts minus the deliveries"
            " rotation carried, consumed = deletes, i.e. acks), sizes summed over every table of the store"
            " (heap, TOAST, indexes), dead tuples, queue depth and, where fastqueue.store_state exists,"
            " rotations done and skipped and deliveries carried. A probe connection times one"
            f' consume(10) every {PROBE_INTERVAL_MS} ms (and acks what it got): "consume p99" is over'
            " the run (and per sample window in the samples). First / last window:"
            f" {s['window']:.0f} s (minute 1 and minute 10 of a 10-minute run). The held run keeps"
            " a REPEATABLE READ transaction (after one read of fastqueue.topics) open on another connection"
            " for the whole run, then releases it and runs on for the recovery period. Backlog: depth at the"
            " end ÷ the last window's published/s. Sizes in the table are single samples (minute 1, the end), with"
            " the means of the samples in the first and the last window beside them, which the size targets"
            " use (the rotated store's sizes are a saw-tooth: a slot fills, a TRUNCATE empties it).",
            "",
        ]
        rows = []
        for name, run in (("steady", s), ("held snapshot", endurance["held"])):
            first, last = run["sizes_first"], run["sizes_last"]
            rot = run.get("rotations")
            rows.append(
                [
                    name,
                    f"{run['duration']} s",
                    f"{_f(run['first_published_per_s'])} → {_f(run['last_published_per_s'])}",
                    f"{_f(run['first_consumed_per_s'])} → {_f(run['last_consumed_per_s'])}",
                    f"{_mib(first.get('total_bytes'))} → {_mib(last.get('total_bytes'))}"
                    f" (means {_mib(run.get('store_bytes_first_mean'))} → {_mib(run.get('store_bytes_last_mean'))})",
                    f"{_mib(first['heap_bytes'])} → {_mib(last['heap_bytes'])}",
                    f"{_mib(first['index_bytes'])} → {_mib(last['index_bytes'])}",
                    f"{_mib(first['scheduled_idx_bytes'])} → {_mib(last['scheduled_idx_bytes'])}",
                    f"{_f(first['n_dead_tup'])} → {_f(last['n_dead_tup'])} (max {_f(run.get('max_dead_tuples'))})",
                    f"{_f(first['depth'])} → {_f(last['depth'])} ({_f(run.get('backlog_seconds'), 1)} s)",
                    f"{_f(run.get('consume_p99_ms'), 1)} / {_f(run.get('consume_max_ms'), 1)}",
                    f"{_f(rot['rotations'])} / {_f(rot['skips'])} / {_f(rot['carried_deliveries'])}" if rot else "–",
                    (
                        f"{_f(run.get('after_release_published_per_s'))} / {_f(run.get('after_release_consumed_per_s'))} in {run['recovery']} s;"
                        f" store {_mib(run['sizes_after_release'].get('total_bytes'))}, heap {_mib(run['sizes_after_release']['heap_bytes'])},"
                        f" indexes {_mib(run['sizes_after_release']['index_bytes'])}, dead {_f(run['sizes_after_release']['n_dead_tup'])}"
                    )
                    if run.get("held_snapshot")
                    else "",
                ]
            )
        lines += _table(
            [
                "run",
                "length",
                "published/s first → last",
                "consumed/s first → last",
                "store (heap + TOAST + indexes)",
                "heap",
                "all indexes",
                "(queue_id, scheduled_at) index",
                "dead tuples",
                "depth (backlog)",
                "consume p99 / max ms",
                "rotations done / skipped / carried",
                "after release: published/s / consumed/s",
            ],
            rows,
        )
        lines += [
            "",
            "Samples (t s: published/s, consumed/s, store size, heap, indexes, dead tuples, depth, consume p99 ms"
            + (", rotations done / skipped / deliveries carried since the start" if rotated else "")
            + "):",
            "",
        ]
        for name, run in (("steady", s), ("held snapshot", endurance["held"])):
            lines.append(
                f"- {name}: "
                + "; ".join(
                    f"{x['t']:.0f}: {_f(x.get('published_per_s'))}, {_f(x.get('consumed_per_s'))}, {_mib(x.get('total_bytes'))},"
                    f" {_mib(x['heap_bytes'])}, {_mib(x['index_bytes'])}, {_f(x['n_dead_tup'])}, {_f(x['depth'])},"
                    f" {_f(x.get('consume_p99_ms'), 1)}"
                    + (
                        f", {_f(x['rotations'] - run['samples'][0]['rotations'])} / {_f(x['skips'] - run['samples'][0]['skips'])}"
                        f" / {_f(x['carried_deliveries'] - run['samples'][0]['carried_deliveries'])}"
                        if "rotations" in x
                        else ""
                    )
                    for x in run["samples"][1:]
                )
            )
    else:
        lines.append("Not run (`--only`).")
    lines += _section_head(results, SHARDS_SECTION, "shards")
    if results.get("shards"):
        lines += shardbench.render(results["shards"], meta.get("machine", {}).get("cores"))
    else:
        lines.append("Not run (`--only`).")
    carried = [p for p in PARTS if carried_label(results, p)]
    lines += ["", "## Targets", "", "Numbers to report against, not pass/fail tests."]
    if carried:
        lines.append(
            f"Rows from the {', '.join(carried)} part{'s' if len(carried) > 1 else ''} use figures carried over"
            " from an earlier run (their sections say which); their status says so."
        )
    lines.append("")
    rows = []
    for t in targets(results):
        met = "not measured" if t["met"] is None else ("met" if t["met"] else "**not met**")
        origins = [(results.get("measured") or {}).get(p) or {} for p in t["parts"]]
        from_earlier = sorted({o.get("finished_at") or "?" for o in origins if o.get("carried")})
        if from_earlier and t["met"] is not None:
            met += f", carried from {' and '.join(from_earlier)}"
        unit = t.get("unit", "")
        rows.append(
            [
                t["target"],
                _f(t["figure"], 2 if unit in ("x", " ms", "/s") else 1 if unit in (" s", " %") else 0, unit)
                if t["figure"] is not None
                else "–",
                f"{t['op']} {_f(float(t['required']), 2 if unit == 'x' else 0)}{unit}",
                _f(t["ratio"], 2, "x") if t["ratio"] is not None else "–",
                met + (f" ({t['detail']})" if t["detail"] else ""),
            ]
        )
    lines += _table(["target", "figure", "required", "figure / required (>= 1 is met)", "status"], rows)
    lines.append("")
    if "push" in results:
        from bench.pushbench import render as render_push

        lines += [""] + render_push(results["push"])
        label = carried_label(results, "push")
        if label:  # below push's heading, as the other sections have it
            heading = next(i for i in range(len(lines) - 1, -1, -1) if lines[i].startswith("## "))
            lines[heading + 1 : heading + 1] = ["", f"> {label}"]
    lines += high_availability()
    return "\n".join(lines)


def high_availability() -> list[str]:
    """The failover figures, which need a pg_auto_failover formation and come from the fault tests'
    runs (tests/reliability/test_failover.py), not from this bench: docs/ha.md's "Measured" section,
    repeated here so that BENCHMARKS.md holds every figure (issue 18)."""
    ha = Path(__file__).resolve().parent.parent / "docs" / "ha.md"
    if not ha.exists():
        return []
    text = ha.read_text()
    start = text.find("\n## Measured\n")
    if start < 0:
        return []
    body = text[start + len("\n## Measured\n") :]
    end = body.find("\n## ")
    body = body[:end] if end >= 0 else body
    return [
        "",
        "## High availability (not measured by this bench)",
        "",
        "Copied from [docs/ha.md](docs/ha.md#measured) when this file was written: the figures come from the"
        " failover tests' runs on a pg_auto_failover formation (`scripts/ha-cluster.sh`), not from `make bench`.",
        "",
        body.strip(),
        "",
    ]


def console_table(results: dict) -> str:
    out = []
    for r in results.get("sql", {}).get("rows", []):
        out.append(
            f"sql   {r['case']:<18} c={r['clients']:<3} tps={r['tps']:>10,.0f} msg/s={r['messages_per_second']:>10,.0f}"
            f" lat={r['latency_ms'] or 0:>7.2f}ms"
            + (f" vs raw {r['ratio']:.2f}x" if r["ratio"] is not None else "")
            + (" RAN DRY" if r["ran_dry"] else "")
        )
    for r in results.get("depth", {}).get("rows", []):
        out.append(f"depth {r['depth']:>10,} consume(10) {r['consume_ms'] or 0:.3f} ms")
    for r in results.get("http", {}).get("rows", []):
        out.append(
            f"http  {r['case']:<18} w={r['workers']} c={r['clients']:<3} req/s={r['requests_per_second']:>8,.0f}"
            f" msg/s={r['messages_per_second']:>8,.0f} cpu={r.get('cpu_us_per_request') or 0:,.0f}us/req p50={r['p50_ms'] or 0:.1f} p99={r['p99_ms'] or 0:.1f} ms"
            f" lost={r['lost']} dup={r['duplicates']} errors={r['errors'] or 0}"
        )
    endurance = results.get("endurance")
    if endurance:
        for name, run in endurance.items():
            out.append(
                f"endurance {name}: consumed/s {run['first_consumed_per_s'] or 0:,.0f} -> {run['last_consumed_per_s'] or 0:,.0f},"
                f" published/s {run['first_published_per_s'] or 0:,.0f} -> {run['last_published_per_s'] or 0:,.0f},"
                f" heap {_mib(run['sizes_first']['heap_bytes'])} -> {_mib(run['sizes_last']['heap_bytes'])},"
                f" indexes {_mib(run['sizes_first']['index_bytes'])} -> {_mib(run['sizes_last']['index_bytes'])},"
                f" store {_mib(run['sizes_first'].get('total_bytes'))} -> {_mib(run['sizes_last'].get('total_bytes'))},"
                f" consume p99 {_f(run.get('consume_p99_ms'), 1)} ms, rotations {run.get('rotations')}"
            )
    shards = results.get("shards") or {}
    for r in shards.get("overhead", []):
        out.append(
            f"shards overhead {r['call']:<8} router {r['router_us']:>8,.0f} us  direct {r['direct_us']:>8,.0f} us"
            f"  overhead {r['overhead_us']:>8,.0f} us"
        )
    for r in shards.get("throughput", []):
        where = f"{r['shards']} shard(s)" if r["shards"] else "no router"
        out.append(
            f"shards {r['case']:<8} c={r['clients']:<3} {where:<11} msg/s={r['messages_per_second']:>10,.0f}"
            + (" RAN DRY" if r["ran_dry"] else "")
        )
    for t in targets(results):
        status = "n/a" if t["met"] is None else ("met" if t["met"] else "NOT MET")
        out.append(f"target {status:<7} {t['target']}: {_f(t['figure'], 2)}")
    return "\n".join(out)


def write(results: dict, path: Path, json_path: Path | None = None, carry: bool = True) -> None:
    """The report to path, the raw figures to json_path (beside the report when not given). With
    carry_over, the parts this run did not measure keep the figures json_path held before, each
    labelled with the run that measured it."""
    json_path = json_path or path.with_suffix(".json")
    results["meta"].setdefault("carried", [])
    if carry and json_path.exists():
        try:
            previous: dict[str, Any] = json.loads(json_path.read_text())
        except (OSError, ValueError) as exc:
            print(f"bench: nothing carried over: {json_path} is not readable JSON ({exc})", file=sys.stderr)
        else:
            carry_over(results, previous)
    results["meta"]["json_name"] = os.path.relpath(json_path, path.parent)
    path.write_text(render(results))
    json_path.write_text(json.dumps(results, indent=1, default=str))
