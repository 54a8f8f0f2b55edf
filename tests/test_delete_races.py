"""Calls that race a delete_queue or delete_topic committing beside them, on two real connections:
they answer P0002 "Queue not found" / "Topic not found" or wait for the delete, never a foreign-key
error (23503) or a null-value error, and moves never leave messages under a queue that is gone."""

from collections.abc import Callable

import psycopg
import pytest

from tests.concurrency import Call, wait_until_blocked_or_done

RETENTION = 1209600


def setup(database_url: str, *statements: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def run_beside(database_url: str, delete: str, call: Callable[[psycopg.Connection], object]) -> Call:
    """Runs `delete` in an open transaction, starts `call` beside it, commits the delete once the
    call waits for it (or has finished), and returns the finished call."""
    with psycopg.connect(database_url) as deleter, psycopg.connect(database_url, autocommit=True) as observer:
        deleter.execute(delete)
        running = Call(database_url, call)
        wait_until_blocked_or_done(observer, running)
        deleter.commit()
        return running.join()


def assert_not_found(call: Call, message: str) -> None:
    assert isinstance(call.error, psycopg.Error), f"expected {message!r}, got the result {call.result!r}"
    assert (call.error.sqlstate, call.error.diag.message_primary) == ("P0002", message), (
        f"expected P0002 {message!r}, got {call.error.sqlstate} {call.error.diag.message_primary!r}"
    )


def orphans(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(
            "select count(*) from fastqueue.messages m where not exists (select from fastqueue.queues q where q.id = m.queue_id)"
        ).fetchone()[0]


# Item 4: moves lock the queue they move into.


def test_redrive_into_a_queue_being_deleted_fails_and_keeps_the_messages(database_url: str) -> None:
    setup(
        database_url,
        f"select fastqueue.create_queue('source', null, 600, {RETENTION})",
        f"select fastqueue.create_queue('destination', null, 600, {RETENTION})",
        "insert into fastqueue.messages (queue_id, data, expired_at, scheduled_at)"
        " select 'source', jsonb_build_object('n', n), now() + interval '1 hour', now() from generate_series(1, 3) n",
    )
    redrive = run_beside(
        database_url,
        "select fastqueue.delete_queue('destination')",
        lambda conn: conn.execute("select fastqueue.redrive_queue('source', 'destination')").fetchone()[0],
    )
    assert_not_found(redrive, "Queue not found")
    with psycopg.connect(database_url, autocommit=True) as conn:
        left = conn.execute("select count(*) from fastqueue.messages where queue_id = 'source'").fetchone()[0]
    assert left == 3, f"{3 - left} messages left the source for a queue that is gone"
    assert orphans(database_url) == 0


def test_a_delete_beside_a_redrive_into_its_queue_waits_and_takes_the_moved_messages(database_url: str) -> None:
    setup(
        database_url,
        f"select fastqueue.create_queue('source', null, 600, {RETENTION})",
        f"select fastqueue.create_queue('destination', null, 600, {RETENTION})",
        "insert into fastqueue.messages (queue_id, data, expired_at, scheduled_at)"
        " select 'source', jsonb_build_object('n', n), now() + interval '1 hour', now() from generate_series(1, 3) n",
    )
    delete = run_beside(
        database_url,
        "select fastqueue.redrive_queue('source', 'destination')",
        lambda conn: conn.execute("select id from fastqueue.delete_queue('destination')").fetchone()[0],
    )
    assert delete.error is None, delete.error
    # The redrive committed first; the delete then took the destination with the messages moved into it.
    assert orphans(database_url) == 0, "messages were left under a queue that no longer exists"


def test_cleanup_beside_a_delete_of_the_dead_queue_leaves_the_messages_in_their_queue(database_url: str) -> None:
    setup(
        database_url,
        f"select fastqueue.create_queue('dead', null, 600, {RETENTION})",
        f"select fastqueue.create_queue('work', null, 600, {RETENTION}, dead_queue_id => 'dead', message_max_deliveries => 1)",
        # Delivered once, its lease over: cleanup would move it to 'dead'.
        "insert into fastqueue.messages (queue_id, data, delivery_attempts, expired_at, scheduled_at)"
        " values ('work', '{\"n\": 1}', 1, now() + interval '1 hour', now() - interval '1 second')",
    )
    cleanup = run_beside(
        database_url,
        "select fastqueue.delete_queue('dead')",
        lambda conn: conn.execute("select dead_lettered_messages from fastqueue.cleanup()").fetchone()[0],
    )
    assert cleanup.error is None, cleanup.error
    assert cleanup.result == 0
    assert orphans(database_url) == 0, "cleanup moved the message into the deleted dead queue"
    with psycopg.connect(database_url, autocommit=True) as conn:
        # 'work' lost its dead queue and its delivery limit with it: the message is delivered again.
        [(queue_id,)] = conn.execute("select queue_id from fastqueue.consume('work')").fetchall()
    assert queue_id == "work"


def test_a_delete_of_the_dead_queue_beside_cleanup_waits_and_takes_the_moved_messages(database_url: str) -> None:
    setup(
        database_url,
        f"select fastqueue.create_queue('dead', null, 600, {RETENTION})",
        f"select fastqueue.create_queue('work', null, 600, {RETENTION}, dead_queue_id => 'dead', message_max_deliveries => 1)",
        "insert into fastqueue.messages (queue_id, data, delivery_attempts, expired_at, scheduled_at)"
        " values ('work', '{\"n\": 1}', 1, now() + interval '1 hour', now() - interval '1 second')",
    )
    delete = run_beside(
        database_url,
        "select fastqueue.cleanup()",
        lambda conn: conn.execute("select id from fastqueue.delete_queue('dead')").fetchone()[0],
    )
    assert delete.error is None, delete.error
    assert orphans(database_url) == 0, "the dead-lettered message was left under the deleted dead queue"


# Item 6: a topic or dead queue deleted beside create_queue, update_queue or a deduplicated publish.


def test_create_queue_on_a_topic_being_deleted_answers_topic_not_found(database_url: str) -> None:
    setup(database_url, "select fastqueue.create_topic('events')")
    create = run_beside(
        database_url,
        "select fastqueue.delete_topic('events')",
        lambda conn: conn.execute(
            f"select id from fastqueue.create_queue('jobs', 'events', 30, {RETENTION})"
        ).fetchone(),
    )
    assert_not_found(create, "Topic not found")


def test_create_queue_with_a_dead_queue_being_deleted_answers_queue_not_found(database_url: str) -> None:
    setup(database_url, f"select fastqueue.create_queue('dead', null, 30, {RETENTION})")
    create = run_beside(
        database_url,
        "select fastqueue.delete_queue('dead')",
        lambda conn: conn.execute(
            f"select id from fastqueue.create_queue('jobs', null, 30, {RETENTION},"
            " dead_queue_id => 'dead', message_max_deliveries => 3)"
        ).fetchone(),
    )
    assert_not_found(create, "Queue not found")


def test_update_queue_onto_a_topic_being_deleted_answers_topic_not_found(database_url: str) -> None:
    setup(
        database_url,
        "select fastqueue.create_topic('events')",
        f"select fastqueue.create_queue('jobs', null, 30, {RETENTION})",
    )
    update = run_beside(
        database_url,
        "select fastqueue.delete_topic('events')",
        lambda conn: conn.execute(
            f"select id from fastqueue.update_queue('jobs', 'events', 30, {RETENTION})"
        ).fetchone(),
    )
    assert_not_found(update, "Topic not found")


def test_update_queue_with_a_dead_queue_being_deleted_answers_queue_not_found(database_url: str) -> None:
    setup(
        database_url,
        f"select fastqueue.create_queue('dead', null, 30, {RETENTION})",
        f"select fastqueue.create_queue('jobs', null, 30, {RETENTION})",
    )
    update = run_beside(
        database_url,
        "select fastqueue.delete_queue('dead')",
        lambda conn: conn.execute(
            f"select id from fastqueue.update_queue('jobs', null, 30, {RETENTION},"
            " dead_queue_id => 'dead', message_max_deliveries => 3)"
        ).fetchone(),
    )
    assert_not_found(update, "Queue not found")


@pytest.mark.parametrize("function", ["publish", "publish_batch"])
def test_a_deduplicated_publish_to_a_topic_being_deleted_answers_topic_not_found(
    database_url: str, function: str
) -> None:
    setup(
        database_url,
        "select fastqueue.create_topic('events')",
        f"select fastqueue.create_queue('jobs', 'events', 30, {RETENTION})",
    )
    if function == "publish":
        statement = "select count(*) from fastqueue.publish('events', '{\"n\": 1}', deduplication_id => 'order-42')"
    else:
        statement = (
            "select count(*) from fastqueue.publish_batch('events',"
            ' \'[{"data": {"n": 1}, "deduplication_id": "order-42"}]\')'
        )
    publish = run_beside(
        database_url, "select fastqueue.delete_topic('events')", lambda conn: conn.execute(statement).fetchone()
    )
    assert_not_found(publish, "Topic not found")


# Item 7: settling a message whose queue was deleted under it.


@pytest.fixture
def orphan_id(database_url: str) -> str:
    """A message left behind by a publish that committed after delete_queue (messages has no foreign key)."""
    setup(
        database_url,
        "select fastqueue.create_topic('events')",
        f"select fastqueue.create_queue('jobs', 'events', 30, {RETENTION})",
    )
    with psycopg.connect(database_url) as publisher, psycopg.connect(database_url, autocommit=True) as admin:
        [(message_id,)] = publisher.execute("select id::text from fastqueue.publish('events', '{\"n\": 1}')").fetchall()
        admin.execute("select fastqueue.delete_queue('jobs')")
        publisher.commit()
        assert admin.execute("select queue_id from fastqueue.messages where id = %s", (message_id,)).fetchone() == (
            "jobs",
        )
    return message_id


@pytest.mark.parametrize(
    "statement",
    [
        "select fastqueue.nack(%s::uuid)",
        "select fastqueue.nack(%s::uuid, delivery_attempt => 1)",
        "select fastqueue.nack(%s::uuid, delay_seconds => 10)",
        "select fastqueue.set_deadline(%s::uuid, 60)",
        "select fastqueue.nack_messages(array[%s::uuid]) = 1",
    ],
)
def test_settling_a_message_whose_queue_was_deleted_finds_no_message(
    database_url: str, orphan_id: str, statement: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert conn.execute(statement, (orphan_id,)).fetchone() == (False,)
