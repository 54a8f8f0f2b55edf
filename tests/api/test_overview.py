"""GET /overview/queues, /overview/topics and /queues/{id}/peek through real HTTP: the overview agrees
with GET /queues/{id}/stats for busy queues, and peek leases nothing."""

import re
from collections.abc import Callable

import httpx
import psycopg
import pytest
from fastqueue.gateway.auth import REQUIRED_ROLE

QUEUE_OVERVIEW_KEYS = [
    "id", "topic_id", "dead_queue_id", "message_filters", "filter", "ack_deadline_seconds",
    "message_retention_seconds", "message_max_deliveries", "delivery_delay_seconds", "enable_message_ordering",
    "retry_min_backoff_seconds", "retry_max_backoff_seconds", "available_messages", "inflight_messages",
    "delayed_messages", "dead_letter_candidates", "total_messages", "oldest_message_age_seconds",
    "created_at", "updated_at", "push_endpoint", "push_format", "push_secret_set", "push_max_in_flight",
    "push_in_flight", "push_window",
]  # fmt: skip
TOPIC_OVERVIEW_KEYS = [
    "id",
    "created_at",
    "deduplication_window_seconds",
    "queue_ids",
    "queue_count",
    "available_messages",
]
NAIVE_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$")
# GET /queues/{id}/stats field -> queue_overview column
STATS_COLUMNS = {
    "num_undelivered_messages": "available_messages",
    "num_inflight_messages": "inflight_messages",
    "num_delayed_messages": "delayed_messages",
    "num_dead_letter_candidates": "dead_letter_candidates",
}


def busy_queues(client: httpx.Client, db: psycopg.Connection, make_topic, make_queue) -> dict[str, str]:
    """A topic with three queues: 'work' (dead queue 'dead', 2 deliveries) holds 3 available, 2 in flight
    and 1 dead-letter candidate; 'delayed' holds 6 delayed; 'dead' holds nothing."""
    topic = make_topic("ov")
    dead = make_queue("ov-dead")["id"]
    work = make_queue("ov-work", topic, dead_queue_id=dead, message_max_deliveries=2)["id"]
    delayed = make_queue("ov-delayed", topic, delivery_delay_seconds=600)["id"]
    for n in range(6):
        assert client.post(f"/topics/{topic}/messages", json={"data": {"n": n}}).status_code == 201
    assert len(client.get(f"/queues/{work}/messages", params={"limit": 2}).json()["data"]) == 2
    # Delivered twice already, lease over: a dead-letter candidate that cleanup() has not moved yet.
    db.execute(
        "update fastqueue.messages set delivery_attempts = 2, scheduled_at = now() - interval '1 second'"
        " where id = (select id from fastqueue.messages where queue_id = %s and delivery_attempts = 0 limit 1)",
        (work,),
    )
    return {"topic": topic, "dead": dead, "work": work, "delayed": delayed}


