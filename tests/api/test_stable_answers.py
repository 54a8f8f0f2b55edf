"""Every field the API documents is always present (issue 13, item 15): 0 or null (false) when unset,
the quickstart's fields first, in its names and order, the fields fastqueue 1.7 did not have after them.
A client that reads stats["num_inflight_messages"] or queue["filter"] never finds it missing."""

from collections.abc import Callable

import httpx

QUICKSTART_QUEUE = [
    "id",
    "topic_id",
    "ack_deadline_seconds",
    "message_retention_seconds",
    "message_filters",
    "dead_queue_id",
    "message_max_deliveries",
    "created_at",
    "updated_at",
]
QUEUE_ADDITIONS = {
    "delivery_delay_seconds": None,
    "retry_min_backoff_seconds": None,
    "retry_max_backoff_seconds": None,
    "enable_message_ordering": False,
    "filter": None,
    "push_endpoint": None,
    "push_format": "wrapped",
    "push_secret_set": False,
    "push_max_in_flight": 16,
}
QUICKSTART_MESSAGE = [
    "id",
    "queue_id",
    "data",
    "attributes",
    "delivery_attempts",
    "expired_at",
    "scheduled_at",
    "created_at",
    "updated_at",
]
STATS = {
    "num_undelivered_messages": 0,
    "oldest_unacked_message_age_seconds": 0,
    "num_inflight_messages": 0,
    "num_delayed_messages": 0,
    "num_dead_letter_candidates": 0,
    "push_in_flight": None,
    "push_window": None,
}


def test_stats_of_an_idle_queue_show_every_count(client: httpx.Client, make_queue: Callable[..., dict]) -> None:
    queue_id = make_queue()["id"]
    response = client.get(f"/queues/{queue_id}/stats")
    assert response.status_code == 200, response.text
    assert list(response.json().items()) == list(STATS.items())


def test_a_queue_shows_every_setting(client: httpx.Client, make_topic: Callable[..., str], uid) -> None:
    topic_id = make_topic()
    body = {"id": uid("q"), "topic_id": topic_id, "ack_deadline_seconds": 30, "message_retention_seconds": 1209600}
    created = client.post("/queues", json=body)
    assert created.status_code == 201, created.text
    updated = client.put(f"/queues/{body['id']}", json={k: v for k, v in body.items() if k != "id"})
    assert updated.status_code == 200, updated.text
    listed = [q for q in client.get("/queues", params={"limit": 1000}).json()["data"] if q["id"] == body["id"]]
    for queue in (created.json(), client.get(f"/queues/{body['id']}").json(), updated.json(), *listed):
        assert list(queue) == QUICKSTART_QUEUE + list(QUEUE_ADDITIONS)
        assert {name: queue[name] for name in QUEUE_ADDITIONS} == QUEUE_ADDITIONS
        assert (queue["message_filters"], queue["dead_queue_id"], queue["message_max_deliveries"]) == (None, None, None)
    assert len(listed) == 1


def test_a_message_shows_every_field(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]
    published = client.post(f"/topics/{topic_id}/messages", json={"data": {"n": 1}})
    assert published.status_code == 201, published.text
    peeked = client.get(f"/queues/{queue_id}/peek")
    consumed = client.get(f"/queues/{queue_id}/messages")
    for response in (published, peeked, consumed):
        [message] = response.json()["data"]
        assert list(message) == QUICKSTART_MESSAGE + ["ordering_key"]
        assert message["ordering_key"] is None and message["attributes"] is None


def test_a_topic_shows_its_deduplication_window(client: httpx.Client, uid) -> None:
    topic_id = uid("t")
    created = client.post("/topics", json={"id": topic_id})
    assert created.status_code == 201, created.text
    for topic in (created.json(), client.get(f"/topics/{topic_id}").json()):
        assert list(topic) == ["id", "created_at", "deduplication_window_seconds"]
        assert topic["deduplication_window_seconds"] == 300


def test_openapi_marks_every_answer_field_required(client: httpx.Client) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("Queue", "Message", "QueueStats", "Topic"):
        schema = schemas.get(name) or schemas[f"{name}-Output"]
        assert sorted(schema["required"]) == sorted(schema["properties"]), name
        assert "only when" not in str(schema), name
