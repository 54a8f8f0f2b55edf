"""Failover: a pg_auto_failover formation of these tests' own (scripts/ha-cluster.sh: a monitor, a primary
and a synchronous standby on loopback) behind `fastqueue server` processes on its multi-host URL.

Under publish + consume + long-poll load over HTTP: `pg_autoctl perform failover`, and the primary node
killed (its pg_autoctl and PostgreSQL SIGKILLed, so that the monitor promotes the standby). After each:
nothing answered 201 is lost, nothing acked 204 is delivered again, every long poller gets the messages
published after the switch, no 500, every 503 carries Retry-After, service is back within 30 s. Then
the standby lost (the primary keeps serving, alone), a gateway started while the first host of its URL
is down, and pg_cron's cleanup on the new primary. Each test prints what it injected and measured
(run with -s); docs/ha.md has the figures.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastqueue.commands.worker import cleanup_once

from tests.reliability.conftest import check_delivery_invariants, drain, make_topic_and_queue
from tests.support.load import (
    API_KINDS,
    CLIENT_TIMEOUT_SECONDS,
    REQUEST_BOUND_SECONDS,
    Ledger,
    LoadControl,
    consumer,
    new_client,
)
from tests.support.ports import port_is_free
from tests.support.server import REPO, ServerProcess

pytestmark = pytest.mark.fault

HA_CLUSTER = REPO / "scripts" / "ha-cluster.sh"
# The formation's ports: monitor, node1, node2 = BASE, BASE + 1, BASE + 2, the first base whose three are free.
BASE_PORTS = (55460, 55463, 55466)
NODES = ("node1", "node2")
SERVICE_BOUND_SECONDS = 30.0
LONG_POLL_SECONDS = 10
LONG_POLLERS = 3


@dataclass
class Formation:
    root: Path
    base: int
    promoted_at: list[float] = field(default_factory=list)  # time.time() of each switch the tests made

    def script(self, *args: str, timeout: float = 240) -> str:
        result = subprocess.run(
            ["bash", str(HA_CLUSTER), *args],
            env={**os.environ, "FASTQUEUE_HA_FAST": "1"},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            pytest.fail(
                f"ha-cluster.sh {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    def port(self, node: str) -> int:
        return {"monitor": self.base, "node1": self.base + 1, "node2": self.base + 2}[node]

    def url(self, nodes: tuple[str, ...] = NODES) -> str:
        hosts = ",".join(f"127.0.0.1:{self.port(n)}" for n in nodes)
        return f"postgresql://postgres@{hosts}/fastqueue?target_session_attrs=read-write"

    def node_url(self, node: str, database: str = "fastqueue") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port(node)}/{database}"

    def states(self) -> dict[str, tuple[str, str]]:
        """node -> (reported state, assigned state), as the monitor has them."""
        with psycopg.connect(self.node_url("monitor", "pg_auto_failover"), autocommit=True, connect_timeout=5) as conn:
            rows = conn.execute(
                "select nodename, reportedstate::text, goalstate::text from pgautofailover.node"
            ).fetchall()
        return {name: (reported, goal) for name, reported, goal in rows}

    def primary(self) -> str:
        primaries = [n for n, (reported, goal) in self.states().items() if goal in ("primary", "wait_primary")]
        assert len(primaries) == 1, self.states()
        return primaries[0]

    def standby(self) -> str:
        return next(n for n in NODES if n != self.primary())

    def wait_states(self, wanted: dict[str, str], timeout: float = 120) -> float:
        """Until the monitor reports each node in its wanted state (reported and assigned); returns the wait."""
        began = time.monotonic()
        while True:
            states = self.states()
            if all(states.get(node) == (state, state) for node, state in wanted.items()):
                return time.monotonic() - began
            if time.monotonic() - began > timeout:
                pytest.fail(f"the formation did not reach {wanted} within {timeout} s: {states}\n{self.show_state()}")
            time.sleep(0.5)

    def promoted(self, node: str, since: float) -> float | None:
        """time.time() when the monitor heard `node` report itself primary (or wait_primary) after `since`."""
        with psycopg.connect(self.node_url("monitor", "pg_auto_failover"), autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(
                "select extract(epoch from min(eventtime)) from pgautofailover.event where nodename = %s"
                " and reportedstate in ('wait_primary', 'primary') and eventtime > to_timestamp(%s)",
                (node, since),
            ).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def wait_for_listener(self, node: str, timeout: float = SERVICE_BOUND_SECONDS) -> float:
        """Until a gateway's LISTEN connection (app/gateway/listener.py) is on `node`, listening."""
        began = time.monotonic()
        with psycopg.connect(self.node_url(node), autocommit=True, connect_timeout=5) as conn:
            while not conn.execute(
                "select count(*) from pg_stat_activity where application_name = 'fastqueue-listener'"
            ).fetchone()[0]:
                if time.monotonic() - began > timeout:
                    pytest.fail(f"no gateway LISTEN connection on {node} within {timeout} s")
                time.sleep(0.1)
        return time.monotonic() - began

    def show_state(self) -> str:
        return self.script("autoctl", str(self.root), "monitor", "show", "state")

    def ensure_serving(self) -> None:
        """Every node running (a stopped or killed one started again), a primary with its secondary."""
        began = time.monotonic()
        self.script("start", str(self.root), str(self.base))
        primary = self.primary()
        self.wait_states({primary: "primary", next(n for n in NODES if n != primary): "secondary"})
        print(f"\n[ha formation] serving again, {primary} primary, in {time.monotonic() - began:.1f} s")

    def kill(self, node: str) -> None:
        """SIGKILL to the node's process group: its pg_autoctl and its PostgreSQL, all at once."""
        os.killpg(int((self.root / f"{node}.pid").read_text()), signal.SIGKILL)

    def log(self, node: str) -> str:
        path = self.root / f"{node}.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture(scope="module")
