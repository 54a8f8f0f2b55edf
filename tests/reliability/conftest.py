"""Fault-injection harness: a PostgreSQL cluster and `fastqueue server` processes of these tests' own,
so they can be killed, stopped and restarted without disturbing the rest of the suite, plus HTTP
publisher/consumer loops that record every request and what it returned.

Every test in this folder is marked `fault` (pytest -m fault runs them alone). Each prints what it
injected and what it checked (run with -s to see it).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from fastqueue.commands.migrate import migrate

REPO = Path(__file__).resolve().parents[2]
FASTQUEUE = Path(sys.executable).with_name("fastqueue")
PG_CLUSTER = REPO / "scripts" / "pg-cluster.sh"
PG_BINDIR = Path(os.environ.get("FASTQUEUE_PG_BINDIR", "/usr/lib/postgresql/15/bin"))
# Ports these tests may give their own cluster (other engineers' clusters use other ports).
CLUSTER_PORTS = range(55521, 55530)
# A request that takes longer than this counts as hung.
REQUEST_BOUND_SECONDS = 10.0
# The client gives up later than that, so that a hung request is measured rather than cut short.
CLIENT_TIMEOUT_SECONDS = 15.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.fault)


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_owner(*command: str) -> list[str]:
    """initdb and pg_ctl refuse to run as root: as root, run them as postgres."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


@dataclass
class Cluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1 that a test may stop and start."""

    root: Path
    port: int

    @property
    def datadir(self) -> Path:
        return self.root / "pgdata"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> float:
        """Starts (or creates and starts) the cluster; returns how long it took."""
        began = time.monotonic()
        subprocess.run(
            ["bash", str(PG_CLUSTER), "start", str(self.datadir), str(self.port), "fastqueue", "--throwaway"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return time.monotonic() - began

    def stop(self, mode: str = "fast") -> float:
        """pg_ctl stop -m MODE; returns how long it took."""
        began = time.monotonic()
        subprocess.run(
            _as_owner(str(PG_BINDIR / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "-t", "60", "stop"),
            check=True,
            capture_output=True,
            timeout=90,
            cwd="/",
        )
        return time.monotonic() - began

    def is_running(self) -> bool:
        result = subprocess.run(
            _as_owner(str(PG_BINDIR / "pg_ctl"), "-D", str(self.datadir), "status"),
            capture_output=True,
            cwd="/",
        )
        return result.returncode == 0

    def ensure_running(self) -> None:
        if not self.is_running():
            self.start()

    def create_migrated_database(self) -> str:
        name = f"fq_fault_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        url = self.url(name)
        migrate(url, echo=lambda _: None)
        return url

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def fault_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster of this folder's own, in a mkdtemp under /tmp that the postgres user can
    enter (pytest's tmp_path is closed to it), on the first free port of 55521-55529."""
    port = next((p for p in CLUSTER_PORTS if _port_is_free(p)), None)
    if port is None:
        pytest.fail(f"no free port in {CLUSTER_PORTS.start}-{CLUSTER_PORTS.stop - 1} for the fault cluster")
    root = Path(tempfile.mkdtemp(prefix="fastqueue-fault-", dir="/tmp"))
    root.chmod(0o755)
    cluster = Cluster(root=root, port=port)
    try:
        took = cluster.start()
        print(f"\n[fault cluster] PostgreSQL on 127.0.0.1:{port} in {cluster.datadir} (started in {took:.1f} s)")
        yield cluster
    finally:
        try:
            if (cluster.datadir / "postmaster.pid").exists():
                try:
                    cluster.stop("fast")
                except (subprocess.SubprocessError, OSError):
                    cluster.stop("immediate")
        finally:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fault_database(fault_cluster: Cluster) -> Iterator[str]:
    """A migrated database of this test's own in the fault cluster (which is running again afterwards,
    whatever the test did to it)."""
    fault_cluster.ensure_running()
    url = fault_cluster.create_migrated_database()
    try:
        yield url
    finally:
        fault_cluster.ensure_running()
        fault_cluster.drop_database(url)


# The server


