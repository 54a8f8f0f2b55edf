"""/topics: create, read, list with pagination, delete."""

from collections.abc import Callable

import httpx


def test_create_and_get_topic(client: httpx.Client, uid: Callable[[str], str]) -> None:
    topic_id = uid("orders")
    created = client.post("/topics", json={"id": topic_id})
    assert created.status_code == 201
    assert list(created.json()) == ["id", "created_at", "deduplication_window_seconds"]

    response = client.get(f"/topics/{topic_id}")
    assert response.status_code == 200
    assert response.json() == created.json()


def test_topic_ids_follow_the_id_rule(client: httpx.Client, uid: Callable[[str], str]) -> None:
    longest = uid("x") + "y" * (128 - len(uid("x")))
    assert len(longest) == 128
    assert client.post("/topics", json={"id": longest}).status_code == 201
    assert client.post("/topics", json={"id": uid("A.b_c-9")}).status_code == 201

    for bad in ["", "with space", "slash/", "tab\t", "trailing-newline\n", "ünicode", "a" * 129, "nul\u0000"]:
        response = client.post("/topics", json={"id": bad})
        assert response.status_code == 422, bad
        assert response.json()["detail"], bad


def test_duplicate_topic_is_422(client: httpx.Client, make_topic: Callable[..., str]) -> None:
    topic_id = make_topic()
    response = client.post("/topics", json={"id": topic_id})
    assert response.status_code == 422
    assert response.json() == {"detail": "This topic already exists"}


def test_unknown_topic_is_404(client: httpx.Client, uid: Callable[[str], str]) -> None:
    missing = uid("missing")
    for response in (
        client.get(f"/topics/{missing}"),
        client.delete(f"/topics/{missing}"),
        client.post(f"/topics/{missing}/messages", json={"data": {}}),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "Topic not found"}


def test_delete_topic_detaches_its_queues(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue = make_queue(topic_id=topic_id)
    client.post(f"/topics/{topic_id}/messages", json={"data": {"kept": True}})

    response = client.delete(f"/topics/{topic_id}")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/topics/{topic_id}").status_code == 404
    assert client.delete(f"/topics/{topic_id}").status_code == 404

    detached = client.get(f"/queues/{queue['id']}").json()
    assert detached["topic_id"] is None
    assert client.get(f"/queues/{queue['id']}/stats").json()["num_undelivered_messages"] == 1


def test_list_topics_pages_in_id_order(client: httpx.Client, make_topic: Callable[..., str]) -> None:
    mine = sorted(make_topic(f"page-{n}") for n in range(5))
    everything = client.get("/topics", params={"limit": 1000}).json()["data"]
    ids = [topic["id"] for topic in everything]
    assert ids == sorted(ids)
    start = ids.index(mine[0])

    assert client.get("/topics").json()["data"] == everything[:10]
    page = client.get("/topics", params={"offset": start + 1, "limit": 3})
    assert page.status_code == 200
    assert page.json()["data"] == everything[start + 1 : start + 4]
    assert client.get("/topics", params={"offset": len(ids), "limit": 5}).json() == {"data": []}
    assert len(client.get("/topics", params={"limit": 1}).json()["data"]) == 1


def test_list_topics_rejects_bad_paging(client: httpx.Client) -> None:
    for params in (
        {"limit": 0},
        {"limit": -1},
        {"limit": 1001},
        {"limit": 10**30},
        {"limit": "ten"},
        {"offset": -1},
        {"offset": 2**31},
        {"offset": "1.5"},
    ):
        response = client.get("/topics", params=params)
        assert response.status_code == 422, params
        assert response.json()["detail"][0]["loc"][0] == "query"