def formation() -> Iterator[Formation]:
    if shutil.which("pg_autoctl") is None:
        pytest.fail("pg_autoctl is missing: scripts/bootstrap.sh test installs postgresql-15-auto-failover")
    base = next((b for b in BASE_PORTS if all(port_is_free(b + i) for i in range(3))), None)
    if base is None:
        pytest.fail(f"no three free ports from any of {BASE_PORTS} for the formation")
    root = Path(tempfile.mkdtemp(prefix="fastqueue-ha-", dir="/tmp"))
    root.chmod(0o755)
    formation = Formation(root=root, base=base)
    began = time.monotonic()
    try:
        out = formation.script("start", str(root), str(base))
        print(f"\n[ha formation] {out.strip().splitlines()[-1]} (made in {time.monotonic() - began:.1f} s)")
        yield formation
    finally:
        try:
            subprocess.run(["bash", str(HA_CLUSTER), "stop", str(root)], capture_output=True, timeout=180)
        finally:
            shutil.rmtree(root, ignore_errors=True)


# The load


class HALedger(Ledger):
    """A Ledger that also keeps every 503 answered without a Retry-After header."""

    def __init__(self) -> None:
        super().__init__()
        self.without_retry_after: list[str] = []

    def request(self, client: httpx.Client, kind: str, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        response = super().request(client, kind, method, path, **kwargs)
        if response is not None and response.status_code == 503 and "retry-after" not in response.headers:
            with self.lock:
                self.without_retry_after.append(f"{kind} {path}")
        return response


def publisher(url: str, topic_id: str, ledger: HALedger, tag: str, stop: threading.Event) -> None:
    """Publishes until stopped, each message with a deduplication_id, retrying one until it gets a 201
    (the documented rule for an unknown outcome: the retry of a publish that did commit stores nothing).
    A message whose publish got no 201 yet is retried even after the stop, so that none is left unknown."""
    with new_client(url) as client:
        n = 0
        while not stop.is_set():
            body = {"data": {"tag": tag, "n": n}, "deduplication_id": f"{tag}-{n}"}
            deadline = time.monotonic() + SERVICE_BOUND_SECONDS * 2
            while time.monotonic() < deadline:
                response = ledger.request(client, "publish", "POST", f"/topics/{topic_id}/messages", json=body)
                if response is not None and response.status_code == 201:
                    now = time.monotonic()
                    with ledger.lock:
                        for message in response.json()["data"]:
                            ledger.published[message["id"]] = now
                    break
                time.sleep(0.05)
            n += 1


@dataclass
class LongPoller:
    """Long-polls one queue, acking what it gets, until stopped; keeps the data of every message."""

    url: str
    queue_id: str
    ledger: HALedger
    stop: threading.Event
    received: list[dict[str, Any]] = field(default_factory=list)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=LONG_POLL_SECONDS + CLIENT_TIMEOUT_SECONDS) as client:
            while not self.stop.is_set():
                response = self.ledger.request(
                    client,
                    "long-poll",
                    "GET",
                    f"/queues/{self.queue_id}/messages",
                    params={"limit": 10, "wait_seconds": LONG_POLL_SECONDS},
                )
                if response is None or response.status_code != 200:
                    time.sleep(0.2)
                    continue
                for message in response.json()["data"]:
                    with self.ledger.lock:
                        self.received.append(message["data"])
                    self.ledger.request(client, "long-poll-ack", "PUT", f"/messages/{message['id']}/ack")

    def has(self, marker: str) -> bool:
        with self.ledger.lock:
            return any(m.get("marker") == marker for m in self.received)


