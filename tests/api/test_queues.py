"""/queues: create with every setting, read, list, replace, delete, stats, purge, redrive."""

from collections.abc import Callable
from datetime import datetime

import httpx
from fastqueue.gateway.schemas import QUEUE_EXTENSION_FIELDS

from tests.api.test_stable_answers import QUICKSTART_QUEUE

# Every answer: fastqueue 1.7's keys, then the settings it did not have (null or false when unset).
QUEUE_KEYS = set(QUICKSTART_QUEUE) | set(QUEUE_EXTENSION_FIELDS)


def settings(**overrides) -> dict:
    return {"ack_deadline_seconds": 30, "message_retention_seconds": 600, **overrides}


def test_create_queue_with_every_setting(
    client: httpx.Client, uid: Callable[[str], str], make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    dead = make_queue("dead")
    body = settings(
        id=uid("full"),
        topic_id=topic_id,
        message_filters={"event_name": ["created", "updated"]},
        dead_queue_id=dead["id"],
        message_max_deliveries=5,
        delivery_delay_seconds=10,
    )
    response = client.post("/queues", json=body)
    assert response.status_code == 201, response.text
    queue = response.json()
    assert set(queue) == QUEUE_KEYS
    assert {key: queue[key] for key in body} == body
    assert client.get(f"/queues/{body['id']}").json() == queue

    assert set(dead) == QUEUE_KEYS
    assert dead["topic_id"] is None


def test_duplicate_queue_is_422(client: httpx.Client, make_queue: Callable[..., dict]) -> None:
    queue = make_queue()
    response = client.post("/queues", json=settings(id=queue["id"]))
    assert response.status_code == 422
    assert response.json() == {"detail": "This queue already exists"}


def test_queue_references_must_exist(client: httpx.Client, uid: Callable[[str], str]) -> None:
    response = client.post("/queues", json=settings(id=uid("q"), topic_id=uid("no-topic")))
    assert (response.status_code, response.json()) == (404, {"detail": "Topic not found"})
    response = client.post(
        "/queues", json=settings(id=uid("q"), dead_queue_id=uid("no-queue"), message_max_deliveries=3)
    )
    assert (response.status_code, response.json()) == (404, {"detail": "Queue not found"})


def test_rules_checked_in_sql_answer_422_with_their_sentence(
    client: httpx.Client, uid: Callable[[str], str], make_queue: Callable[..., dict]
) -> None:
    dead = make_queue("dead")
    response = client.post("/queues", json=settings(id=uid("q"), dead_queue_id=dead["id"]))
    assert response.status_code == 422
    assert response.json() == {
        "detail": "dead_queue_id and message_max_deliveries must be given together or not at all"
    }

    response = client.post("/queues", json=settings(id=uid("q"), message_max_deliveries=3))
    assert response.status_code == 422
    assert "together" in response.json()["detail"]

    queue_id = uid("self")
    response = client.post("/queues", json=settings(id=queue_id, dead_queue_id=queue_id, message_max_deliveries=3))
    assert response.status_code == 422
    assert response.json() == {"detail": "dead_queue_id must name another queue, not the queue itself"}


def test_queue_settings_are_validated(client: httpx.Client, uid: Callable[[str], str]) -> None:
    cases = [
        {"ack_deadline_seconds": 0},
        {"ack_deadline_seconds": 601},
        {"ack_deadline_seconds": "thirty"},
        {"ack_deadline_seconds": True},
        {"ack_deadline_seconds": 30.5},
        {"ack_deadline_seconds": None},
        {"message_retention_seconds": 599},
        {"message_retention_seconds": 1209601},
        {"message_retention_seconds": 10**40},
        {"message_max_deliveries": 0},
        {"message_max_deliveries": 1001},
        {"delivery_delay_seconds": 0},
        {"delivery_delay_seconds": 901},
        {"message_filters": ["created"]},
        {"message_filters": {"event_name": "created"}},
        {"message_filters": {"event_name": [1]}},
        {"topic_id": 7},
        {"id": "bad id"},
        {"id": "x" * 129},
        {"id": None},
    ]
    for case in cases:
        body = {**settings(id=uid("valid")), **case}
        response = client.post("/queues", json=body)
        assert response.status_code == 422, case
        assert response.json()["detail"], case
    for missing in ("id", "ack_deadline_seconds", "message_retention_seconds"):
        body = settings(id=uid("valid"))
        body.pop(missing, None)
        assert client.post("/queues", json=body).status_code == 422, missing


def test_update_queue_replaces_its_settings(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    dead = make_queue("dead")
    queue = make_queue(topic_id=topic_id, message_filters={"kind": ["a"]}, delivery_delay_seconds=5)

    body = settings(topic_id=None, ack_deadline_seconds=60, dead_queue_id=dead["id"], message_max_deliveries=2)
    response = client.put(f"/queues/{queue['id']}", json=body)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert set(updated) == QUEUE_KEYS
    assert {key: updated[key] for key in body} == body
    assert updated["message_filters"] is None  # left out: replaced by null
    assert updated["created_at"] == queue["created_at"]
    assert datetime.fromisoformat(updated["updated_at"]) > datetime.fromisoformat(queue["updated_at"])
    assert client.get(f"/queues/{queue['id']}").json() == updated


def test_update_queue_errors(client: httpx.Client, uid: Callable[[str], str], make_queue: Callable[..., dict]) -> None:
    queue = make_queue()
    response = client.put(f"/queues/{uid('missing')}", json=settings())
    assert (response.status_code, response.json()) == (404, {"detail": "Queue not found"})
    response = client.put(f"/queues/{queue['id']}", json=settings(topic_id=uid("missing")))
    assert (response.status_code, response.json()) == (404, {"detail": "Topic not found"})
    response = client.put(f"/queues/{queue['id']}", json=settings(ack_deadline_seconds=0))
    assert response.status_code == 422
    response = client.put(f"/queues/{queue['id']}", json=settings(dead_queue_id=queue["id"], message_max_deliveries=1))
    assert (response.status_code, response.json()) == (
        422,
        {"detail": "dead_queue_id must name another queue, not the queue itself"},
    )
    assert client.put(f"/queues/{queue['id']}", json=[]).status_code == 422


def test_list_queues_pages_in_id_order(client: httpx.Client, make_queue: Callable[..., dict]) -> None:
    mine = sorted(make_queue(f"page-{n}")["id"] for n in range(4))
    everything = client.get("/queues", params={"limit": 1000}).json()["data"]
    ids = [queue["id"] for queue in everything]
    assert ids == sorted(ids)
    start = ids.index(mine[0])
    assert ids[start : start + 4] == mine

    assert client.get("/queues").json()["data"] == everything[:10]
    page = client.get("/queues", params={"offset": start, "limit": 2}).json()["data"]
    assert [queue["id"] for queue in page] == mine[:2]
    assert all(set(queue) == QUEUE_KEYS for queue in everything)
    for params in ({"limit": 0}, {"limit": 1001}, {"offset": -5}, {"offset": 10**20}):
        assert client.get("/queues", params=params).status_code == 422, params


def test_delete_queue(client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]) -> None:
    topic_id = make_topic()
    dead = make_queue("dead", topic_id=topic_id)
    queue = make_queue(topic_id=topic_id, dead_queue_id=dead["id"], message_max_deliveries=3)
    client.post(f"/topics/{topic_id}/messages", json={"data": {"n": 1}})

    response = client.delete(f"/queues/{dead['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/queues/{dead['id']}").status_code == 404
    assert client.get(f"/queues/{dead['id']}/messages").status_code == 404
    # The queue that used it as its dead queue loses the pair.
    survivor = client.get(f"/queues/{queue['id']}").json()
    assert (survivor["dead_queue_id"], survivor["message_max_deliveries"]) == (None, None)

    response = client.delete(f"/queues/{dead['id']}")
    assert (response.status_code, response.json()) == (404, {"detail": "Queue not found"})


def test_unknown_queue_is_404_everywhere(client: httpx.Client, uid: Callable[[str], str]) -> None:
    missing = uid("missing")
    for response in (
        client.get(f"/queues/{missing}"),
        client.delete(f"/queues/{missing}"),
        client.get(f"/queues/{missing}/stats"),
        client.put(f"/queues/{missing}/purge"),
        client.put(f"/queues/{missing}/redrive", json={"destination_queue_id": missing + "-2"}),
        client.get(f"/queues/{missing}/messages"),
    ):
        assert (response.status_code, response.json()) == (404, {"detail": "Queue not found"}), response.request.url


def test_settings_beyond_1_7_show_null_when_unset(client: httpx.Client, uid: Callable[[str], str]) -> None:
    base = {"ack_deadline_seconds": 30, "message_retention_seconds": 600}
    plain = client.post("/queues", json={"id": uid("plain"), **base})
    assert plain.status_code == 201, plain.text
    assert plain.json()["retry_min_backoff_seconds"] is None and plain.json()["enable_message_ordering"] is False

    backoff = {"retry_min_backoff_seconds": 0, "retry_max_backoff_seconds": 8}
    created = client.post("/queues", json={"id": uid("backoff"), **base, **backoff})
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in backoff} == backoff, "a backoff of 0 is a setting, not an absence"

    half = client.post("/queues", json={"id": uid("half"), **base, "retry_min_backoff_seconds": 1})
    assert half.status_code == 422
    assert half.json()["detail"] == (
        "retry_min_backoff_seconds and retry_max_backoff_seconds must be given together or not at all"
    )
    inverted = client.post(
        "/queues", json={"id": uid("inverted"), **base, "retry_min_backoff_seconds": 9, "retry_max_backoff_seconds": 3}
    )
    assert inverted.status_code == 422
    assert "no larger than the maximum" in inverted.json()["detail"]
