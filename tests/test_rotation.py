"""fastqueue.rotate_store() against a real PostgreSQL (docs/storage.md, Rotation and Tests): no message
lost or delivered twice across rotations under concurrent consumers; a rotation that cannot get its
lock skips, changes nothing, and the next attempt rotates; statements that waited behind a rotation
act on the carried rows; a held snapshot does not stop rotation. Bounded counts, generous bounded
waits, no timing assertions. fastqueue.rotation_min_changes = 0 on the rotating sessions makes
every attempt worth it, so that the number of rotations does not depend on pg_stat's lag."""

import itertools
import random
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

Summary = dict[str, Any]


def connect(database_url: str, autocommit: bool = True) -> psycopg.Connection[dict[str, Any]]:
    return psycopg.connect(database_url, autocommit=autocommit, row_factory=dict_row)


@pytest.fixture
def rotator(database_url: str) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    with connect(database_url) as conn:
        conn.execute("set fastqueue.rotation_min_changes = 0")
        yield conn


def rotate(conn: psycopg.Connection[dict[str, Any]]) -> Summary:
    row = conn.execute("select * from fastqueue.rotate_store()").fetchone()
    assert row is not None
    return row


def rotate_until_rotated(conn: psycopg.Connection[dict[str, Any]], attempts: int = 50) -> Summary:
    """Autovacuum or autoanalyze may hold a slot for a moment: retry a bounded number of times."""
    outcomes = []
    for _ in range(attempts):
        summary = rotate(conn)
        if summary["outcome"] == "rotated":
            return summary
        outcomes.append(summary["outcome"])
        time.sleep(0.1)
    raise AssertionError(f"no rotation in {attempts} attempts: {outcomes}")


def current_slot(conn: psycopg.Connection[dict[str, Any]]) -> int:
    row = conn.execute("select last_value::integer as slot from fastqueue.store_slot").fetchone()
    assert row is not None
    return int(row["slot"])


def store_rows(conn: psycopg.Connection[dict[str, Any]]) -> list[dict[str, Any]]:
    return conn.execute("select * from fastqueue.deliveries order by id").fetchall()


def setup_queue(conn: psycopg.Connection[dict[str, Any]], ack_deadline: int = 60) -> None:
    conn.execute("select fastqueue.create_topic('events')")
    conn.execute("select fastqueue.create_queue('work', 'events', %s, 600)", (ack_deadline,))


def publish(conn: psycopg.Connection[dict[str, Any]], n: int) -> list[uuid.UUID]:
    rows = conn.execute(
        "select p.id from generate_series(1, %s) n cross join lateral fastqueue.publish('events', jsonb_build_object('n', n)) p",
        (n,),
    ).fetchall()
    return [row["id"] for row in rows]


