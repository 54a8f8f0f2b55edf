"""Publisher features under concurrency, over real connections: duplicate publishes racing on one
deduplication_id (exactly one wins, every caller with the same message gets its ids, the others
FQDUP), and ordered delivery with racing consumers (each key strictly in publish order, different
keys processed in parallel)."""

import threading
import time
from collections import defaultdict

import psycopg

PUBLISHERS = 8
CONSUMERS = 4
KEYS = 6
PER_KEY = 15


def run_threads(count: int, target) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrapped(slot: int) -> None:
        try:
            target(slot)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(slot,)) for slot in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_concurrent_duplicate_publishes_store_one_set(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_topic('events')")
        conn.execute("select fastqueue.create_queue('a', 'events', 30, 600)")
        conn.execute("select fastqueue.create_queue('b', 'events', 30, 600)")

    start = threading.Barrier(PUBLISHERS)
    answers: list[list[str] | str | None] = [None] * PUBLISHERS

    def publish(slot: int) -> None:
        # Half the publishers retry one message; the other half send messages of their own under
        # the same id, which only the first to commit may store.
        data = '{"order": 42}' if slot % 2 == 0 else f'{{"publisher": {slot}}}'
        with psycopg.connect(database_url) as conn:  # one explicit transaction each, held open a moment
            start.wait()
            try:
                rows = conn.execute(
                    "select id::text from fastqueue.publish('events', %s::jsonb, deduplication_id => 'same')"
                    " order by queue_id",
                    (data,),
                ).fetchall()
            except psycopg.Error as exc:
                answers[slot] = exc.sqlstate
                return
            time.sleep(0.05)  # widen the window in which the others must wait for this transaction
            conn.commit()
            answers[slot] = [row[0] for row in rows]

    assert run_threads(PUBLISHERS, publish) == []
    with psycopg.connect(database_url, autocommit=True) as conn:
        stored = conn.execute("select id::text, data from fastqueue.messages order by queue_id").fetchall()
    assert len(stored) == 2, "exactly one publish fanned out (one copy per queue)"
    winner = stored[0][1]
    same_message = [
        slot for slot in range(PUBLISHERS) if winner == ({"order": 42} if slot % 2 == 0 else {"publisher": slot})
    ]
    assert same_message, winner
    for slot, answer in enumerate(answers):
        if slot in same_message:
            assert answer == [row[0] for row in stored], (slot, answer)
        else:
            assert answer == "FQDUP", (slot, answer)


def test_ordering_with_concurrent_consumers(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_topic('events')")
        conn.execute("select fastqueue.create_queue('ordered', 'events', 60, 600, enable_message_ordering => true)")
        # Interleaved keys, in one batch (one transaction: the messages share now()).
        messages = [
            {"data": {"key": f"k{key}", "n": n}, "ordering_key": f"k{key}"}
            for n in range(PER_KEY)
            for key in range(KEYS)
        ]
        conn.execute(
            "select count(*) from fastqueue.publish_batch('events', %s)", (psycopg.types.json.Jsonb(messages),)
        )

    acked: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()
    intervals: list[tuple[float, float, str]] = []
    start = threading.Barrier(CONSUMERS)
    total = KEYS * PER_KEY

    def consume(slot: int) -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            start.wait()
            idle_since = time.monotonic()
            while True:
                with lock:
                    if sum(len(v) for v in acked.values()) == total:
                        return
                rows = conn.execute("select id, data from fastqueue.consume('ordered', 2)").fetchall()
                if not rows:
                    if time.monotonic() - idle_since > 20:
                        raise AssertionError("consumers starved: a key stayed blocked")
                    time.sleep(0.002)
                    continue
                idle_since = time.monotonic()
                began = time.monotonic()
                time.sleep(0.01)  # "work" while holding the lease
                for message_id, data in rows:
                    with lock:
                        acked[data["key"]].append(data["n"])
                    assert conn.execute("select fastqueue.ack(%s)", (message_id,)).fetchone()[0]
                with lock:
                    intervals.extend((began, time.monotonic(), data["key"]) for _, data in rows)

    assert run_threads(CONSUMERS, consume) == []
    assert {key: ns for key, ns in acked.items()} == {f"k{key}": list(range(PER_KEY)) for key in range(KEYS)}
    # Parallelism: some work on one key overlapped work on another key.
    overlaps = sum(
        1
        for i, (b1, e1, k1) in enumerate(intervals)
        for b2, e2, k2 in intervals[i + 1 :]
        if k1 != k2 and b1 < e2 and b2 < e1
    )
    print(f"\nordered consume: {total} messages, {KEYS} keys, {CONSUMERS} consumers, {overlaps} overlapping key pairs")
    assert overlaps > 0, "keys were not processed in parallel"
