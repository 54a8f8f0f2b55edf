"""Optional bearer-token authentication: open when FASTQUEUE_AUTH_TOKENS is unset; when set, 401
without a valid token, 403 outside the token's role, /health and the docs open, /metrics for admins;
a malformed value stops the server at startup with a clear message; tokens never reach the logs."""

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastqueue.settings import parse_auth_tokens

from tests.api.conftest import FASTQUEUE, REPO, SERVER_TIME_ZONES, Server

pytestmark = pytest.mark.gateway_only("token checks happen in the gateway")

PUBLISHER = "pub-" + uuid.uuid4().hex
CONSUMER = "con-" + uuid.uuid4().hex
ADMIN = "adm-" + uuid.uuid4().hex
WRONG = "wrong-" + uuid.uuid4().hex
TOKENS = f"{PUBLISHER}:publisher, {CONSUMER}:consumer,{ADMIN}:admin"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def auth_server(api_database_url: str, server_factory: Callable[..., Server]) -> Server:
    # debug: the most the server logs, so that the last test can look for tokens in all of it.
    return server_factory(api_database_url, FASTQUEUE_AUTH_TOKENS=TOKENS, FASTQUEUE_LOG_LEVEL="debug")


@pytest.fixture
def api(auth_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=auth_server.url, timeout=15) as http:
        yield http


@pytest.fixture
def setup(api: httpx.Client, uid: Callable[[str], str]) -> tuple[str, str]:
    """A topic and a queue on it, made by the admin."""
    topic_id, queue_id = uid("auth-topic"), uid("auth-queue")
    assert api.post("/topics", json={"id": topic_id}, headers=bearer(ADMIN)).status_code == 201
    queue = {"id": queue_id, "topic_id": topic_id, "ack_deadline_seconds": 30, "message_retention_seconds": 600}
    assert api.post("/queues", json=queue, headers=bearer(ADMIN)).status_code == 201
    return topic_id, queue_id


def test_open_when_unset(client: httpx.Client, uid: Callable[[str], str]) -> None:
    topic_id = uid("open")
    assert client.post("/topics", json={"id": topic_id}).status_code == 201
    assert client.get(f"/topics/{topic_id}").status_code == 200
    # A header is ignored, whatever it holds.
    assert client.get(f"/topics/{topic_id}", headers=bearer(WRONG)).status_code == 200


