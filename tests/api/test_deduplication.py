"""Deduplication over HTTP: a retry of the same message under a used deduplication_id gets the first
publish's copies (201); another message under it gets 409 naming the id, and learns nothing of the
first publish's data or attributes (db/tests/publish/publish_deduplication_conflict.sql holds the SQL side)."""

import httpx

CONFLICT = (
    'deduplication_id "order-42-created" was already used on this topic for a different message'
    " (a retry must send the same data, attributes and ordering_key)"
)


def test_another_message_under_a_used_deduplication_id_gets_409(client: httpx.Client, make_topic, make_queue) -> None:
    topic_id = make_topic()
    queue_id = make_queue("q", topic_id)["id"]
    secret = {"data": {"card": "4111-1111", "total": 99.9}, "attributes": {"customer": "alice"}}
    first = client.post(f"/topics/{topic_id}/messages", json={**secret, "deduplication_id": "order-42-created"})
    assert first.status_code == 201, first.text

    # Someone else guesses the id and publishes their own message under it.
    for other in (
        {"data": {"probe": True}},
        {"data": secret["data"]},  # the data alone, without the attributes
        {**secret, "ordering_key": "k"},
    ):
        answer = client.post(f"/topics/{topic_id}/messages", json={**other, "deduplication_id": "order-42-created"})
        assert (answer.status_code, answer.json()) == (409, {"detail": CONFLICT}), other
        assert "4111" not in answer.text and "alice" not in answer.text

    batch = client.post(
        f"/topics/{topic_id}/messages/batch",
        json={"messages": [{"data": {"n": 1}}, {"data": {"probe": True}, "deduplication_id": "order-42-created"}]},
    )
    assert (batch.status_code, batch.json()) == (409, {"detail": CONFLICT})
    assert "4111" not in batch.text

    # The publisher's own retry (same message, keys in another order) still gets its copies.
    retry = client.post(
        f"/topics/{topic_id}/messages",
        json={
            "attributes": {"customer": "alice"},
            "data": {"total": 99.9, "card": "4111-1111"},
            "deduplication_id": "order-42-created",
        },
    )
    assert retry.status_code == 201, retry.text
    assert [m["id"] for m in retry.json()["data"]] == [m["id"] for m in first.json()["data"]]
    assert client.get(f"/queues/{queue_id}/stats").json()["num_undelivered_messages"] == 1, "nothing else was stored"


def test_the_openapi_documents_the_409(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/topics/{topic_id}/messages", "/topics/{topic_id}/messages/batch"):
        assert "409" in paths[path]["post"]["responses"], path
