"""The quickstart (shared/reference/fastqueue-quickstart.md), step by step, on a database of its own:
the same requests, the same status codes, key sets, types and body lengths (content-length) as the
responses printed there, given values of the same length; then, after the quickstart's keys, the fields
fastqueue 1.7 did not have (always present: issue 13, item 15), and the body longer by exactly those."""

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.api.conftest import Server, migrated_database
from tests.conftest import drop_database

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TOPIC_KEYS = {"id", "created_at"}
# What follows the quickstart's keys in each answer, with an unset value.
TOPIC_ADDITIONS = {"deduplication_window_seconds": 300}
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
MESSAGE_ADDITIONS = {"ordering_key": None}
STATS_ADDITIONS = {
    "num_inflight_messages": 0,
    "num_delayed_messages": 0,
    "num_dead_letter_candidates": 0,
    "push_in_flight": None,
    "push_window": None,
}


def added_length(additions: dict, times: int = 1) -> int:
    """How many bytes the additions add to each object: ,"key":value ... in compact JSON."""
    return times * sum(len("," + json.dumps({k: v}, separators=(",", ":"))[1:-1]) for k, v in additions.items())


def split_additions(body: dict, additions: dict) -> dict:
    """body without the additions, after checking they come last, in order, with their values."""
    keys = list(body)
    assert keys[len(keys) - len(additions) :] == list(additions), keys
    assert {k: body[k] for k in additions} == additions
    return {k: v for k, v in body.items() if k not in additions}


QUEUE_KEYS = {
    "ack_deadline_seconds",
    "created_at",
    "dead_queue_id",
    "id",
    "message_filters",
    "message_max_deliveries",
    "message_retention_seconds",
    "topic_id",
    "updated_at",
}
MESSAGE_KEYS = {
    "attributes",
    "created_at",
    "data",
    "delivery_attempts",
    "expired_at",
    "id",
    "queue_id",
    "scheduled_at",
    "updated_at",
}


@pytest.fixture(scope="module")
def quickstart_server(template_database: str, server_factory: Callable[..., Server]) -> Iterator[Server]:
    """A server on an empty database: the quickstart's GET /topics lists exactly one topic."""
    name, url = migrated_database(template_database, "fq_quickstart")
    server = server_factory(url)
    yield server
    server.stop()
    drop_database(name)


def timestamp(value: str) -> datetime:
    assert TIMESTAMP.match(value), f"{value!r} is not a naive ISO 8601 timestamp with microseconds"
    return datetime.fromisoformat(value)


def assert_recent_utc(value: str) -> None:
    # Naive and UTC: close to the UTC clock, whatever the time zones of the server and its sessions.
    assert abs(timestamp(value) - datetime.now(UTC).replace(tzinfo=None)) < timedelta(seconds=30)


