"""Settling leased messages through HTTP: fencing with delivery_attempt (409 once redelivered), lease
deadlines, nack delays and retry backoff, batch ack/nack, the extra stats counts, the notifications that
wake long-polling consumers, and the consumer role on the new routes. The rules themselves are tested
in pgTAP (db/tests/settle/ack_fencing.sql, nack_backoff.sql, set_deadline.sql, ack_messages.sql,
nack_messages.sql, db/tests/stats/queue_stats.sql); these tests are about the HTTP mapping and the whole path."""

import uuid
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest

from tests.api.test_auth import ADMIN, CONSUMER, PUBLISHER, api, auth_server, bearer  # noqa: F401 (fixtures)


def publish(client: httpx.Client, topic_id: str, n: int = 1) -> list[dict]:
    copies = []
    for number in range(n):
        response = client.post(f"/topics/{topic_id}/messages", json={"data": {"n": number}})
        assert response.status_code == 201, response.text
        copies += response.json()["data"]
    return copies


def consume(client: httpx.Client, queue_id: str, limit: int = 10) -> list[dict]:
    response = client.get(f"/queues/{queue_id}/messages", params={"limit": limit})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def end_lease(db: psycopg.Connection, message_id: str) -> None:
    """The lease runs out (without waiting ack_deadline_seconds)."""
    db.execute("update fastqueue.messages set scheduled_at = now() - interval '1 second' where id = %s", (message_id,))


def scheduled_in(db: psycopg.Connection, message_id: str) -> float:
    row = db.execute(
        "select extract(epoch from scheduled_at - now())::float from fastqueue.messages where id = %s", (message_id,)
    ).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture
def queue(client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]) -> Iterator[dict]:
    topic_id = make_topic()
    yield {"topic_id": topic_id, **make_queue(topic_id=topic_id)}