@dataclass
class Load(LoadControl):
    """Publishers (with deduplication ids, retried until a 201), consumers and long pollers on one
    server; waiting and stopping as tests/support/load.py's LoadControl."""

    server: ServerProcess
    database_url: str
    publishers: int = 2
    consumers: int = 2
    ledger: HALedger = field(default_factory=HALedger)
    stop_publishing: threading.Event = field(default_factory=threading.Event)
    stop_consuming: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    pollers: list[LongPoller] = field(default_factory=list)

    def start(self) -> None:
        url = self.server.url
        self.topic_id, self.queue_id = make_topic_and_queue(url, ack_deadline_seconds=5)
        self.poll_topic, poll_queue = make_topic_and_queue(url, ack_deadline_seconds=30)
        queues = [poll_queue]
        with new_client(url) as client:
            for n in range(1, LONG_POLLERS):
                queue = f"{poll_queue}-{n}"
                response = client.post(
                    "/queues",
                    json={
                        "id": queue,
                        "topic_id": self.poll_topic,
                        "ack_deadline_seconds": 30,
                        "message_retention_seconds": 1209600,
                    },
                )
                assert response.status_code == 201, response.text
                queues.append(queue)
        self.pollers = [LongPoller(url, q, self.ledger, self.stop_consuming) for q in queues]
        for p in range(self.publishers):
            self.threads.append(
                threading.Thread(
                    target=publisher,
                    args=(url, self.topic_id, self.ledger, f"p{p}", self.stop_publishing),
                    daemon=True,
                )
            )
        for c in range(self.consumers):
            self.threads.append(
                threading.Thread(
                    target=consumer, args=(url, self.queue_id, self.ledger, self.stop_consuming, c), daemon=True
                )
            )
        for thread in self.threads:
            thread.start()
        for poller in self.pollers:
            poller.start()

    def publish_to_pollers(self, marker: str, timeout: float = SERVICE_BOUND_SECONDS) -> float:
        """Publishes one message to the long pollers' topic (retrying a 503, with a deduplication_id) and
        waits until every poller got it; returns how long that took."""
        began = time.monotonic()
        body = {"data": {"marker": marker}, "deduplication_id": marker}
        with new_client(self.server.url) as client:
            while True:
                response = client.post(f"/topics/{self.poll_topic}/messages", json=body)
                if response.status_code == 201:
                    break
                assert response.status_code == 503, response.text
                if time.monotonic() - began > timeout:
                    pytest.fail(f"publishing {marker} to the long pollers got 503s for {timeout} s")
                time.sleep(0.2)
        while not all(p.has(marker) for p in self.pollers):
            if time.monotonic() - began > timeout:
                missing = [p.queue_id for p in self.pollers if not p.has(marker)]
                pytest.fail(f"long pollers of {missing} did not get {marker} within {timeout} s")
            time.sleep(0.05)
        return time.monotonic() - began

    def finish(self, timeout: float = 120.0) -> None:
        """Stops the publishers, lets the consumers take a last round, stops them."""
        deadline = time.monotonic() + timeout
        self.stop_publishing.set()
        for thread in self.threads[: self.publishers]:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        time.sleep(0.3)
        self.stop_consuming.set()
        for thread in self.threads + [p.thread for p in self.pollers if p.thread is not None]:
            thread.join(timeout=max(0.1, deadline - time.monotonic()) + LONG_POLL_SECONDS + CLIENT_TIMEOUT_SECONDS)
        alive = [t.name for t in self.threads if t.is_alive()]
        assert not alive, f"load threads still running after {timeout} s: {alive}"


