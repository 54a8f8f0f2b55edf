"""Push settings over REST (docs/push.md): accepted, shown, the secret write-only, the private-network
rule applied at write time by SQL (the test server runs with FASTQUEUE_PUSH_ALLOW_PRIVATE_NETWORKS unset)."""

import json
from collections.abc import Callable

import httpx
import psycopg

SECRET = "rest-secret-0123456789"


def test_push_settings_round_trip_and_the_secret_stays_hidden(client: httpx.Client, uid: Callable[[str], str]) -> None:
    queue_id = uid("push")
    body = {
        "id": queue_id,
        "topic_id": None,
        "ack_deadline_seconds": 30,
        "message_retention_seconds": 600,
        "push_endpoint": "https://example.com/hook",
        "push_format": "unwrapped",
        "push_secret": SECRET,
        "push_max_in_flight": 4,
    }
    created = client.post("/queues", json=body)
    assert created.status_code == 201, created.text
    queue = created.json()
    assert (queue["push_endpoint"], queue["push_format"], queue["push_secret_set"], queue["push_max_in_flight"]) == (
        "https://example.com/hook",
        "unwrapped",
        True,
        4,
    )
    # PUT without push_secret keeps it; "" removes it.
    settings = {k: v for k, v in body.items() if k not in ("id", "push_secret")}
    assert client.put(f"/queues/{queue_id}", json=settings).json()["push_secret_set"] is True
    answers = [
        client.get(f"/queues/{queue_id}").text,
        client.get("/queues?limit=1000").text,
        client.get("/overview/queues").text,
        client.get(f"/queues/{queue_id}/stats").text,
    ]
    assert all(SECRET not in answer for answer in answers)
    stats = client.get(f"/queues/{queue_id}/stats").json()
    assert stats["push_in_flight"] == 0 and stats["push_window"] is None
    assert client.put(f"/queues/{queue_id}", json={**settings, "push_secret": ""}).json()["push_secret_set"] is False


def test_bad_push_settings_get_422_saying_why(client: httpx.Client, uid: Callable[[str], str]) -> None:
    base = {"id": uid("push"), "ack_deadline_seconds": 30, "message_retention_seconds": 600}
    cases = {
        "http://127.0.0.1:8080/hook": "FASTQUEUE_PUSH_ALLOW_PRIVATE_NETWORKS",
        "http://localhost/hook": "loopback",
        "ftp://example.com/": "http:// or https://",
    }
    for url, detail in cases.items():
        answer = client.post("/queues", json={**base, "push_endpoint": url})
        assert answer.status_code == 422 and detail in answer.json()["detail"], answer.text
    answer = client.post("/queues", json={**base, "push_endpoint": "https://example.com/", "push_format": "raw"})
    assert answer.status_code == 422
    answer = client.post("/queues", json={**base, "push_endpoint": "https://example.com/", "push_secret": "short"})
    assert answer.status_code == 422 and "16 to 256" in answer.json()["detail"]


def test_metrics_show_what_the_workers_report(
    client: httpx.Client, db: psycopg.Connection, uid: Callable[[str], str]
) -> None:
    queue_id = uid("push")
    body = {
        "id": queue_id,
        "ack_deadline_seconds": 30,
        "message_retention_seconds": 600,
        "push_endpoint": "https://example.com/hook",
    }
    assert client.post("/queues", json=body).status_code == 201
    state = {
        "queue_id": queue_id,
        "in_flight": 3,
        "window": 5,
        "failing": False,
        "outcomes": {"2xx": 7, "timeout": 1},
        "latency": {"buckets": {"0.1": 6, "1.0": 8}, "sum": 1.5, "count": 8},
    }
    db.execute("select fastqueue.report_push_states('test-worker', %s::jsonb)", (json.dumps([state]),))
    text = client.get("/metrics").text
    assert f'fastqueue_push_requests_total{{outcome="2xx",queue_id="{queue_id}",worker="test-worker"}} 7.0' in text
    assert f'fastqueue_push_request_duration_seconds_count{{queue_id="{queue_id}",worker="test-worker"}} 8.0' in text
    assert f'fastqueue_push_window{{queue_id="{queue_id}",worker="test-worker"}} 5.0' in text
    stats = client.get(f"/queues/{queue_id}/stats").json()
    assert (stats["push_in_flight"], stats["push_window"]) == (3, 5)
