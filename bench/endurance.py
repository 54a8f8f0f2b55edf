"""Endurance: publishers and consumers at once for a long time (pgbench: publish_one.sql and
consume_ack_10.sql on one queue), sampling throughput, table and index sizes and dead tuples every
interval; then the same with another connection holding a REPEATABLE READ transaction open for the
whole run, released before a recovery period."""

import subprocess
import time

from bench.common import SQL_DIR, Target, reset_tables
from bench.sqlbench import PGBENCH

PUBLISHERS = 2
CONSUMERS = 2
QUEUE = "bench-one-q"

# The store's four children (docs/storage.md): deliveries and message_bodies, two slots each.
_SAMPLE_SQL = """
with child (relid) as (
    values ('fastqueue.deliveries_0'::regclass), ('fastqueue.deliveries_1'::regclass),
           ('fastqueue.message_bodies_0'::regclass), ('fastqueue.message_bodies_1'::regclass)
)
select sum(s.n_tup_ins)::bigint as n_tup_ins, sum(s.n_tup_del)::bigint as n_tup_del,
       sum(s.n_tup_upd)::bigint as n_tup_upd, sum(s.n_tup_hot_upd)::bigint as n_tup_hot_upd,
       sum(s.n_dead_tup)::bigint as n_dead_tup, sum(s.n_live_tup)::bigint as n_live_tup,
       sum(s.autovacuum_count)::bigint as autovacuum_count, sum(s.autoanalyze_count)::bigint as autoanalyze_count,
       sum(pg_relation_size(c.relid))::bigint as heap_bytes,
       sum(pg_indexes_size(c.relid))::bigint as index_bytes,
       (pg_relation_size('fastqueue.deliveries_0_queue_id_scheduled_at_idx')
        + pg_relation_size('fastqueue.deliveries_1_queue_id_scheduled_at_idx')) as scheduled_idx_bytes,
       (pg_relation_size('fastqueue.deliveries_0_id_idx') + pg_relation_size('fastqueue.deliveries_1_id_idx')) as pkey_bytes,
       sum(pg_total_relation_size(c.relid))::bigint as total_bytes,
       (select count(*) from fastqueue.deliveries where queue_id = %s) as depth
  from child c
  join pg_stat_user_tables s on s.relid = c.relid
"""


def _pgbench(target: Target, script: str, clients: int, seconds: int, variables: dict[str, str]) -> subprocess.Popen:
    cmd = [str(PGBENCH), "-n", "-M", "prepared", "-f", str(SQL_DIR / script), "-c", str(clients),
           "-j", str(clients), "-T", str(seconds)]
    for name, value in variables.items():
        cmd += ["-D", f"{name}={value}"]
    cmd.append(target.url)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _one_run(target: Target, duration: int, interval: float, hold_snapshot: bool, recovery: int, echo) -> dict:
    total = duration + (recovery if hold_snapshot else 0)
    samples = []
    holder = None
    with target.connect() as conn:
        reset_tables(conn)
        if hold_snapshot:
            holder = target.connect()  # autocommit: the transaction is the explicit BEGIN below
            holder.execute("begin isolation level repeatable read")
            holder.execute("select count(*) from fastqueue.topics")  # the snapshot is taken here
        procs = [
            _pgbench(target, "publish_one.sql", PUBLISHERS, total, {}),
            _pgbench(target, "consume_ack_10.sql", CONSUMERS, total, {"queue": QUEUE}),
        ]
        started = time.monotonic()
        released_at = None
        try:
            next_sample = started
            # bounded: one sample per interval until the run's time is up (plus a margin for pgbench to exit)
            for _ in range(int(total / interval) + 30):
                row = conn.execute(_SAMPLE_SQL, (QUEUE,)).fetchone()
                elapsed = time.monotonic() - started
                samples.append({"t": elapsed, "n_tup_ins": row[0], "n_tup_del": row[1], "n_tup_upd": row[2],
                                "n_tup_hot_upd": row[3], "n_dead_tup": row[4], "n_live_tup": row[5],
                                "autovacuum_count": row[6], "heap_bytes": row[8], "index_bytes": row[9],
                                "scheduled_idx_bytes": row[10], "pkey_bytes": row[11], "total_bytes": row[12],
                                "depth": row[13], "snapshot_held": holder is not None})
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
        for p, out in zip(procs, outputs):
            if p.returncode != 0:
                raise RuntimeError(f"pgbench failed in the endurance run:\n{out[-3000:]}")
        reset_tables(conn)
    # per-interval rates
    for previous, sample in zip(samples, samples[1:]):
        dt = sample["t"] - previous["t"]
        sample["published_per_s"] = (sample["n_tup_ins"] - previous["n_tup_ins"]) / dt if dt else 0
        sample["consumed_per_s"] = (sample["n_tup_del"] - previous["n_tup_del"]) / dt if dt else 0
    window = min(60.0, duration / 3)

    def rate(lo: float, hi: float, key: str) -> float | None:
        values = [s[key] for s in samples[1:] if lo < s["t"] <= hi + 0.5]
        return sum(values) / len(values) if values else None

    first = (0.0, window)
    last = (duration - window, duration)
    summary = {
        "duration": duration, "interval": interval, "window": window, "held_snapshot": hold_snapshot,
        "publishers": PUBLISHERS, "consumers": CONSUMERS,
        "first_published_per_s": rate(*first, "published_per_s"), "last_published_per_s": rate(*last, "published_per_s"),
        "first_consumed_per_s": rate(*first, "consumed_per_s"), "last_consumed_per_s": rate(*last, "consumed_per_s"),
        "samples": samples, "released_at": released_at,
    }

    def at(t: float) -> dict:
        return min(samples, key=lambda s: abs(s["t"] - t))

    start_sample, end_sample = at(window), at(duration)
    summary["sizes_first"] = {k: start_sample[k] for k in ("heap_bytes", "index_bytes", "scheduled_idx_bytes", "n_dead_tup", "depth")}
    summary["sizes_last"] = {k: end_sample[k] for k in ("heap_bytes", "index_bytes", "scheduled_idx_bytes", "n_dead_tup", "depth")}
    if hold_snapshot:
        summary["recovery"] = recovery
        summary["after_release_published_per_s"] = rate(duration, total, "published_per_s")
        summary["after_release_consumed_per_s"] = rate(duration, total, "consumed_per_s")
        summary["sizes_after_release"] = {k: samples[-1][k] for k in ("heap_bytes", "index_bytes", "scheduled_idx_bytes", "n_dead_tup", "depth")}
    return summary


def run(target: Target, duration: int, interval: float, echo=print) -> dict:
    recovery = int(min(60, max(2, duration / 3)))
    echo(f"bench endurance: steady publish+consume, {duration} s, sampling every {interval:.0f} s")
    steady = _one_run(target, duration, interval, False, 0, echo)
    echo(f"bench endurance: the same with a REPEATABLE READ snapshot held for {duration} s, then {recovery} s after release")
    held = _one_run(target, duration, interval, True, recovery, echo)
    return {"steady": steady, "held": held}
