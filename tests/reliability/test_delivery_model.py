"""At-least-once delivery at the SQL level, checked against a model.

Several threads, each with its own connection, run seeded random operations on one topic fanned out
to two queues (`work`, with dead queue `dead` after 2 deliveries, and `copy`, without): publish,
consume (alone, or several consumers racing on one queue), ack, nack, lease expiry (the harness moves
scheduled_at into the past), retention expiry (expired_at into the past), cleanup(), redrive, purge and
rotate_store(), while a background thread rotates the store all along (docs/storage.md, Rotation).
Rotation must be invisible to the model but for one thing the model already allows: an expired
message may be deleted at any moment (rotation drops it, as cleanup would). So an ack, nack or lease
expiry that finds an expired message gone records it as expired, a purge may delete fewer, and the
cleanup checks count rotation's drops (store_state.dropped_deliveries) with cleanup's own.
After every step the database's answers are compared with a simple model, and at the end its whole
state. Checked: no message is lost (each published copy is acked, purged, expired, or still there,
dead-lettered or not), none is delivered to two consumers within one lease, none after it expired nor
more often than message_max_deliveries.

FASTQUEUE_FAULT_SEED=N adds seed N to the fixed ones (a failure prints its seed)."""

import os
import queue
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

pytestmark = pytest.mark.fault

SEEDS = [11, 23, 47, 101, 202] + (
    [int(os.environ["FASTQUEUE_FAULT_SEED"])] if os.environ.get("FASTQUEUE_FAULT_SEED") else []
)
OPERATIONS = 400
WORKERS = 4
MAX_DELIVERIES = 2
LIMIT = {"work": MAX_DELIVERIES, "copy": 2**31 - 1, "dead": 2**31 - 1}


class Worker:
    """A thread with its own autocommit connection that runs the functions it is handed, in order."""

    def __init__(self, database_url: str, index: int) -> None:
        self.index = index
        self.conn = psycopg.connect(database_url, autocommit=True)
        self.tasks: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._loop, daemon=True, name=f"model-worker-{index}")
        self.thread.start()

    def _loop(self) -> None:
        while True:
            task = self.tasks.get()
            if task is None:
                return
            fn, done = task
            try:
                done.put((self.index, fn(self.conn), None))
            except BaseException as exc:  # handed back to the test
                done.put((self.index, None, exc))

    def close(self) -> None:
        self.tasks.put(None)
        self.thread.join(timeout=10)
        self.conn.close()


def run_batch(workers: list[Worker], tasks: list[tuple[int, Callable[[psycopg.Connection], Any]]]) -> dict[int, Any]:
    """Runs each (worker, fn) at once, all starting together; returns results by worker."""
    barrier = threading.Barrier(len(tasks))
    done: queue.Queue = queue.Queue()

    def synchronised(fn):
        def run(conn):
            barrier.wait(timeout=10)
            return fn(conn)

        return run

    for index, fn in tasks:
        workers[index].tasks.put((synchronised(fn), done))
    results = {}
    for _ in tasks:
        index, result, exc = done.get(timeout=60)
        if exc is not None:
            raise exc
        results[index] = result
    return results


@dataclass
class Copy:
    """One message in one queue, as the model sees it."""

    queue: str
    n: int  # the publish it came from (its data): a move gives a message a new id, n finds it
    attempts: int = 0
    leased_by: int | None = None
    expired: bool = False

    def available(self) -> bool:
        return self.leased_by is None and not self.expired and self.attempts < LIMIT[self.queue]


class Model:
    def __init__(self) -> None:
        self.messages: dict[str, Copy] = {}
        self.gone: dict[str, str] = {}  # id -> acked, purged, expired, moved (a move gives a new id)
        self.published: set[str] = set()
        self.moved_in: set[str] = set()  # the new ids of moved copies
        self.deliveries = 0
        self.races = 0

    def available(self, queue_id: str) -> set[str]:
        return {m for m, c in self.messages.items() if c.queue == queue_id and c.available()}

    def leased(self, worker: int | None = None) -> list[str]:
        return sorted(
            m for m, c in self.messages.items() if c.leased_by is not None and (worker is None or c.leased_by == worker)
        )

    def in_queue(self, queue_id: str) -> list[str]:
        return sorted(m for m, c in self.messages.items() if c.queue == queue_id)


