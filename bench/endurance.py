"""Endurance: publishers and consumers at once for a long time (pgbench: publish_one.sql and
consume_ack_10.sql on one queue), sampling throughput, the store's sizes, dead tuples and (on the
rotated store) rotation's counters every interval; then the same with another connection holding a
REPEATABLE READ transaction open for the whole run, released before a recovery period.

Rotation runs as deployed: by the pg_cron job 'fastqueue-rotate-store' where db-migrate scheduled
it in the bench's database, otherwise by a `fastqueue worker` the bench starts for each run. A probe
connection times one consume(10) (and acks what it got) every PROBE_INTERVAL seconds: the consume
latency the consumers see, with the held snapshot's dead rows and rotation's lock waits in it."""

import os
import subprocess
import sys
import tempfile
import threading
import time

import psycopg

from bench.common import ROOT, Store, Target, queue_depth, reset_tables, store_layout, store_sizes, store_state
from bench.sqlbench import pgbench_command

PUBLISHERS = 2
CONSUMERS = 2
QUEUE = "bench-one-q"
PROBE_INTERVAL = 0.05
ROTATION_JOB = "fastqueue-rotate-store"
CRON_WAIT_SECONDS = 70  # pg_cron 1.4 starts its minute job within a minute

_COUNTERS_SQL = """
select coalesce(sum(n_tup_ins), 0), coalesce(sum(n_tup_del), 0), coalesce(sum(n_tup_upd), 0),
       coalesce(sum(n_tup_hot_upd), 0), coalesce(sum(n_live_tup), 0), coalesce(sum(autovacuum_count), 0)
  from pg_stat_user_tables where relid = any(%(deliveries)s::regclass[])
"""
_DEAD_SQL = """
select coalesce(sum(n_dead_tup), 0) from pg_stat_user_tables where relid = any(%(leaves)s::regclass[])
"""
_SCHEDULED_INDEX_SQL = """
select coalesce(sum(pg_relation_size(i.indexrelid)), 0)
  from pg_index i
 where i.indrelid = any(%(deliveries)s::regclass[]) and pg_get_indexdef(i.indexrelid) like '%%(queue_id, scheduled_at)%%'
"""


def _pgbench(target: Target, script: str, clients: int, seconds: int, variables: dict[str, str]) -> subprocess.Popen:
    cmd = pgbench_command(target, script, clients, clients, seconds, variables)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


