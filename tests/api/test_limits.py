"""Size limits: a message (data + attributes as JSON text) over FASTQUEUE_MAX_MESSAGE_BYTES is 413 over
HTTP and 54000 over SQL, since publish() itself refuses it; a request body too large to hold an
acceptable message is 413 before it is parsed, whether it announces its length or comes in chunks;
page sizes over 1000 are 422."""

from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest

from tests.api.conftest import Server

DEFAULT_LIMIT = 1024 * 1024
SMALL_LIMIT = 1000
ENVELOPE = 64 * 1024
JSON = {"content-type": "application/json"}


def data_of_size(size: int) -> dict:
    """data whose JSON text, as PostgreSQL writes it ({"s": "xx…"}), is `size` bytes."""
    return {"s": "x" * (size - 9)}


def chunks(total: int, chunk: int = 16 * 1024) -> Iterator[bytes]:
    """A body of `total` bytes in pieces: httpx sends an iterator with Transfer-Encoding: chunked."""
    while total > 0:
        yield b" " * min(chunk, total)
        total -= chunk


@pytest.fixture(scope="module")
def small_server(api_database_url: str, server_factory: Callable[..., Server]) -> Server:
    return server_factory(api_database_url, FASTQUEUE_MAX_MESSAGE_BYTES=str(SMALL_LIMIT))


@pytest.fixture
def small(small_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=small_server.url, timeout=30) as http:
        yield http


@pytest.fixture
def topic_with_queue(make_topic: Callable[..., str], make_queue: Callable[..., dict]) -> tuple[str, str]:
    topic_id = make_topic()
    return topic_id, make_queue(topic_id=topic_id)["id"]


def stats(client: httpx.Client, queue_id: str) -> int:
    return client.get(f"/queues/{queue_id}/stats").json()["num_undelivered_messages"]


# The message limit, enforced by publish() in SQL


def test_default_limit_is_one_mebibyte(client: httpx.Client, topic_with_queue: tuple[str, str]) -> None:
    topic_id, queue_id = topic_with_queue
    at_limit = client.post(f"/topics/{topic_id}/messages", json={"data": data_of_size(DEFAULT_LIMIT)})
    assert at_limit.status_code == 201, at_limit.text[:300]
    over = client.post(f"/topics/{topic_id}/messages", json={"data": data_of_size(DEFAULT_LIMIT + 1)})
    assert over.status_code == 413, over.text[:300]
    expected = f"Message too large: {DEFAULT_LIMIT + 1} bytes, the limit is {DEFAULT_LIMIT} bytes"
    assert over.json() == {"detail": expected}
    assert stats(client, queue_id) == 1