def publish(n: int):
    def run(conn):
        return conn.execute(
            "select id::text, queue_id, delivery_attempts, (data ->> 'n')::int"
            " from fastqueue.publish('events', jsonb_build_object('n', %s::int))",
            (n,),
        ).fetchall()

    return run


def consume(queue_id: str, limit: int):
    def run(conn):
        return conn.execute(
            "select id::text, queue_id, delivery_attempts, scheduled_at > now() as leased, expired_at > now() as alive"
            " from fastqueue.consume(%s, %s)",
            (queue_id, limit),
        ).fetchall()

    return run


def call_bool(function: str, message_id: str):
    def run(conn):
        return conn.execute(f"select fastqueue.{function}(%s::uuid)", (message_id,)).fetchone()[0]

    return run


def harness(statement: str, params: tuple):
    def run(conn):
        return conn.execute(statement, params).rowcount

    return run


def scalar(statement: str, params: tuple = ()):
    def run(conn):
        return conn.execute(statement, params).fetchone()

    return run


def fetch_all(statement: str, params: tuple = ()):
    def run(conn):
        return conn.execute(statement, params).fetchall()

    return run


def record_moved(workers: list[Worker], w: int, model: Model, moved: list[str], destination: str, label: str) -> None:
    """A move (dead-lettering, redrive) gives each message a new id in its new queue, as if newly
    published there, so that a late consumer of a delivery from before cannot settle it: the model
    finds each moved copy by its n, and the old id is gone."""
    by_n = {model.messages[m].n: m for m in moved}
    rows = run_batch(
        workers,
        [
            (
                w,
                fetch_all(
                    "select id::text, (data ->> 'n')::int from fastqueue.messages where queue_id = %s and (data ->> 'n')::int = any (%s)",
                    (destination, list(by_n)),
                ),
            )
        ],
    )[w]
    new_ids = {n: message_id for message_id, n in rows if message_id not in model.messages}
    assert sorted(new_ids) == sorted(by_n), (
        f"{label}: moved {sorted(by_n)} to {destination}, found new copies of {sorted(new_ids)}"
    )
    for n, old_id in by_n.items():
        del model.messages[old_id]
        model.gone[old_id] = "moved"
        model.messages[new_ids[n]] = Copy(queue=destination, n=n)
        model.moved_in.add(new_ids[n])


def check_consumed(model: Model, results: dict[int, list], queue_id: str, may_include: set[str], label: str) -> None:
    """Consumes that ran together: disjoint, each message available before (or published alongside), one
    more delivery than before, within the queue's limit; then records the leases."""
    seen: dict[str, int] = {}
    available = model.available(queue_id) | may_include
    for worker, rows in results.items():
        for message_id, row_queue, attempts, leased, alive in rows:
            assert message_id not in seen, (
                f"{label}: message {message_id} delivered to workers {seen[message_id]} and {worker} within one lease"
            )
            seen[message_id] = worker
            assert row_queue == queue_id, f"{label}: {message_id} came from {row_queue}, not {queue_id}"
            copy = model.messages.get(message_id)
            assert copy is not None, (
                f"{label}: delivered {message_id}, which is {model.gone.get(message_id, 'unknown')}"
            )
            assert not copy.expired and alive, f"{label}: delivered {message_id} after its retention expired"
            assert message_id in available, (
                f"{label}: delivered {message_id} which was not available (leased by {copy.leased_by},"
                f" {copy.attempts} deliveries in {copy.queue})"
            )
            assert attempts == copy.attempts + 1, (
                f"{label}: {message_id} delivery_attempts {attempts}, model {copy.attempts + 1}"
            )
            assert attempts <= LIMIT[queue_id], f"{label}: {message_id} delivered {attempts} times from {queue_id}"
            assert leased, f"{label}: {message_id} handed out without a lease"
    for message_id, worker in seen.items():
        copy = model.messages[message_id]
        copy.attempts += 1
        copy.leased_by = worker
    model.deliveries += len(seen)


def record_published(model: Model, rows: list, label: str) -> set[str]:
    assert sorted(r[1] for r in rows) == ["copy", "work"], f"{label}: publish fanned out to {[r[1] for r in rows]}"
    assert all(r[2] == 0 for r in rows), f"{label}: new messages with deliveries {[r[2] for r in rows]}"
    for message_id, queue_id, _, n in rows:
        model.messages[message_id] = Copy(queue=queue_id, n=n)
        model.published.add(message_id)
    return {r[0] for r in rows}


