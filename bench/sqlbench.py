"""SQL level: pgbench custom scripts (bench/sql/) against the bench database, next to raw baselines."""

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    PG_BINDIR,
    SQL_DIR,
    Target,
    prefill,
    prefill_raw,
    queue_depth,
    reset_tables,
    store_layout,
    store_sizes,
    store_state,
    stored_copies,
    vacuum_store,
)

PGBENCH = PG_BINDIR / "pgbench"


@dataclass(frozen=True)
class Case:
    name: str
    script: str
    messages_per_tx: int  # messages stored or consumed per transaction (script run)
    baseline: str | None  # the raw case it is compared with
    kind: str  # publish | consume | raw_insert | raw_dequeue
    label: str
    variables: tuple[tuple[str, str], ...] = ()  # pgbench -D NAME=VALUE, each client's starting values
    bytes_per_message: bool = False  # measure the store's growth on disk per message published
    min_clients: int = 1  # run only at the client counts from this one up


CASES = (
    Case("raw_insert", "raw_insert.sql", 1, None, "raw_insert", "raw INSERT, 1 row"),
    Case("publish_one", "publish_one.sql", 1, "raw_insert", "publish", "publish to 1 queue"),
    Case(
        "publish_fanout5",
        "publish_fanout5.sql",
        5,
        "raw_insert",
        "publish",
        "publish fanning out to 5 queues (6 with filters)",
    ),
    # 4 KiB payloads, for on-disk bytes per message (issue 15: fan-out stores the payload once) and
    # fan-out TPS with a payload that is TOASTed; not at 1 client (the issue asks for 4 and 16).
    Case(
        "publish_one_4k",
        "publish_one_4k.sql",
        1,
        None,
        "publish",
        "publish to 1 queue, 4 KiB payload",
        bytes_per_message=True,
        min_clients=2,
    ),
    Case(
        "publish_fanout5_4k",
        "publish_fanout5_4k.sql",
        5,
        "publish_one_4k",
        "publish",
        "publish fanning out to 5 queues, 4 KiB payload (vs: publish to 1 queue, 4 KiB)",
        bytes_per_message=True,
        min_clients=2,
    ),
    Case("raw_insert100", "raw_insert100.sql", 100, None, "raw_insert", "raw INSERT, 100 rows in one statement"),
    Case(
        "publish_batch100", "publish_batch100.sql", 100, "raw_insert100", "publish", "publish_batch of 100 to 1 queue"
    ),
    Case("raw_dequeue", "raw_dequeue.sql", 1, None, "raw_dequeue", "raw DELETE … SKIP LOCKED dequeue, 1 row"),
    Case("consume_ack_1", "consume_ack_1.sql", 1, "raw_dequeue", "consume", "consume 1 + ack"),
    Case(
        "consume_ack_next_1",
        "consume_ack_next_1.sql",
        1,
        "raw_dequeue",
        "consume",
        "consume 1 acking the previous one (ack_message_ids), one call per cycle",
        (("msg_id", "00000000-0000-0000-0000-000000000000"),),
    ),
    Case(
        "raw_dequeue100", "raw_dequeue100.sql", 100, None, "raw_dequeue", "raw DELETE … SKIP LOCKED dequeue, 100 rows"
    ),
    Case(
        "consume_ack_10",
        "consume_ack_10.sql",
        10,
        None,
        "consume",
        "consume 10 + ack_messages (the SQL of the HTTP consume+ack case)",
        (("queue", "bench-consume"),),
    ),
    Case("consume_ack_100", "consume_ack_100.sql", 100, "raw_dequeue100", "consume", "consume 100 + ack_messages"),
)

# First guesses of messages/s per case for sizing the prefill; later runs use what was measured.
_FIRST_GUESS = {
    "consume_ack_1": 4_000,
    "consume_ack_next_1": 6_000,
    "consume_ack_10": 20_000,
    "consume_ack_100": 40_000,
    "raw_dequeue": 8_000,
    "raw_dequeue100": 60_000,
}
PREFILL_CAP = 3_000_000


def _backend_cpu_seconds(pids: list[int]) -> float | None:
    """CPU time (user + system) the server processes with these pids have used, from /proc: only for
    a server on this machine; None when any of them cannot be read."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


_LOCKS_SQL = """
select count(*) filter (where not l.fastpath), count(*),
       coalesce((select max(n) from (select count(distinct p.relation) as n from pg_locks p
                                      where p.locktype = 'relation' and p.pid = any(%(pids)s) group by p.pid) per), 0)
  from pg_locks l
 where l.locktype = 'relation' and l.pid = any(%(pids)s)