def primary_says(server: ServerProcess) -> str | None:
    try:
        response = httpx.get(server.url + "/health", timeout=5)
    except httpx.HTTPError:
        return None
    return response.json().get("primary") if response.status_code == 200 else None


def wait_for_primary(server: ServerProcess, wanted: str, timeout: float = SERVICE_BOUND_SECONDS) -> float:
    began = time.monotonic()
    while (said := primary_says(server)) != wanted:
        if time.monotonic() - began > timeout:
            pytest.fail(f"/health did not name {wanted} as primary within {timeout} s (it says {said})")
        time.sleep(0.1)
    return time.monotonic() - began


def check_answers(ledger: HALedger, label: str) -> None:
    """No 500; no request hung (a long poll may take its wait on top); every 503 said Retry-After."""
    calls = [c for c in ledger.calls if c.kind in API_KINDS | {"long-poll", "long-poll-ack"}]
    errors = [c for c in calls if c.status == 500]
    hung = [c for c in calls if c.seconds > REQUEST_BOUND_SECONDS + (LONG_POLL_SECONDS if c.kind == "long-poll" else 0)]
    print(f"[{label}] {len(calls)} requests: statuses {ledger.statuses()}; slowest {ledger.slowest():.2f} s")
    assert not errors, f"{len(errors)} requests got a 500: {[(c.kind, c.detail) for c in errors[:5]]}"
    assert not hung, f"{len(hung)} requests hung: {[(c.kind, round(c.seconds, 1)) for c in hung[:5]]}"
    assert not ledger.without_retry_after, f"503s without Retry-After: {ledger.without_retry_after[:5]}"


def measure(ledger: HALedger, since: float, label: str, promoted_after: float | None = None) -> dict[str, float | int]:
    """The switch as publishers saw it, from `since` (the kill, or the failover command): the longest
    stretch without a 201 that began after `since`, the first 201 that ended it (seconds after
    `since`), and the answers given until then; with promoted_after (when the monitor saw the standby
    promoted, in seconds after `since`), how long the gateway took after that."""
    answered = sorted(c.ended for c in ledger.calls if c.kind == "publish" and c.status == 201 and c.ended >= since)
    assert answered, f"[{label}] no publish got a 201 after the switch"
    gaps = list(zip([since, *answered], answered))
    gap_start, first_201 = max(gaps, key=lambda gap: gap[1] - gap[0])
    window = [c for c in ledger.calls if since <= c.ended <= first_201]
    figures: dict[str, float | int] = {
        "seconds_to_first_201": round(first_201 - since, 2),
        "longest_seconds_without_201": round(first_201 - gap_start, 2),
        "answered_503": sum(1 for c in window if c.status == 503),
        "without_answer": sum(1 for c in window if c.status is None),
        "answered_2xx": sum(1 for c in window if c.status is not None and c.status < 300),
    }
    if promoted_after is not None:
        figures["seconds_to_promotion"] = round(promoted_after, 2)
        figures["seconds_promotion_to_first_201"] = round(first_201 - since - promoted_after, 2)
    print(f"[{label}] measured: {json.dumps(figures)}")
    output = os.environ.get("FASTQUEUE_TEST_OUTPUT")
    if output:
        with open(Path(output) / "ha-figures.jsonl", "a") as f:
            f.write(json.dumps({"case": label, **figures}) + "\n")
    return figures


