"""Placement on a 2-shard router (docs/sharding.md, Placement): a topic lands on its id's hash shard and
its queues follow it; what would put a queue, its topic, its dead queue or a redrive's destination on two
shards is refused with 22023 and changes nothing; the API's own errors come with the shard's texts."""

from collections.abc import Callable

import psycopg
import pytest

from tests.sharding.conftest import Sharded, one


def holds(sharded: Sharded, shard: int, table: str, object_id: str) -> bool:
    with sharded.shard(shard) as conn:
        return bool(
            one(
                conn,
                f"select exists (select from fastqueue.{table} where id = %s)",
                (object_id,),
            )[0]
        )


def placement(router: psycopg.Connection, kind: str, object_id: str) -> int | None:
    row = router.execute(
        "select shard from fastqueue_router.placements where kind = %s and id = %s",
        (kind, object_id),
    ).fetchone()
    return None if row is None else row[0]


def test_a_topic_and_its_queues_live_on_the_topic_shard(
    sharded: Sharded, router: psycopg.Connection, on_shard: Callable[[str, int], str]
) -> None:
    for shard in (0, 1):
        topic = on_shard("orders", shard)
        created = router.execute("select id from fastqueue.create_topic(%s)", (topic,)).fetchone()
        assert created == (topic,)
        # Queue ids that hash to the other shard still follow their topic, or their dead queue.
        dead = on_shard("dead", 1 - shard)
        work = on_shard("work", 1 - shard)
        router.execute("select fastqueue.create_queue(%s, %s, 30, 600)", (dead, topic))
        router.execute(
            "select fastqueue.create_queue(%s, null, 30, 600, dead_queue_id => %s, message_max_deliveries => 3)",
            (work, dead),
        )
        assert placement(router, "topic", topic) == shard
        assert placement(router, "queue", dead) == shard
        assert placement(router, "queue", work) == shard
        assert holds(sharded, shard, "topics", topic) and not holds(sharded, 1 - shard, "topics", topic)
        assert holds(sharded, shard, "queues", work) and not holds(sharded, 1 - shard, "queues", work)
        assert router.execute("select id, dead_queue_id from fastqueue.get_queue(%s)", (work,)).fetchone() == (
            work,
            dead,
        )


def test_crossing_shards_is_refused_and_changes_nothing(
    sharded: Sharded, router: psycopg.Connection, on_shard: Callable[[str, int], str]
) -> None:
    topic0, topic1 = on_shard("left", 0), on_shard("right", 1)
    router.execute(
        "select fastqueue.create_topic(%s), fastqueue.create_topic(%s)",
        (topic0, topic1),
    )
    dead1 = on_shard("dead", 1)
    router.execute("select fastqueue.create_queue(%s, %s, 30, 600)", (dead1, topic1))
    crossing = on_shard("crossing", 0)
    with pytest.raises(psycopg.errors.InvalidParameterValue) as refused:
        router.execute(
            "select fastqueue.create_queue(%s, %s, 30, 600, dead_queue_id => %s, message_max_deliveries => 3)",
            (crossing, topic0, dead1),
        )
    assert refused.value.diag.message_primary == (
        f"Queue {crossing} is on shard 0 but dead queue {dead1} is on shard 1: a queue, its topic, its dead queue"
        " and a redrive's destination must be on one shard"
    )
    assert refused.value.diag.message_hint
    assert placement(router, "queue", crossing) is None
    assert not holds(sharded, 0, "queues", crossing) and not holds(sharded, 1, "queues", crossing)

    work0 = on_shard("work", 0)
    router.execute("select fastqueue.create_queue(%s, %s, 30, 600)", (work0, topic0))
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=f"topic {topic1} is on shard 1"):
        router.execute("select fastqueue.update_queue(%s, %s, 30, 600)", (work0, topic1))
    assert router.execute("select topic_id from fastqueue.get_queue(%s)", (work0,)).fetchone() == (topic0,)
    with pytest.raises(
        psycopg.errors.InvalidParameterValue,
        match=f"destination queue {dead1} is on shard 1",
    ):
        router.execute("select fastqueue.redrive_queue(%s, %s)", (work0, dead1))


def test_the_api_errors_are_the_shards_own(router: psycopg.Connection, on_shard: Callable[[str, int], str]) -> None:
    topic = on_shard("dup", 1)
    router.execute("select fastqueue.create_topic(%s)", (topic,))
    with pytest.raises(psycopg.errors.UniqueViolation) as duplicate:
        router.execute("select fastqueue.create_topic(%s)", (topic,))
    assert duplicate.value.diag.message_primary == "This topic already exists"
    with pytest.raises(psycopg.errors.NoDataFound) as missing:
        router.execute("select fastqueue.publish(%s, '{}')", ("no-such-topic",))
    assert missing.value.diag.message_primary == "Topic not found"
    with pytest.raises(psycopg.errors.NoDataFound) as missing_queue:
        router.execute(
            "select fastqueue.create_queue(%s, %s, 30, 600)",
            (on_shard("q", 1), "no-such-topic"),
        )
    assert missing_queue.value.diag.message_primary == "Topic not found"
    # A shard's bad-argument error, with its detail, without PL/Proxy's "REMOTE ERROR" prefixes.
    with pytest.raises(psycopg.errors.InvalidParameterValue) as bad:
        router.execute("select fastqueue.create_queue(%s, %s, 0, 600)", (on_shard("q", 1), topic))
    assert bad.value.diag.message_primary == "ack_deadline_seconds must be between 1 and 600"


def test_deleting_forgets_the_placement(
    sharded: Sharded, router: psycopg.Connection, on_shard: Callable[[str, int], str]
) -> None:
    topic = on_shard("gone", 1)
    router.execute("select fastqueue.create_topic(%s)", (topic,))
    assert router.execute("select id from fastqueue.delete_topic(%s)", (topic,)).fetchone() == (topic,)
    assert placement(router, "topic", topic) is None and not holds(sharded, 1, "topics", topic)
    router.execute("select fastqueue.create_topic(%s)", (topic,))
    assert placement(router, "topic", topic) == 1
