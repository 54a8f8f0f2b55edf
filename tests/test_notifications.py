"""Which calls wake long-polling consumers: NOTIFY fastqueue_available with the queue id, at commit,
for queues someone watches (fastqueue.watch_queue).

Publish, nack and redrive are covered with the long-polling tests (tests/api/test_long_polling.py);
these are the less obvious ones: an ack (also one made by consume) that unblocks the next message of an ordering key, cleanup
moving messages into a dead queue, and the watch itself."""

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
    conn.execute("select fastqueue.watch_queue('ordered', 'test', 60)")
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

    # consume's ack_message_ids sends the same wake-up (here the call finds nothing left to lease).
    conn.execute("""select fastqueue.publish('orders', '{"n": 4}', ordering_key => 'k')""")
    received(listener)
    [third] = conn.execute("select id from fastqueue.consume('ordered', 10)").fetchall()
    assert (
        conn.execute("select count(*) from fastqueue.consume('ordered', 10, array[%s]::uuid[])", third).fetchone()[0]
        == 0
    )
    assert received(listener) == ["ordered"]


def test_cleanup_wakes_the_dead_queue_it_fills(conn: psycopg.Connection, listener: psycopg.Connection) -> None:
    conn.execute("select fastqueue.create_topic('events')")
    conn.execute("select fastqueue.create_queue('dead', null, 30, 600)")
    conn.execute(
        "select fastqueue.create_queue('work', 'events', 30, 600, dead_queue_id => 'dead', message_max_deliveries => 1)"
    )
    conn.execute("select fastqueue.watch_queue('dead', 'test', 60)")
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


def test_only_watched_queues_are_notified(conn: psycopg.Connection, listener: psycopg.Connection) -> None:
    conn.execute("select fastqueue.create_topic('events')")
    conn.execute("select fastqueue.create_queue('watched', 'events', 30, 600)")
    conn.execute("select fastqueue.create_queue('unwatched', 'events', 30, 600)")
    conn.execute("select fastqueue.create_topic('quiet')")
    conn.execute("select fastqueue.create_queue('quiet-queue', 'quiet', 30, 600)")
    conn.execute("""select fastqueue.publish('events', '{"n": 1}')""")
    assert received(listener) == [], "nobody watches: no NOTIFY"

    until = conn.execute("select fastqueue.watch_queue('watched', 'test', 60) - now()").fetchone()[0]
    assert until.total_seconds() == 60
    conn.execute("""select fastqueue.publish('events', '{"n": 2}')""")
    conn.execute("""select fastqueue.publish_batch('events', '[{"data": {"n": 3}}, {"data": {"n": 4}}]')""")
    conn.execute("""select fastqueue.publish('quiet', '{"n": 5}')""")
    assert received(listener) == ["watched", "watched"], "one per transaction, for the watched queue only"

    # A watch that has run out, or was ended with 0 seconds, notifies nobody; cleanup deletes old ones.
    conn.execute("select fastqueue.watch_queue('unwatched', 'test', 1)")
    conn.execute(
        "update fastqueue.queue_watchers set watched_until = now() - interval '1 second' where queue_id = 'unwatched'"
    )
    assert conn.execute("select fastqueue.watch_queue('watched', 'test', 0)").fetchone() == (None,)
    conn.execute("""select fastqueue.publish('events', '{"n": 6}')""")
    assert received(listener) == []
    conn.execute("select fastqueue.cleanup()")
    assert conn.execute("select count(*) from fastqueue.queue_watchers").fetchone() == (0,)


def test_watch_queue_refuses_bad_arguments(conn: psycopg.Connection) -> None:
    conn.execute("select fastqueue.create_queue('q', null, 30, 600)")
    with pytest.raises(psycopg.errors.NoDataFound, match="Queue not found"):
        conn.execute("select fastqueue.watch_queue('nope', 'test', 10)")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="seconds must be between 0 and 3600"):
        conn.execute("select fastqueue.watch_queue('q', 'test', 3601)")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="watcher must be 1 to 128 characters"):
        conn.execute("select fastqueue.watch_queue('q', '', 10)")