"""


def _watch_backends(target: Target, proc: subprocess.Popen, clients: int, duration: float) -> dict:
    """While pgbench runs, from its server backends (application_name pgbench in this database):

    - the CPU they use per second and per transaction over the middle of the run (20 % to 80 % of it,
      runs of 3 s and more). Noise from other work on the machine changes throughput, much less the
      CPU one transaction costs: the figure that says where time goes;
    - every 0.2 s, their relation locks in pg_locks: how many are not fast-path (fastpath = false: in
      the shared lock table, behind the lock manager's partition locks; PostgreSQL 15 keeps at most
      16 relation locks per backend on the fast path, and a strong lock on a relation, as rotation's
      ACCESS EXCLUSIVE, moves its weak ones there), and the most relations one backend had locked
      (pg_locks has a row per mode; a fast-path slot holds every weak mode of one relation)."""
    window_start, window_end = 0.2 * duration, 0.8 * duration
    started = time.monotonic()
    out: dict = {
        "lock_samples": 0,
        "slow_locks_max": None,
        "slow_locks_mean": None,
        "relation_locks_per_backend_max": None,
    }
    slow_total = 0
    with target.connect() as conn:
        pids: list[int] = []
        cpu0 = commits0 = t0 = None

        def commits() -> int:
            return conn.execute(
                "select xact_commit from pg_stat_database where datname = current_database()"
            ).fetchone()[0]

        # bounded: one pass per 0.2 s until the end of the window (or pgbench's exit)
        for _ in range(int(window_end / 0.2) + 50):
            elapsed = time.monotonic() - started
            if elapsed >= window_end or proc.poll() is not None:
                break
            if len(pids) != clients:
                pids = [
                    row[0]
                    for row in conn.execute(
                        "select pid from pg_stat_activity where application_name = 'pgbench' and datname = current_database()"
                    )
                ]
            if len(pids) == clients:
                if cpu0 is None and duration >= 3 and elapsed >= window_start:
                    cpu0, commits0, t0 = _backend_cpu_seconds(pids), commits(), time.monotonic()
                slow, _, per_backend = conn.execute(_LOCKS_SQL, {"pids": pids}).fetchone()
                out["lock_samples"] += 1
                slow_total += slow
                out["slow_locks_max"] = max(out["slow_locks_max"] or 0, slow)
                out["relation_locks_per_backend_max"] = max(out["relation_locks_per_backend_max"] or 0, per_backend)
            time.sleep(0.2)
        if out["lock_samples"]:
            out["slow_locks_mean"] = slow_total / out["lock_samples"]
        if cpu0 is not None and commits0 is not None and t0 is not None:
            cpu1, commits1, t1 = _backend_cpu_seconds(pids), commits(), time.monotonic()
            if cpu0 is not None and cpu1 is not None and proc.poll() is None:
                out["cpu"] = {"cpu_seconds": cpu1 - cpu0, "seconds": t1 - t0, "commits": commits1 - commits0 - 1}
    return out


def pgbench_command(
    target: Target,
    script: str,
    clients: int,
    jobs: int,
    seconds: int,
    variables: dict[str, str] | None = None,
    per_statement: bool = False,
) -> list[str]:
    """pgbench running bench/sql/<script> with prepared statements for `seconds` (-r: per statement)."""
    cmd = [str(PGBENCH), "-n", "-M", "prepared", "-f", str(SQL_DIR / script)]
    cmd += ["-c", str(clients), "-j", str(jobs), "-T", str(seconds)]
    for name, value in (variables or {}).items():
        cmd += ["-D", f"{name}={value}"]
    if per_statement:
        cmd.append("-r")
    return [*cmd, target.url]


def pgbench(
    target: Target,
    script: str,
    clients: int,
    duration: float,
    variables: dict[str, str] | None = None,
    per_statement: bool = False,
) -> dict:
    jobs = min(clients, os.cpu_count() or 1)
    cmd = pgbench_command(target, script, clients, jobs, max(1, round(duration)), variables, per_statement)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        watched = _watch_backends(target, proc, clients, duration)
        cpu = watched.pop("cpu", None)
        out, _ = proc.communicate(timeout=duration + 120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    result = subprocess.CompletedProcess(cmd, proc.returncode, out, "")
    out = result.stdout + result.stderr
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if result.returncode != 0 or not tps:
        raise RuntimeError(f"pgbench failed ({' '.join(cmd)}):\n{out[-3000:]}")
    latency = re.search(r"latency average = ([\d.]+) ms", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    processed = re.search(r"number of transactions actually processed: (\d+)", out)
    statements = []
    if per_statement:
        body = out.split("statement latencies in milliseconds", 1)[-1].splitlines()[1:]
        for line in body:
            match = re.match(r"\s+([\d.]+)\s+(\d+\s+)?(.*)$", line)
            if match:
                statements.append((float(match.group(1)), match.group(3).strip()))
    return {
        "tps": float(tps.group(1)),
        # Server CPU per database transaction (a script run may hold several), over the middle of the run.
        "backend_cpu_us_per_commit": (cpu["cpu_seconds"] / cpu["commits"] * 1e6)
        if cpu and cpu["commits"] > 0
        else None,
        "backend_cpu_share": (cpu["cpu_seconds"] / cpu["seconds"]) if cpu else None,
        "latency_ms": float(latency.group(1)) if latency else None,
        "failed": int(failed.group(1)) if failed else 0,
        "transactions": int(processed.group(1)) if processed else None,
        "statements": statements,
        "command": " ".join(cmd[:-1]) + " $BENCH_DB_URL",
        **watched,
    }


def run(target: Target, clients_list: list[int], duration: float, echo=print, cases: list[str] | None = None) -> dict:
    unknown = set(cases or ()) - {case.name for case in CASES}
    if unknown:
        raise SystemExit(f"bench: no such SQL case: {', '.join(sorted(unknown))}")
    rows = []
    measured: dict[str, float] = {}
    with target.connect() as conn:
        store = store_layout(conn).description
        for case in CASES:
            for clients in clients_list:
                if clients < case.min_clients or (cases and case.name not in cases):
                    continue
                reset_tables(conn)
                needed = 0
                if case.kind in ("consume", "raw_dequeue"):
                    rate = measured.get(case.name, _FIRST_GUESS[case.name])
                    needed = min(PREFILL_CAP, int(rate * 1.5 * duration * 1.5) + 20_000)
                    if case.kind == "consume":
                        prefill(conn, "bench-consume", needed)
                    else:
                        prefill_raw(conn, needed)
                    vacuum_store(conn)
                    conn.execute("vacuum analyze bench_raw.messages")
                # Nothing rotates or cleans up during the SQL part unless a pg_cron job does it in this
                # database; store_state's counters say whether it did (shown per case).
                size_before = store_sizes(conn) if case.bytes_per_message else None
                state_before = store_state(conn)
                echo(
                    f"bench sql: {case.name} at {clients} client(s), {duration:.0f} s"
                    + (f" (queue prefilled with {needed:,})" if needed else "")
                )
                result = pgbench(target, case.script, clients, duration, dict(case.variables))
                if case.kind == "consume":
                    moved = needed - queue_depth(conn, "bench-consume")
                elif case.kind == "raw_dequeue":
                    moved = needed - conn.execute("select count(*) from bench_raw.messages").fetchone()[0]
                elif case.kind == "publish":
                    moved = stored_copies(conn)
                else:
                    moved = conn.execute("select count(*) from bench_raw.messages").fetchone()[0]
                state_after = store_state(conn)
                seconds = max(1, round(duration))
                messages_per_second = moved / seconds
                ran_dry = case.kind in ("consume", "raw_dequeue") and moved >= needed
                measured[case.name] = max(measured.get(case.name, 0), messages_per_second)
                row = {
                    "case": case.name,
                    "label": case.label,
                    "clients": clients,
                    "tps": result["tps"],
                    "messages_per_second": messages_per_second,
                    "messages": moved,
                    "nominal_messages_per_second": result["tps"] * case.messages_per_tx,
                    "latency_ms": result["latency_ms"],
                    "failed": result["failed"],
                    "baseline": case.baseline,
                    "ran_dry": ran_dry,
                    "prefilled": needed,
                    "command": result["command"],
                    "backend_cpu_us_per_commit": result["backend_cpu_us_per_commit"],
                    "backend_cpu_share": result["backend_cpu_share"],
                    "lock_samples": result["lock_samples"],
                    "slow_locks_max": result["slow_locks_max"],
                    "slow_locks_mean": result["slow_locks_mean"],
                    "relation_locks_per_backend_max": result["relation_locks_per_backend_max"],
                    "rotations": (state_after["rotations"] - state_before["rotations"])
                    if state_before and state_after
                    else None,
                }
                if size_before is not None:
                    size_after = store_sizes(conn)
                    published = moved / case.messages_per_tx  # each script run publishes one message
                    growth = size_after["total_bytes"] - size_before["total_bytes"]
                    row.update(
                        {
                            "messages_published": published,
                            "store_growth_bytes": growth,
                            "size_after": size_after,
                            "bytes_per_message": growth / published if published else None,
                        }
                    )
                rows.append(row)
        reset_tables(conn)
    by_key = {(r["case"], r["clients"]): r for r in rows}
    for row in rows:
        base = by_key.get((row["baseline"], row["clients"])) if row["baseline"] else None
        row["ratio"] = row["tps"] / base["tps"] if base and base["tps"] else None
        if base and row["case"].startswith("consume") and base["messages_per_second"]:
            row["ratio"] = row["messages_per_second"] / base["messages_per_second"]
    return {"rows": rows, "duration": duration, "clients": clients_list, "store": store}


def run_depth(target: Target, depths: list[int], duration: float, echo=print) -> dict:
    """consume(10) latency at each depth, one client, the depth kept constant by republishing."""
    rows = []
    with target.connect() as conn:
        for depth in depths:
            reset_tables(conn)
            echo(f"bench sql: consume latency at depth {depth:,} ({duration:.0f} s)")
            prefill(conn, "bench-depth", depth)
            vacuum_store(conn)
            result = pgbench(target, "depth_consume10.sql", 1, duration, per_statement=True)
            # the script's first statement is the consume (pgbench -r truncates statement texts)
            consume_ms = result["statements"][0][0] if result["statements"] else None
            rows.append(
                {
                    "depth": depth,
                    "consume_ms": consume_ms,
                    "cycle_ms": result["latency_ms"],
                    "tps": result["tps"],
                    "depth_after": queue_depth(conn, "bench-depth"),
                    "command": result["command"],
                }
            )
        reset_tables(conn)
    return {"rows": rows, "duration": duration}
