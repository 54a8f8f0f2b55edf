"""HTTP load for the fault tests: publisher and consumer loops in threads that record every request
and what it returned (Ledger), so that the invariants (nothing answered 201 lost, nothing acked 204
delivered again, no hang) can be checked afterwards. tests/reliability uses it; test_failover adds
its long pollers on top."""

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

# A request that takes longer than this counts as hung.
REQUEST_BOUND_SECONDS = 10.0
# The client gives up later than that, so that a hung request is measured rather than cut short.
CLIENT_TIMEOUT_SECONDS = 15.0


@dataclass
class Call:
    kind: str  # publish, consume, ack, nack, probe, health
    started: float
    ended: float
    status: int | None  # None: no HTTP answer (see error)
    error: str | None = None
    detail: object = None

    @property
    def seconds(self) -> float:
        return self.ended - self.started


class Ledger:
    """Every request the load made, and what the invariants need: which publishes got a 201, which
    acks a 204, which deliveries happened when."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.published: dict[str, float] = {}  # id -> when its 201 arrived
        self.acked: dict[str, float] = {}  # id -> when its 204 arrived
        self.ack_unknown: set[str] = set()  # acks that got no answer or a 503: may or may not have happened
        self.deliveries: list[tuple[str, float]] = []  # (id, when the consume request was sent)

    def record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def request(self, client: httpx.Client, kind: str, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response = client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self.record(Call(kind, started, time.monotonic(), None, error=type(exc).__name__))
            return None
        detail = None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except ValueError:
                detail = response.text[:200]
        self.record(Call(kind, started, time.monotonic(), response.status_code, detail=detail))
        return response

    # Summaries

    def statuses(self, kinds: set[str] | None = None) -> dict[str, int]:
        counts: dict[str, int] = {}
        for call in self.calls:
            if kinds is None or call.kind in kinds:
                key = str(call.status) if call.status is not None else call.error or "error"
                counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))

    def slowest(self, kinds: set[str] | None = None) -> float:
        return max((c.seconds for c in self.calls if kinds is None or c.kind in kinds), default=0.0)

    def with_status(self, status: int, kinds: set[str] | None = None) -> list[Call]:
        return [c for c in self.calls if c.status == status and (kinds is None or c.kind in kinds)]


API_KINDS = {"publish", "consume", "ack", "nack", "probe"}


def new_client(url: str, keepalive: bool = True) -> httpx.Client:
    limits = httpx.Limits() if keepalive else httpx.Limits(max_keepalive_connections=0)
    return httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT_SECONDS, limits=limits)


def publisher(
    url: str, topic_id: str, ledger: Ledger, count: int, tag: str, stop: threading.Event, keepalive: bool = True
) -> None:
    """Publishes `count` messages (retrying each until it gets an answer other than 503/transport error,
    or until stop is set)."""
    with new_client(url, keepalive) as client:
        for n in range(count):
            while not stop.is_set():
                response = ledger.request(
                    client, "publish", "POST", f"/topics/{topic_id}/messages", json={"data": {"tag": tag, "n": n}}
                )
                if response is not None and response.status_code == 201:
                    now = time.monotonic()
                    with ledger.lock:
                        for message in response.json()["data"]:
                            ledger.published[message["id"]] = now
                    break
                time.sleep(0.05)
            if stop.is_set():
                return


def consumer(
    url: str,
    queue_id: str,
    ledger: Ledger,
    stop: threading.Event,
    seed: int,
    nack_every: int = 7,
    keepalive: bool = True,
) -> None:
    """Consumes, then acks (every nack_every-th message is nacked instead), until stop is set."""
    n = seed
    with new_client(url, keepalive) as client:
        while not stop.is_set():
            sent = time.monotonic()
            response = ledger.request(client, "consume", "GET", f"/queues/{queue_id}/messages", params={"limit": 5})
            if response is None or response.status_code != 200:
                time.sleep(0.05)
                continue
            messages = response.json()["data"]
            with ledger.lock:
                ledger.deliveries.extend((m["id"], sent) for m in messages)
            if not messages:
                time.sleep(0.02)
            for message in messages:
                n += 1
                if n % nack_every == 0:
                    ledger.request(client, "nack", "PUT", f"/messages/{message['id']}/nack")
                    continue
                answer = ledger.request(client, "ack", "PUT", f"/messages/{message['id']}/ack")
                with ledger.lock:
                    if answer is not None and answer.status_code == 204:
                        ledger.acked.setdefault(message["id"], time.monotonic())
                    else:
                        ledger.ack_unknown.add(message["id"])


class LoadControl:
    """What every load in threads has: its ledger, the two stop events, and waiting for publishes."""

    ledger: Ledger
    stop_publishing: threading.Event
    stop_consuming: threading.Event

    def published_count(self) -> int:
        with self.ledger.lock:
            return len(self.ledger.published)

    def wait_published(self, at_least: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.published_count() < at_least:
            if time.monotonic() > deadline:
                pytest.fail(f"only {self.published_count()} of {at_least} publishes got a 201 within {timeout} s")
            time.sleep(0.02)

    def abort(self) -> None:
        self.stop_publishing.set()
        self.stop_consuming.set()


@dataclass
class Load(LoadControl):
    """A few publishers and consumers on one topic and queue, in threads."""

    url: str
    topic_id: str
    queue_id: str
    publishers: int = 2
    consumers: int = 2
    per_publisher: int = 150
    keepalive: bool = True
    ledger: Ledger = field(default_factory=Ledger)
    stop_publishing: threading.Event = field(default_factory=threading.Event)
    stop_consuming: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.publishers * self.per_publisher

    def start(self) -> None:
        for p in range(self.publishers):
            self.threads.append(
                threading.Thread(
                    target=publisher,
                    args=(
                        self.url,
                        self.topic_id,
                        self.ledger,
                        self.per_publisher,
                        f"p{p}",
                        self.stop_publishing,
                        self.keepalive,
                    ),
                    daemon=True,
                )
            )
        for c in range(self.consumers):
            self.threads.append(
                threading.Thread(
                    target=consumer,
                    args=(self.url, self.queue_id, self.ledger, self.stop_consuming, c),
                    kwargs={"keepalive": self.keepalive},
                    daemon=True,
                )
            )
        for thread in self.threads:
            thread.start()

    def finish(self, timeout: float = 90.0) -> None:
        """Lets the publishers finish their counts, then stops the consumers."""
        deadline = time.monotonic() + timeout
        for thread in self.threads[: self.publishers]:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        self.stop_publishing.set()
        time.sleep(0.3)  # let the consumers take a last round
        self.stop_consuming.set()
        for thread in self.threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()) + CLIENT_TIMEOUT_SECONDS)
        alive = [t.name for t in self.threads if t.is_alive()]
        assert not alive, f"load threads still running after {timeout} s: {alive}"
