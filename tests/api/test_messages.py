"""Messages through HTTP: publish fan-out and filters, consume, ack/nack, lease expiry, dead-lettering,
delivery delay, redrive and purge."""

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import psycopg
import pytest


def publish(client: httpx.Client, topic_id: str, data: dict, attributes: dict | None = None) -> list[dict]:
    response = client.post(f"/topics/{topic_id}/messages", json={"data": data, "attributes": attributes})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def consume(client: httpx.Client, queue_id: str, limit: int | None = None) -> list[dict]:
    params = {} if limit is None else {"limit": limit}
    response = client.get(f"/queues/{queue_id}/messages", params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


EMPTY_STATS = {
    "num_undelivered_messages": 0,
    "oldest_unacked_message_age_seconds": 0,
    "num_inflight_messages": 0,
    "num_delayed_messages": 0,
    "num_dead_letter_candidates": 0,
    "push_in_flight": None,
    "push_window": None,
}


def stats(client: httpx.Client, queue_id: str) -> dict:
    response = client.get(f"/queues/{queue_id}/stats")
    assert response.status_code == 200, response.text
    return response.json()


def test_publish_fans_out_to_every_queue_of_the_topic(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    first, second = make_queue("a", topic_id=topic_id), make_queue("b", topic_id=topic_id)
    make_queue("elsewhere")

    copies = publish(client, topic_id, {"n": 1, "nested": {"list": [1, 2.5, None, "x"]}})
    assert sorted(copy["queue_id"] for copy in copies) == sorted([first["id"], second["id"]])
    assert len({copy["id"] for copy in copies}) == 2
    assert all(copy["attributes"] is None and copy["delivery_attempts"] == 0 for copy in copies)
    assert [m["data"] for m in consume(client, first["id"])] == [{"n": 1, "nested": {"list": [1, 2.5, None, "x"]}}]


def test_publish_to_a_topic_without_queues_returns_an_empty_list(
    client: httpx.Client, make_topic: Callable[..., str]
) -> None:
    response = client.post(f"/topics/{make_topic()}/messages", json={"data": {"lost": True}})
    assert (response.status_code, response.json()) == (201, {"data": []})


def test_filters_choose_the_queues(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    everything = make_queue("all", topic_id=topic_id)
    created = make_queue("created", topic_id=topic_id, message_filters={"event": ["created"]})
    both = make_queue("both", topic_id=topic_id, message_filters={"event": ["created", "updated"], "region": ["eu"]})

    def receivers(attributes: dict | None) -> set[str]:
        return {copy["queue_id"] for copy in publish(client, topic_id, {"a": attributes}, attributes)}

    assert receivers({"event": "created"}) == {everything["id"], created["id"]}
    assert receivers({"event": "created", "region": "eu"}) == {everything["id"], created["id"], both["id"]}
    assert receivers({"event": "updated", "region": "eu", "extra": "x"}) == {everything["id"], both["id"]}
    assert receivers({"event": "deleted"}) == {everything["id"]}
    assert receivers({}) == {everything["id"]}
    assert receivers(None) == {everything["id"]}
    assert stats(client, created["id"])["num_undelivered_messages"] == 2


def test_consume_leases_oldest_first_up_to_limit(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue = make_queue(topic_id=topic_id)
    for n in range(12):
        publish(client, topic_id, {"n": n})

    assert [m["data"]["n"] for m in consume(client, queue["id"], limit=3)] == [0, 1, 2]
    assert [m["data"]["n"] for m in consume(client, queue["id"])] == list(range(3, 12))[:10]
    assert consume(client, queue["id"]) == []
    assert stats(client, queue["id"])["num_undelivered_messages"] == 0

    for limit in (0, -1, 1001, "many", 10**30):
        response = client.get(f"/queues/{queue['id']}/messages", params={"limit": limit})
        assert response.status_code == 422, limit


def test_ack_and_nack(client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]) -> None:
    topic_id = make_topic()
    queue = make_queue(topic_id=topic_id)
    [message] = publish(client, topic_id, {"n": 1})

    [leased] = consume(client, queue["id"])
    assert leased["delivery_attempts"] == 1
    assert consume(client, queue["id"]) == []  # leased: hidden for ack_deadline_seconds
    assert client.put(f"/messages/{message['id']}/nack").status_code == 204
    [again] = consume(client, queue["id"])
    assert (again["id"], again["delivery_attempts"]) == (message["id"], 2)

    assert client.put(f"/messages/{message['id']}/ack").status_code == 204
    assert consume(client, queue["id"]) == []
    # Acks are idempotent and an unknown id is not an error: 204 again, nothing changes.
    assert client.put(f"/messages/{message['id']}/ack").status_code == 204
    assert client.put(f"/messages/{message['id']}/nack").status_code == 204
    assert client.put(f"/messages/{uuid.uuid4()}/ack").status_code == 204
    assert consume(client, queue["id"]) == []


def test_message_ids_must_be_uuids(client: httpx.Client) -> None:
    for bad in ("not-a-uuid", "1234", "671cfac2-252c-4c22-9abc-28809a4f9fe", "%00"):
        for action in ("ack", "nack"):
            response = client.put(f"/messages/{bad}/{action}")
            assert response.status_code == 422, (bad, action)
            assert response.json()["detail"][0]["loc"] == ["path", "message_id"]


def test_lease_expiry_then_dead_lettering(
    client: httpx.Client,
    db: psycopg.Connection,
    make_topic: Callable[..., str],
    make_queue: Callable[..., dict],
) -> None:
    topic_id = make_topic()
    dead = make_queue("dead")
    queue = make_queue(topic_id=topic_id, ack_deadline_seconds=1, dead_queue_id=dead["id"], message_max_deliveries=2)
    [message] = publish(client, topic_id, {"order": 42})

    assert [m["delivery_attempts"] for m in consume(client, queue["id"])] == [1]
    time.sleep(1.1)  # the lease ends without an ack: delivered again
    assert [m["delivery_attempts"] for m in consume(client, queue["id"])] == [2]
    time.sleep(1.1)
    # Delivered message_max_deliveries times: never delivered from this queue again.
    assert consume(client, queue["id"]) == []
    assert stats(client, queue["id"])["num_undelivered_messages"] == 0

    moved = db.execute("select dead_lettered_messages from fastqueue.cleanup()").fetchone()
    assert moved is not None and moved[0] >= 1

    [dead_letter] = consume(client, dead["id"])
    # As if newly published there: a new id (a late consumer of the old delivery cannot settle it).
    assert dead_letter["id"] != message["id"]
    assert dead_letter["queue_id"] == dead["id"]
    assert dead_letter["data"] == {"order": 42}
    assert dead_letter["delivery_attempts"] == 1  # reset to 0 when it moved, then leased once
    assert consume(client, queue["id"]) == []


def test_delivery_delay(client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]) -> None:
    topic_id = make_topic()
    queue = make_queue(topic_id=topic_id, delivery_delay_seconds=1)
    assert queue["delivery_delay_seconds"] == 1

    [message] = publish(client, topic_id, {"later": True})
    delay = datetime.fromisoformat(message["scheduled_at"]) - datetime.fromisoformat(message["created_at"])
    assert delay == timedelta(seconds=1)
    assert consume(client, queue["id"]) == []
    assert stats(client, queue["id"])["num_undelivered_messages"] == 0
    time.sleep(1.1)
    assert [m["id"] for m in consume(client, queue["id"])] == [message["id"]]


def test_redrive_moves_available_messages(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    source = make_queue("source", topic_id=topic_id)
    destination = make_queue("destination")
    published = [publish(client, topic_id, {"n": n})[0]["id"] for n in range(3)]
    [leased] = consume(client, source["id"], limit=1)
    assert leased["data"] == {"n": 0}

    response = client.put(f"/queues/{source['id']}/redrive", json={"destination_queue_id": destination["id"]})
    assert response.status_code == 204
    assert response.content == b""

    moved = consume(client, destination["id"])
    assert sorted(m["data"]["n"] for m in moved) == [1, 2]
    assert not {m["id"] for m in moved} & set(published), "moved messages get new ids, as if newly published there"
    assert all(m["queue_id"] == destination["id"] and m["delivery_attempts"] == 1 for m in moved)
    # The leased message stayed with its consumer.
    assert client.put(f"/messages/{leased['id']}/nack").status_code == 204
    assert [m["id"] for m in consume(client, source["id"])] == [leased["id"]]


def test_redrive_errors(client: httpx.Client, uid: Callable[[str], str], make_queue: Callable[..., dict]) -> None:
    queue = make_queue()
    response = client.put(f"/queues/{queue['id']}/redrive", json={"destination_queue_id": queue["id"]})
    assert response.status_code == 422
    assert response.json() == {"detail": "destination_queue_id must name another queue, not the queue being redriven"}
    response = client.put(f"/queues/{queue['id']}/redrive", json={"destination_queue_id": uid("missing")})
    assert (response.status_code, response.json()) == (404, {"detail": "Queue not found"})
    for body in ({}, {"destination_queue_id": None}, {"destination_queue_id": 5}, []):
        assert client.put(f"/queues/{queue['id']}/redrive", json=body).status_code == 422, body
    assert client.put(f"/queues/{queue['id']}/redrive").status_code == 422


def test_purge(client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]) -> None:
    topic_id = make_topic()
    queue, other = make_queue(topic_id=topic_id), make_queue("other", topic_id=topic_id)
    for n in range(3):
        publish(client, topic_id, {"n": n})
    consume(client, queue["id"], limit=1)

    response = client.put(f"/queues/{queue['id']}/purge")
    assert response.status_code == 204
    assert response.content == b""
    assert stats(client, queue["id"]) == EMPTY_STATS
    assert consume(client, queue["id"]) == []
    assert stats(client, other["id"])["num_undelivered_messages"] == 3
    assert client.put(f"/queues/{queue['id']}/purge").status_code == 204


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_stats_counts_what_a_consumer_could_lease(
    client: httpx.Client, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue = make_queue(topic_id=topic_id)
    assert stats(client, queue["id"]) == EMPTY_STATS
    [first] = publish(client, topic_id, {"n": 1})
    publish(client, topic_id, {"n": 2})
    db.execute(
        "update fastqueue.messages set created_at = created_at - interval '100 seconds' where id = %s",
        (first["id"],),
    )
    body = stats(client, queue["id"])
    assert body["num_undelivered_messages"] == 2
    assert 100 <= body["oldest_unacked_message_age_seconds"] <= 130
    assert isinstance(body["oldest_unacked_message_age_seconds"], int)
