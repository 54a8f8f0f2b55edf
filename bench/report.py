"""Turns the results into the printed table and BENCHMARKS.md (with a .json of the raw figures beside it)."""

import json
from pathlib import Path

SECTIONS = ("## Machine", "## PostgreSQL", "## Commands", "## SQL level", "## Consume latency versus queue depth",
            "## HTTP level", "## Endurance", "## Targets")


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

    def add(name: str, figure, required: float, unit: str = "", higher_is_better: bool = True, detail: str = ""):
        if figure is None:
            out.append({"target": name, "figure": None, "required": required, "ratio": None, "met": None, "detail": detail,
                        "unit": unit, "op": ">=" if higher_is_better else "<="})
            return
        ratio = figure / required if higher_is_better else (required / figure if figure else None)
        met = figure >= required if higher_is_better else figure <= required
        out.append({"target": name, "figure": figure, "required": required, "ratio": ratio, "met": met,
                    "unit": unit, "detail": detail, "op": ">=" if higher_is_better else "<="})

    sql = {(r["case"], r["clients"]): r for r in results.get("sql", {}).get("rows", [])}
    for clients in (4, 16):
        row = sql.get(("publish_one", clients))
        add(f"SQL publish / raw INSERT TPS at {clients} clients", row and row["ratio"], 0.7, "x")
        row = sql.get(("consume_ack_1", clients))
        add(f"SQL consume+ack (1) / raw dequeue at {clients} clients", row and row["ratio"], 0.7, "x")
        row = sql.get(("consume_ack_next_1", clients))
        add(f"SQL consume acking the previous (1, ack_message_ids) / raw dequeue at {clients} clients",
            row and row["ratio"], 0.8, "x", detail="issue 15: one call per cycle")
        row = sql.get(("consume_ack_100", clients))
        add(f"SQL consume+ack (100) / raw dequeue of 100 at {clients} clients", row and row["ratio"], 0.7, "x",
            detail="same target, batch form")
    row = sql.get(("publish_batch100", 16))
    add("SQL batch publish of 100, messages/s at 16 clients", row and row["messages_per_second"], 150_000, " msg/s")
    row = sql.get(("publish_batch100", 1))
    add("SQL batch publish of 100, messages/s at 1 client", row and row["messages_per_second"], 100_000, " msg/s")

    http = {(r["case"], r["clients"], r["workers"]): r for r in results.get("http", {}).get("rows", [])}
    pub1, pub2 = http.get(("publish", 16, 1)), http.get(("publish", 16, 2))
    con1, con2 = http.get(("consume+ack", 16, 1)), http.get(("consume+ack", 16, 2))
    add("HTTP publish, 1 worker, 16 clients: requests/s", pub1 and pub1["requests_per_second"], 2_000, " req/s")
    add("HTTP consume+ack (limit=10, batch ack), 1 worker, 16 clients: messages/s", con1 and con1["messages_per_second"], 3_000, " msg/s")
    add("HTTP publish p99, 1 worker, 16 clients", pub1 and pub1["p99_ms"], 30, " ms", higher_is_better=False)
    add("HTTP consume+ack p99, 1 worker, 16 clients", con1 and con1["p99_ms"], 30, " ms", higher_is_better=False)
    add("HTTP publish, 2 workers / 1 worker at 16 clients",
        pub1 and pub2 and pub2["requests_per_second"] / pub1["requests_per_second"], 1.5, "x")
    add("HTTP consume+ack, 2 workers / 1 worker at 16 clients",
        con1 and con2 and con2["messages_per_second"] / con1["messages_per_second"], 1.5, "x")

    depth = results.get("depth", {}).get("rows", [])
    if len(depth) >= 2 and depth[0]["consume_ms"] and depth[-1]["consume_ms"]:
        add(f"consume(10) latency at {depth[-1]['depth']:,} / at {depth[0]['depth']:,} queued",
            depth[-1]["consume_ms"] / depth[0]["consume_ms"], 2.0, "x", higher_is_better=False)
    else:
        add("consume(10) latency at 1M / at 1k queued", None, 2.0)

    endurance = results.get("endurance", {})
    steady, held = endurance.get("steady"), endurance.get("held")

    def ratio(a, b):
        return a / b if a is not None and b else None

    if steady:
        add("endurance: last-minute / first-minute messages consumed/s",
            ratio(steady["last_consumed_per_s"], steady["first_consumed_per_s"]), 0.9, "x")
        growth = ratio(steady["sizes_last"]["heap_bytes"] + steady["sizes_last"]["index_bytes"],
                       steady["sizes_first"]["heap_bytes"] + steady["sizes_first"]["index_bytes"])
        add("endurance: table+index size, last / first minute (flat: <= 1.25x)", growth, 1.25, "x",
            higher_is_better=False)
    else:
        add("endurance: last-minute / first-minute", None, 0.9)
    if held:
        add("held snapshot: last-minute / first-minute messages consumed/s",
            ratio(held["last_consumed_per_s"], held["first_consumed_per_s"]), 0.5, "x")
        add("held snapshot: first minute after release / steady first minute, consumed/s",
            ratio(held.get("after_release_consumed_per_s"), steady and steady["first_consumed_per_s"]), 0.9, "x",
            detail="back to normal within a minute of release (normal: >= 0.9x)")
    else:
        add("held snapshot: last-minute / first-minute", None, 0.5)
    return out