def test_configured_limit(small: httpx.Client, client: httpx.Client, topic_with_queue: tuple[str, str]) -> None:
    topic_id, queue_id = topic_with_queue
    path = f"/topics/{topic_id}/messages"
    assert small.post(path, json={"data": data_of_size(SMALL_LIMIT)}).status_code == 201
    assert small.post(path, json={"data": data_of_size(SMALL_LIMIT - 1)}).status_code == 201
    over = small.post(path, json={"data": data_of_size(SMALL_LIMIT + 1)})
    assert over.status_code == 413
    # The sentence comes from publish(): the server passed its limit to PostgreSQL.
    assert over.json()["detail"] == f"Message too large: {SMALL_LIMIT + 1} bytes, the limit is {SMALL_LIMIT} bytes"
    # attributes count too: {"k": "v"} is 10 bytes.
    with_attributes = small.post(path, json={"data": data_of_size(SMALL_LIMIT - 9), "attributes": {"k": "v"}})
    assert with_attributes.status_code == 413
    assert "1001 bytes" in with_attributes.json()["detail"]
    # Bytes, not characters: "é" is two.
    accented = small.post(path, json={"data": {"s": "é" * ((SMALL_LIMIT - 9) // 2 + 1)}})
    assert accented.status_code == 413, accented.text
    assert stats(client, queue_id) == 2
    # The other server, on the same database, keeps its own (default) limit.
    assert client.post(path, json={"data": data_of_size(SMALL_LIMIT + 1)}).status_code == 201


def test_too_large_even_without_queues(small: httpx.Client, make_topic: Callable[..., str]) -> None:
    response = small.post(f"/topics/{make_topic()}/messages", json={"data": data_of_size(SMALL_LIMIT + 1)})
    assert response.status_code == 413


def test_sql_callers_get_54000(db: psycopg.Connection, topic_with_queue: tuple[str, str], client: httpx.Client) -> None:
    topic_id, queue_id = topic_with_queue
    publish = "select * from fastqueue.publish(%s, %s::jsonb, %s::jsonb)"
    big = '{"s": "' + "x" * (DEFAULT_LIMIT - 8) + '"}'
    with pytest.raises(psycopg.errors.ProgramLimitExceeded) as refused:
        db.execute(publish, (topic_id, big, None))
    assert refused.value.sqlstate == "54000"
    assert refused.value.diag.message_primary == (
        f"Message too large: {DEFAULT_LIMIT + 1} bytes, the limit is {DEFAULT_LIMIT} bytes"
    )
    # An operator's (or a session's) setting moves the limit for SQL callers.
    db.execute("set fastqueue.max_message_bytes = 100")
    try:
        with pytest.raises(psycopg.errors.ProgramLimitExceeded):
            db.execute(publish, (topic_id, '{"s": "' + "x" * 82 + '"}', '{"k": "v"}'))
        assert len(db.execute(publish, (topic_id, '{"s": "' + "x" * 81 + '"}', '{"k": "v"}')).fetchall()) == 1
    finally:
        db.execute("reset fastqueue.max_message_bytes")
    assert stats(client, queue_id) == 1


# The body guard, before parsing


def test_body_over_the_limit_by_content_length(small: httpx.Client, topic_with_queue: tuple[str, str]) -> None:
    topic_id, queue_id = topic_with_queue
    limit = SMALL_LIMIT + ENVELOPE
    # Not even JSON: it is refused for its size before anything parses it.
    response = small.post(f"/topics/{topic_id}/messages", content=b"{" * (limit + 1), headers=JSON)
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert f"{limit + 1} bytes" in detail and f"the limit is {limit} bytes" in detail
    # Any route: the guard is in front of all of them.
    assert small.post("/topics", content=b" " * (limit + 1), headers=JSON).status_code == 413
    # Within the allowance, padding and all, the message rule decides.
    padded = b'{"data": {"a": 1}}' + b" " * (limit - 18)
    assert small.post(f"/topics/{topic_id}/messages", content=padded, headers=JSON).status_code == 201
    assert stats(small, queue_id) == 1


def test_default_server_refuses_a_large_body(client: httpx.Client, topic_with_queue: tuple[str, str]) -> None:
    topic_id, _ = topic_with_queue
    size = 4 * DEFAULT_LIMIT
    response = client.post(f"/topics/{topic_id}/messages", content=b" " * size, headers=JSON)
    assert response.status_code == 413
    assert f"{size} bytes" in response.json()["detail"]
    # The connection and the server are fine afterwards.
    assert client.get("/health").status_code == 200


def test_chunked_body_over_the_limit(small: httpx.Client, topic_with_queue: tuple[str, str]) -> None:
    topic_id, queue_id = topic_with_queue
    limit = SMALL_LIMIT + ENVELOPE
    request = small.build_request("POST", f"/topics/{topic_id}/messages", content=chunks(10 * limit), headers=JSON)
    assert "content-length" not in request.headers and request.headers["transfer-encoding"] == "chunked"
    response = small.send(request)
    assert response.status_code == 413
    assert f"more than {limit} bytes" in response.json()["detail"]
    assert small.get("/health").status_code == 200
    assert stats(small, queue_id) == 0


def test_chunked_body_within_the_limit(small: httpx.Client, topic_with_queue: tuple[str, str]) -> None:
    topic_id, queue_id = topic_with_queue

    def body() -> Iterator[bytes]:
        yield b'{"data": '
        yield b'{"s": "' + b"x" * (SMALL_LIMIT - 9) + b'"}'
        yield b"}"

    response = small.post(f"/topics/{topic_id}/messages", content=body(), headers=JSON)
    assert response.status_code == 201, response.text

    # Chunked and exactly at the body limit, but a message over its own limit: the SQL rule answers.
    def padded() -> Iterator[bytes]:
        message = b'{"data": {"s": "' + b"x" * (SMALL_LIMIT - 8) + b'"}}'
        yield message
        yield from chunks(SMALL_LIMIT + ENVELOPE - len(message))

    over = small.post(f"/topics/{topic_id}/messages", content=padded(), headers=JSON)
    assert over.status_code == 413
    assert over.json()["detail"].startswith("Message too large")
    assert stats(small, queue_id) == 1


# Page sizes


def test_page_size_limits(client: httpx.Client, topic_with_queue: tuple[str, str]) -> None:
    _, queue_id = topic_with_queue
    for path in ("/topics", "/queues", f"/queues/{queue_id}/messages"):
        assert client.get(path, params={"limit": 1000}).status_code == 200, path
        too_many = client.get(path, params={"limit": 1001})
        assert too_many.status_code == 422, path
        assert too_many.json()["detail"][0]["loc"] == ["query", "limit"]
