"""Calls over all shards give one database's answer (docs/sharding.md, Calls over all shards): list
pages in id order with offset/limit across shards, also past the shards' own page limit (1000), the
shards' errors for a bad offset or limit, and the union of queue_depths and the overview."""

from collections.abc import Callable

import psycopg
import pytest

from tests.sharding.conftest import Sharded, one


def every_id(sharded: Sharded, function: str) -> list[str]:
    """What one database holding every shard's rows would list: the shards' ids, merged in id order."""
    ids = []
    for shard in (0, 1):
        with sharded.shard(shard) as conn:
            offset = 0
            while page := [row[0] for row in conn.execute(f"select id from fastqueue.{function}(%s, 1000)", (offset,))]:
                ids += page
                offset += len(page)
    with sharded.router() as router:
        # In the router's collation, which db-migrate checked is the shards'.
        return [row[0] for row in router.execute("select unnest(%s::text[]) as id order by id", (ids,))]


def pages(router: psycopg.Connection, function: str, limit: int) -> list[str]:
    ids: list[str] = []
    while page := [row[0] for row in router.execute(f"select id from fastqueue.{function}(%s, %s)", (len(ids), limit))]:
        assert len(page) <= limit
        ids += page
    return ids


def test_topic_and_queue_pages_across_shards(
    sharded: Sharded, router: psycopg.Connection, on_shard: Callable[[str, int], str]
) -> None:
    for shard in (0, 1):
        for n in range(4):
            topic = on_shard(f"list{n}", shard)
            router.execute("select fastqueue.create_topic(%s)", (topic,))
            router.execute(
                "select fastqueue.create_queue(%s, %s, 30, 600)",
                (on_shard(f"listq{n}", shard), topic),
            )
    for function in ("list_topics", "list_queues"):
        expected = every_id(sharded, function)
        assert len(expected) >= 8
        for limit in (1, 3, 1000):
            assert pages(router, function, limit) == expected, (function, limit)
        assert [row[0] for row in router.execute(f"select id from fastqueue.{function}()")] == expected[:10]
        assert [row[0] for row in router.execute(f"select id from fastqueue.{function}(5, 2)")] == expected[5:7]


def test_a_page_past_the_shards_page_limit(sharded: Sharded, router: psycopg.Connection) -> None:
    # 1,005 topics made on shard 0 directly (lists read the shards; placement does not matter to them).
    with sharded.shard(0) as shard:
        shard.execute("select fastqueue.create_topic('bulk-' || lpad(n::text, 4, '0')) from generate_series(1, 1005) n")
    expected = every_id(sharded, "list_topics")
    assert len(expected) > 1010
    assert [row[0] for row in router.execute("select id from fastqueue.list_topics(995, 20)")] == expected[995:1015]
    assert [row[0] for row in router.execute("select id from fastqueue.list_topics(0, 1000)")] == expected[:1000]


@pytest.mark.parametrize(("offset", "limit"), [(-1, 10), (0, 0), (0, 1001)])
def test_bad_pages_get_the_shards_error(sharded: Sharded, router: psycopg.Connection, offset: int, limit: int) -> None:
    with (
        sharded.shard(1) as shard,
        pytest.raises(psycopg.errors.InvalidParameterValue) as on_shard,
    ):
        shard.execute("select * from fastqueue.list_queues(%s, %s)", (offset, limit))
    with pytest.raises(psycopg.errors.InvalidParameterValue) as refused:
        router.execute("select * from fastqueue.list_queues(%s, %s)", (offset, limit))
    assert refused.value.diag.message_primary == on_shard.value.diag.message_primary
    assert refused.value.diag.message_detail == on_shard.value.diag.message_detail


def test_depths_and_overview_cover_every_shard(
    sharded: Sharded, router: psycopg.Connection, on_shard: Callable[[str, int], str]
) -> None:
    queues = []
    for shard in (0, 1):
        topic, queue = on_shard("depth", shard), on_shard("depthq", shard)
        router.execute("select fastqueue.create_topic(%s)", (topic,))
        router.execute("select fastqueue.create_queue(%s, %s, 30, 600)", (queue, topic))
        for _ in range(shard + 1):
            router.execute("select fastqueue.publish(%s, '{}')", (topic,))
        queues.append(queue)
    depths: dict[str, int] = dict(
        router.execute("select queue_id, available_messages from fastqueue.queue_depths()").fetchall()
    )
    assert depths[queues[0]] == 1 and depths[queues[1]] == 2
    overview: dict[str, int] = dict(
        router.execute("select id, available_messages from fastqueue.queue_overview").fetchall()
    )
    assert overview[queues[0]] == 1 and overview[queues[1]] == 2
    shard_rows = 0
    for shard in (0, 1):
        with sharded.shard(shard) as conn:
            shard_rows += one(conn, "select count(*) from fastqueue.queue_overview")[0]
    assert router.execute("select count(*) from fastqueue.queue_overview").fetchone() == (shard_rows,)
    summary = router.execute("select * from fastqueue.cleanup()").fetchone()
    assert summary is not None and all(isinstance(value, int) for value in summary)
