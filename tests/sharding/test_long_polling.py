"""Long polling through a gateway on the router (docs/sharding.md, Long polling): given the shards' URLs,
the gateway LISTENs on every shard, so a publish to a queue on shard 1 wakes its long poll by that
shard's NOTIFY. The gateway runs in this process (TestClient, with its lifespan) so that its safety
re-check can be set to 10 minutes: a poll of 20 s can then only be woken by a notification, and a
gateway that does not hear shard 1 answers an empty list after its 20 s."""

import concurrent.futures
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from fastqueue.gateway import listener
from fastqueue.gateway.main import create_app
from fastqueue.settings import Settings

from tests.sharding.conftest import Sharded

LISTENER_APPLICATION = "fastqueue-listener"
QUEUE_SETTINGS = {"ack_deadline_seconds": 30, "message_retention_seconds": 86400}


@pytest.fixture
def gateway(sharded: Sharded, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(listener, "RECHECK_INTERVAL_SECONDS", 600.0)
    settings = Settings(database_url=sharded.router_url, shard_urls=",".join(sharded.shard_urls))
    with TestClient(create_app(settings)) as client:
        yield client


def listener_pids(shard: psycopg.Connection) -> list[int]:
    return [
        pid
        for (pid,) in shard.execute(
            "select pid from pg_stat_activity where datname = current_database() and application_name = %s"
            " and query = 'listen fastqueue_available'",
            (LISTENER_APPLICATION,),
        ).fetchall()
    ]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)


def test_a_long_poll_on_shard_1_is_woken_by_the_shards_notify(
    sharded: Sharded, gateway: TestClient, on_shard: Callable[[str, int], str]
) -> None:
    topic, queue = on_shard("wake", 1), on_shard("wakeq", 1)
    assert gateway.post("/topics", json={"id": topic}).status_code == 201
    assert gateway.post("/queues", json={"id": queue, "topic_id": topic, **QUEUE_SETTINGS}).status_code == 201
    with sharded.shard(1) as shard, sharded.router() as router:
        wait_for(lambda: bool(listener_pids(shard)), "the gateway LISTENs on shard 1")
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            poll = pool.submit(gateway.get, f"/queues/{queue}/messages", params={"wait_seconds": 20})
            wait_for(
                lambda: bool(
                    shard.execute("select 1 from fastqueue.queue_watchers where queue_id = %s", (queue,)).fetchone()
                ),
                "the long poll watches its queue on shard 1",
            )
            # After its watch the poll consumes once more, then waits: publish once it waits (a margin,
            # not an assertion), so that only a notification can bring the message.
            time.sleep(1.0)
            router.execute("select fastqueue.publish(%s, '{\"n\": 1}')", (topic,))
            response = poll.result(timeout=60)
    assert response.status_code == 200, response.text
    assert [message["data"] for message in response.json()["data"]] == [{"n": 1}]


def test_each_shards_listen_connection_reconnects_on_its_own(sharded: Sharded, gateway: TestClient) -> None:
    with sharded.shard(0) as shard0, sharded.shard(1) as shard1:
        wait_for(lambda: bool(listener_pids(shard0)) and bool(listener_pids(shard1)), "a LISTEN on each shard")
        (kept,), (lost,) = listener_pids(shard0), listener_pids(shard1)
        shard1.execute("select pg_terminate_backend(%s)", (lost,))
        wait_for(lambda: listener_pids(shard1) not in ([], [lost]), "shard 1's LISTEN connection comes back")
        assert listener_pids(shard0) == [kept]