def run_switch(
    formation: Formation, server_process: Callable[..., ServerProcess], label: str, switch: Callable[[str], float]
) -> None:
    """The load, then `switch(old_primary)` (returns the time.monotonic() it struck), then the invariants."""
    formation.ensure_serving()
    old, new = formation.primary(), formation.standby()
    server: ServerProcess = server_process(formation.url())
    server.start()
    assert primary_says(server) == f"127.0.0.1:{formation.port(old)}"
    load = Load(server, formation.url())
    try:
        load.start()
        load.wait_published(100)
        before = load.publish_to_pollers(f"before-{label}")
        struck_wall = time.time()
        struck = switch(old)
        formation.promoted_at.append(time.time())
        back = wait_for_primary(server, f"127.0.0.1:{formation.port(new)}")
        relistened = formation.wait_for_listener(new)
        after = load.publish_to_pollers(f"after-{label}")
        time.sleep(1)  # publishing goes on for a while after the switch
        print(
            f"\n[{label}] switched {old} -> {new}, {load.published_count()} publishes answered 201 so far;"
            f" /health named {new} {back:.1f} s later; long pollers got a message in {before:.2f} s before,"
            f" {after:.2f} s after; its LISTEN connection was on {new} {relistened:.1f} s after /health named it"
        )
        load.finish()
    finally:
        load.abort()
    assert server.process is not None and server.process.poll() is None, "the server process died"
    check_answers(load.ledger, label)
    promoted = formation.promoted(new, struck_wall)
    assert promoted is not None, f"the monitor has no event of {new} becoming primary"
    figures = measure(load.ledger, struck, label, promoted_after=promoted - struck_wall)
    assert figures["seconds_to_first_201"] <= SERVICE_BOUND_SECONDS
    drained = drain(server.url, load.queue_id, formation.url())
    check_delivery_invariants(load.ledger, drained, label)
    strays = set(drained) - set(load.ledger.published)
    assert not strays, f"{len(strays)} messages stored twice despite their deduplication_id: {sorted(strays)[:5]}"


def test_perform_failover_under_load(formation: Formation, server_process: Callable[..., ServerProcess]) -> None:
    def switch(old: str) -> float:
        struck = time.monotonic()
        formation.script("autoctl", str(formation.root), "monitor", "perform", "failover", timeout=120)
        return struck

    run_switch(formation, server_process, "perform failover", switch)


def test_primary_killed_under_load(formation: Formation, server_process: Callable[..., ServerProcess]) -> None:
    def switch(old: str) -> float:
        struck = time.monotonic()
        formation.kill(old)
        return struck

    run_switch(formation, server_process, "primary SIGKILLed", switch)


def test_standby_lost_the_primary_keeps_serving_alone(
    formation: Formation, server_process: Callable[..., ServerProcess]
) -> None:
    formation.ensure_serving()
    primary, standby = formation.primary(), formation.standby()
    server: ServerProcess = server_process(formation.url())
    server.start()
    load = Load(server, formation.url())
    try:
        load.start()
        load.wait_published(100)
        struck = time.monotonic()
        formation.kill(standby)
        alone = formation.wait_states({primary: "wait_primary"}, timeout=SERVICE_BOUND_SECONDS)
        with psycopg.connect(formation.node_url(primary), autocommit=True) as conn:
            names = conn.execute("show synchronous_standby_names").fetchone()[0]
        after = load.publish_to_pollers("standby-lost")
        print(
            f"\n[standby lost] killed {standby}: {primary} in wait_primary after {alone:.1f} s,"
            f" synchronous_standby_names {names!r}; long pollers served in {after:.2f} s"
        )
        assert names == "", f"the primary still waits for a standby: {names!r}"
        time.sleep(1)
        load.finish()
    finally:
        load.abort()
    check_answers(load.ledger, "standby lost")
    measure(load.ledger, struck, "standby lost")
    check_delivery_invariants(load.ledger, drain(server.url, load.queue_id, formation.url()), "standby lost")
    # The standby comes back, catches up, and is synchronous again.
    formation.ensure_serving()
    with psycopg.connect(formation.url(), autocommit=True) as conn:
        names = conn.execute("show synchronous_standby_names").fetchone()[0]
    assert names.startswith("ANY 1"), names