class RotationRunner:
    """What rotates the store during a run, as deployed: the pg_cron job if this database has it,
    else a `fastqueue worker` started here (stopped with SIGTERM at the end), else nothing (a store
    without fastqueue.rotate_store())."""

    def __init__(self, target: Target, store: Store):
        self.target, self.store = target, store
        self.worker: subprocess.Popen | None = None
        self.log = None
        self.kind = "none"
        self.description = "none: this store has no fastqueue.rotate_store()"

    def start(self, echo) -> None:
        if not self.store.can_rotate:
            return
        fallback = ""
        with self.target.connect() as conn:
            job = None
            if conn.execute("select to_regclass('cron.job') is not null").fetchone()[0]:
                job = conn.execute(
                    "select schedule, command from cron.job where jobname = %s and active"
                    " and database = current_database()",
                    (ROTATION_JOB,),
                ).fetchone()
            if job:
                # bounded wait for the job's procedure to be running, so the run starts with rotation on
                deadline = time.monotonic() + CRON_WAIT_SECONDS
                while time.monotonic() < deadline:
                    if conn.execute(
                        "select exists (select from pg_stat_activity where datname = current_database()"
                        " and query ilike '%%rotate_store%%' and pid <> pg_backend_pid())"
                    ).fetchone()[0]:
                        self.kind = "pg_cron"
                        self.description = f"the pg_cron job {ROTATION_JOB!r} of this database ({job[0]}: {job[1]})"
                        return
                    time.sleep(0.5)
                # e.g. pg_cron's scheduler stopped when its database was dropped (the bench recreates its
                # database): it does not come back until the server restarts
                scheduler = conn.execute(
                    "select exists (select from pg_stat_activity where backend_type like 'pg_cron%%')"
                ).fetchone()[0]
                fallback = (
                    f"the pg_cron job {ROTATION_JOB!r} exists but did not run within {CRON_WAIT_SECONDS} s"
                    + ("" if scheduler else " (no pg_cron scheduler is running)")
                    + ", so "
                )
        self.kind = "worker"
        env = dict(os.environ)
        env.update({"FASTQUEUE_DATABASE_URL": self.target.url, "FASTQUEUE_LOG_LEVEL": "warning"})
        self.log = tempfile.TemporaryFile()
        self.worker = subprocess.Popen(
            [sys.executable, "-c", "import sys; from fastqueue.commands.cli import main; sys.exit(main(['worker']))"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        interval = env.get("FASTQUEUE_STORE_ROTATION_INTERVAL_SECONDS")
        every = f"every {interval} s" if interval else "every FASTQUEUE_STORE_ROTATION_INTERVAL_SECONDS (default 1 s)"
        self.description = fallback + (
            "`fastqueue worker` started by the bench for the run"
            + ("" if fallback else f" (no pg_cron job {ROTATION_JOB!r} in this database)")
            + f", rotating {every}"
        )
        echo(f"bench endurance: rotation by {self.description}")

    def stop(self) -> str | None:
        """Stops the worker; returns its output if it had exited early (a failure), else None."""
        if self.worker is None:
            return None
        early = self.worker.poll() is not None
        if not early:
            self.worker.terminate()
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait(timeout=10)
        output = None
        if early and self.log is not None:
            self.log.seek(0)
            output = self.log.read().decode(errors="replace")[-2000:]
        if self.log is not None:
            self.log.close()
        self.worker = self.log = None
        return output


class ConsumeProbe(threading.Thread):
    """Every PROBE_INTERVAL s on its own connection: consume(QUEUE, 10), timed (round trip), then
    ack_messages of what it leased. Bounded in count as well as by the stop event."""

    def __init__(self, target: Target, started: float, seconds: float):
        super().__init__(daemon=True)
        self.target, self.started, self.seconds = target, started, seconds
        self.samples: list[tuple[float, float]] = []  # (t since the run's start, seconds)
        self.error: str | None = None
        self.stop_event = threading.Event()

    def run(self) -> None:
        try:
            with psycopg.connect(self.target.url, autocommit=True) as conn:
                next_at = time.monotonic()
                for _ in range(int(self.seconds / PROBE_INTERVAL) + 100):
                    if self.stop_event.is_set():
                        break
                    t0 = time.monotonic()
                    ids = [
                        row[0]
                        for row in conn.execute("select id from fastqueue.consume(%s, 10)", (QUEUE,), prepare=True)
                    ]
                    t1 = time.monotonic()
                    self.samples.append((t0 - self.started, t1 - t0))
                    if ids:
                        conn.execute("select fastqueue.ack_messages(%s::uuid[])", (ids,), prepare=True)
                    next_at += PROBE_INTERVAL
                    self.stop_event.wait(max(0.0, next_at - time.monotonic()))
        except psycopg.Error as exc:
            self.error = str(exc).strip()


def _p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.99 * (len(ordered) - 1))))]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _sample(conn: psycopg.Connection, store: Store) -> dict:
    deliveries, leaves = list(store.delivery_leaves), list(store.leaves)
    ins, dele, upd, hot, live, autovacuums = conn.execute(_COUNTERS_SQL, {"deliveries": deliveries}).fetchone()
    dead = conn.execute(_DEAD_SQL, {"leaves": leaves}).fetchone()[0]
    scheduled = conn.execute(_SCHEDULED_INDEX_SQL, {"deliveries": deliveries}).fetchone()[0]
    sample = {
        "n_tup_ins": int(ins),
        "n_tup_del": int(dele),
        "n_tup_upd": int(upd),
        "n_tup_hot_upd": int(hot),
        "n_dead_tup": int(dead),
        "n_live_tup": int(live),
        "autovacuum_count": int(autovacuums),
        "scheduled_idx_bytes": int(scheduled),
        **store_sizes(conn),
        "depth": queue_depth(conn, QUEUE),
    }
    state = store_state(conn)
    if state is not None:
        sample.update(
            {
                "rotations": state["rotations"],
                "skips": state["skips"],
                "carried_deliveries": state["carried_deliveries"],
                "last_outcome": state["last_outcome"],
            }
        )
    return sample


_SIZE_KEYS = ("heap_bytes", "index_bytes", "toast_bytes", "total_bytes", "scheduled_idx_bytes", "n_dead_tup", "depth")


