"""The gateway needs no more than fastqueue_admin: a server logged in as a login role that holds it
(as compose's server and worker do, docker/postgres/gateway-role.sql) serves every kind of call,
long polls included, and the worker's cleanup() runs with it too."""

from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.api.conftest import Server, migrated_database
from tests.conftest import ADMIN_URL, drop_database, unique_name


@pytest.fixture
def gateway_login() -> Iterator[str]:
    name = unique_name("fq_gateway")
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("create role {} login in role fastqueue_admin").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))


def test_a_gateway_holding_only_fastqueue_admin_serves_every_call(
    template_database: str, gateway_login: str, server_factory: Callable[..., Server]
) -> None:
    name, url = migrated_database(template_database, "fq_gateway")
    try:
        gateway_url = url.replace("://postgres@", f"://{gateway_login}@", 1)
        with psycopg.connect(gateway_url) as conn:
            assert conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone() == (False,)
        server = server_factory(gateway_url)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.post("/topics", json={"id": "events"}).status_code == 201
            for queue in ("work", "other"):
                body = {"id": queue, "topic_id": "events", "ack_deadline_seconds": 30, "message_retention_seconds": 600}
                assert client.post("/queues", json=body).status_code == 201
            assert client.post("/topics/events/messages", json={"data": {"n": 1}}).status_code == 201
            batch = {"messages": [{"data": {"n": 2}, "deduplication_id": "d"}, {"data": {"n": 3}}]}
            assert client.post("/topics/events/messages/batch", json=batch).status_code == 201
            leased = client.get("/queues/work/messages", params={"limit": 10, "wait_seconds": 5}).json()["data"]
            assert len(leased) == 3
            assert client.put(f"/messages/{leased[0]['id']}/ack").status_code == 204
            assert client.put(f"/messages/{leased[1]['id']}/nack").status_code == 204
            assert client.post("/messages/ack", json={"ids": [leased[2]["id"]]}).json() == {"acked": 1}
            assert client.get("/queues/work/stats").status_code == 200
            assert client.get("/queues/work/peek").status_code == 200
            assert client.get("/overview/queues").status_code == 200
            assert client.get("/overview/topics").status_code == 200
            assert client.put("/queues/other/redrive", json={"destination_queue_id": "work"}).status_code == 204
            assert client.put("/queues/work/purge").status_code == 204
            assert client.get("/metrics").status_code == 200
            assert client.delete("/queues/other").status_code == 204
        assert "Traceback" not in server.log() and "permission denied" not in server.log()
        with psycopg.connect(gateway_url) as conn:  # what `fastqueue worker` calls
            assert conn.execute("select expired_messages from fastqueue.cleanup()").fetchone() == (0,)
    finally:
        drop_database(name)
