"""POST /queues/{queue_id}/messages: one message straight to one queue (fastqueue.send)."""

from collections.abc import Callable

import httpx


def test_send_stores_one_message_in_that_queue_only(client: httpx.Client, uid: Callable[[str], str]) -> None:
    topic, queue, sibling = uid("send-topic"), uid("send-queue"), uid("send-sibling")
    assert client.post("/topics", json={"id": topic}).status_code == 201
    for name, filters in ((queue, {"kind": ["wanted"]}), (sibling, None)):
        body = {
            "id": name,
            "topic_id": topic,
            "ack_deadline_seconds": 30,
            "message_retention_seconds": 600,
            "message_filters": filters,
        }
        assert client.post("/queues", json=body).status_code == 201
    response = client.post(f"/queues/{queue}/messages", json={"data": {"n": 1}, "attributes": {"kind": "other"}})
    assert response.status_code == 201
    [sent] = response.json()["data"]
    assert (sent["queue_id"], sent["data"], sent["attributes"], sent["delivery_attempts"]) == (
        queue,
        {"n": 1},
        {"kind": "other"},
        0,
    )
    assert [m["id"] for m in client.get(f"/queues/{queue}/messages").json()["data"]] == [sent["id"]]
    assert client.get(f"/queues/{sibling}/messages").json()["data"] == []


def test_send_rules(client: httpx.Client, uid: Callable[[str], str]) -> None:
    queue = uid("send-rules")
    assert (
        client.post(
            "/queues",
            json={"id": queue, "topic_id": None, "ack_deadline_seconds": 30, "message_retention_seconds": 600},
        ).status_code
        == 201
    )
    delayed = client.post(f"/queues/{queue}/messages", json={"data": {}, "delay_seconds": 900})
    assert delayed.status_code == 201 and client.get(f"/queues/{queue}/messages").json()["data"] == []
    assert client.post(f"/queues/{queue}/messages", json={"data": {}, "delay_seconds": 901}).status_code == 422
    assert client.post(f"/queues/{queue}/messages", json={"data": [1]}).status_code == 422
    assert client.post(f"/queues/{queue}/messages", json={"data": {}, "attributes": {"n": 1}}).status_code == 422
    missing = client.post(f"/queues/{queue}-missing/messages", json={"data": {}})
    assert (missing.status_code, missing.json()) == (404, {"detail": "Queue not found"})