def _one_run(target: Target, duration: int, interval: float, hold_snapshot: bool, recovery: int, echo) -> dict:
    total = duration + (recovery if hold_snapshot else 0)
    samples = []
    holder = None
    with target.connect() as conn:
        reset_tables(conn)
        store = store_layout(conn)
        runner = RotationRunner(target, store)
        runner.start(echo)
        worker_failure = None
        if hold_snapshot:
            holder = target.connect()  # autocommit: the transaction is the explicit BEGIN below
            holder.execute("begin isolation level repeatable read")
            holder.execute("select count(*) from fastqueue.topics")  # the snapshot is taken here
        procs = [
            _pgbench(target, "publish_one.sql", PUBLISHERS, total, {}),
            _pgbench(target, "consume_ack_10.sql", CONSUMERS, total, {"queue": QUEUE}),
        ]
        started = time.monotonic()
        probe = ConsumeProbe(target, started, total + 5)
        probe.start()
        released_at = None
        try:
            next_sample = started
            # bounded: one sample per interval until the run's time is up (plus a margin for pgbench to exit)
            for _ in range(int(total / interval) + 30):
                sample = _sample(conn, store)
                elapsed = time.monotonic() - started
                sample.update({"t": elapsed, "snapshot_held": holder is not None})
                samples.append(sample)
                if holder is not None and elapsed >= duration:
                    holder.execute("rollback")
                    holder.close()
                    holder = None
                    released_at = elapsed
                    echo(f"bench endurance: snapshot released at {elapsed:.0f} s")
                if all(p.poll() is not None for p in procs) or elapsed > total + 5:
                    break
                next_sample += interval
                time.sleep(max(0.0, next_sample - time.monotonic()))
        finally:
            probe.stop_event.set()
            if holder is not None:
                holder.close()
            outputs = []
            for p in procs:
                try:
                    out, _ = p.communicate(timeout=total + 60)
                except subprocess.TimeoutExpired:
                    p.kill()
                    out, _ = p.communicate()
                outputs.append(out)
            probe.join(timeout=30)
            worker_failure = runner.stop()
        for p, out in zip(procs, outputs):
            if p.returncode != 0:
                raise RuntimeError(f"pgbench failed in the endurance run:\n{out[-3000:]}")
        if worker_failure is not None:
            raise RuntimeError(f"fastqueue worker exited during the endurance run:\n{worker_failure}")
        if probe.error:
            raise RuntimeError(f"the consume probe failed in the endurance run: {probe.error}")
        reset_tables(conn)
    # per-interval rates; published = new deliveries minus those rotation re-inserted (carried)
    for previous, sample in zip(samples, samples[1:]):
        dt = sample["t"] - previous["t"]
        carried = sample.get("carried_deliveries", 0) - previous.get("carried_deliveries", 0)
        sample["published_per_s"] = (sample["n_tup_ins"] - previous["n_tup_ins"] - carried) / dt if dt else 0
        sample["consumed_per_s"] = (sample["n_tup_del"] - previous["n_tup_del"]) / dt if dt else 0
        window_latencies = [s for t, s in probe.samples if previous["t"] < t <= sample["t"]]
        sample["consume_p99_ms"] = _ms(_p99(window_latencies))
        sample["consume_probes"] = len(window_latencies)
    window = min(60.0, duration / 3)

    def rate(lo: float, hi: float, key: str) -> float | None:
        values = [s[key] for s in samples[1:] if lo < s["t"] <= hi + 0.5]
        return sum(values) / len(values) if values else None

    first = (0.0, window)
    last = (duration - window, duration)
    run_latencies = [s for t, s in probe.samples if t <= duration]
    summary = {
        "duration": duration,
        "interval": interval,
        "window": window,
        "held_snapshot": hold_snapshot,
        "publishers": PUBLISHERS,
        "consumers": CONSUMERS,
        "store": store.description,
        "rotation": runner.description,
        "rotation_kind": runner.kind,
        "store_rotates": store.can_rotate,
        "first_published_per_s": rate(*first, "published_per_s"),
        "last_published_per_s": rate(*last, "published_per_s"),
        "first_consumed_per_s": rate(*first, "consumed_per_s"),
        "last_consumed_per_s": rate(*last, "consumed_per_s"),
        "consume_probes": len(run_latencies),
        "consume_p99_ms": _ms(_p99(run_latencies)),
        "consume_max_ms": _ms(max(run_latencies)) if run_latencies else None,
        "samples": samples,
        "released_at": released_at,
    }

    def at(t: float) -> dict:
        return min(samples, key=lambda s: abs(s["t"] - t))

    start_sample, end_sample = at(window), at(duration)
    summary["sizes_first"] = {k: start_sample[k] for k in _SIZE_KEYS}
    summary["sizes_last"] = {k: end_sample[k] for k in _SIZE_KEYS}
    summary["max_dead_tuples"] = max(s["n_dead_tup"] for s in samples if s["t"] <= duration + 0.5)
    # On the rotated store sizes are a saw-tooth (a slot fills, a TRUNCATE empties it): the size
    # targets compare means over the first and the last window, not single samples.
    summary["store_bytes_first_mean"] = rate(*first, "total_bytes")
    summary["store_bytes_last_mean"] = rate(*last, "total_bytes")
    # the backlog at the end, in seconds of publishing at the last minute's rate
    last_published = summary["last_published_per_s"]
    summary["backlog_seconds"] = end_sample["depth"] / last_published if last_published else None
    if "rotations" in end_sample:
        first_sample = samples[0]
        summary["rotations"] = {
            k: end_sample[k] - first_sample[k] for k in ("rotations", "skips", "carried_deliveries")
        }
    if hold_snapshot:
        summary["recovery"] = recovery
        summary["after_release_published_per_s"] = rate(duration, total, "published_per_s")
        summary["after_release_consumed_per_s"] = rate(duration, total, "consumed_per_s")
        summary["sizes_after_release"] = {k: samples[-1][k] for k in _SIZE_KEYS}
    return summary


def run(target: Target, duration: int, interval: float, echo=print) -> dict:
    recovery = int(min(60, max(2, duration / 3)))
    echo(f"bench endurance: steady publish+consume, {duration} s, sampling every {interval:.0f} s")
    steady = _one_run(target, duration, interval, False, 0, echo)
    echo(
        f"bench endurance: the same with a REPEATABLE READ snapshot held for {duration} s, then {recovery} s after release"
    )
    held = _one_run(target, duration, interval, True, recovery, echo)
    return {"steady": steady, "held": held}
