"""Which calls wake long-polling consumers: NOTIFY fastqueue_available with the queue id, at commit.

Publish, nack and redrive are covered with the long-polling tests (tests/api/test_long_polling.py);
these are the less obvious ones: an ack that unblocks the next message of an ordering key, and
cleanup moving messages into a dead queue."""

import psycopg
import pytest

CHANNEL = "fastqueue_available"


def received(listener: psycopg.Connection) -> list[str]:
    return [n.payload for n in listener.notifies(timeout=0.5, stop_after=20)]


@pytest.fixture
def listener(database_url: str):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"listen {CHANNEL}")
        yield conn


def test_ack_of_a_keyed_message_wakes_its_queue(conn: psycopg.Connection, listener: psycopg.Connection) -> None:
    conn.execute("select fastqueue.create_topic('orders')")
    conn.execute("select fastqueue.create_queue('ordered', 'orders', 30, 600, enable_message_ordering => true)")
    conn.execute("""select fastqueue.publish('orders', '{"n": 1}', ordering_key => 'k')""")
    conn.execute("""select fastqueue.publish('orders', '{"n": 2}', ordering_key => 'k')""")
    conn.execute("""select fastqueue.publish('orders', '{"n": 3}')""")
    received(listener)  # the publishes' own notifications

    first, unkeyed = conn.execute("select id from fastqueue.consume('ordered', 10) order by data->>'n'").fetchall()
    assert conn.execute("select fastqueue.ack(%s)", unkeyed).fetchone()[0] is True
    assert received(listener) == [], "an unkeyed ack unblocks nothing"
    assert conn.execute("select fastqueue.ack(%s)", first).fetchone()[0] is True
    assert received(listener) == ["ordered"]

    second = conn.execute("select id from fastqueue.consume('ordered', 10)").fetchone()
    assert conn.execute("select fastqueue.ack_messages(array[%s]::uuid[])", second).fetchone()[0] == 1
    assert received(listener) == ["ordered"]


def test_cleanup_wakes_the_dead_queue_it_fills(conn: psycopg.Connection, listener: psycopg.Connection) -> None:
    conn.execute("select fastqueue.create_topic('events')")
    conn.execute("select fastqueue.create_queue('dead', null, 30, 600)")
    conn.execute("select fastqueue.create_queue('work', 'events', 30, 600, dead_queue_id => 'dead', message_max_deliveries => 1)")
    conn.execute("""select fastqueue.publish('events', '{"n": 1}')""")
    conn.execute("select * from fastqueue.consume('work', 1)")
    # Lease ended (the ack deadline is at least a second: age it instead of waiting).
    conn.execute("update fastqueue.messages set scheduled_at = now() - interval '1 second'")
    received(listener)

    summary = conn.execute("select dead_lettered_messages from fastqueue.cleanup()").fetchone()
    assert summary == (1,)
    assert received(listener) == ["dead"]
    assert conn.execute("select dead_lettered_messages from fastqueue.cleanup()").fetchone() == (0,)
    assert received(listener) == [], "nothing moved, nobody woken"
