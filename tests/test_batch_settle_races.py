"""ack_messages and nack_messages racing a transaction that changes the same message (a lease
heartbeat, a nack, a consume): the batch waits for it, then still settles and counts every message
it names (READ COMMITTED: the row it locks is the new version, which it must then act on)."""

import psycopg
import pytest

from tests.concurrency import Call, race_behind_held_rows, wait_until_blocked_or_done


@pytest.fixture
def message_id(database_url: str) -> str:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_topic('events')")
        conn.execute("select fastqueue.create_queue('jobs', 'events', 600, 600)")
        conn.execute("select fastqueue.publish('events', '{\"n\": 1}')")
        [(leased,)] = conn.execute("select id::text from fastqueue.consume('jobs', 1)").fetchall()
    return leased


# What runs beside the batch: each changes the message's row in an open transaction.
CONCURRENT_CHANGES = {
    "set_deadline": "select fastqueue.set_deadline(%s::uuid, 60)",
    "nack": "select fastqueue.nack(%s::uuid, delay_seconds => 30)",
    "nack_messages": "select fastqueue.nack_messages(array[%s::uuid], delay_seconds => 30)",
}


@pytest.mark.parametrize("change", sorted(CONCURRENT_CHANGES))
def test_ack_messages_deletes_a_message_updated_while_it_waited(
    database_url: str, message_id: str, change: str
) -> None:
    with psycopg.connect(database_url) as holder, psycopg.connect(database_url, autocommit=True) as observer:
        holder.execute(CONCURRENT_CHANGES[change], (message_id,))  # open transaction: the row is locked
        batch = Call(
            database_url,
            lambda conn: conn.execute("select fastqueue.ack_messages(array[%s::uuid])", (message_id,)).fetchone()[0],
        )
        assert wait_until_blocked_or_done(observer, batch), "ack_messages did not wait for the row lock"
        holder.commit()
        batch.join()
        assert batch.error is None, batch.error
        assert batch.result == 1, f"ack_messages counted {batch.result} of 1 message"
        remaining = observer.execute("select count(*) from fastqueue.messages where id = %s", (message_id,)).fetchone()
        assert remaining == (0,), "the acked message is still there, to be delivered again"


def test_nack_messages_nacks_a_message_updated_while_it_waited(database_url: str, message_id: str) -> None:
    with psycopg.connect(database_url) as holder, psycopg.connect(database_url, autocommit=True) as observer:
        holder.execute(CONCURRENT_CHANGES["set_deadline"], (message_id,))
        batch = Call(
            database_url,
            lambda conn: conn.execute(
                "select fastqueue.nack_messages(array[%s::uuid], delay_seconds => 0)", (message_id,)
            ).fetchone()[0],
        )
        assert wait_until_blocked_or_done(observer, batch), "nack_messages did not wait for the row lock"
        holder.commit()
        batch.join()
        assert batch.error is None, batch.error
        assert batch.result == 1, f"nack_messages counted {batch.result} of 1 message"
        available = observer.execute(
            "select scheduled_at <= now() from fastqueue.messages where id = %s", (message_id,)
        ).fetchone()
        assert available == (True,), "the nacked message is not available again"


def test_overlapping_batches_in_opposite_orders_do_not_deadlock(database_url: str) -> None:
    forward, backward, left = race_behind_held_rows(
        database_url,
        "select fastqueue.ack_messages(%s::uuid[])",
        "select fastqueue.nack_messages(%s::uuid[], delay_seconds => 0)",
    )
    # Whichever went first, ack_messages deleted all 30 it named; nack_messages settled what was left.
    assert forward.result == 30
    assert backward.result in (20, 30)
    assert left == 20
