"""What the gateway holds per request is bounded by what the client sent or asked for (issue 13,
item 10): a batch publish answers ids and queue ids only; `Prefer: return=minimal` does the same for a
single publish; a consume leases no more than fits in FASTQUEUE_MAX_RESPONSE_BYTES (always one message),
a limit applied in SQL while leasing (the setting fastqueue.max_response_bytes), never by dropping
leased messages. The peak RSS of the server process for the issue's cases is measured in
tests/api/test_memory.py."""

import json
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest

from tests.api.conftest import Server, migrated_database
from tests.conftest import drop_database

SMALL_LIMIT = 200_000


@pytest.fixture(scope="module")
def small_limit_server(template_database: str, server_factory: Callable[..., Server]) -> Iterator[tuple[Server, str]]:
    name, url = migrated_database(template_database, "fq_response_size")
    server = server_factory(url, FASTQUEUE_MAX_RESPONSE_BYTES=str(SMALL_LIMIT))
    yield server, url
    server.stop()
    drop_database(name)


def _topic_with_queues(http: httpx.Client, uid: Callable[[str], str], count: int) -> tuple[str, list[str]]:
    topic_id = uid("t")
    assert http.post("/topics", json={"id": topic_id}).status_code == 201
    queue_ids = []
    for n in range(count):
        body = {"id": uid(f"q{n}"), "topic_id": topic_id, "ack_deadline_seconds": 30, "message_retention_seconds": 600}
        assert http.post("/queues", json=body).status_code == 201
        queue_ids.append(body["id"])
    return topic_id, sorted(queue_ids)


def test_a_batch_publish_answers_ids_and_queue_ids(client: httpx.Client, uid: Callable[[str], str]) -> None:
    topic_id, queue_ids = _topic_with_queues(client, uid, 3)
    messages = [{"data": {"n": n, "text": "x" * 1000}} for n in range(4)]
    response = client.post(f"/topics/{topic_id}/messages/batch", json={"messages": messages})
    assert response.status_code == 201, response.text
    answer = response.json()["data"]
    assert [list(item) for item in answer] == [["id", "queue_id"]] * 12
    assert [item["queue_id"] for item in answer] == queue_ids * 4  # message by message, queues in id order
    assert len(response.content) < 2000
    consumed = client.get(f"/queues/{queue_ids[0]}/messages").json()["data"]
    # One transaction: every copy has the same scheduled_at, so consume's order among them is free.
    assert sorted(m["id"] for m in consumed) == sorted(
        item["id"] for item in answer if item["queue_id"] == queue_ids[0]
    )


def test_prefer_return_minimal_answers_ids_only(client: httpx.Client, uid: Callable[[str], str]) -> None:
    topic_id, queue_ids = _topic_with_queues(client, uid, 2)
    body = {"data": {"text": "x" * 1000}}
    minimal = client.post(f"/topics/{topic_id}/messages", json=body, headers={"Prefer": "return=minimal"})
    assert minimal.status_code == 201, minimal.text
    assert minimal.headers["preference-applied"] == "return=minimal"
    assert [sorted(m) for m in minimal.json()["data"]] == [["id", "queue_id"]] * 2
    assert [m["queue_id"] for m in minimal.json()["data"]] == queue_ids
    full = client.post(f"/topics/{topic_id}/messages", json=body)
    assert full.status_code == 201 and "preference-applied" not in full.headers
    assert all(m["data"] == body["data"] for m in full.json()["data"])
    # Other preferences, or none this route knows, change nothing.
    other = client.post(f"/topics/{topic_id}/messages", json=body, headers={"Prefer": "respond-async, wait=5"})
    assert other.status_code == 201 and "preference-applied" not in other.headers
    assert all("data" in m for m in other.json()["data"])


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_a_consume_leases_only_what_fits_in_the_answer(
    small_limit_server: tuple[Server, str], uid: Callable[[str], str]
) -> None:
    server, database_url = small_limit_server
    with httpx.Client(base_url=server.url, timeout=30) as http:
        topic_id, [queue_id] = _topic_with_queues(http, uid, 1)
        for n in range(10):
            assert (
                http.post(f"/topics/{topic_id}/messages", json={"data": {"n": n, "text": "x" * 50_000}}).status_code
                == 201
            )
        consumed = http.get(f"/queues/{queue_id}/messages", params={"limit": 10})
        assert consumed.status_code == 200, consumed.text[:200]
        assert len(consumed.content) <= SMALL_LIMIT
        first = [m["data"]["n"] for m in consumed.json()["data"]]
        assert first == [0, 1, 2]  # 3 of about 50 KB fit in 200,000 bytes, a fourth would not
        with psycopg.connect(database_url) as conn:
            leased = conn.execute(
                "select count(*) filter (where delivery_attempts > 0), count(*) from fastqueue.messages where queue_id = %s",
                (queue_id,),
            ).fetchone()
        assert leased == (3, 10), "leased exactly what was answered"
        rest = http.get(f"/queues/{queue_id}/messages", params={"limit": 10}).json()["data"]
        assert [m["data"]["n"] for m in rest] == [3, 4, 5]


def test_one_message_larger_than_the_limit_is_still_delivered(
    small_limit_server: tuple[Server, str], uid: Callable[[str], str]
) -> None:
    server, _ = small_limit_server
    with httpx.Client(base_url=server.url, timeout=30) as http:
        topic_id, [queue_id] = _topic_with_queues(http, uid, 1)
        for n in range(2):
            assert (
                http.post(f"/topics/{topic_id}/messages", json={"data": {"n": n, "text": "y" * 300_000}}).status_code
                == 201
            )
        for n in range(2):
            consumed = http.get(f"/queues/{queue_id}/messages", params={"limit": 10})
            assert consumed.status_code == 200
            assert [m["data"]["n"] for m in consumed.json()["data"]] == [n]


def test_sql_consume_obeys_the_setting_and_ignores_it_when_unset(
    db: psycopg.Connection, client: httpx.Client, uid: Callable[[str], str]
) -> None:
    topic_id, [queue_id] = _topic_with_queues(client, uid, 1)
    for n in range(4):
        db.execute("select fastqueue.publish(%s, %s::jsonb)", (topic_id, json.dumps({"n": n, "text": "z" * 10_000})))
    with db.transaction():
        db.execute("set local fastqueue.max_response_bytes = 25000")
        assert len(db.execute("select * from fastqueue.consume(%s, 10)", (queue_id,)).fetchall()) == 2
    assert len(db.execute("select * from fastqueue.consume(%s, 10)", (queue_id,)).fetchall()) == 2
