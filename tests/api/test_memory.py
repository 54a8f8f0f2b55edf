"""The gateway's peak memory for the requests of issue 13, item 10, measured: the server's peak
resident set size (VmHWM in /proc/<pid>/status), on a fresh server per case, before and after each.
Before the fix a 786 KB publish to 10 queues took a server from about 100 MB to 300 MB (an answer of
7.9 MB parsed into Python objects), a 2.36 MB batch to 800 MB. The bounds here are generous (a few
times what the fixed gateway needs) and far below what the unbounded one reached."""

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.api.conftest import Server, migrated_database
from tests.conftest import drop_database

pytestmark = pytest.mark.gateway_only("measures the gateway's memory")

MB = 1024 * 1024


def message_of(size: int, salt: str) -> bytes:
    """A publish body whose data is about `size` bytes of JSON: many small objects, the shape that costs
    a Python process the most memory per byte (about 20 times its JSON)."""
    items, total, n = [], 0, 0
    while total < size:
        item = f'{{"a":"{salt}{n:x}"}}'
        items.append(item)
        total += len(item) + 1
        n += 1
    return b'{"data": {"items": [' + ",".join(items).encode() + b"]}}"


def peak_rss(server: Server) -> int:
    for line in open(f"/proc/{server.process.pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.fixture
def fresh_server(template_database: str, server_factory: Callable[..., Server]) -> Iterator[Server]:
    name, url = migrated_database(template_database, "fq_memory")
    server = server_factory(url)
    yield server
    server.stop()
    drop_database(name)


def _setup(http: httpx.Client, queues: int) -> tuple[str, list[str]]:
    assert http.post("/topics", json={"id": "big"}).status_code == 201
    ids = [f"big-{n}" for n in range(queues)]
    for queue_id in ids:
        body = {"id": queue_id, "topic_id": "big", "ack_deadline_seconds": 60, "message_retention_seconds": 600}
        assert http.post("/queues", json=body).status_code == 201
    # Warm up every route the case uses, so that the baseline includes the code paths.
    small = {"data": {"warm": True}}
    assert http.post("/topics/big/messages", json=small).status_code == 201
    assert http.post("/topics/big/messages/batch", json={"messages": [small]}).status_code == 201
    assert http.get(f"/queues/{ids[0]}/messages", params={"limit": 10}).status_code == 200
    return "big", ids


def _report(case: str, before: int, after: int, bound: int) -> None:
    print(
        f"\n[memory] {case}: peak RSS {before / MB:.0f} MB -> {after / MB:.0f} MB (+{(after - before) / MB:.0f} MB, bound +{bound / MB:.0f} MB)"
    )


JSON = {"content-type": "application/json"}


def test_publish_of_786_kb_to_10_queues(fresh_server: Server) -> None:
    with httpx.Client(base_url=fresh_server.url, timeout=60) as http:
        _setup(http, 10)
        body = message_of(786_000, "p")
        before = peak_rss(fresh_server)
        response = http.post("/topics/big/messages", content=body, headers=JSON)
        after = peak_rss(fresh_server)
    assert response.status_code == 201, response.text[:300]
    assert len(response.json()["data"]) == 10
    bound = 100 * MB
    _report("786 KB publish, 10 queues", before, after, bound)
    assert after - before < bound


def test_batch_of_2_36_mb_to_10_queues(fresh_server: Server) -> None:
    with httpx.Client(base_url=fresh_server.url, timeout=60) as http:
        _setup(http, 10)
        parts = [message_of(786_000, f"b{n}")[1:-1] for n in range(3)]  # three `"data": {...}`
        body = b'{"messages": [{' + b"}, {".join(parts) + b"}]}"
        assert 2_300_000 < len(body) < 2_500_000
        before = peak_rss(fresh_server)
        response = http.post("/topics/big/messages/batch", content=body, headers=JSON)
        after = peak_rss(fresh_server)
    assert response.status_code == 201, response.text[:300]
    assert len(response.json()["data"]) == 30
    bound = 200 * MB
    _report("2.36 MB batch, 10 queues", before, after, bound)
    assert after - before < bound


def test_consume_of_many_big_messages(fresh_server: Server) -> None:
    with httpx.Client(base_url=fresh_server.url, timeout=60) as http:
        _, [queue_id] = _setup(http, 1)
        http.put(f"/queues/{queue_id}/purge")
        for n in range(30):
            response = http.post(
                "/topics/big/messages",
                content=message_of(786_000, f"c{n}-"),
                headers={**JSON, "Prefer": "return=minimal"},
            )
            assert response.status_code == 201
        time.sleep(0.5)
        before = peak_rss(fresh_server)
        response = http.get(f"/queues/{queue_id}/messages", params={"limit": 30})
        after = peak_rss(fresh_server)
    assert response.status_code == 200
    assert 1 <= len(response.json()["data"]) <= 30
    bound = 120 * MB
    _report(f"consume of 30 messages of 786 KB ({len(response.json()['data'])} answered)", before, after, bound)
    assert len(response.content) <= 10 * MB
    assert after - before < bound
