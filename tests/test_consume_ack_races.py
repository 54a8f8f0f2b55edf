"""consume with ack_message_ids racing a transaction that changes a message it names (a lease
heartbeat, a nack): consume waits for it, then still acks it (READ COMMITTED: the row it locks is
the new version, which a later statement must delete), and leases what is available after that."""

import psycopg
import pytest

from tests.concurrency import Call, race_behind_held_rows, wait_until_blocked_or_done

CONCURRENT_CHANGES = {
    "set_deadline": "select fastqueue.set_deadline(%s::uuid, 60)",
    "nack": "select fastqueue.nack(%s::uuid, delay_seconds => 30)",
    "nack_messages": "select fastqueue.nack_messages(array[%s::uuid], delay_seconds => 30)",
}


@pytest.fixture
def leased_id(database_url: str) -> str:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_topic('events')")
        conn.execute("select fastqueue.create_queue('jobs', 'events', 600, 600)")
        conn.execute("select fastqueue.publish('events', '{\"n\": 1}')")
        conn.execute("select fastqueue.publish('events', '{\"n\": 2}')")
        [(leased,)] = conn.execute("select id::text from fastqueue.consume('jobs', 1)").fetchall()
    return leased


@pytest.mark.parametrize("change", sorted(CONCURRENT_CHANGES))
def test_consume_acks_a_message_updated_while_it_waited(database_url: str, leased_id: str, change: str) -> None:
    with psycopg.connect(database_url) as holder, psycopg.connect(database_url, autocommit=True) as observer:
        holder.execute(CONCURRENT_CHANGES[change], (leased_id,))  # open transaction: the row is locked
        consume = Call(
            database_url,
            lambda conn: conn.execute(
                "select data ->> 'n' from fastqueue.consume('jobs', 10, array[%s::uuid])", (leased_id,)
            ).fetchall(),
        )
        assert wait_until_blocked_or_done(observer, consume), "consume did not wait for the row lock"
        holder.commit()
        consume.join()
        assert consume.error is None, consume.error
        remaining = observer.execute("select count(*) from fastqueue.messages where id = %s", (leased_id,)).fetchone()
        assert remaining == (0,), "the acked message is still there, to be delivered again"
        assert consume.result == [("2",)], f"consume leased {consume.result}, not the other message alone"


def test_consumes_acking_overlapping_ids_in_opposite_orders_do_not_deadlock(database_url: str) -> None:
    forward, backward, left = race_behind_held_rows(
        database_url,
        "select count(*) from fastqueue.consume('jobs', 1, %s::uuid[])",
        "select count(*) from fastqueue.consume('jobs', 1, %s::uuid[])",
    )
    # Between them they acked every id either named; the nacks' 30 s delay leaves nothing to lease.
    assert left == 0
    assert (forward.result, backward.result) == (0, 0)
