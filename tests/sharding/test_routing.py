"""Message ids carry their shard (migration 0014), so the router sends ack, nack and the batch calls
to the shard that made the message, with no lookup (docs/sharding.md, Message ids; Batches)."""

import uuid
from collections.abc import Callable

import psycopg
import pytest

from tests.sharding.conftest import Sharded, one


def make_queue(router: psycopg.Connection, on_shard: Callable[[str, int], str], shard: int) -> tuple[str, str]:
    topic, queue = on_shard("events", shard), on_shard("work", shard)
    router.execute("select fastqueue.create_topic(%s)", (topic,))
    router.execute("select fastqueue.create_queue(%s, %s, 30, 600)", (queue, topic))
    return topic, queue


def stored(sharded: Sharded, shard: int, message_id: str) -> bool:
    with sharded.shard(shard) as conn:
        return bool(
            one(
                conn,
                "select exists (select from fastqueue.messages where id = %s)",
                (message_id,),
            )[0]
        )


def test_an_ack_goes_to_the_shard_in_the_message_id(
    sharded: Sharded, router: psycopg.Connection, on_shard: Callable[[str, int], str]
) -> None:
    for shard in (0, 1):
        topic, queue = make_queue(router, on_shard, shard)
        (message_id,) = one(router, "select id::text from fastqueue.publish(%s, '{\"n\": 1}')", (topic,))
        # The three hex digits after the version nibble are the shard number.
        assert message_id[14:18] == f"7{shard:03x}"
        assert router.execute("select fastqueue_router.message_shard(%s)", (message_id,)).fetchone() == (shard,)
        assert stored(sharded, shard, message_id) and not stored(sharded, 1 - shard, message_id)
        leased = router.execute(
            "select id::text, delivery_attempts from fastqueue.consume(%s, 10)",
            (queue,),
        ).fetchall()
        assert leased == [(message_id, 1)]
        assert router.execute("select fastqueue.ack(%s)", (message_id,)).fetchone() == (True,)
        assert not stored(sharded, shard, message_id)
        # Acked once: a second ack finds nothing, as on one database.
        assert router.execute("select fastqueue.ack(%s)", (message_id,)).fetchone() == (False,)


def test_batches_split_by_shard(
    sharded: Sharded, router: psycopg.Connection, on_shard: Callable[[str, int], str]
) -> None:
    queues = []
    for shard in (0, 1):
        topic, queue = make_queue(router, on_shard, shard)
        router.execute(
            "select fastqueue.publish_batch(%s, %s)",
            (topic, '[{"data": {"n": 1}}, {"data": {"n": 2}}]'),
        )
        queues.append(queue)
    leased = [
        row[0] for queue in queues for row in router.execute("select id from fastqueue.consume(%s, 10)", (queue,))
    ]
    assert len(leased) == 4
    # nack_messages over both shards: each shard makes its two available again.
    assert router.execute("select fastqueue.nack_messages(%s::uuid[])", (leased,)).fetchone() == (4,)
    again = [row[0] for queue in queues for row in router.execute("select id from fastqueue.consume(%s, 10)", (queue,))]
    assert sorted(map(str, again)) == sorted(map(str, leased))
    # ack_messages with one id of each shard twice and an unknown id: 4 acked, as one database counts.
    unknown = uuid.UUID("01a23520-8c27-7001-944c-ef9f46ac07a6")
    assert router.execute(
        "select fastqueue.ack_messages(%s::uuid[])",
        ([*again, again[0], again[3], unknown],),
    ).fetchone() == (4,)
    for queue in queues:
        assert router.execute(
            "select total_messages from fastqueue.queue_depths() where queue_id = %s",
            (queue,),
        ).fetchone() == (0,)


def test_the_callers_size_settings_reach_the_shard(
    router: psycopg.Connection, on_shard: Callable[[str, int], str]
) -> None:
    """The gateway sets fastqueue.max_message_bytes (and max_response_bytes) on its router connections;
    the shard's publish must obey it, for that call only."""
    topic, _ = make_queue(router, on_shard, 1)
    big = '{"text": "' + "x" * 300 + '"}'
    router.execute("set fastqueue.max_message_bytes = 200")
    with pytest.raises(psycopg.errors.ProgramLimitExceeded) as refused:
        router.execute("select fastqueue.publish(%s, %s::jsonb)", (topic, big))
    assert str(refused.value).startswith("Message too large"), str(refused.value)
    router.execute("reset fastqueue.max_message_bytes")
    (published,) = one(router, "select count(*) from fastqueue.publish(%s, %s::jsonb)", (topic, big))
    assert published == 1
