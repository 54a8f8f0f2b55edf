"""The gateway pointed at a 2-shard router needs no change (docs/sharding.md): it answers the
quickstart exactly as on one database (tests/api/test_quickstart.py, run here against a router of its
own), and losing one shard makes only that shard's topics fail, with 503, while the other's work."""

import concurrent.futures
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.api.conftest import Server, start_server
from tests.api.test_quickstart import test_quickstart_walkthrough  # noqa: F401  (run here, on the router)
from tests.conftest import ADMIN_URL
from tests.sharding.conftest import Sharded, drop_sharded, make_sharded, plproxy_missing


def serve(router_url: str, log_dir: Path) -> Server:
    server = start_server(router_url, log_dir)
    server.wait_until_serving()
    return server


@pytest.fixture(scope="module")
def quickstart_server(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A gateway on an empty 2-shard router: the quickstart's GET /topics lists exactly its one topic."""
    reason = plproxy_missing()
    if reason:
        pytest.skip(reason)
    prefix = f"fq_quickstart_{uuid.uuid4().hex[:8]}"
    try:
        server = serve(
            make_sharded(prefix, template_database, command=False).router_url,
            tmp_path_factory.mktemp("sharded-quickstart"),
        )
        yield server
        server.stop()
    finally:
        drop_sharded(prefix)


@pytest.fixture(scope="module")
def gateway(sharded: Sharded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    server = serve(sharded.router_url, tmp_path_factory.mktemp("sharded-gateway"))
    with httpx.Client(base_url=server.url, timeout=15) as client:
        yield client
    server.stop()


def shard_database(sharded: Sharded, shard: int) -> str:
    return sharded.shard_urls[shard].rsplit("/", 1)[1]


def take_away(database: str, allow: bool) -> None:
    """Makes a shard unreachable (no new connections, its sessions ended), or reachable again."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            sql.SQL("alter database {} allow_connections {}").format(sql.Identifier(database), sql.SQL(str(allow)))
        )
        if not allow:
            admin.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s",
                (database,),
            )


def test_losing_a_shard_fails_only_its_topics(
    sharded: Sharded, gateway: httpx.Client, on_shard: Callable[[str, int], str]
) -> None:
    topics = []
    for shard in (0, 1):
        topic = on_shard("lose", shard)
        assert gateway.post("/topics", json={"id": topic}).status_code == 201
        queue = {
            "id": on_shard("loseq", shard),
            "topic_id": topic,
            "ack_deadline_seconds": 30,
            "message_retention_seconds": 600,
        }
        assert gateway.post("/queues", json=queue).status_code == 201
        topics.append(topic)
    message = {"data": {"n": 1}}
    take_away(shard_database(sharded, 1), allow=False)
    try:
        lost = gateway.post(f"/topics/{topics[1]}/messages", json=message)
        assert lost.status_code == 503, lost.text
        assert lost.headers["retry-after"] == "1"
        assert lost.json() == {"detail": "The database is unavailable, try again later"}
        assert gateway.post(f"/topics/{topics[0]}/messages", json=message).status_code == 201
        assert gateway.get(f"/topics/{topics[0]}").status_code == 200
        # A list needs every shard.
        assert gateway.get("/topics").status_code == 503
    finally:
        take_away(shard_database(sharded, 1), allow=True)
    # Back: PL/Proxy connects again on the next call.
    assert gateway.post(f"/topics/{topics[1]}/messages", json=message).status_code == 201


def test_a_long_poll_through_the_router_gets_a_later_message(
    gateway: httpx.Client, on_shard: Callable[[str, int], str]
) -> None:
    # The gateway LISTENs on the router, where no shard's NOTIFY arrives (docs/sharding.md, Long
    # polling): its once-a-second re-check (available_queues, split over the shards) wakes the wait.
    topic, queue = on_shard("poll", 1), on_shard("pollq", 1)
    assert gateway.post("/topics", json={"id": topic}).status_code == 201
    body = {
        "id": queue,
        "topic_id": topic,
        "ack_deadline_seconds": 30,
        "message_retention_seconds": 600,
    }
    assert gateway.post("/queues", json=body).status_code == 201
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(
            gateway.get,
            f"/queues/{queue}/messages",
            params={"wait_seconds": 20},
            timeout=40,
        )
        time.sleep(1)  # the request is waiting by now (if not, it leases the message at once: the same answer)
        assert gateway.post(f"/topics/{topic}/messages", json={"data": {"late": True}}).status_code == 201
        answer = waiting.result(timeout=40)
    assert answer.status_code == 200, answer.text
    assert [message["data"] for message in answer.json()["data"]] == [{"late": True}]