def test_401_without_a_valid_token(api: httpx.Client, setup: tuple[str, str]) -> None:
    topic_id, _ = setup
    not_bearer_tokens = ({"Authorization": "Bearer"}, {"Authorization": f"Basic {ADMIN}"}, {"Authorization": ADMIN})
    for headers in ({}, bearer(WRONG), *not_bearer_tokens):
        for method, path in (("GET", "/topics"), ("POST", f"/topics/{topic_id}/messages"), ("GET", "/metrics")):
            response = api.request(method, path, headers=headers, json={"data": {}})
            assert response.status_code == 401, (headers, method, path, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer"), headers
            assert response.json()["detail"]
    assert api.get("/topics", headers=bearer(WRONG)).headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert api.get("/topics").headers["www-authenticate"] == "Bearer"
    # A prefix, a suffix or another case of a valid token is not valid.
    for almost in (ADMIN[:-1], ADMIN + "x", ADMIN.upper()):
        assert api.get("/topics", headers=bearer(almost)).status_code == 401
    # 401 before the body is read: malformed JSON without a token is not a 422.
    response = api.post(f"/topics/{topic_id}/messages", content=b"{not", headers={"content-type": "application/json"})
    assert response.status_code == 401
    # Paths that match no route are closed too; with a token they are the usual 404.
    assert api.get("/no-such-thing").status_code == 401
    assert api.get("/no-such-thing", headers=bearer(CONSUMER)).status_code == 404


def test_roles(api: httpx.Client, setup: tuple[str, str]) -> None:
    topic_id, queue_id = setup
    message = {"data": {"n": 1}}
    publish = f"/topics/{topic_id}/messages"
    consume = f"/queues/{queue_id}/messages"

    # publisher: publish only.
    assert api.post(publish, json=message, headers=bearer(PUBLISHER)).status_code == 201
    forbidden = api.get(consume, headers=bearer(PUBLISHER))
    assert forbidden.status_code == 403
    assert "consumer" in forbidden.json()["detail"] and "publisher" in forbidden.json()["detail"]
    for method, path in (
        ("GET", f"/queues/{queue_id}/stats"),
        ("GET", "/topics"),
        ("POST", "/topics"),
        ("DELETE", f"/queues/{queue_id}"),
        ("GET", "/metrics"),
    ):
        assert api.request(method, path, headers=bearer(PUBLISHER)).status_code == 403, (method, path)

    # consumer: consume, stats, ack, nack.
    assert api.get(f"/queues/{queue_id}/stats", headers=bearer(CONSUMER)).json()["num_undelivered_messages"] == 1
    [leased] = api.get(consume, headers=bearer(CONSUMER)).json()["data"]
    assert api.put(f"/messages/{leased['id']}/nack", headers=bearer(CONSUMER)).status_code == 204
    [again] = api.get(consume, headers=bearer(CONSUMER)).json()["data"]
    assert api.put(f"/messages/{again['id']}/ack", headers=bearer(CONSUMER)).status_code == 204
    for method, path in (
        ("POST", publish),
        ("PUT", f"/queues/{queue_id}/purge"),
        ("GET", f"/queues/{queue_id}"),
        ("DELETE", f"/topics/{topic_id}"),
    ):
        assert api.request(method, path, headers=bearer(CONSUMER), json=message).status_code == 403, (method, path)

    # admin: everything, the other roles' routes included.
    assert api.post(publish, json=message, headers=bearer(ADMIN)).status_code == 201
    [mine] = api.get(consume, headers=bearer(ADMIN)).json()["data"]
    assert api.put(f"/messages/{mine['id']}/ack", headers=bearer(ADMIN)).status_code == 204
    assert api.get(f"/queues/{queue_id}/stats", headers=bearer(ADMIN)).status_code == 200
    assert api.get(f"/queues/{queue_id}", headers=bearer(ADMIN)).status_code == 200
    assert api.put(f"/queues/{queue_id}/purge", headers=bearer(ADMIN)).status_code == 204
    assert api.delete(f"/queues/{queue_id}", headers=bearer(ADMIN)).status_code == 204
    assert api.delete(f"/topics/{topic_id}", headers=bearer(ADMIN)).status_code == 204
    # The scheme is case-insensitive.
    assert api.get("/topics", headers={"Authorization": f"bearer {ADMIN}"}).status_code == 200


def test_consume_with_acks_is_a_consumer_route(api: httpx.Client, setup: tuple[str, str]) -> None:
    topic_id, queue_id = setup
    consume = f"/queues/{queue_id}/messages/consume"
    assert (
        api.post(f"/topics/{topic_id}/messages", json={"data": {"n": 1}}, headers=bearer(PUBLISHER)).status_code == 201
    )
    forbidden = api.post(consume, json={}, headers=bearer(PUBLISHER))
    assert forbidden.status_code == 403
    assert "consumer" in forbidden.json()["detail"]
    [leased] = api.post(consume, json={}, headers=bearer(CONSUMER)).json()["data"]
    acked = api.post(consume, json={"ack_ids": [leased["id"]]}, headers=bearer(CONSUMER))
    assert acked.status_code == 200 and acked.json() == {"data": []}
    assert api.get(f"/queues/{queue_id}/stats", headers=bearer(ADMIN)).json()["num_undelivered_messages"] == 0
    assert api.post(consume, json={}, headers=bearer(ADMIN)).status_code == 200


def test_open_and_admin_only_routes(api: httpx.Client) -> None:
    assert api.get("/health").json()["success"] is True
    assert api.get("/health", headers=bearer(WRONG)).status_code == 200
    assert api.get("/docs").status_code == 200
    assert api.get("/openapi.json").status_code == 200
    assert api.get("/metrics").status_code == 401
    assert api.get("/metrics", headers=bearer(CONSUMER)).status_code == 403
    metrics = api.get("/metrics", headers=bearer(ADMIN))
    assert metrics.status_code == 200
    # Refusals are counted: 401 before routing, 403 under their route.
    assert 'status="401"' in metrics.text
    assert 'route="/metrics",status="403"' in metrics.text


def run_server(**env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **SERVER_TIME_ZONES, **env}
    environment.setdefault("FASTQUEUE_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    return subprocess.run(
        [str(FASTQUEUE), "server"], cwd=REPO, env=environment, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        (f"{ADMIN}:admin,{WRONG}", "entry 2 is not TOKEN:ROLE"),
        (f"{ADMIN}:admin,{WRONG}:reader", "entry 2 does not end with a known role"),
        (f"admin:{WRONG}", "entry 1 does not end with a known role"),
        (f"{ADMIN}:Admin", "entry 1 does not end with a known role"),
        (f"{ADMIN}:admin,,{WRONG}:consumer", "entry 2 is empty"),
        (f"{WRONG}:admin,{WRONG}:consumer", "entry 2 repeats the token"),
        (f"{WRONG} x:admin", "the token of entry 1 has a space"),
        (":admin", "entry 1 is not TOKEN:ROLE"),
        ("  ", "set but empty"),
    ],
    # Named, not shown: the tokens are random per process, and xdist's workers must collect the same ids.
    ids=[
        "no-role",
        "unknown-role",
        "role-first",
        "upper-case-role",
        "empty-entry",
        "repeated-token",
        "space-in-token",
        "empty-token",
        "blank",
    ],
)
def test_malformed_tokens_refused_at_startup(value: str, complaint: str) -> None:
    result = run_server(FASTQUEUE_AUTH_TOKENS=value)
    assert result.returncode == 2, result
    assert "FASTQUEUE_AUTH_TOKENS" in result.stderr and complaint in result.stderr, result.stderr
    assert "TOKEN:ROLE" in result.stderr or "space" in result.stderr or "repeats" in result.stderr
    assert "Traceback" not in result.stderr
    for secret in (ADMIN, WRONG):
        assert secret not in result.stderr + result.stdout