def assert_json(response: httpx.Response, status: int, content_length: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(content_length)
    assert len(response.content) == content_length
    return response.json()


def assert_no_content(response: httpx.Response) -> None:
    assert response.status_code == 204, response.text
    assert response.content == b""
    # As in the quickstart: a JSON content type, and no content-length on a 204.
    assert response.headers["content-type"] == "application/json"
    assert "content-length" not in response.headers


def assert_message(message: dict, delivery_attempts: int) -> None:
    message = split_additions(message, MESSAGE_ADDITIONS)
    assert set(message) == MESSAGE_KEYS
    assert UUID.match(message["id"])
    assert message["queue_id"] == "all-events"
    assert message["data"] == {"event_name": "event1", "success": True}
    assert message["attributes"] == {"event_name": "event1"}
    assert message["delivery_attempts"] == delivery_attempts
    created = timestamp(message["created_at"])
    assert_recent_utc(message["created_at"])
    assert timestamp(message["expired_at"]) - created == timedelta(seconds=1209600)


def test_quickstart_walkthrough(quickstart_server: Server) -> None:
    with httpx.Client(base_url=quickstart_server.url, timeout=15) as http:
        # http POST :8000/topics id=events
        topic = assert_json(http.post("/topics", json={"id": "events"}), 201, 57 + added_length(TOPIC_ADDITIONS))
        assert set(split_additions(topic, TOPIC_ADDITIONS)) == TOPIC_KEYS
        assert topic["id"] == "events"
        assert_recent_utc(topic["created_at"])

        # http GET :8000/topics
        assert assert_json(http.get("/topics"), 200, 68 + added_length(TOPIC_ADDITIONS)) == {"data": [topic]}

        # http POST :8000/queues id=all-events topic_id=events ack_deadline_seconds=30 ...
        # (httpie's `key=value` sends every value as a JSON string)
        queue = assert_json(
            http.post(
                "/queues",
                json={
                    "id": "all-events",
                    "topic_id": "events",
                    "ack_deadline_seconds": "30",
                    "message_retention_seconds": "1209600",
                },
            ),
            201,
            259 + added_length(QUEUE_ADDITIONS),
        )
        queue = split_additions(queue, QUEUE_ADDITIONS)
        assert set(queue) == QUEUE_KEYS
        assert queue == {
            "ack_deadline_seconds": 30,
            "created_at": queue["created_at"],
            "dead_queue_id": None,
            "id": "all-events",
            "message_filters": None,
            "message_max_deliveries": None,
            "message_retention_seconds": 1209600,
            "topic_id": "events",
            "updated_at": queue["created_at"],
        }
        assert_recent_utc(queue["created_at"])

        # http POST :8000/topics/events/messages data:='{...}' attributes:='{...}'
        published = assert_json(
            http.post(
                "/topics/events/messages",
                json={"data": {"event_name": "event1", "success": True}, "attributes": {"event_name": "event1"}},
            ),
            201,
            355 + added_length(MESSAGE_ADDITIONS),
        )
        assert set(published) == {"data"} and len(published["data"]) == 1
        message = published["data"][0]
        assert_message(message, delivery_attempts=0)
        assert message["scheduled_at"] == message["created_at"] == message["updated_at"]

        # http GET :8000/queues/all-events/stats (the quickstart's age, 165, has three digits)
        response = http.get("/queues/all-events/stats")
        stats = response.json()
        age = stats["oldest_unacked_message_age_seconds"]
        assert isinstance(age, int) and 0 <= age < 30
        assert_json(response, 200, 71 - len("165") + len(str(age)) + added_length(STATS_ADDITIONS))
        stats = split_additions(stats, STATS_ADDITIONS)
        assert stats == {"num_undelivered_messages": 1, "oldest_unacked_message_age_seconds": age}

        # http GET :8000/queues/all-events/messages
        consumed = assert_json(http.get("/queues/all-events/messages"), 200, 355 + added_length(MESSAGE_ADDITIONS))
        assert [m["id"] for m in consumed["data"]] == [message["id"]]
        leased = consumed["data"][0]
        assert_message(leased, delivery_attempts=1)
        assert leased["created_at"] == message["created_at"]
        assert timestamp(leased["scheduled_at"]) - timestamp(leased["updated_at"]) == timedelta(seconds=30)

        # http PUT :8000/messages/<id>/nack
        assert_no_content(http.put(f"/messages/{message['id']}/nack"))

        # http GET :8000/queues/all-events/messages: delivered again, at once
        consumed = assert_json(http.get("/queues/all-events/messages"), 200, 355 + added_length(MESSAGE_ADDITIONS))
        assert [m["id"] for m in consumed["data"]] == [message["id"]]
        assert_message(consumed["data"][0], delivery_attempts=2)

        # http PUT :8000/messages/<id>/ack
        assert_no_content(http.put(f"/messages/{message['id']}/ack"))

        # http GET :8000/queues/all-events/messages: nothing left
        assert assert_json(http.get("/queues/all-events/messages"), 200, 11) == {"data": []}
