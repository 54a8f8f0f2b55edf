"""Push delivery (issue 20, docs/push.md) against a real HTTP receiver on 127.0.0.1 and the real
`fastqueue worker` (in a thread, or as a process for the signal tests)."""

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastqueue.push import PushDelivery
from fastqueue.push.window import Window, retry_delay
from fastqueue.settings import Settings

WAIT_SECONDS = 40.0


class Receiver:
    """A real HTTP server on 127.0.0.1; behaviour(request) returns (status, delay seconds)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.concurrent = 0
        self.max_concurrent = 0
        self.behaviour: Callable[[dict[str, Any]], tuple[int, float]] = lambda _: (200, 0.0)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                request = {
                    "at": time.monotonic(),
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": body,
                }
                with receiver.lock:
                    receiver.concurrent += 1
                    receiver.max_concurrent = max(receiver.max_concurrent, receiver.concurrent)
                    receiver.requests.append(request)
                try:
                    status, delay = receiver.behaviour(request)
                    time.sleep(delay)
                    request["status"] = status
                    self.send_response(status)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass
                finally:
                    with receiver.lock:
                        receiver.concurrent -= 1

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/push?x=1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def admin(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """The test's connection, with the private-network switch on (the receiver is on 127.0.0.1)."""
    with psycopg.connect(database_url, autocommit=True, options="-c fastqueue.push_allow_private_networks=true") as c:
        c.execute("select fastqueue.create_topic('events')")
        yield c


def run_delivery(database_url: str, allow_private: bool = True) -> tuple[PushDelivery, Callable[[], None]]:
    settings = Settings.model_validate({"database_url": database_url, "push_allow_private_networks": allow_private})
    delivery = PushDelivery(settings)
    delivery.start()

    def stop() -> None:
        delivery.stop()
        delivery.join(30)

    return delivery, stop


def wait_until(condition: Callable[[], Any], seconds: float = WAIT_SECONDS, what: str = "condition") -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def count(conn: psycopg.Connection[Any], queue_id: str) -> int:
    row = conn.execute("select count(*) from fastqueue.peek(%s, 1000)", (queue_id,)).fetchone()
    assert row is not None
    return int(row[0])


def publish(
    conn: psycopg.Connection[Any],
    data: dict[str, Any] | str,
    attributes: dict[str, str] | None = None,
    ordering_key: str | None = None,
) -> str:
    row = conn.execute(
        "select id from fastqueue.publish('events', %s::jsonb, %s::jsonb, ordering_key => %s)",
        (
            data if isinstance(data, str) else json.dumps(data),
            json.dumps(attributes) if attributes else None,
            ordering_key,
        ),
    ).fetchone()
    assert row is not None
    return str(row[0])


def test_a_2xx_acks_and_the_wrapped_body(admin: psycopg.Connection[Any], database_url: str, receiver: Receiver) -> None:
    admin.execute("select fastqueue.create_queue('hooks', 'events', 30, 600, push_endpoint => %s)", (receiver.url(),))
    ids = [publish(admin, f'{{"n": {n}, "big": 12345678901234567890.5}}', {"kind": "test"}) for n in range(5)]
    _, stop = run_delivery(database_url)
    try:
        wait_until(lambda: count(admin, "hooks") == 0, what="every message acked")
    finally:
        stop()
    assert sorted(json.loads(r["body"])["message"]["id"] for r in receiver.requests) == sorted(ids)
    first = receiver.requests[0]
    assert first["path"] == "/push?x=1"
    assert first["headers"]["content-type"] == "application/json"
    body = json.loads(first["body"])
    assert set(body) == {"message", "queue_id"} and body["queue_id"] == "hooks"
    assert set(body["message"]) == {"id", "data", "attributes", "delivery_attempts", "created_at"}
    assert body["message"]["attributes"] == {"kind": "test"} and body["message"]["delivery_attempts"] == 1
    assert b'"big": 12345678901234567890.5' in first["body"]  # exactly as stored, not a double
    assert "authorization" not in {k.lower() for k in first["headers"]}