def step(rng: random.Random, workers: list[Worker], model: Model, counter: Counter, n: int) -> None:
    kind = rng.choices(
        [
            "publish",
            "consume",
            "race",
            "ack",
            "nack",
            "lease_expiry",
            "retention_expiry",
            "cleanup",
            "redrive",
            "purge",
            "ack_gone",
            "rotate",
        ],
        weights=[16, 12, 20, 16, 7, 8, 3, 6, 4, 2, 3, 4],
    )[0]
    label = f"op {n} ({kind})"
    w = rng.randrange(len(workers))
    if kind in ("ack", "nack", "lease_expiry") and not model.leased():
        kind, label = "publish", f"op {n} (publish)"
    if kind == "ack_gone" and not model.gone:
        kind, label = "publish", f"op {n} (publish)"
    counter[kind] += 1

    if kind == "publish":
        rows = run_batch(workers, [(w, publish(n))])[w]
        record_published(model, rows, label)
    elif kind == "consume":
        queue_id = rng.choice(["work", "work", "copy", "dead"])
        limit = rng.randint(1, 4)
        expected = min(limit, len(model.available(queue_id)))
        results = run_batch(workers, [(w, consume(queue_id, limit))])
        assert len(results[w]) == expected, (
            f"{label}: consume({queue_id}, {limit}) returned {len(results[w])}, the model has"
            f" {len(model.available(queue_id))} available: a message went missing"
        )
        check_consumed(model, results, queue_id, set(), label)
    elif kind == "race":
        # Several consumers on one queue at once, with a publisher and an acker alongside.
        model.races += 1
        queue_id = rng.choice(["work", "copy"])
        racers = rng.sample(range(len(workers)), rng.randint(2, len(workers)))
        tasks = [(r, consume(queue_id, rng.randint(1, 3))) for r in racers[:3]]
        extra = racers[3:]
        ack_id = None
        if extra and model.leased():
            ack_id = rng.choice(model.leased())
            tasks.append((extra[0], call_bool("ack", ack_id)))
        elif extra:
            tasks.append((extra[0], publish(n)))
        results = run_batch(workers, tasks)
        new: set[str] = set()
        if extra and ack_id is None:
            new = record_published(model, results.pop(extra[0]), label)
        if ack_id is not None:
            acked = results.pop(extra[0])
            if not gone_if_expired(model, counter, ack_id, acked is not True):
                assert acked is True, f"{label}: ack of leased {ack_id} found nothing"
                del model.messages[ack_id]
                model.gone[ack_id] = "acked"
        check_consumed(model, results, queue_id, new, label)
    elif kind in ("ack", "nack"):
        mine = model.leased(w)
        message_id = rng.choice(mine or model.leased())
        result = run_batch(workers, [(w, call_bool(kind, message_id))])[w]
        if gone_if_expired(model, counter, message_id, result is not True):
            return
        assert result is True, f"{label}: {kind} of leased {message_id} returned {result}"
        if kind == "ack":
            del model.messages[message_id]
            model.gone[message_id] = "acked"
        else:
            model.messages[message_id].leased_by = None
    elif kind == "ack_gone":
        message_id = rng.choice(sorted(model.gone))
        result = run_batch(workers, [(w, call_bool(rng.choice(["ack", "nack"]), message_id))])[w]
        assert result is False, f"{label}: ack/nack of {model.gone[message_id]} {message_id} returned {result}"
    elif kind == "lease_expiry":
        message_id = rng.choice(model.leased())
        changed = run_batch(
            workers,
            [
                (
                    w,
                    harness(
                        "update fastqueue.messages set scheduled_at = now() - interval '1 second' where id = %s",
                        (message_id,),
                    ),
                )
            ],
        )[w]
        if gone_if_expired(model, counter, message_id, changed == 0):
            return
        assert changed == 1, f"{label}: leased {message_id} is not in the table"
        model.messages[message_id].leased_by = None
    elif kind == "retention_expiry":
        if not model.messages:
            return
        message_id = rng.choice(sorted(model.messages))
        run_batch(
            workers,
            [
                (
                    w,
                    harness(
                        "update fastqueue.messages set expired_at = now() - interval '1 second' where id = %s",
                        (message_id,),
                    ),
                )
            ],
        )
        model.messages[message_id].expired = True
    elif kind == "cleanup":
        expired = [m for m, c in model.messages.items() if c.expired]
        dead = [
            m
            for m, c in model.messages.items()
            if not c.expired and c.queue == "work" and c.leased_by is None and c.attempts >= MAX_DELIVERIES
        ]
        summary = run_batch(
            workers, [(w, scalar("select expired_messages, dead_lettered_messages from fastqueue.cleanup()"))]
        )[w]
        summary = (summary[0] + dropped_by_rotation(workers, w, counter), summary[1])
        assert tuple(summary) == (len(expired), len(dead)), (
            f"{label}: cleanup() and rotations expired {summary[0]} and cleanup dead-lettered {summary[1]}, the model"
            f" expected {len(expired)} and {len(dead)}"
        )
        for message_id in expired:
            del model.messages[message_id]
            model.gone[message_id] = "expired"
        record_moved(workers, w, model, dead, "dead", label)
        counter["dead-lettered"] += len(dead)
    elif kind == "redrive":
        movable = sorted(model.available("dead"))
        moved = run_batch(workers, [(w, scalar("select fastqueue.redrive_queue('dead', 'work')"))])[w][0]
        assert moved == len(movable), f"{label}: redrive moved {moved}, the model expected {len(movable)}"
        record_moved(workers, w, model, movable, "work", label)
        counter["redriven"] += moved
    elif kind == "purge":
        queue_id = rng.choice(["copy", "dead"])
        doomed = model.in_queue(queue_id)
        purged = run_batch(workers, [(w, scalar("select fastqueue.purge_queue(%s)", (queue_id,)))])[w][0]
        # Expired ones a rotation dropped first are not purged: at most that many fewer.
        droppable = sum(1 for m in doomed if model.messages[m].expired)
        assert len(doomed) - droppable <= purged <= len(doomed), (
            f"{label}: purge of {queue_id} deleted {purged}, the model expected {len(doomed)} ({droppable} expired)"
        )
        counter["expired, seen dropped"] += len(doomed) - purged
        for message_id in doomed:
            del model.messages[message_id]
            model.gone[message_id] = "purged"
    elif kind == "rotate":
        outcome = run_batch(workers, [(w, rotate_store())])[w]
        assert outcome in ("rotated", "another rotation is running", "lock not available"), (
            f"{label}: rotate_store() said {outcome}"
        )
        counter[f"rotate: {outcome}"] += 1