def overview_row(client: httpx.Client, queue_id: str) -> dict:
    response = client.get("/overview/queues")
    assert response.status_code == 200, response.text
    rows = [row for row in response.json()["data"] if row["id"] == queue_id]
    assert len(rows) == 1
    return rows[0]


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_the_queue_overview_agrees_with_the_stats_of_busy_queues(client, db, make_topic, make_queue) -> None:
    ids = busy_queues(client, db, make_topic, make_queue)
    response = client.get("/overview/queues")
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    by_id = {row["id"]: row for row in rows}

    expected = {
        ids["work"]: {"available_messages": 3, "inflight_messages": 2, "delayed_messages": 0,
                      "dead_letter_candidates": 1, "total_messages": 6},
        ids["delayed"]: {"available_messages": 0, "inflight_messages": 0, "delayed_messages": 6,
                         "dead_letter_candidates": 0, "total_messages": 6},
        ids["dead"]: {"available_messages": 0, "inflight_messages": 0, "delayed_messages": 0,
                      "dead_letter_candidates": 0, "total_messages": 0},
    }  # fmt: skip
    for queue_id, counts in expected.items():
        row = by_id[queue_id]
        assert list(row) == QUEUE_OVERVIEW_KEYS
        assert {key: row[key] for key in counts} == counts
        stats = client.get(f"/queues/{queue_id}/stats").json()
        for field, column in STATS_COLUMNS.items():
            assert row[column] == stats.get(field, 0), (queue_id, field)  # stats omits counts of 0
        assert abs(row["oldest_message_age_seconds"] - stats["oldest_unacked_message_age_seconds"]) <= 1
        queue = client.get(f"/queues/{queue_id}").json()
        assert (row["created_at"], row["updated_at"]) == (queue["created_at"], queue["updated_at"])
        assert NAIVE_UTC.match(row["created_at"]) and NAIVE_UTC.match(row["updated_at"])

    work = by_id[ids["work"]]
    assert (work["topic_id"], work["dead_queue_id"], work["message_max_deliveries"]) == (ids["topic"], ids["dead"], 2)
    assert work["delivery_delay_seconds"] is None and work["enable_message_ordering"] is False
    assert by_id[ids["delayed"]]["delivery_delay_seconds"] == 600


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_the_topic_overview_lists_its_queues_and_sums_their_available_messages(
    client, db, make_topic, make_queue
) -> None:
    ids = busy_queues(client, db, make_topic, make_queue)
    lonely = make_topic("ov-lonely")
    response = client.get("/overview/topics")
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    by_id = {row["id"]: row for row in rows}
    topic = by_id[ids["topic"]]
    assert list(topic) == TOPIC_OVERVIEW_KEYS
    assert topic["queue_ids"] == sorted([ids["work"], ids["delayed"]])
    assert topic["queue_count"] == 2
    assert topic["available_messages"] == sum(overview_row(client, q)["available_messages"] for q in topic["queue_ids"])
    assert topic["available_messages"] == 3
    assert topic["deduplication_window_seconds"] == 300
    assert NAIVE_UTC.match(topic["created_at"])
    assert {k: by_id[lonely][k] for k in ("queue_ids", "queue_count", "available_messages")} == {
        "queue_ids": [],
        "queue_count": 0,
        "available_messages": 0,
    }


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_peek_shows_every_message_in_consume_order_and_leases_nothing(client, db, make_topic, make_queue) -> None:
    ids = busy_queues(client, db, make_topic, make_queue)
    state = (
        "select id, delivery_attempts, scheduled_at, updated_at from fastqueue.messages where queue_id = %s order by id"
    )
    before = db.execute(state, (ids["work"],)).fetchall()
    stats_before = client.get(f"/queues/{ids['work']}/stats").json()

    response = client.get(f"/queues/{ids['work']}/peek", params={"limit": 10})
    assert response.status_code == 200, response.text
    messages = response.json()["data"]
    assert len(messages) == 6  # available, in flight and the dead-letter candidate alike
    assert sorted(m["delivery_attempts"] for m in messages) == [0, 0, 0, 1, 1, 2]
    assert [m["scheduled_at"] for m in messages] == sorted(m["scheduled_at"] for m in messages)
    assert set(messages[0]) == {
        "id", "queue_id", "data", "attributes", "delivery_attempts", "expired_at", "scheduled_at",
        "created_at", "updated_at", "ordering_key",
    }  # fmt: skip
    assert len(client.get(f"/queues/{ids['work']}/peek", params={"limit": 2}).json()["data"]) == 2
    assert [m["id"] for m in client.get(f"/queues/{ids['work']}/peek").json()["data"]] == [m["id"] for m in messages]

    assert db.execute(state, (ids["work"],)).fetchall() == before
    assert client.get(f"/queues/{ids['work']}/stats").json() == stats_before
    delayed = client.get(f"/queues/{ids['delayed']}/peek").json()["data"]
    assert len(delayed) == 6 and all(m["delivery_attempts"] == 0 for m in delayed)
    # Everything peek showed as available is still there to lease.
    assert len(client.get(f"/queues/{ids['work']}/messages", params={"limit": 10}).json()["data"]) == 3


def test_peek_of_an_unknown_queue_is_404(client: httpx.Client) -> None:
    response = client.get("/queues/no-such-queue/peek")
    assert response.status_code == 404
    assert response.json() == {"detail": "Queue not found"}


def test_peek_with_a_bad_limit_is_422(client: httpx.Client, make_queue: Callable[..., dict]) -> None:
    queue_id = make_queue("ov-limits")["id"]
    for limit in ("0", "1001", "-1", "ten"):
        response = client.get(f"/queues/{queue_id}/peek", params={"limit": limit})
        assert response.status_code == 422, (limit, response.text)
    assert client.get(f"/queues/{queue_id}/peek", params={"limit": 1000}).status_code == 200


def test_the_overview_routes_are_admin_only() -> None:
    for route in ("/overview/queues", "/overview/topics", "/queues/{queue_id}/peek"):
        assert ("GET", route) not in REQUIRED_ROLE


def test_the_routes_are_documented(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/overview/queues", "/overview/topics", "/queues/{queue_id}/peek"):
        assert "200" in paths[path]["get"]["responses"]
    assert "404" in paths["/queues/{queue_id}/peek"]["get"]["responses"]
