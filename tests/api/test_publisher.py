"""The publisher features over HTTP: batch publish, per-message delay, deduplication, ordering keys,
and that a client of fastqueue 1.7 sees none of the new fields unless it uses them."""

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.api.conftest import Server

SMALL_MESSAGE_LIMIT = 1000
SMALL_BATCH_LIMIT = 200_000


@pytest.fixture(scope="module")
def small_server(api_database_url: str, server_factory: Callable[..., Server]) -> Server:
    return server_factory(
        api_database_url,
        FASTQUEUE_MAX_MESSAGE_BYTES=str(SMALL_MESSAGE_LIMIT),
        FASTQUEUE_MAX_BATCH_BYTES=str(SMALL_BATCH_LIMIT),
    )


@pytest.fixture
def small(small_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=small_server.url, timeout=30) as http:
        yield http


def publish(client: httpx.Client, topic_id: str, **body) -> httpx.Response:
    return client.post(f"/topics/{topic_id}/messages", json=body)


def test_topic_window_is_always_shown(client: httpx.Client, uid: Callable[[str], str]) -> None:
    plain = client.post("/topics", json={"id": uid("plain")})
    assert plain.status_code == 201
    assert list(plain.json()) == ["id", "created_at", "deduplication_window_seconds"]
    assert plain.json()["deduplication_window_seconds"] == 300
    custom = client.post("/topics", json={"id": uid("custom"), "deduplication_window_seconds": 3600})
    assert custom.status_code == 201
    assert custom.json()["deduplication_window_seconds"] == 3600
    assert client.get(f"/topics/{custom.json()['id']}").json()["deduplication_window_seconds"] == 3600
    over = client.post("/topics", json={"id": uid("over"), "deduplication_window_seconds": 86401})
    assert over.status_code == 422


def test_batch_publish_in_input_order(client: httpx.Client, make_topic, make_queue) -> None:
    topic_id = make_topic()
    queue_b = make_queue("b", topic_id)["id"]
    queue_a = make_queue("a", topic_id, message_filters={"kind": ["a"]})["id"]
    messages = [
        {"data": {"n": 1}, "attributes": {"kind": "a"}},
        {"data": {"n": 2}},
        {"data": {"n": 3}, "attributes": {"kind": "a"}, "ordering_key": "k"},
    ]
    response = client.post(f"/topics/{topic_id}/messages/batch", json={"messages": messages})
    assert response.status_code == 201, response.text
    rows = response.json()["data"]
    # Ids and queue ids only, message by message, each message's copies in queue id order.
    assert [list(row) for row in rows] == [["id", "queue_id"]] * 5
    assert [row["queue_id"] for row in rows] == sorted([queue_a, queue_b]) + [queue_b] + sorted([queue_a, queue_b])
    stored = {m["id"]: m for q in (queue_a, queue_b) for m in client.get(f"/queues/{q}/peek").json()["data"]}
    assert [(stored[row["id"]]["data"]["n"], stored[row["id"]]["queue_id"]) for row in rows] == [
        (1, rows[0]["queue_id"]),
        (1, rows[1]["queue_id"]),
        (2, queue_b),
        (3, rows[3]["queue_id"]),
        (3, rows[4]["queue_id"]),
    ]
    assert [stored[row["id"]]["ordering_key"] for row in rows] == [None, None, None, "k", "k"]


def test_batch_is_all_or_nothing_and_names_the_index(client: httpx.Client, make_topic, make_queue) -> None:
    topic_id = make_topic()
    queue_id = make_queue("q", topic_id)["id"]
    # The request model refuses it first; its 422 names the index in "loc" (the SQL error would say messages[2]).
    bad = client.post(
        f"/topics/{topic_id}/messages/batch",
        json={"messages": [{"data": {"n": 1}}, {"data": {"n": 2}}, {"data": "not an object"}]},
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][:3] == ["body", "messages", 2]
    assert client.get(f"/queues/{queue_id}/stats").json()["num_undelivered_messages"] == 0
    assert client.post(f"/topics/{topic_id}/messages/batch", json={"messages": []}).status_code == 422
    too_many = {"messages": [{"data": {}}] * 1001}
    assert client.post(f"/topics/{topic_id}/messages/batch", json=too_many).status_code == 422
    missing = client.post("/topics/no-such-topic/messages/batch", json={"messages": [{"data": {}}]})
    assert missing.status_code == 404


