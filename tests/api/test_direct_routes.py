"""The direct routes (app/gateway/direct.py) answer as FastAPI does: what their fast path reads (plain
query strings, application/json bodies) and what it leaves to FastAPI's own handler (escapes, repeated
names, leading zeros, other JSON content types, invalid fields) get the same values and the same errors."""

from collections.abc import Callable

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb


def _fill(db: psycopg.Connection, topic_id: str, n: int) -> None:
    for i in range(n):
        db.execute("select fastqueue.publish(%s, %s)", (topic_id, Jsonb({"n": i})))


@pytest.mark.parametrize(
    ("query", "leased"),
    [
        ("", 10),  # the default limit
        ("limit=3", 3),
        ("limit=003", 3),  # leading zeros: FastAPI's reading
        ("limit=%33", 3),  # an escape
        ("limit=7&limit=3", 3),  # a repeated name: the last one counts
        ("limit=3&unknown=1", 3),  # names the route does not have are ignored
        ("limit=3&wait_seconds=0", 3),
    ],
)
def test_consume_reads_its_query_string_as_fastapi_does(
    client: httpx.Client,
    db: psycopg.Connection,
    make_topic: Callable[..., str],
    make_queue: Callable[..., dict],
    query: str,
    leased: int,
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]
    _fill(db, topic_id, 12)
    response = client.get(f"/queues/{queue_id}/messages?{query}")
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == leased


@pytest.mark.parametrize(
    ("query", "loc", "error_type"),
    [
        ("limit=0", ["query", "limit"], "greater_than_equal"),
        ("limit=1001", ["query", "limit"], "less_than_equal"),
        ("limit=-1", ["query", "limit"], "greater_than_equal"),
        ("limit=ten", ["query", "limit"], "int_parsing"),
        ("wait_seconds=21", ["query", "wait_seconds"], "less_than_equal"),
    ],
)
def test_consume_refuses_a_bad_query_with_fastapis_422(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict], query: str, loc, error_type
) -> None:
    queue_id = make_queue(topic_id=make_topic())["id"]
    response = client.get(f"/queues/{queue_id}/messages?{query}")
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert (error["loc"], error["type"]) == (loc, error_type)


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/x+json"]
)
def test_publish_takes_every_json_content_type_fastapi_takes(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict], content_type: str
) -> None:
    topic_id = make_topic()
    make_queue(topic_id=topic_id)
    response = client.post(
        f"/topics/{topic_id}/messages", content=b'{"data": {"a": 1}}', headers={"content-type": content_type}
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"][0]["data"] == {"a": 1}


def test_publish_refuses_a_body_that_is_not_sent_as_json(client: httpx.Client, make_topic: Callable[..., str]) -> None:
    topic_id = make_topic()
    response = client.post(
        f"/topics/{topic_id}/messages", content=b'{"data": {"a": 1}}', headers={"content-type": "text/plain"}
    )
    assert response.status_code == 422, response.text
    assert "Content-Type: application/json" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/topics/{topic}/messages", {"data": [1]}, ["body", "data"]),
        ("/topics/{topic}/messages", {"data": {}, "delay_seconds": -1}, ["body", "delay_seconds"]),
        ("/queues/{queue}/messages/consume", {"limit": 0}, ["body", "limit"]),
        ("/queues/{queue}/messages/consume", {"ack_ids": ["not-a-uuid"]}, ["body", "ack_ids", 0]),
        ("/messages/ack", {"ids": []}, ["body", "ids"]),
        ("/messages/ack", {"ids": ["not-a-uuid"]}, ["body", "ids", 0]),
    ],
)
def test_an_invalid_body_gets_fastapis_422(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict], path: str, body, loc
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]
    response = client.post(path.format(topic=topic_id, queue=queue_id), json=body)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == loc


def test_a_body_that_is_not_an_object_gets_fastapis_422(client: httpx.Client, make_topic: Callable[..., str]) -> None:
    response = client.post(f"/topics/{make_topic()}/messages", json=[{"data": {}}])
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body"]