def test_parse_auth_tokens() -> None:
    assert parse_auth_tokens(TOKENS) == {PUBLISHER: "publisher", CONSUMER: "consumer", ADMIN: "admin"}
    # The role follows the last colon: a token may contain colons.
    assert parse_auth_tokens("a:b:c:consumer") == {"a:b:c": "consumer"}


def test_tokens_never_in_the_server_output(auth_server: Server, api: httpx.Client, setup: tuple[str, str]) -> None:
    topic_id, queue_id = setup
    # Every kind of answer: success, 401, 403, 404, 413, 422, and a database error sentence.
    api.get("/topics", headers=bearer(ADMIN))
    api.get("/topics", headers=bearer(WRONG))
    api.get(f"/queues/{queue_id}/messages", headers=bearer(PUBLISHER))
    api.get("/topics/missing-topic", headers=bearer(ADMIN))
    api.post(f"/topics/{topic_id}/messages", content=b" " * (2 * 1024 * 1024), headers=bearer(PUBLISHER))
    api.post(f"/topics/{topic_id}/messages", json={"data": 5}, headers=bearer(PUBLISHER))
    api.post("/topics", json={"id": topic_id}, headers=bearer(ADMIN))
    api.get("/metrics", headers=bearer(CONSUMER))
    output = auth_server.log()
    assert "/topics" in output  # the debug-level access log is there to look through
    for secret in (PUBLISHER, CONSUMER, ADMIN, WRONG):
        assert secret not in output
