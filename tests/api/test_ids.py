"""Topic and queue ids made only of dots are refused by the gateway's request schemas (so /docs
shows the rule) and by SQL (db/tests/schema/dot_ids.sql): HTTP clients drop "." and ".." path segments,
so GET /queues/../stats would reach GET /stats instead."""

import re
from collections.abc import Callable

import httpx
import pytest

DOTS = [".", "..", "...", "." * 128]
QUEUE_SETTINGS = {"ack_deadline_seconds": 30, "message_retention_seconds": 600}


def field_error(response: httpx.Response) -> dict:
    assert response.status_code == 422, (response.status_code, response.text)
    detail = response.json()["detail"]
    assert isinstance(detail, list), f"the request schema should catch it, not the database: {detail!r}"
    (error,) = detail
    return error


@pytest.mark.parametrize("dots", DOTS)
def test_topic_and_queue_ids_made_only_of_dots_are_refused(client: httpx.Client, dots: str) -> None:
    error = field_error(client.post("/topics", json={"id": dots}))
    assert error["loc"] == ["body", "id"]
    error = field_error(client.post("/queues", json={"id": dots, **QUEUE_SETTINGS}))
    assert error["loc"] == ["body", "id"]
    assert client.get(f"/topics/{dots.replace('.', '%2E')}").status_code == 404


def test_ids_with_dots_among_other_characters_are_accepted(client: httpx.Client, uid: Callable[[str], str]) -> None:
    for topic_id in (uid(".hidden"), uid("a..b") + "..", "..-" + uid("x")):
        response = client.post("/topics", json={"id": topic_id})
        assert response.status_code == 201, (topic_id, response.text)
    queue_id = "._" + uid("q")
    assert client.post("/queues", json={"id": queue_id, **QUEUE_SETTINGS}).status_code == 201
    assert client.get(f"/queues/{queue_id}/stats").status_code == 200


def test_the_openapi_pattern_refuses_only_dots(client: httpx.Client) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for model in ("TopicCreate", "QueueCreate"):
        pattern = re.compile(schemas[model]["properties"]["id"]["pattern"])
        assert [dots for dots in DOTS if pattern.search(dots)] == [], model
        assert all(pattern.search(ok) for ok in ("a", ".a", "a.", "a..b", "_.", "v1.2")), model
        assert not pattern.search("a/b") and not pattern.search("")