def test_batch_sql_error_names_the_index(small: httpx.Client, make_topic, make_queue) -> None:
    topic_id = make_topic()
    queue_id = make_queue("q", topic_id)["id"]
    # Over the message size limit, which only SQL checks: 413 naming the message, and nothing stored.
    response = small.post(
        f"/topics/{topic_id}/messages/batch",
        json={"messages": [{"data": {}}, {"data": {"s": "x" * SMALL_MESSAGE_LIMIT}}]},
    )
    assert response.status_code == 413, response.text
    assert response.json()["detail"].startswith("messages[1]: Message too large")
    assert small.get(f"/queues/{queue_id}/stats").json()["num_undelivered_messages"] == 0


def test_batch_body_allowance(small: httpx.Client, make_topic, make_queue) -> None:
    topic_id = make_topic()
    make_queue("q", topic_id)
    # 150 messages of ~900 bytes: far more than one message's body allowance (1000 + 64 KiB), within the batch's.
    messages = [{"data": {"s": "x" * 880}} for _ in range(150)]
    assert small.post(f"/topics/{topic_id}/messages/batch", json={"messages": messages}).status_code == 201
    # The same body to the single-message route is refused before it is parsed.
    single = small.post(f"/topics/{topic_id}/messages", json={"data": {"m": messages}})
    assert single.status_code == 413
    over = small.post(f"/topics/{topic_id}/messages/batch", json={"messages": messages * 2})
    assert over.status_code == 413
    assert "FASTQUEUE_MAX_BATCH_BYTES" in over.json()["detail"]


def test_batch_of_1000_fits_the_body_guard(client: httpx.Client, make_topic, make_queue) -> None:
    topic_id = make_topic()
    make_queue("q", topic_id)
    messages = [{"data": {"n": n, "payload": "x" * 1000}} for n in range(1000)]  # about 1 MB: over one message's body
    response = client.post(f"/topics/{topic_id}/messages/batch", json={"messages": messages})
    assert response.status_code == 201, response.text[:300]
    ids = [row["id"] for row in response.json()["data"]]
    assert len(ids) == len(set(ids)) == 1000


def test_per_message_delay(client: httpx.Client, make_topic, make_queue) -> None:
    topic_id = make_topic()
    queue_id = make_queue("q", topic_id, delivery_delay_seconds=600)["id"]
    now = publish(client, topic_id, data={"n": 1}, delay_seconds=0).json()["data"][0]
    assert now["scheduled_at"] == now["created_at"]
    assert [m["data"] for m in client.get(f"/queues/{queue_id}/messages").json()["data"]] == [{"n": 1}]
    assert publish(client, topic_id, data={}, delay_seconds=901).status_code == 422


def test_deduplication(client: httpx.Client, make_topic, make_queue) -> None:
    topic_id = make_topic()
    queue_id = make_queue("q", topic_id)["id"]
    first = publish(client, topic_id, data={"n": 1}, deduplication_id="order-1")
    second = publish(client, topic_id, data={"n": 1}, deduplication_id="order-1")
    assert first.status_code == second.status_code == 201
    assert [m["id"] for m in second.json()["data"]] == [m["id"] for m in first.json()["data"]]
    assert client.get(f"/queues/{queue_id}/stats").json()["num_undelivered_messages"] == 1
    assert publish(client, topic_id, data={}, deduplication_id="").status_code == 422
    assert publish(client, topic_id, data={}, deduplication_id="x" * 129).status_code == 422


def test_ordering_key(client: httpx.Client, make_topic, make_queue) -> None:
    topic_id = make_topic()
    queue_id = make_queue("q", topic_id, enable_message_ordering=True)["id"]
    batch = [{"data": {"n": n}, "ordering_key": "k"} for n in range(3)]
    assert client.post(f"/topics/{topic_id}/messages/batch", json={"messages": batch}).status_code == 201
    seen = []
    for _ in range(3):
        leased = client.get(f"/queues/{queue_id}/messages").json()["data"]
        assert len(leased) == 1 and leased[0]["ordering_key"] == "k"
        seen.append(leased[0]["data"]["n"])
        assert client.put(f"/messages/{leased[0]['id']}/ack").status_code == 204
    assert seen == [0, 1, 2]
    assert publish(client, topic_id, data={}, ordering_key="").status_code == 422


def test_unused_fields_keep_the_1_7_shapes(client: httpx.Client, make_topic, make_queue) -> None:
    topic_id = make_topic()
    make_queue("q", topic_id)
    message = publish(client, topic_id, data={"n": 1}).json()["data"][0]
    assert list(message) == [
        "id",
        "queue_id",
        "data",
        "attributes",
        "delivery_attempts",
        "expired_at",
        "scheduled_at",
        "created_at",
        "updated_at",
        "ordering_key",
    ]