def test_gateway_starts_while_the_first_host_is_down(
    formation: Formation, server_process: Callable[..., ServerProcess]
) -> None:
    formation.ensure_serving()
    primary, standby = formation.primary(), formation.standby()
    formation.kill(standby)
    formation.wait_states({primary: "wait_primary"}, timeout=SERVICE_BOUND_SECONDS)
    url = formation.url((standby, primary))  # the first host does not answer at all
    server: ServerProcess = server_process(url)
    took = server.start(timeout=SERVICE_BOUND_SECONDS)
    assert primary_says(server) == f"127.0.0.1:{formation.port(primary)}"
    topic_id, queue_id = make_topic_and_queue(server.url)
    with new_client(server.url) as client:
        response = client.post(f"/topics/{topic_id}/messages", json={"data": {"n": 1}})
        assert response.status_code == 201, response.text
        got = client.get(f"/queues/{queue_id}/messages", params={"wait_seconds": 5}).json()["data"]
        assert [m["data"] for m in got] == [{"n": 1}]
        assert client.put(f"/messages/{got[0]['id']}/ack").status_code == 204
    print(f"\n[first host down] {standby} killed; the gateway on {url} served in {took:.1f} s")
    formation.ensure_serving()


def test_pg_cron_cleanup_runs_on_the_new_primary_only(formation: Formation) -> None:
    """After the switches above, pg_cron (its job table replicated) runs cleanup on the node that is
    primary now; the standby runs nothing. `fastqueue worker`'s cleanup finds the primary too."""
    formation.ensure_serving()
    assert formation.promoted_at, "run with the failover tests above: this checks the node they promoted"
    primary, standby = formation.primary(), formation.standby()
    since = formation.promoted_at[-1]
    deadline = time.monotonic() + 75  # the job runs every minute
    query = (
        "select count(*) from cron.job_run_details d join cron.job j using (jobid)"
        " where j.jobname = 'fastqueue-cleanup' and d.status = 'succeeded' and d.start_time > to_timestamp(%s)"
    )
    while True:
        with psycopg.connect(formation.node_url(primary), autocommit=True) as conn:
            runs = conn.execute(query, (since,)).fetchone()[0]
        if runs or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert runs, f"pg_cron ran no cleanup on {primary} in the 75 s after its promotion"
    with psycopg.connect(formation.node_url(standby), autocommit=True) as conn:
        assert conn.execute("select pg_is_in_recovery()").fetchone()[0]
        assert conn.execute("select count(*) from cron.job where jobname = 'fastqueue-cleanup'").fetchone()[0] == 1
        launchers = conn.execute(
            "select count(*) from pg_stat_activity where backend_type = 'pg_cron launcher'"
        ).fetchone()[0]
    assert launchers == 0, f"pg_cron's launcher is active on the standby {standby}"
    cron_errors = [line for line in formation.log(standby).splitlines() if "cron" in line.lower() and "ERROR" in line]
    assert not cron_errors, f"pg_cron tried to run on the standby {standby}: {cron_errors[:3]}"
    # `fastqueue worker`'s one call: on a standby its cleanup (which deletes) would fail, read-only.
    expired, dead_lettered = cleanup_once(formation.url())
    print(
        f"\n[pg_cron] {runs} cleanup run(s) on {primary} since its promotion; none on {standby};"
        f" the worker's cleanup on the multi-host URL: {expired} expired, {dead_lettered} dead-lettered"
    )