def rotate_store():
    def run(conn):
        conn.execute("set fastqueue.rotation_min_changes = 0")  # every attempt worth it
        return conn.execute("select outcome from fastqueue.rotate_store()").fetchone()[0]

    return run


def gone_if_expired(model: Model, counter: Counter, message_id: str, not_found: bool) -> bool:
    """An expired message that was not found was dropped by a rotation: the model records it gone."""
    if not (not_found and model.messages[message_id].expired):
        return False
    del model.messages[message_id]
    model.gone[message_id] = "expired"
    counter["expired, seen dropped"] += 1
    return True


def dropped_by_rotation(workers: list[Worker], w: int, counter: Counter) -> int:
    """The expired messages still in the model that rotations dropped since the last cleanup: all
    they dropped (store_state; only expired ones here: no queue is deleted) but those the model
    already recorded gone. Read after cleanup(), which deletes every expired one left, so no rotation
    can drop one afterwards."""
    total = run_batch(workers, [(w, scalar("select dropped_deliveries from fastqueue.store_state"))])[w][0]
    since = total - counter["dropped by rotation"] - counter["expired, seen dropped"]
    counter["dropped by rotation"] = total
    counter["expired, seen dropped"] = 0
    return since


class BackgroundRotation:
    """Calls rotate_store() on its own connection all along a run, every attempt worth it."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.stop = threading.Event()
        self.outcomes: Counter = Counter()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, daemon=True, name="model-rotation")
        self.thread.start()

    def _loop(self) -> None:
        try:
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                conn.execute("set fastqueue.rotation_min_changes = 0")
                while not self.stop.wait(0.02):
                    self.outcomes[conn.execute("select outcome from fastqueue.rotate_store()").fetchone()[0]] += 1
        except BaseException as exc:  # noqa: BLE001 (reported by close)
            self.error = exc

    def close(self) -> Counter:
        self.stop.set()
        self.thread.join(timeout=30)
        assert self.error is None, f"the background rotation failed: {self.error}"
        return self.outcomes


@pytest.mark.parametrize("seed", SEEDS)
def test_at_least_once_delivery_matches_the_model(seed: int, database_url: str) -> None:
    print(
        f"\n[model] seed {seed}: {OPERATIONS} operations over {WORKERS} connections (FASTQUEUE_FAULT_SEED={seed} to rerun)"
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_topic('events')")
        conn.execute("select fastqueue.create_queue('dead', null, 600, 1209600)")
        conn.execute(
            "select fastqueue.create_queue('work', 'events', 600, 1209600,"
            " dead_queue_id => 'dead', message_max_deliveries => %s)",
            (MAX_DELIVERIES,),
        )
        conn.execute("select fastqueue.create_queue('copy', 'events', 600, 1209600)")

    rng = random.Random(seed)
    model = Model()
    counter: Counter = Counter()
    workers = [Worker(database_url, i) for i in range(WORKERS)]
    rotation = BackgroundRotation(database_url)
    try:
        for n in range(OPERATIONS):
            try:
                step(rng, workers, model, counter, n)
            except AssertionError as exc:
                raise AssertionError(f"seed {seed}: {exc}") from None

        # The end: every lease runs out, cleanup runs, and the table must be exactly the model.
        for message_id in model.leased():
            model.messages[message_id].leased_by = None
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(
                "update fastqueue.messages set scheduled_at = now() - interval '1 second' where scheduled_at > now()"
            )
        _final_cleanup(workers, model, counter)
        with psycopg.connect(database_url, autocommit=True) as conn:
            rows = conn.execute("select id::text, queue_id, delivery_attempts from fastqueue.messages").fetchall()
    finally:
        rotations = rotation.close()
        for worker in workers:
            worker.close()
    print(f"[model] seed {seed}: background rotation {dict(sorted(rotations.items()))}")
    assert rotations["rotated"] > 0, "the background rotation never rotated: the run says nothing about rotation"

    table = {m: (q, a) for m, q, a in rows}
    expected = {m: (c.queue, c.attempts) for m, c in model.messages.items()}
    lost = (model.published | model.moved_in) - set(table) - set(model.gone)
    resurrected = set(table) & set(model.gone)
    unknown = set(table) - model.published - model.moved_in
    fates = Counter(model.gone.values())
    by_queue = Counter(q for q, _ in table.values())
    print(
        f"[model] seed {seed}: ops {dict(sorted(counter.items()))}; {len(model.published)} copies published,"
        f" {model.deliveries} deliveries ({model.races} races); fates {dict(sorted(fates.items()))};"
        f" still there {dict(sorted(by_queue.items()))}; lost {len(lost)}, resurrected {len(resurrected)},"
        f" unknown {len(unknown)}, mismatched {sum(1 for m in expected if table.get(m) != expected[m])}"
    )
    assert not lost, f"seed {seed}: {len(lost)} published messages vanished: {sorted(lost)[:5]}"
    assert not resurrected, (
        f"seed {seed}: {len(resurrected)} acked/purged/expired messages are back: {sorted(resurrected)[:5]}"
    )
    assert not unknown, f"seed {seed}: messages nobody published: {sorted(unknown)[:5]}"
    mismatched = {m: (table.get(m), expected[m]) for m in expected if table.get(m) != expected[m]}
    assert not mismatched, (
        f"seed {seed}: table (queue, attempts) differs from the model: {list(mismatched.items())[:5]}"
    )
    assert model.deliveries > OPERATIONS // 3 and fates["acked"] > 0, "the run did too little to mean anything"


def _final_cleanup(workers: list[Worker], model: Model, counter: Counter) -> None:
    expired = [m for m, c in model.messages.items() if c.expired]
    dead = [
        m for m, c in model.messages.items() if not c.expired and c.queue == "work" and c.attempts >= MAX_DELIVERIES
    ]
    summary = run_batch(
        workers, [(0, scalar("select expired_messages, dead_lettered_messages from fastqueue.cleanup()"))]
    )[0]
    summary = (summary[0] + dropped_by_rotation(workers, 0, counter), summary[1])
    assert tuple(summary) == (len(expired), len(dead)), (
        f"final cleanup() expired {summary[0]} and dead-lettered {summary[1]}, the model expected {len(expired)} and {len(dead)}"
    )
    for message_id in expired:
        del model.messages[message_id]
        model.gone[message_id] = "expired"
    record_moved(workers, 0, model, dead, "dead", "final cleanup")
    counter["dead-lettered"] += len(dead)