def wait_until_waiting_for_a_lock(conn: psycopg.Connection[dict[str, Any]], pids: list[int]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        waiting = conn.execute(
            "select count(*) as n from pg_stat_activity where pid = any(%s) and wait_event_type = 'Lock'", (pids,)
        ).fetchone()
        if waiting is not None and waiting["n"] == len(pids):
            return
        time.sleep(0.05)
    raise AssertionError("the sessions did not queue behind the rotation's lock")


# --- under concurrent consumers -------------------------------------------------------------------


@dataclass
class Ledger:
    """What the clients saw, checked against the delivery model afterwards."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    published: set[uuid.UUID] = field(default_factory=set)
    leases: dict[uuid.UUID, list[tuple[int, Any, Any]]] = field(default_factory=lambda: defaultdict(list))
    nacked: set[tuple[uuid.UUID, int]] = field(default_factory=set)
    acks_sent: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    held_acks: list[bool] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def test_no_message_is_lost_or_leased_twice_across_rotations_under_concurrent_consumers(database_url: str) -> None:
    total, publishers, consumers = 5000, 2, 4
    with connect(database_url) as conn:
        setup_queue(conn, ack_deadline=60)
    ledger = Ledger()
    stop = threading.Event()
    published_all = threading.Event()
    summaries: list[Summary] = []
    rotation_count = [0]

    def guarded(target: Any) -> Any:
        def run(*args: Any) -> None:
            try:
                target(*args)
            except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
                ledger.errors.append(exc)
                stop.set()

        return run

    @guarded
    def publisher(index: int) -> None:
        with connect(database_url) as conn:
            for n in range(total // publishers):
                row = conn.execute(
                    "select id from fastqueue.publish('events', jsonb_build_object('p', %s::integer, 'n', %s::integer))",
                    (index, n),
                ).fetchone()
                assert row is not None
                with ledger.lock:
                    ledger.published.add(row["id"])
                if stop.is_set():
                    return

    @guarded
    def consumer(seed: int) -> None:
        choose = random.Random(seed)
        held: list[tuple[uuid.UUID, int, int, float]] = []  # (id, attempt, rotations and time when leased)
        to_ack: list[uuid.UUID] = []
        with connect(database_url) as conn:
            while not stop.is_set():
                rows = conn.execute(
                    "select id, delivery_attempts, updated_at, scheduled_at from fastqueue.consume('work', 10, %s::uuid[])",
                    (to_ack or None,),
                ).fetchall()
                with ledger.lock:
                    for message_id in to_ack:
                        ledger.acks_sent[message_id] += 1
                to_ack = []
                for row in rows:
                    with ledger.lock:
                        ledger.leases[row["id"]].append(
                            (row["delivery_attempts"], row["updated_at"], row["scheduled_at"])
                        )
                    dice = choose.random()
                    if dice < 0.1 and row["delivery_attempts"] < 3:
                        assert conn.execute(
                            "select fastqueue.nack(%s, %s, 1) as found", (row["id"], row["delivery_attempts"])
                        ).fetchone() == {"found": True}
                        with ledger.lock:
                            ledger.nacked.add((row["id"], row["delivery_attempts"]))
                    elif dice < 0.13:
                        held.append((row["id"], row["delivery_attempts"], rotation_count[0], time.monotonic()))
                    else:
                        to_ack.append(row["id"])
                # Held messages are settled (fenced) once two more rotations happened (so they were carried
                # at least once), when nothing is left to consume, and well within their 60 s lease.
                still_held = []
                for message_id, attempt, leased_at, since in held:
                    if (
                        rotation_count[0] >= leased_at + 2
                        or (published_all.is_set() and not rows)
                        or time.monotonic() - since > 20
                    ):
                        found = conn.execute("select fastqueue.ack(%s, %s) as found", (message_id, attempt)).fetchone()
                        with ledger.lock:
                            ledger.acks_sent[message_id] += 1
                            ledger.held_acks.append(bool(found and found["found"]))
                    else:
                        still_held.append((message_id, attempt, leased_at, since))
                held = still_held
                if not rows and not held and not to_ack:
                    if published_all.is_set() and queue_is_empty(conn):
                        return
                    time.sleep(0.02)

    def queue_is_empty(conn: psycopg.Connection[dict[str, Any]]) -> bool:
        row = conn.execute("select count(*) as n from fastqueue.messages where queue_id = 'work'").fetchone()
        return row is not None and row["n"] == 0

    @guarded
    def rotating() -> None:
        with connect(database_url) as conn:
            conn.execute("set fastqueue.rotation_min_changes = 0")
            while not stop.is_set():
                summary = rotate(conn)
                summaries.append(summary)
                if summary["outcome"] == "rotated":
                    rotation_count[0] += 1
                time.sleep(0.05)

    threads = [threading.Thread(target=publisher, args=(i,)) for i in range(publishers)]
    workers = [threading.Thread(target=consumer, args=(i,)) for i in range(consumers)]
    rotation_thread = threading.Thread(target=rotating)
    for thread in [rotation_thread, *threads, *workers]:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    published_all.set()
    for thread in workers:
        thread.join(timeout=300)
    stop.set()
    rotation_thread.join(timeout=60)
    assert not ledger.errors, ledger.errors
    assert not any(thread.is_alive() for thread in [rotation_thread, *threads, *workers]), "a client did not finish"

    # The model's check: every published message acked exactly once, none lost, none leased twice in a lease.
    assert len(ledger.published) == total
    assert set(ledger.acks_sent) == ledger.published, "some message was never acked (lost), or an unknown id was"
    assert all(count == 1 for count in ledger.acks_sent.values()), "a message was acked twice"
    assert ledger.held_acks and all(ledger.held_acks), "a fenced ack of a message held across rotations failed"
    for message_id, leases in ledger.leases.items():
        attempts = [attempt for attempt, _, _ in leases]
        assert attempts == list(range(1, len(attempts) + 1)), (message_id, attempts)
        for (attempt, _, lease_end), (_, next_start, _) in itertools.pairwise(leases):
            # Leased again only after a nack of the previous delivery, or once its lease ended.
            assert (message_id, attempt) in ledger.nacked or next_start >= lease_end, (message_id, leases)
    with connect(database_url) as conn:
        assert queue_is_empty(conn)
    rotated = [s for s in summaries if s["outcome"] == "rotated"]
    assert len(rotated) >= 10, f"only {len(rotated)} rotations: {[s['outcome'] for s in summaries][-20:]}"
    assert any(s["carried_in_flight"] > 0 for s in rotated), "no rotation carried a leased message"
    skipped = {s["outcome"] for s in summaries} - {"rotated", "lock not available", "backlog", "backing off"}
    assert all(outcome.startswith("busy: pid ") for outcome in skipped), skipped


# --- a rotation that cannot get its lock ----------------------------------------------------------


def test_a_rotation_that_cannot_get_its_lock_skips_changes_nothing_and_the_next_attempt_rotates(
    database_url: str, rotator: psycopg.Connection[dict[str, Any]]
) -> None:
    with connect(database_url) as conn:
        setup_queue(conn)
        publish(conn, 20)
        rotate_until_rotated(rotator)  # the messages' slot is now the one to retire
        old = 1 - current_slot(conn)
        before = store_rows(conn)
        assert {row["slot"] for row in before} == {old}
        state = conn.execute("select skips from fastqueue.store_state").fetchone()
        assert state is not None
        skips_before = state["skips"]

        with connect(database_url, autocommit=False) as holder, connect(database_url) as other:
            holder_pid = holder.info.backend_pid
            # NOWAIT, three times, then one attempt that waits 50 ms: each finds a consume's transaction
            # (a new one each time, so none is old enough to count as busy) holding the slot.
            results = []
            for _ in range(4):
                holder.execute("select * from fastqueue.consume('work', 1)").fetchall()
                results.append(rotate(rotator))
                holder.rollback()
                assert store_rows(conn) == before, "a skipped rotation changed a delivery"
                assert current_slot(conn) == 1 - old, "a skipped rotation changed the current slot"
            assert [(r["outcome"], r["waited_for_lock"]) for r in results] == [
                ("lock not available", False),
                ("lock not available", False),
                ("lock not available", False),
                ("lock not available", True),
            ]
            assert all(r["carried_deliveries"] == 0 and r["current_slot"] == 1 - old for r in results)

            # A holder seen for more than a second is busy: skipped without even a NOWAIT.
            leased = holder.execute("select id from fastqueue.consume('work', 1)").fetchall()
            assert rotate(rotator)["outcome"] == "lock not available"
            time.sleep(1.2)  # a wait, not an assertion: the holder is now older than the busy limit
            busy = rotate(rotator)
            assert busy["outcome"] == f"busy: pid {holder_pid}"
            # Others keep working meanwhile: lease and ack in one call, and settle by id.
            got = other.execute("select id from fastqueue.consume('work', 2)").fetchall()
            assert len(got) == 2
            assert other.execute(
                "select count(*) as n from fastqueue.consume('work', 1, %s::uuid[])", ([row["id"] for row in got],)
            ).fetchone() == {"n": 1}
            assert current_slot(conn) == 1 - old
            holder.commit()

        state = conn.execute("select skips, consecutive_busy, last_outcome from fastqueue.store_state").fetchone()
        assert state == {"skips": skips_before + 6, "consecutive_busy": 1, "last_outcome": f"busy: pid {holder_pid}"}
        after = rotate_until_rotated(rotator)
        assert after["current_slot"] == old
        assert after["carried_deliveries"] == 20 - 2  # the two acked in consume are gone
        assert after["carried_in_flight"] == 2  # the holder's lease and the other consumer's
        carried = {row["id"]: row for row in store_rows(conn)}
        assert leased[0]["id"] in carried and carried[leased[0]["id"]]["delivery_attempts"] == 1


def test_a_second_attempt_during_a_rotation_gives_way(
    database_url: str, rotator: psycopg.Connection[dict[str, Any]]
) -> None:
    with connect(database_url, autocommit=False) as first:
        first.execute("set fastqueue.rotation_min_changes = 0")
        assert rotate(first)["outcome"] == "rotated"  # its transaction, and the rotation's lock, stay open
        assert rotate(rotator)["outcome"] == "another rotation is running"
        first.commit()
    assert rotate_until_rotated(rotator)["current_slot"] == 0


# --- waiting behind a rotation -------------------------------------------------------------------


def test_a_consume_with_acks_and_a_fenced_ack_waiting_behind_a_rotation_act_on_the_carried_rows(
    database_url: str, rotator: psycopg.Connection[dict[str, Any]]
) -> None:
    with connect(database_url) as conn:
        setup_queue(conn)
        conn.execute("select fastqueue.create_queue('warm', null, 30, 600)")
        publish(conn, 3)
        rotate_until_rotated(rotator)  # the three messages are in the slot the next rotation retires
        leased = [row["id"] for row in conn.execute("select id from fastqueue.consume('work', 2)").fetchall()]
        (unleased,) = {row["id"] for row in store_rows(conn)} - set(leased)

        with (
            connect(database_url) as consumer,
            connect(database_url) as acker,
            connect(database_url, autocommit=False) as rotation,
        ):
            # Sessions whose plans are cached (plpgsql caches a plan per statement after its first runs).
            for _ in range(6):
                consumer.execute("select * from fastqueue.consume('warm', 1, array[gen_random_uuid()])").fetchall()
                acker.execute("select fastqueue.ack(gen_random_uuid(), 1)").fetchall()
            rotation.execute("set fastqueue.rotation_min_changes = 0")
            for _ in range(50):
                summary = rotate(rotation)
                if summary["outcome"] == "rotated":
                    break
                rotation.rollback()
                time.sleep(0.1)
            assert summary["outcome"] == "rotated" and summary["carried_deliveries"] == 3
            # The rotation is done but not committed: it holds the retired slot's lock.
            results: dict[str, Any] = {}

            def consume_with_ack() -> None:
                results["consumed"] = [
                    row["id"]
                    for row in consumer.execute(
                        "select id from fastqueue.consume('work', 1, %s::uuid[])", ([leased[0]],)
                    ).fetchall()
                ]

            def fenced_ack() -> None:
                row = acker.execute("select fastqueue.ack(%s, 1) as found", (leased[1],)).fetchone()
                results["acked"] = row["found"] if row else None

            threads = [threading.Thread(target=consume_with_ack), threading.Thread(target=fenced_ack)]
            for thread in threads:
                thread.start()
            wait_until_waiting_for_a_lock(conn, [consumer.info.backend_pid, acker.info.backend_pid])
            rotation.commit()
            for thread in threads:
                thread.join(timeout=30)
            assert not any(thread.is_alive() for thread in threads)
        assert results == {"consumed": [unleased], "acked": True}
        left = store_rows(conn)
        assert [(row["id"], row["delivery_attempts"]) for row in left] == [(unleased, 1)]


# --- a held snapshot ------------------------------------------------------------------------------


def test_a_held_snapshot_does_not_stop_rotation(database_url: str, rotator: psycopg.Connection[dict[str, Any]]) -> None:
    with connect(database_url) as conn:
        setup_queue(conn)
        older = set(publish(conn, 5))  # published before the snapshot: it would see them
        with connect(database_url, autocommit=False) as held:
            held.execute("set transaction isolation level repeatable read")
            held.execute("select count(*) from fastqueue.topics").fetchone()
            # 2,000 messages through the store: published, leased, and all but 10 acked.
            slot = current_slot(conn)
            newer: list[uuid.UUID] = []
            for _ in range(20):
                newer += publish(conn, 100)
            leased = 0
            while leased < 2005:
                rows = conn.execute("select id from fastqueue.consume('work', 100)").fetchall()
                assert rows, "consume found fewer messages than were published"
                leased += len(rows)
            unacked_newer = set(newer[-10:])
            for start in range(0, 1990, 500):
                conn.execute("select fastqueue.ack_messages(%s::uuid[])", (newer[start : min(start + 500, 1990)],))
            children = (
                f"pg_relation_size('fastqueue.deliveries_{slot}') + pg_relation_size('fastqueue.message_bodies_{slot}')"
            )
            size_before = conn.execute(f"select {children} as b").fetchone()
            first = rotate_until_rotated(rotator)  # retires the other, empty slot
            second = rotate_until_rotated(rotator)  # retires the messages' slot, carrying the 15 unacked
            assert (first["outcome"], second["outcome"], second["carried_deliveries"]) == ("rotated", "rotated", 15)
            size_after = conn.execute(f"select {children} as b").fetchone()
            assert size_before is not None and size_after is not None
            assert size_before["b"] > 20 * 8192, size_before
            assert size_after["b"] <= 4 * 8192, f"the retired children are still {size_after['b']} bytes"
            # A fresh session sees every unacked message.
            with connect(database_url) as fresh:
                seen = {row["id"] for row in fresh.execute("select id from fastqueue.messages").fetchall()}
            assert seen == older | unacked_newer
            # The documented caveat (docs/storage.md, What an old snapshot sees after a TRUNCATE): the held
            # snapshot, reading the store for the first time, sees the retired slot empty and not the
            # carried rows, which the rotation inserted after it began; nothing is lost for anyone else.
            row = held.execute("select count(*) as n from fastqueue.messages").fetchone()
            assert row == {"n": 0}
            held.rollback()


# --- the pg_cron procedure ------------------------------------------------------------------------


def test_rotate_store_for_tries_once_a_second_and_commits_each_attempt(
    database_url: str, rotator: psycopg.Connection[dict[str, Any]]
) -> None:
    rotator.execute("call fastqueue.rotate_store_for(3)")
    with connect(database_url) as conn:
        state = conn.execute("select rotations, skips from fastqueue.store_state").fetchone()
        assert state is not None
        assert state["rotations"] >= 2, state  # committed one by one, seen from another session
        assert state["rotations"] + state["skips"] <= 4, state
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="seconds must be 0 to 3600"):
        rotator.execute("call fastqueue.rotate_store_for(3601)")
    with connect(database_url, autocommit=False) as in_a_transaction:
        with pytest.raises(psycopg.errors.InvalidTransactionTermination):
            in_a_transaction.execute("call fastqueue.rotate_store_for(1)")
