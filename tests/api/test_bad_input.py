"""Bad input is a 4xx with a `detail` that says what is wrong, never a 500: FastAPI's field list for
what the request schemas catch, the database's sentence for what only SQL can tell."""

import json
from collections.abc import Callable

import httpx
import pytest

JSON = {"content-type": "application/json"}


@pytest.fixture
def topic_with_queue(make_topic: Callable[..., str], make_queue: Callable[..., dict]) -> tuple[str, str]:
    topic_id = make_topic()
    return topic_id, make_queue(topic_id=topic_id)["id"]


def assert_422(response: httpx.Response) -> object:
    assert response.status_code == 422, (response.request.url, response.status_code, response.text)
    detail = response.json()["detail"]
    assert detail
    return detail


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "unterminated',
        b"{'id': 'single-quotes'}",
        b"",
        b"not json at all",
        b'{"id": "a",}',
        b"\xff\xfe\x00garbage",
    ],
)
def test_malformed_json(client: httpx.Client, body: bytes) -> None:
    for method, path in (("POST", "/topics"), ("POST", "/queues"), ("PUT", "/queues/any/redrive")):
        assert_422(client.request(method, path, content=body, headers=JSON))


@pytest.mark.parametrize("body", [[], "events", 5, None, True, [{"id": "x"}]])
def test_body_not_an_object(client: httpx.Client, body: object) -> None:
    assert_422(client.post("/topics", json=body))
    assert_422(client.post("/queues", json=body))


@pytest.mark.parametrize(
    "payload",
    [
        {"data": []},
        {"data": "text"},
        {"data": 1},
        {"data": None},
        {"data": True},
        {},
        {"attributes": {"a": "b"}},
        {"data": {}, "attributes": []},
        {"data": {}, "attributes": "a=b"},
        {"data": {}, "attributes": {"n": 1}},
        {"data": {}, "attributes": {"flag": True}},
        {"data": {}, "attributes": {"none": None}},
        {"data": {}, "attributes": {"nested": {"a": "b"}}},
        {"data": {}, "attributes": {"list": ["a"]}},
    ],
)
def test_publish_shapes(client: httpx.Client, topic_with_queue: tuple[str, str], payload: dict) -> None:
    topic_id, queue_id = topic_with_queue
    assert_422(client.post(f"/topics/{topic_id}/messages", json=payload))
    assert client.get(f"/queues/{queue_id}/stats").json()["num_undelivered_messages"] == 0


@pytest.mark.parametrize(
    "raw",
    [
        r'{"data": {"text": "nul\u0000inside"}}',
        r'{"data": {"key\u0000": "nul in a key"}}',
        r'{"data": {"deep": [{"x": "\u0000"}]}}',
        r'{"data": {}, "attributes": {"a": "nul\u0000"}}',
        r'{"data": {"lone": "\ud800"}}',
        r'{"data": {"n": 1e999}}',
        r'{"data": {"n": NaN}}',
    ],
)
def test_json_postgresql_cannot_store(client: httpx.Client, topic_with_queue: tuple[str, str], raw: str) -> None:
    topic_id, queue_id = topic_with_queue
    detail = assert_422(client.post(f"/topics/{topic_id}/messages", content=raw.encode(), headers=JSON))
    assert isinstance(detail, (str, list))
    assert client.get(f"/queues/{queue_id}/stats").json()["num_undelivered_messages"] == 0


def test_nul_and_odd_characters_in_ids(
    client: httpx.Client, uid: Callable[[str], str], topic_with_queue: tuple[str, str]
) -> None:
    topic_id, queue_id = topic_with_queue
    # In a path: the database never sees it (psycopg refuses to send a NUL byte).
    for path in ("/topics/a%00b", "/queues/a%00b", "/queues/a%00b/stats", "/queues/a%00b/messages"):
        detail = assert_422(client.get(path))
        assert "NUL" in detail
    assert_422(client.post("/topics/a%00b/messages", json={"data": {}}))
    assert_422(client.put("/queues/a%00b/purge"))
    assert_422(client.delete("/topics/a%00b"))
    # In a body.
    assert_422(client.post("/topics", content=rb'{"id": "a\u0000b"}', headers=JSON))
    assert_422(client.post("/topics", content=rb'{"id": "\ud800"}', headers=JSON))
    settings = {"ack_deadline_seconds": 30, "message_retention_seconds": 600}
    assert_422(client.post("/queues", json={"id": uid("q"), "topic_id": "a\u0000b", **settings}))
    assert_422(
        client.post(
            "/queues",
            json={"id": uid("q"), "dead_queue_id": "a\u0000", "message_max_deliveries": 1, **settings},
        )
    )
    assert_422(client.post("/queues", json={"id": uid("q"), "message_filters": {"k\u0000": ["v"]}, **settings}))
    assert_422(client.put(f"/queues/{queue_id}/redrive", json={"destination_queue_id": "x\u0000"}))
    # Ids that are merely unknown, however odd, are not found.
    for odd in ("with space", "ü", "x" * 500, "'; drop table fastqueue.messages; --"):
        response = client.get(f"/topics/{odd}")
        assert (response.status_code, response.json()) == (404, {"detail": "Topic not found"}), odd
    assert client.get(f"/queues/{queue_id}").status_code == 200
    # Bytes that are not UTF-8, or encode a surrogate, in a path or a query.
    for path in ("/topics/%ff", "/topics/%ed%a0%80", "/queues/%c3", "/topics?limit=%ff", "/topics?offset=%00"):
        response = client.get(path)
        assert response.status_code in (404, 422), (path, response.status_code, response.text)
        assert response.json()["detail"], path


def test_unknown_routes_and_methods(client: httpx.Client) -> None:
    assert client.get("/nothing-here").status_code == 404
    assert client.patch("/topics").status_code == 405
    assert client.put("/messages/671cfac2-252c-4c22-9abc-28809a4f9fe8/ack", content=b"ignored").status_code == 204


# Every route that reads a JSON body (issue 13, item 5).
JSON_BODY_ROUTES = (
    ("POST", "/topics"),
    ("POST", "/queues"),
    ("PUT", "/queues/any/redrive"),
    ("PUT", "/queues/any"),
    ("POST", "/topics/any/messages"),
    ("POST", "/topics/any/messages/batch"),
    ("POST", "/messages/ack"),
    ("POST", "/messages/nack"),
    ("PUT", "/messages/671cfac2-252c-4c22-9abc-28809a4f9fe8/deadline"),
)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/octet-stream", "application/x-www-form-urlencoded"]
)
@pytest.mark.parametrize("body", [b"\xff\xfe{", b'{"id": "x\xff"}', b'{"ids": []}'])
def test_a_body_sent_without_a_json_content_type_is_a_4xx(client: httpx.Client, content_type: str, body: bytes) -> None:
    """Not UTF-8, or UTF-8, with a content type that is not JSON: a 422 saying to send JSON, on every route."""
    for method, path in JSON_BODY_ROUTES:
        response = client.request(method, path, content=body, headers={"content-type": content_type})
        assert response.status_code == 422, (method, path, response.status_code, response.text)
        detail = response.json()["detail"]
        assert "application/json" in json.dumps(detail), (method, path, detail)