@dataclass
class ServerProcess:
    """`fastqueue server` on a fixed loopback port, so that it can be killed and restarted in place."""

    database_url: str
    log_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"server-{self.port}.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, healthy: bool = True, timeout: float = 30.0) -> float:
        """Starts the server and waits until /health answers (200 when healthy); returns the wait."""
        environment = {
            **os.environ,
            "FASTQUEUE_DATABASE_URL": self.database_url,
            "FASTQUEUE_SERVER_HOST": "127.0.0.1",
            "FASTQUEUE_SERVER_PORT": str(self.port),
            "FASTQUEUE_SERVER_NUM_WORKERS": "1",
            "FASTQUEUE_LOG_LEVEL": "warning",
            **self.env,
        }
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        began = time.monotonic()
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [str(FASTQUEUE), "server"],
                cwd=REPO,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        self.wait_until_serving(healthy=healthy, timeout=timeout)
        return time.monotonic() - began

    def wait_until_serving(self, healthy: bool = True, timeout: float = 30.0) -> float:
        began = time.monotonic()
        deadline = began + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"fastqueue server exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            try:
                response = httpx.get(self.url + "/health", timeout=5)
                if response.status_code == 200 or not healthy:
                    return time.monotonic() - began
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"fastqueue server did not serve (healthy={healthy}) within {timeout} s:\n{self.log()[-4000:]}")

    def signal(self, signum: int) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signum)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Makes (not starts) server processes; stops every one of them at the end of the test."""
    made: list[ServerProcess] = []

    def make(database_url: str, **env: str) -> ServerProcess:
        server = ServerProcess(database_url=database_url, log_dir=tmp_path, env=env)
        made.append(server)
        return server

    try:
        yield make
    finally:
        for server in made:
            server.stop()


# Load: publisher and consumer loops over HTTP that record everything


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

    def request(self, client: httpx.Client, kind: str, method: str, path: str, **kwargs) -> httpx.Response | None:
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


def publisher(url: str, topic_id: str, ledger: Ledger, count: int, tag: str, stop: threading.Event,
              keepalive: bool = True) -> None:
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


def consumer(url: str, queue_id: str, ledger: Ledger, stop: threading.Event, seed: int,
             nack_every: int = 7, keepalive: bool = True) -> None:
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


@dataclass
class Load:
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
            self.threads.append(threading.Thread(
                target=publisher,
                args=(self.url, self.topic_id, self.ledger, self.per_publisher, f"p{p}", self.stop_publishing,
                      self.keepalive),
                daemon=True,
            ))
        for c in range(self.consumers):
            self.threads.append(threading.Thread(
                target=consumer,
                args=(self.url, self.queue_id, self.ledger, self.stop_consuming, c),
                kwargs={"keepalive": self.keepalive},
                daemon=True,
            ))
        for thread in self.threads:
            thread.start()

    def published_count(self) -> int:
        with self.ledger.lock:
            return len(self.ledger.published)

    def wait_published(self, at_least: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.published_count() < at_least:
            if time.monotonic() > deadline:
                pytest.fail(f"only {self.published_count()} of {at_least} publishes got a 201 within {timeout} s")
            time.sleep(0.02)

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

    def abort(self) -> None:
        self.stop_publishing.set()
        self.stop_consuming.set()


def drain(url: str, queue_id: str, database_url: str) -> list[str]:
    """Ends every lease (as if the ack deadlines had passed), then consumes and acks until the queue is
    empty; returns the ids it got."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "update fastqueue.messages set scheduled_at = now() - interval '1 second' where queue_id = %s",
            (queue_id,),
        )
    drained: list[str] = []
    with new_client(url) as client:
        for _ in range(1000):
            response = client.get(f"/queues/{queue_id}/messages", params={"limit": 100})
            assert response.status_code == 200, response.text
            messages = response.json()["data"]
            if not messages:
                break
            for message in messages:
                drained.append(message["id"])
                answer = client.put(f"/messages/{message['id']}/ack")
                assert answer.status_code == 204, answer.text
    with psycopg.connect(database_url, autocommit=True) as conn:
        left = conn.execute("select count(*) from fastqueue.messages where queue_id = %s", (queue_id,)).fetchone()[0]
    assert left == 0, f"{left} messages left in {queue_id} after draining"
    return drained


def check_delivery_invariants(ledger: Ledger, drained: list[str], label: str) -> None:
    """Nothing lost: every publish that got a 201 was acked (204), maybe acked (ack without an answer),
    or is delivered by the final drain. Nothing resurrected: no id whose ack got a 204 is delivered by a
    consume sent after that 204, nor by the drain."""
    published = set(ledger.published)
    acked = set(ledger.acked)
    drained_set = set(drained)
    lost = published - acked - ledger.ack_unknown - drained_set
    resurrected_in_drain = acked & drained_set
    resurrected_in_load = sorted(
        {message_id for message_id, sent in ledger.deliveries if message_id in ledger.acked and sent > ledger.acked[message_id]}
    )
    redelivered = len(ledger.deliveries) - len({m for m, _ in ledger.deliveries})
    unknown_publishes = drained_set - published  # publishes whose answer was lost but which did commit
    print(
        f"[{label}] checked: {len(published)} publishes got 201; {len(acked)} acks got 204,"
        f" {len(ledger.ack_unknown - acked)} acks without an answer; {len(ledger.deliveries)} deliveries"
        f" ({redelivered} redeliveries); drained {len(drained)} at the end"
        f" ({len(unknown_publishes)} from publishes without a 201);"
        f" lost {len(lost)}; acked-then-delivered {len(resurrected_in_load)} during load, {len(resurrected_in_drain)} in drain"
    )
    assert not lost, f"{len(lost)} of {len(published)} messages that got a 201 were never acked nor drained: {sorted(lost)[:5]}"
    assert not resurrected_in_drain, (
        f"{len(resurrected_in_drain)} messages whose ack got a 204 came back in the drain: {sorted(resurrected_in_drain)[:5]}"
    )
    assert not resurrected_in_load, (
        f"{len(resurrected_in_load)} messages were delivered by a consume sent after their ack got a 204: "
        f"{resurrected_in_load[:5]}"
    )


def make_topic_and_queue(url: str, ack_deadline_seconds: int = 5) -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    topic_id, queue_id = f"faults-{suffix}", f"faults-q-{suffix}"
    with new_client(url) as client:
        assert client.post("/topics", json={"id": topic_id}).status_code == 201
        response = client.post(
            "/queues",
            json={
                "id": queue_id,
                "topic_id": topic_id,
                "ack_deadline_seconds": ack_deadline_seconds,
                "message_retention_seconds": 1209600,
            },
        )
        assert response.status_code == 201, response.text
    return topic_id, queue_id