def render(results: dict) -> str:
    meta = results["meta"]
    lines = ["# Benchmarks", "",
             f"Measured {meta['finished_at']} by `{meta['command']}` ({meta['elapsed_minutes']:.1f} minutes)."
             " Generated by bench/ (see README, Development > Benchmarks); the raw figures and every endurance"
             f" sample are in `{meta['json_name']}` beside this file.", ""]
    if meta.get("note"):
        lines += ["> " + meta["note"], ""]
    lines += ["## Machine", ""]
    lines += _table(["", ""], [[k, v] for k, v in meta["machine"].items()])
    lines += ["", "## PostgreSQL", "",
              f"Cluster: {meta['cluster']}. Durability as a real deployment: fsync and synchronous_commit as"
              " shown (a bench refuses nothing, it reports them). Everything runs on loopback on this one machine:"
              " PostgreSQL, the gateway and the load generators share its cores.", ""]
    lines += _table(["setting", "value"], [[k, f"`{v}`"] for k, v in meta["settings"].items()])
    lines += ["", "## Commands", "", "```", meta["command"], "```", ""]
    lines += [f"Options: per-case duration {meta['duration']} s, SQL clients {meta['clients']}, HTTP clients"
              f" {meta['http_clients']}, server workers {meta['workers']}, depths {meta['depths']}, endurance"
              f" {meta['endurance_duration']} s sampled every {meta['sample_interval']} s. Parts run: {', '.join(meta['parts'])}.", ""]
    sql = results.get("sql")
    lines += ["## SQL level", ""]
    if sql:
        cmd = sql["rows"][0]["command"] if sql["rows"] else ""
        lines += ["pgbench with the scripts in `bench/sql/` (prepared statements, `-j` = min(clients, cores)),"
                  f" e.g. `{cmd}`. Each case starts from truncated, vacuumed tables; consume and dequeue cases"
                  " start from a prefilled queue sized so it does not run dry. messages/s counts the rows really"
                  " stored or deleted; \"vs raw\" is TPS over the raw baseline's TPS at the same client count"
                  " (messages/s for consume). The raw table `bench_raw.messages` has the same payload columns,"
                  " a uuid primary key and the same (queue_id, scheduled_at) index, without fastqueue's"
                  " functions and its other indexes. \"server CPU µs/commit\" is the CPU the pgbench sessions'"
                  " server processes used (from /proc) per committed database transaction over the middle 60 %"
                  " of the run (a consume+ack script run is two commits): it moves much less with other load on"
                  " the machine than TPS does, and says what one call costs the server.", ""]
        rows = []
        for r in sql["rows"]:
            note = "RAN DRY" if r["ran_dry"] else ""
            if r["failed"]:
                note += f" {r['failed']} failed"
            cpu = r.get("backend_cpu_us_per_commit")
            rows.append([r["label"], r["clients"], _f(r["tps"]), _f(r["messages_per_second"]), _f(r["latency_ms"], 2),
                         _f(r["ratio"], 2, "x") if r["ratio"] is not None else "", _f(cpu) if cpu else "", note])
        lines += _table(["case", "clients", "TPS", "messages/s", "avg latency ms", "vs raw", "server CPU µs/commit",
                         "notes"], rows)
    else:
        lines.append("Not run (`--only`).")
    lines += ["", "## Consume latency versus queue depth", ""]
    depth = results.get("depth")
    if depth:
        lines += ["One client runs `bench/sql/depth_consume10.sql`: consume 10, ack_messages them, publish_batch 10"
                  " new ones so the depth stays put; the consume statement's own average latency (pgbench -r).", ""]
        lines += _table(["queued messages", "consume(10) avg ms", "whole cycle avg ms", "cycles/s", "depth at end"],
                        [[_f(r["depth"]), _f(r["consume_ms"], 3), _f(r["cycle_ms"], 3), _f(r["tps"]), _f(r["depth_after"])]
                         for r in depth["rows"]])
    else:
        lines.append("Not run (`--only`).")
    lines += ["", "## HTTP level", ""]
    http = results.get("http")
    if http:
        pool = http.get("pool_max_size", "10")
        lines += ["The bench's own asyncio HTTP/1.1 client (`bench/httpbench.py`, one process, one keep-alive"
                  " connection per concurrent client) against `fastqueue server` started by the bench on a free"
                  f" loopback port (FASTQUEUE_DATABASE_POOL_MAX_SIZE {pool} per worker). publish: POST"
                  " /topics/{id}/messages, one message, one queue. consume+ack: GET /queues/{id}/messages?limit=10"
                  " then POST /messages/ack with the ids, from a prefilled queue. consume-with-acks: the same with"
                  " one request per cycle, POST /queues/{id}/messages/consume {limit: 10, ack_ids: the previous"
                  " batch} (messages/s counts the ids acked by requests answered 200). end-to-end: half the clients"
                  " publish, half consume with wait_seconds=1 and batch-ack; delivery latency is publish request"
                  " sent to consume response received. lost / duplicates are checked on every id (checked ="
                  " ids tracked). requests/s counts every HTTP request (a consume+ack cycle is two).", ""]
        rows = []
        for r in http["rows"]:
            delivery = ""
            if "delivery_p50_ms" in r:
                delivery = f"{_f(r['delivery_p50_ms'], 1)} / {_f(r['delivery_p99_ms'], 1)}"
            errors = ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "0"
            rows.append([r["case"], r["workers"], r["clients"], _f(r["requests_per_second"]), _f(r["messages_per_second"]),
                         _f(r["p50_ms"], 1), _f(r["p99_ms"], 1), delivery, _f(r["checked"]), r["lost"], r["duplicates"],
                         errors + (" (ran dry)" if r.get("ran_dry") else "")])
        lines += _table(["case", "workers", "clients", "requests/s", "messages/s", "p50 ms", "p99 ms",
                         "delivery p50 / p99 ms", "checked", "lost", "duplicates", "errors"], rows)
        ok = all(r["lost"] == 0 and r["duplicates"] == 0 for r in http["rows"])
        lines += ["", f"Loss and double-delivery checks: {'all passed' if ok else 'FAILED (see lost / duplicates)'}."]
    else:
        lines.append("Not run (`--only`).")
    lines += ["", "## Endurance", ""]
    endurance = results.get("endurance")
    if endurance:
        s = endurance["steady"]
        lines += [f"pgbench `publish_one.sql` ({s['publishers']} clients) and `consume_ack_10.sql` ({s['consumers']}"
                  " clients, 10 ms back-off when empty) on one queue at once, unthrottled; every"
                  f" {s['interval']:.0f} s a sample of fastqueue.messages' insert/delete counters, heap and index"
                  f" sizes, dead tuples and queue depth. First / last window: {s['window']:.0f} s. The held run keeps"
                  " a REPEATABLE READ transaction (after one read) open on another connection for the whole run,"
                  " then releases it and runs on for the recovery period.", ""]
        rows = []
        for name, run in (("steady", s), ("held snapshot", endurance["held"])):
            rows.append([
                name, f"{run['duration']} s", f"{_f(run['first_published_per_s'])} → {_f(run['last_published_per_s'])}",
                f"{_f(run['first_consumed_per_s'])} → {_f(run['last_consumed_per_s'])}",
                f"{_mib(run['sizes_first']['heap_bytes'])} → {_mib(run['sizes_last']['heap_bytes'])}",
                f"{_mib(run['sizes_first']['index_bytes'])} → {_mib(run['sizes_last']['index_bytes'])}",
                f"{_mib(run['sizes_first']['scheduled_idx_bytes'])} → {_mib(run['sizes_last']['scheduled_idx_bytes'])}",
                f"{_f(run['sizes_first']['n_dead_tup'])} → {_f(run['sizes_last']['n_dead_tup'])}",
                f"{_f(run['sizes_first']['depth'])} → {_f(run['sizes_last']['depth'])}",
                (f"{_f(run.get('after_release_published_per_s'))} / {_f(run.get('after_release_consumed_per_s'))} in {run['recovery']} s;"
                 f" heap {_mib(run['sizes_after_release']['heap_bytes'])}, indexes {_mib(run['sizes_after_release']['index_bytes'])},"
                 f" dead {_f(run['sizes_after_release']['n_dead_tup'])}") if run.get("held_snapshot") else "",
            ])
        lines += _table(["run", "length", "published/s first → last", "consumed/s first → last", "heap",
                         "all indexes", "(queue_id, scheduled_at) index", "dead tuples", "depth",
                         "after release: published/s / consumed/s"], rows)
        lines += ["", "Samples (t s: published/s, consumed/s, heap, indexes, dead tuples, depth):", ""]
        for name, run in (("steady", s), ("held snapshot", endurance["held"])):
            lines.append(f"- {name}: " + "; ".join(
                f"{x['t']:.0f}: {_f(x.get('published_per_s'))}, {_f(x.get('consumed_per_s'))}, {_mib(x['heap_bytes'])},"
                f" {_mib(x['index_bytes'])}, {_f(x['n_dead_tup'])}, {_f(x['depth'])}"
                for x in run["samples"][1:]))
    else:
        lines.append("Not run (`--only`).")
    lines += ["", "## Targets", "", "Numbers to report against, not pass/fail tests.", ""]
    rows = []
    for t in targets(results):
        met = "not measured" if t["met"] is None else ("met" if t["met"] else "**not met**")
        unit = t.get("unit", "")
        rows.append([t["target"], _f(t["figure"], 2 if unit in ("x", " ms") else 0, unit) if t["figure"] is not None else "–",
                     f"{t['op']} {_f(float(t['required']), 2 if unit == 'x' else 0)}{unit}",
                     _f(t["ratio"], 2, "x") if t["ratio"] is not None else "–", met + (f" ({t['detail']})" if t["detail"] else "")])
    lines += _table(["target", "figure", "required", "figure / required (>= 1 is met)", "status"], rows)
    lines.append("")
    if "push" in results:
        from bench.pushbench import render as render_push

        lines += [""] + render_push(results["push"])
    return "\n".join(lines)