def test_consume_returns_the_delivery_attempt(client: httpx.Client, queue: dict) -> None:
    publish(client, queue["topic_id"])
    [message] = consume(client, queue["id"])
    assert message["delivery_attempts"] == 1


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_a_late_ack_with_a_stale_delivery_attempt_leaves_the_redelivered_message_in_place(
    client: httpx.Client, db: psycopg.Connection, queue: dict
) -> None:
    publish(client, queue["topic_id"])
    [first] = consume(client, queue["id"])  # consumer A
    end_lease(db, first["id"])  # A is too slow
    [second] = consume(client, queue["id"])  # consumer B gets it again
    assert (second["id"], second["delivery_attempts"]) == (first["id"], 2)

    late = client.put(f"/messages/{first['id']}/ack", params={"delivery_attempt": 1})
    assert late.status_code == 409
    assert late.json() == {"detail": "Stale delivery: the message is now on delivery attempt 2, not 1"}
    stale_nack = client.put(f"/messages/{first['id']}/nack", params={"delivery_attempt": 1})
    assert stale_nack.status_code == 409 and "attempt 2" in stale_nack.json()["detail"]
    stale_deadline = client.put(
        f"/messages/{first['id']}/deadline", params={"delivery_attempt": 1}, json={"seconds": 0}
    )
    assert stale_deadline.status_code == 409 and "attempt 2" in stale_deadline.json()["detail"]

    # Nothing changed: B still holds its lease, the message is still there.
    row = db.execute(
        "select delivery_attempts, scheduled_at > now() from fastqueue.messages where id = %s", (first["id"],)
    ).fetchone()
    assert row == (2, True)
    assert consume(client, queue["id"]) == []

    assert client.put(f"/messages/{second['id']}/ack", params={"delivery_attempt": 2}).status_code == 204
    assert db.execute("select count(*) from fastqueue.messages where id = %s", (first["id"],)).fetchone() == (0,)
    # Gone: a fenced ack of a message that no longer exists is 204, as an unfenced one.
    assert client.put(f"/messages/{second['id']}/ack", params={"delivery_attempt": 2}).status_code == 204


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_a_late_consumer_cannot_settle_the_copy_dead_lettered_or_redriven_after_its_delivery(
    client: httpx.Client, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    dead = make_queue("dead")
    work = make_queue("work", topic_id=topic_id, dead_queue_id=dead["id"], message_max_deliveries=1)
    publish(client, topic_id)
    [late] = consume(client, work["id"])  # consumer A, too slow
    end_lease(db, late["id"])
    db.execute("select fastqueue.cleanup()")
    [moved] = consume(client, dead["id"])  # consumer B holds the dead-lettered copy, on its attempt 1
    assert moved["delivery_attempts"] == late["delivery_attempts"] == 1

    def assert_refused_and_untouched(stale: dict, holder: dict) -> None:
        before = db.execute("select * from fastqueue.messages where id = %s", (holder["id"],)).fetchone()
        for response in (
            client.put(f"/messages/{stale['id']}/ack", params={"delivery_attempt": 1}),
            client.put(f"/messages/{stale['id']}/nack", params={"delivery_attempt": 1}),
            client.put(f"/messages/{stale['id']}/deadline", params={"delivery_attempt": 1}, json={"seconds": 0}),
        ):
            # 409 (stale delivery) or 204 (an unknown message is not an error): either way the copy
            # that moved is not the late consumer's to settle.
            assert response.status_code in (204, 409), (response.request.url, response.status_code, response.text)
        after = db.execute("select * from fastqueue.messages where id = %s", (holder["id"],)).fetchone()
        assert after is not None and after == before, "the late consumer changed the moved copy"

    assert_refused_and_untouched(late, moved)

    # The same after a redrive back to work: B's lease ends, the copy moves and C leases it.
    end_lease(db, moved["id"])
    assert client.put(f"/queues/{dead['id']}/redrive", json={"destination_queue_id": work["id"]}).status_code == 204
    [redriven] = consume(client, work["id"])
    assert redriven["delivery_attempts"] == 1
    assert_refused_and_untouched(moved, redriven)
    assert_refused_and_untouched(late, redriven)
    assert client.put(f"/messages/{redriven['id']}/ack", params={"delivery_attempt": 1}).status_code == 204


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_without_delivery_attempt_a_late_ack_still_deletes(
    client: httpx.Client, db: psycopg.Connection, queue: dict
) -> None:
    publish(client, queue["topic_id"])
    [first] = consume(client, queue["id"])
    end_lease(db, first["id"])
    consume(client, queue["id"])
    assert client.put(f"/messages/{first['id']}/ack").status_code == 204
    assert db.execute("select count(*) from fastqueue.messages where id = %s", (first["id"],)).fetchone() == (0,)


@pytest.mark.parametrize("value", ["0", "-1", "2147483648", "one"])
def test_delivery_attempt_out_of_range_is_422(client: httpx.Client, value: str) -> None:
    message_id = uuid.uuid4()
    for method, path, body in (
        ("PUT", f"/messages/{message_id}/ack", None),
        ("PUT", f"/messages/{message_id}/nack", None),
        ("PUT", f"/messages/{message_id}/deadline", {"seconds": 10}),
    ):
        response = client.request(method, path, params={"delivery_attempt": value}, json=body)
        assert response.status_code == 422, (path, response.text)


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_deadline_extends_and_releases_the_lease(client: httpx.Client, db: psycopg.Connection, queue: dict) -> None:
    publish(client, queue["topic_id"])
    [leased] = consume(client, queue["id"])
    assert client.put(f"/messages/{leased['id']}/deadline", json={"seconds": 600}).status_code == 204
    assert 595 < scheduled_in(db, leased["id"]) <= 600
    assert consume(client, queue["id"]) == []

    response = client.put(f"/messages/{leased['id']}/deadline", params={"delivery_attempt": 1}, json={"seconds": 0})
    assert response.status_code == 204
    [again] = consume(client, queue["id"])
    assert (again["id"], again["delivery_attempts"]) == (leased["id"], 2)
    # An unknown message is not an error.
    assert client.put(f"/messages/{uuid.uuid4()}/deadline", json={"seconds": 5}).status_code == 204


@pytest.mark.parametrize("body", [{"seconds": -1}, {"seconds": 601}, {"seconds": True}, {"seconds": None}, {}])
def test_deadline_out_of_range_is_422(client: httpx.Client, body: dict) -> None:
    response = client.put(f"/messages/{uuid.uuid4()}/deadline", json=body)
    assert response.status_code == 422, response.text


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_nack_with_a_delay(client: httpx.Client, db: psycopg.Connection, queue: dict) -> None:
    publish(client, queue["topic_id"])
    [leased] = consume(client, queue["id"])
    assert client.put(f"/messages/{leased['id']}/nack", params={"delay_seconds": 120}).status_code == 204
    assert 115 < scheduled_in(db, leased["id"]) <= 120
    assert consume(client, queue["id"]) == []
    assert client.put(f"/messages/{leased['id']}/nack", params={"delay_seconds": 0}).status_code == 204
    assert [m["id"] for m in consume(client, queue["id"])] == [leased["id"]]
    for value in ("-1", "901"):
        assert client.put(f"/messages/{leased['id']}/nack", params={"delay_seconds": value}).status_code == 422


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_nack_waits_the_queue_retry_backoff(
    client: httpx.Client, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue = make_queue(topic_id=topic_id, retry_min_backoff_seconds=10, retry_max_backoff_seconds=25)
    publish(client, topic_id)
    waits = []
    for attempt in (1, 2, 3):
        [leased] = consume(client, queue["id"])
        assert leased["delivery_attempts"] == attempt
        assert client.put(f"/messages/{leased['id']}/nack").status_code == 204
        waits.append(round(scheduled_in(db, leased["id"])))
        assert consume(client, queue["id"]) == []
        end_lease(db, leased["id"])
    assert waits == [10, 20, 25]


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_batch_ack_and_nack(client: httpx.Client, db: psycopg.Connection, queue: dict) -> None:
    publish(client, queue["topic_id"], 4)
    leased = [m["id"] for m in consume(client, queue["id"])]
    assert len(leased) == 4
    missing = str(uuid.uuid4())

    response = client.post("/messages/nack", json={"ids": [leased[0], leased[1], missing], "delay_seconds": 60})
    assert (response.status_code, response.json()) == (200, {"nacked": 2})
    assert 55 < scheduled_in(db, leased[0]) <= 60
    response = client.post("/messages/nack", json={"ids": [leased[2]]})
    assert (response.status_code, response.json()) == (200, {"nacked": 1})
    assert [m["id"] for m in consume(client, queue["id"])] == [leased[2]]

    response = client.post("/messages/ack", json={"ids": [*leased, missing]})
    assert (response.status_code, response.json()) == (200, {"acked": 4})
    response = client.post("/messages/ack", json={"ids": leased})
    assert (response.status_code, response.json()) == (200, {"acked": 0})
    # The single-message routes are still there, next to the batch ones.
    assert client.put(f"/messages/{leased[0]}/ack").status_code == 204


def test_batch_limits(client: httpx.Client) -> None:
    thousand = [str(uuid.uuid4()) for _ in range(1000)]
    assert client.post("/messages/ack", json={"ids": thousand}).json() == {"acked": 0}
    assert client.post("/messages/nack", json={"ids": thousand}).json() == {"nacked": 0}
    for path in ("/messages/ack", "/messages/nack"):
        for body in ({"ids": [*thousand, str(uuid.uuid4())]}, {"ids": []}, {}, {"ids": ["not-a-uuid"]}):
            response = client.post(path, json=body)
            assert response.status_code == 422, (path, len(body.get("ids", [])), response.text)
    for delay in (-1, 901):
        response = client.post("/messages/nack", json={"ids": thousand[:1], "delay_seconds": delay})
        assert response.status_code == 422


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_stats_show_the_new_counts_even_when_zero(
    client: httpx.Client,
    db: psycopg.Connection,
    make_topic: Callable[..., str],
    make_queue: Callable[..., dict],
) -> None:
    topic_id = make_topic()
    dead = make_queue("dead")
    queue = make_queue(topic_id=topic_id, dead_queue_id=dead["id"], message_max_deliveries=1)
    delayed = make_queue("delayed", topic_id=topic_id, delivery_delay_seconds=60)
    publish(client, topic_id, 3)
    assert client.get(f"/queues/{queue['id']}/stats").json() == {
        "num_undelivered_messages": 3,
        "oldest_unacked_message_age_seconds": 0,
        "num_inflight_messages": 0,
        "num_delayed_messages": 0,
        "num_dead_letter_candidates": 0,
        "push_in_flight": None,
        "push_window": None,
    }
    assert client.get(f"/queues/{delayed['id']}/stats").json() == {
        "num_undelivered_messages": 0,
        "oldest_unacked_message_age_seconds": 0,
        "num_inflight_messages": 0,
        "num_delayed_messages": 3,
        "num_dead_letter_candidates": 0,
        "push_in_flight": None,
        "push_window": None,
    }
    [leased] = consume(client, queue["id"], limit=1)
    stats = client.get(f"/queues/{queue['id']}/stats").json()
    assert stats == {
        "num_undelivered_messages": 2,
        "oldest_unacked_message_age_seconds": stats["oldest_unacked_message_age_seconds"],
        "num_inflight_messages": 1,
        "num_delayed_messages": 0,
        "num_dead_letter_candidates": 1,  # delivered message_max_deliveries (1) times
        "push_in_flight": None,
        "push_window": None,
    }
    end_lease(db, leased["id"])
    stats = client.get(f"/queues/{queue['id']}/stats").json()
    assert stats["num_inflight_messages"] == 0 and stats["num_dead_letter_candidates"] == 1


@pytest.mark.single_database("LISTENs on the database it was given; a router sends no NOTIFY (its shards do)")
def test_released_messages_wake_long_polling_consumers(
    client: httpx.Client, api_database_url: str, queue: dict
) -> None:
    publish(client, queue["topic_id"], 4)
    ids = [m["id"] for m in consume(client, queue["id"])]
    with psycopg.connect(api_database_url, autocommit=True) as listener:
        listener.execute("listen fastqueue_available")
        # Only watched queues are notified (a long-polling gateway watches the queues it waits on).
        listener.execute("select fastqueue.watch_queue(%s, 'test', 60)", (queue["id"],))

        def notified() -> list[str]:
            return [n.payload for n in listener.notifies(timeout=0.5, stop_after=1)]

        assert client.put(f"/messages/{ids[0]}/nack").status_code == 204
        assert notified() == [queue["id"]]
        assert client.put(f"/messages/{ids[1]}/deadline", json={"seconds": 0}).status_code == 204
        assert notified() == [queue["id"]]
        assert client.post("/messages/nack", json={"ids": ids[2:]}).status_code == 200
        assert notified() == [queue["id"]]
        # Not available yet: nobody is woken for nothing.
        assert client.put(f"/messages/{ids[0]}/nack", params={"delay_seconds": 30}).status_code == 204
        assert client.put(f"/messages/{ids[1]}/deadline", json={"seconds": 30}).status_code == 204
        assert notified() == []


def test_the_consumer_role_may_use_the_new_routes(api: httpx.Client, uid: Callable[[str], str]) -> None:  # noqa: F811
    message_id = uuid.uuid4()
    calls = (
        ("PUT", f"/messages/{message_id}/deadline", {"seconds": 0}),
        ("POST", "/messages/ack", {"ids": [str(message_id)]}),
        ("POST", "/messages/nack", {"ids": [str(message_id)]}),
    )
    for method, path, body in calls:
        for token in (CONSUMER, ADMIN):
            response = api.request(method, path, json=body, headers=bearer(token))
            assert response.status_code in (200, 204), (method, path, token, response.text)
        assert api.request(method, path, json=body, headers=bearer(PUBLISHER)).status_code == 403, (method, path)