@pytest.mark.parametrize("failure", ["500", "429", "timeout", "closed port"])
def test_failures_retry_with_growing_delays_and_end_in_the_dead_queue(
    admin: psycopg.Connection[Any], database_url: str, receiver: Receiver, failure: str
) -> None:
    admin.execute("select fastqueue.create_queue('hooks-dead', null, 30, 600)")
    url = receiver.url()
    if failure == "closed port":
        receiver.close()
    elif failure == "timeout":
        receiver.behaviour = lambda _: (200, 3.0)  # longer than the request timeout (2 s lease - 0.5 s)
    else:
        receiver.behaviour = lambda _: (int(failure), 0.0)
    admin.execute(
        "select fastqueue.create_queue('hooks', 'events', 2, 600, dead_queue_id => 'hooks-dead',"
        " message_max_deliveries => 3, retry_min_backoff_seconds => 1, retry_max_backoff_seconds => 2,"
        " push_endpoint => %s)",
        (url,),
    )
    publish(admin, {"n": 1})
    _, stop = run_delivery(database_url)
    try:

        def moved() -> bool:
            admin.execute("select fastqueue.cleanup()")
            return count(admin, "hooks-dead") == 1

        wait_until(moved, what="the message in the dead queue")
    finally:
        stop()
    assert count(admin, "hooks") == 0
    if failure != "closed port":
        times = [r["at"] for r in receiver.requests]
        assert len(times) == 3
        # Backoff 1 s then 2 s (lower bounds only: a busy machine only adds).
        assert times[1] - times[0] >= 0.9 and times[2] - times[1] >= 1.9


def test_unwrapped_headers(admin: psycopg.Connection[Any], database_url: str, receiver: Receiver) -> None:
    admin.execute(
        "select fastqueue.create_queue('hooks', 'events', 30, 600, push_endpoint => %s, push_format => 'unwrapped')",
        (receiver.url(),),
    )
    message_id = publish(admin, {"order": 42}, {"region": "eu-west", "bad\r\nname": "a\r\nb"})
    _, stop = run_delivery(database_url)
    try:
        wait_until(lambda: count(admin, "hooks") == 0, what="the message acked")
    finally:
        stop()
    (request,) = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert json.loads(request["body"]) == {"order": 42}
    assert headers["fastqueue-message-id"] == message_id
    assert headers["fastqueue-queue-id"] == "hooks"
    assert headers["fastqueue-delivery-attempts"] == "1"
    assert headers["fastqueue-attribute-region"] == "eu-west"
    assert headers["fastqueue-attribute-bad%0d%0aname"] == "a%0D%0Ab"  # no header injection