def console_table(results: dict) -> str:
    out = []
    for r in results.get("sql", {}).get("rows", []):
        out.append(f"sql   {r['case']:<18} c={r['clients']:<3} tps={r['tps']:>10,.0f} msg/s={r['messages_per_second']:>10,.0f}"
                   f" lat={r['latency_ms'] or 0:>7.2f}ms" + (f" vs raw {r['ratio']:.2f}x" if r["ratio"] is not None else "")
                   + (" RAN DRY" if r["ran_dry"] else ""))
    for r in results.get("depth", {}).get("rows", []):
        out.append(f"depth {r['depth']:>10,} consume(10) {r['consume_ms'] or 0:.3f} ms")
    for r in results.get("http", {}).get("rows", []):
        out.append(f"http  {r['case']:<12} w={r['workers']} c={r['clients']:<3} req/s={r['requests_per_second']:>8,.0f}"
                   f" msg/s={r['messages_per_second']:>8,.0f} p50={r['p50_ms'] or 0:.1f} p99={r['p99_ms'] or 0:.1f} ms"
                   f" lost={r['lost']} dup={r['duplicates']} errors={r['errors'] or 0}")
    endurance = results.get("endurance")
    if endurance:
        for name, run in endurance.items():
            out.append(f"endurance {name}: consumed/s {run['first_consumed_per_s'] or 0:,.0f} -> {run['last_consumed_per_s'] or 0:,.0f},"
                       f" published/s {run['first_published_per_s'] or 0:,.0f} -> {run['last_published_per_s'] or 0:,.0f},"
                       f" heap {_mib(run['sizes_first']['heap_bytes'])} -> {_mib(run['sizes_last']['heap_bytes'])},"
                       f" indexes {_mib(run['sizes_first']['index_bytes'])} -> {_mib(run['sizes_last']['index_bytes'])}")
    for t in targets(results):
        status = "n/a" if t["met"] is None else ("met" if t["met"] else "NOT MET")
        out.append(f"target {status:<7} {t['target']}: {_f(t['figure'], 2)}")
    return "\n".join(out)


def write(results: dict, path: Path) -> None:
    json_path = path.with_suffix(".json")
    results["meta"]["json_name"] = json_path.name
    path.write_text(render(results))
    json_path.write_text(json.dumps(results, indent=1, default=str))
