"""Filter expressions through HTTP: a queue's `filter` is stored and shown only when set, a filter
that does not parse is a 422 naming the position, and publish reaches only the queues it passes.
The grammar and its semantics are tested in db/tests/publish/filter_expressions.sql."""

from collections.abc import Callable, Iterator

import httpx
import pytest

SETTINGS = {"ack_deadline_seconds": 30, "message_retention_seconds": 600}


@pytest.fixture
def make_queue(client: httpx.Client, make_queue: Callable[..., dict]) -> Iterator[Callable[..., dict]]:
    """conftest's make_queue, deleting its queues afterwards: the session's server is shared, and
    tests/api/test_queues.py lists every queue expecting none with a filter."""
    made: list[str] = []

    def make(*args, **kwargs) -> dict:
        queue = make_queue(*args, **kwargs)
        made.append(queue["id"])
        return queue

    yield make
    for queue_id in made:
        client.delete(f"/queues/{queue_id}")


def reached(client: httpx.Client, topic_id: str, attributes: dict | None) -> list[str]:
    response = client.post(f"/topics/{topic_id}/messages", json={"data": {"n": 1}, "attributes": attributes})
    assert response.status_code == 201, response.text
    return sorted(copy["queue_id"] for copy in response.json()["data"])


def test_queue_shows_its_filter_null_when_unset(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    expression = 'attributes.event = "created" AND NOT attributes:test'
    filtered = make_queue("filtered", topic_id=topic_id, filter=expression)
    plain = make_queue("plain", topic_id=topic_id)

    assert filtered["filter"] == expression
    assert plain["filter"] is None
    assert client.get(f"/queues/{filtered['id']}").json()["filter"] == expression
    assert client.get(f"/queues/{plain['id']}").json()["filter"] is None
    assert "filter_ast" not in filtered

    # PUT replaces every setting: without a filter the queue has none any more.
    response = client.put(f"/queues/{filtered['id']}", json={"topic_id": topic_id, **SETTINGS})
    assert response.status_code == 200, response.text
    assert response.json()["filter"] is None
    response = client.put(
        f"/queues/{plain['id']}", json={"topic_id": topic_id, **SETTINGS, "filter": "attributes:region"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["filter"] == "attributes:region"


def test_a_filter_that_does_not_parse_is_a_422_naming_the_position(
    client: httpx.Client, uid: Callable[[str], str], make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = uid("bad-filter")
    body = {"id": queue_id, "topic_id": topic_id, **SETTINGS}
    response = client.post("/queues", json={**body, "filter": 'attributes.event "x"'})
    assert response.status_code == 422, response.text
    assert response.json() == {
        "detail": 'filter: expected "=" or "!=" after attributes.event at position 18, found the string "x"'
    }
    assert client.get(f"/queues/{queue_id}").status_code == 404

    response = client.post("/queues", json={**body, "filter": "attributes:a AND attributes:b OR attributes:c"})
    assert response.status_code == 422, response.text
    assert "at position 31" in response.json()["detail"]

    queue = make_queue("kept", topic_id=topic_id, filter="attributes:a")
    response = client.put(f"/queues/{queue['id']}", json={"topic_id": topic_id, **SETTINGS, "filter": '("unclosed'})
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("filter: unterminated string starting at position 2")
    assert client.get(f"/queues/{queue['id']}").json()["filter"] == "attributes:a"


def test_publish_reaches_only_the_queues_whose_filter_passes(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    every = make_queue("every", topic_id=topic_id)["id"]
    created = make_queue("created", topic_id=topic_id, filter='attributes.event = "created"')["id"]
    europe_filter = 'hasPrefix(attributes.region, "eu-") OR attributes:vip'
    europe = make_queue("europe", topic_id=topic_id, filter=europe_filter)["id"]
    both = make_queue(
        "both",
        topic_id=topic_id,
        message_filters={"source": ["web"]},
        filter='attributes.event != "deleted"',
    )["id"]

    assert reached(client, topic_id, {"event": "created", "region": "eu-west1", "source": "web"}) == sorted(
        [every, created, europe, both]
    )
    assert reached(client, topic_id, {"event": "created", "region": "us-east1"}) == sorted([every, created])
    assert reached(client, topic_id, {"event": "deleted", "vip": "", "source": "web"}) == sorted([every, europe])
    # != passes a message without the key, but message_filters still wants source web.
    assert reached(client, topic_id, {"source": "web"}) == sorted([every, both])
    assert reached(client, topic_id, None) == [every]

    def depth(queue_id: str) -> int:
        return client.get(f"/queues/{queue_id}/stats").json()["num_undelivered_messages"]

    assert [depth(q) for q in (every, created, europe, both)] == [5, 2, 2, 2]