def verify_as_docs_say(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """A receiver's check written from docs/push.md only."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def test_the_signature_verifies_as_documented(
    admin: psycopg.Connection[Any], database_url: str, receiver: Receiver
) -> None:
    secret = "a-long-enough-secret-0123"
    admin.execute(
        "select fastqueue.create_queue('hooks', 'events', 30, 600, push_endpoint => %s, push_secret => %s)",
        (receiver.url(), secret),
    )
    row = admin.execute("select * from fastqueue.get_queue('hooks')").fetchone()
    assert secret not in repr(row)
    publish(admin, {"n": 1})
    _, stop = run_delivery(database_url)
    try:
        wait_until(lambda: count(admin, "hooks") == 0, what="the message acked")
    finally:
        stop()
    (request,) = receiver.requests
    header = request["headers"]["fastqueue-signature"]
    assert verify_as_docs_say(secret, header, request["body"])
    assert not verify_as_docs_say("another-secret-0123456", header, request["body"])
    assert not verify_as_docs_say(secret, header, request["body"] + b" ")
    assert not verify_as_docs_say(secret, header, request["body"], tolerance=-1)  # a replay past the window


def test_ordering_keys_are_pushed_one_at_a_time_in_order(
    admin: psycopg.Connection[Any], database_url: str, receiver: Receiver
) -> None:
    admin.execute(
        "select fastqueue.create_queue('hooks', 'events', 30, 600, enable_message_ordering => true, push_endpoint => %s)",
        (receiver.url(),),
    )
    for n in range(8):
        for key in ("a", "b"):
            publish(admin, {"key": key, "n": n}, ordering_key=key)
    active: dict[str, int] = {"a": 0, "b": 0}
    overlaps: list[str] = []

    def behaviour(request: dict[str, Any]) -> tuple[int, float]:
        key = json.loads(request["body"])["message"]["data"]["key"]
        with receiver.lock:
            active[key] += 1
            if active[key] > 1:
                overlaps.append(key)
        time.sleep(0.05)
        with receiver.lock:
            active[key] -= 1
        return 200, 0.0

    receiver.behaviour = behaviour
    _, stop = run_delivery(database_url)
    try:
        wait_until(lambda: count(admin, "hooks") == 0, what="every message acked")
    finally:
        stop()
    for key in ("a", "b"):
        order = [
            json.loads(r["body"])["message"]["data"]["n"]
            for r in receiver.requests
            if json.loads(r["body"])["message"]["data"]["key"] == key
        ]
        assert order == list(range(8))
    assert overlaps == []


def test_the_window_halves_on_failures_and_grows_back() -> None:
    window = Window(cap=16)
    for _ in range(200):
        window.succeeded()
    assert window.limit == 16
    assert window.failed() is True and window.limit == 8
    assert window.failed() is False and window.limit == 4
    for _ in range(10):
        window.failed()
    assert window.limit == 1
    assert window.succeeded() is True
    for _ in range(30):
        window.succeeded()
    assert 1 < window.limit <= 16


def test_the_window_shrinks_and_grows_back_against_an_endpoint(
    admin: psycopg.Connection[Any], database_url: str, receiver: Receiver
) -> None:
    admin.execute(
        "select fastqueue.create_queue('hooks', 'events', 30, 600, retry_min_backoff_seconds => 0,"
        " retry_max_backoff_seconds => 0, push_endpoint => %s, push_max_in_flight => 8)",
        (receiver.url(),),
    )
    failing = threading.Event()
    receiver.behaviour = lambda _: (503, 0.0) if failing.is_set() else (200, 0.1)
    for n in range(300):
        publish(admin, {"n": n})

    def window() -> int | None:
        row = admin.execute("select push_window from fastqueue.queue_stats('hooks')").fetchone()
        return None if row is None else row[0]

    _, stop = run_delivery(database_url)
    try:
        wait_until(lambda: (window() or 0) >= 4, what="the window to grow")
        grown = receiver.max_concurrent
        failing.set()
        wait_until(lambda: window() == 1, what="the window to shrink to 1")
        failing.clear()
        wait_until(lambda: (window() or 0) >= 3, what="the window to grow back")
    finally:
        stop()
    assert grown >= 2 and receiver.max_concurrent <= 8


def test_private_addresses_are_refused_with_the_switch_off(
    admin: psycopg.Connection[Any], database_url: str, receiver: Receiver
) -> None:
    with psycopg.connect(
        database_url, autocommit=True, options="-c fastqueue.push_allow_private_networks=false"
    ) as off:
        for url in (
            receiver.url("127.0.0.1"),
            receiver.url("localhost"),
            "http://[::1]/",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest",
            "http://224.0.0.1/",
        ):
            with pytest.raises(psycopg.errors.InvalidParameterValue, match="FASTQUEUE_PUSH_ALLOW_PRIVATE_NETWORKS"):
                off.execute("select fastqueue.create_queue('x', null, 30, 600, push_endpoint => %s)", (url,))
    # Written with the switch on, delivered by a worker with it off: refused at connection time, for a
    # literal address and for a name that resolves to it.
    admin.execute("select fastqueue.create_queue('literal', 'events', 30, 600, push_endpoint => %s)", (receiver.url(),))
    admin.execute(
        "select fastqueue.create_queue('named', 'events', 30, 600, push_endpoint => %s)", (receiver.url("localhost"),)
    )
    publish(admin, {"n": 1})
    _, stop = run_delivery(database_url, allow_private=False)
    try:

        def refused() -> bool:
            rows = admin.execute("select queue_id, outcomes from fastqueue.push_metrics()").fetchall()
            return {q for q, outcomes in rows if outcomes.get("blocked", 0) >= 1} == {"literal", "named"}

        wait_until(refused, what="both pushes refused")
    finally:
        stop()
    assert receiver.requests == []


def worker_process(database_url: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("fastqueue")), "worker"],
        env={
            **os.environ,
            "FASTQUEUE_DATABASE_URL": database_url,
            "FASTQUEUE_PUSH_ALLOW_PRIVATE_NETWORKS": "true",
            # The worker's other jobs (cleanup, the store's rotation) on an hour's interval: the
            # tests watch what push delivery alone sends to the database.
            "FASTQUEUE_QUEUE_CLEANUP_INTERVAL_SECONDS": "3600",
            "FASTQUEUE_STORE_ROTATION_INTERVAL_SECONDS": "3600",
            **env,
        },
        stderr=subprocess.PIPE,
        text=True,
    )


def acked_ids(receiver: Receiver) -> set[str]:
    return {json.loads(r["body"])["message"]["id"] for r in receiver.requests if r.get("status") == 200}


def test_a_sigkilled_worker_loses_nothing(
    admin: psycopg.Connection[Any], database_url: str, receiver: Receiver
) -> None:
    admin.execute("select fastqueue.create_queue('hooks', 'events', 3, 600, push_endpoint => %s)", (receiver.url(),))
    ids = {publish(admin, {"n": n}) for n in range(6)}
    hold = threading.Event()
    receiver.behaviour = lambda _: (200, 0.0) if hold.wait(30) else (500, 0.0)
    worker = worker_process(database_url)
    try:
        wait_until(lambda: len(receiver.requests) >= 1, what="a request in flight")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    hold.set()  # the killed worker's requests answer 200 into closed sockets: nobody acked them
    assert count(admin, "hooks") == 6
    second = worker_process(database_url)
    try:
        wait_until(lambda: count(admin, "hooks") == 0, what="every message delivered by the next worker")
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
    finally:
        if second.poll() is None:
            second.kill()
    assert ids <= acked_ids(receiver)


def test_sigterm_lets_requests_in_flight_finish(
    admin: psycopg.Connection[Any], database_url: str, receiver: Receiver
) -> None:
    admin.execute("select fastqueue.create_queue('hooks', 'events', 10, 600, push_endpoint => %s)", (receiver.url(),))
    publish(admin, {"n": 1})
    receiver.behaviour = lambda _: (200, 1.5)
    worker = worker_process(database_url)
    try:
        wait_until(lambda: len(receiver.requests) == 1, what="the request in flight")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert count(admin, "hooks") == 0  # finished and acked, not abandoned
    assert "push delivery stopped" in (worker.stderr.read() if worker.stderr else "")


def test_an_idle_push_queue_costs_no_queries(
    admin: psycopg.Connection[Any], database_url: str, receiver: Receiver, admin_url: str
) -> None:
    admin.execute("select fastqueue.create_queue('hooks', 'events', 30, 600, push_endpoint => %s)", (receiver.url(),))
    database = psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]
    worker = worker_process(database_url)
    # Every session of the test's database (the worker's LISTEN and pool connections, and this test's
    # idle admin connection): a statement would move its state_change, a new session would add a row.
    activity = "select pid, application_name, state, state_change from pg_stat_activity where datname = %s order by pid"
    try:
        with psycopg.connect(admin_url, autocommit=True) as watcher:

            def pushing() -> bool:
                names = [row[1] for row in watcher.execute(activity, (database,)).fetchall()]
                return names.count("fastqueue-push") >= 1 and "fastqueue-push-listener" in names

            wait_until(pushing, what="the worker's connections")
            time.sleep(2)  # startup: settings, watch, the first consume and peek
            before = watcher.execute(activity, (database,)).fetchall()
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                time.sleep(0.5)
                assert watcher.execute(activity, (database,)).fetchall() == before, "the idle worker sent a query"
            assert all(state == "idle" for _, _, state, _ in before)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    assert receiver.requests == []


def test_retry_delays_without_a_queue_backoff() -> None:
    for attempts in range(1, 12):
        base = min(600, 10 * 2 ** (attempts - 1))
        delays = {retry_delay(attempts) for _ in range(50)}
        assert all(max(10, base // 2) <= d <= base for d in delays)
    assert retry_delay(1) <= retry_delay(8)
