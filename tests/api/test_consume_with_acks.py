"""POST /queues/{id}/messages/consume: acks the messages named in ack_ids (of that queue only), then
leases as GET /queues/{id}/messages does, in one SQL call; with long polling the acks are committed by
the first call, so they hold when the wait ends empty or the client leaves."""

import asyncio
import time
import uuid
from collections.abc import Callable

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.api.conftest import Server

SETTLE_SECONDS = 0.5  # as in test_long_polling.py: time for a request to be parked in its wait


def _publish(db: psycopg.Connection, topic_id: str, n: int, ordering_key: str | None = None) -> None:
    db.execute("select fastqueue.publish(%s, %s, ordering_key => %s)", (topic_id, Jsonb({"n": n}), ordering_key))


def _ids_left(db: psycopg.Connection, queue_id: str) -> set[str]:
    return {str(r[0]) for r in db.execute("select id from fastqueue.messages where queue_id = %s", (queue_id,))}


def _consume(client: httpx.Client, queue_id: str, **body) -> httpx.Response:
    return client.post(f"/queues/{queue_id}/messages/consume", json=body, timeout=40)


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_acks_and_lease_in_one_request(
    client: httpx.Client, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]
    other_id = make_queue("other", topic_id=topic_id)["id"]
    for n in range(1, 5):
        _publish(db, topic_id, n)
    first = client.get(f"/queues/{queue_id}/messages", params={"limit": 2}).json()["data"]
    [of_other] = client.get(f"/queues/{other_id}/messages", params={"limit": 1}).json()["data"]

    unknown = str(uuid.uuid4())
    response = _consume(client, queue_id, limit=10, ack_ids=[m["id"] for m in first] + [of_other["id"], unknown])
    assert response.status_code == 200, response.text
    leased = response.json()["data"]
    assert [m["data"] for m in leased] == [{"n": 3}, {"n": 4}]
    # The same answer as the GET's: the same fields, each leased once.
    assert set(leased[0]) == set(first[0]) and all(m["delivery_attempts"] == 1 for m in leased)
    assert _ids_left(db, queue_id) == {m["id"] for m in leased}, "the acked messages are still in the queue"
    assert of_other["id"] in _ids_left(db, other_id), "a message of another queue was acked"

    # Without ack_ids, and with an empty body, it is a plain consume; limit is honoured.
    _publish(db, topic_id, 5)
    _publish(db, topic_id, 6)
    assert [m["data"] for m in _consume(client, queue_id, limit=1).json()["data"]] == [{"n": 5}]
    assert [m["data"] for m in _consume(client, queue_id).json()["data"]] == [{"n": 6}]


def test_acking_the_head_of_an_ordering_key_leases_the_next_in_the_same_request(
    client: httpx.Client, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id, enable_message_ordering=True)["id"]
    for n in range(1, 4):
        _publish(db, topic_id, n, ordering_key="order-7")
    [head] = _consume(client, queue_id).json()["data"]
    assert head["data"] == {"n": 1}
    [second] = _consume(client, queue_id, ack_ids=[head["id"]]).json()["data"]
    assert second["data"] == {"n": 2}


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_acks_are_committed_when_the_long_poll_ends_empty(
    client: httpx.Client, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]
    _publish(db, topic_id, 1)
    [leased] = _consume(client, queue_id).json()["data"]
    started = time.monotonic()
    response = _consume(client, queue_id, wait_seconds=2, ack_ids=[leased["id"]])
    assert response.status_code == 200, response.text
    assert response.json() == {"data": []}
    assert time.monotonic() - started >= 1.9, "the request did not wait"
    assert _ids_left(db, queue_id) == set(), "the ack of a long poll that ended empty was not kept"


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_a_long_poll_with_acks_is_woken_by_a_publish_and_leases_it(
    server: Server, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]
    _publish(db, topic_id, 1)

    async def scenario() -> list[dict]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            [leased] = (await http.post(f"/queues/{queue_id}/messages/consume", json={})).json()["data"]
            poll = asyncio.create_task(
                http.post(f"/queues/{queue_id}/messages/consume", json={"wait_seconds": 10, "ack_ids": [leased["id"]]})
            )
            await asyncio.sleep(SETTLE_SECONDS)
            assert not poll.done(), "the long poll answered before anything was published"
            assert _ids_left(db, queue_id) == set(), "the ack was not committed before the wait"
            _publish(db, topic_id, 2)
            response = await poll
            assert response.status_code == 200, response.text
            return response.json()["data"]

    woken = asyncio.run(scenario())
    assert [m["data"] for m in woken] == [{"n": 2}]


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_acks_are_committed_when_the_client_leaves_during_the_wait(
    server: Server, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]
    _publish(db, topic_id, 1)

    async def scenario() -> None:
        http = httpx.AsyncClient(base_url=server.url, timeout=30)
        [leased] = (await http.post(f"/queues/{queue_id}/messages/consume", json={})).json()["data"]
        poll = asyncio.create_task(
            http.post(f"/queues/{queue_id}/messages/consume", json={"wait_seconds": 10, "ack_ids": [leased["id"]]})
        )
        await asyncio.sleep(SETTLE_SECONDS)
        poll.cancel()  # httpx closes the connection under a cancelled request
        await asyncio.gather(poll, return_exceptions=True)
        await http.aclose()
        await asyncio.sleep(0.3)

    asyncio.run(scenario())
    assert _ids_left(db, queue_id) == set(), "the ack of a client that left was not kept"
    _publish(db, topic_id, 2)
    time.sleep(1.5)  # the notification, and a re-check, have come and gone
    state = db.execute("select delivery_attempts from fastqueue.messages where queue_id = %s", (queue_id,)).fetchall()
    assert state == [(0,)], "a message was leased for a client that had left"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"wait_seconds": 21}, "wait_seconds"),
        ({"wait_seconds": -1}, "wait_seconds"),
        ({"wait_seconds": 1.5}, "wait_seconds"),
        ({"ack_ids": "671cfac2-252c-4c22-9abc-28809a4f9fe8"}, "ack_ids"),
        ({"ack_ids": ["not-a-uuid"]}, "ack_ids"),
        ({"ack_ids": [str(uuid.uuid4()) for _ in range(1001)]}, "ack_ids"),
    ],
)
def test_a_bad_body_is_422_naming_the_field(
    client: httpx.Client, make_queue: Callable[..., dict], body: dict, field: str
) -> None:
    queue_id = make_queue()["id"]
    response = _consume(client, queue_id, **body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", field], response.json()


def test_a_body_that_is_not_an_object_is_422_and_an_unknown_queue_404(client: httpx.Client) -> None:
    response = client.post("/queues/any-queue/messages/consume", json=[1])
    assert response.status_code == 422, response.text
    response = client.post("/queues/no-such-queue-for-consume/messages/consume", json={"ack_ids": [str(uuid.uuid4())]})
    assert response.status_code == 404, response.text
    assert response.json() == {"detail": "Queue not found"}
