"""Faults under load against a real `fastqueue server` and a PostgreSQL cluster of the tests' own:
the server SIGKILLed and restarted, PostgreSQL stopped (fast and immediate) and started again, the
connection pool exhausted, the server SIGTERMed. After each: nothing that got a 201 is lost, nothing
that got an ack 204 comes back, and no request got a 500 or hung."""

import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest

from tests.reliability.conftest import check_delivery_invariants, drain, make_topic_and_queue
from tests.support.cluster import Cluster
from tests.support.load import API_KINDS, REQUEST_BOUND_SECONDS, Call, Ledger, Load, new_client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.fault


def assert_no_500_nor_hang(ledger: Ledger, label: str, kinds: set[str] = API_KINDS) -> None:
    calls = [c for c in ledger.calls if c.kind in kinds]
    errors = ledger.with_status(500, kinds)
    slow = [c for c in calls if c.seconds > REQUEST_BOUND_SECONDS]
    print(
        f"[{label}] {len(calls)} API requests: statuses {ledger.statuses(kinds)};"
        f" slowest {ledger.slowest(kinds):.2f} s (bound {REQUEST_BOUND_SECONDS:.0f} s)"
    )
    assert not errors, f"{len(errors)} requests got a 500: {[(c.kind, c.detail) for c in errors[:5]]}"
    assert not slow, (
        f"{len(slow)} requests took more than {REQUEST_BOUND_SECONDS} s: {[(c.kind, round(c.seconds, 1)) for c in slow[:5]]}"
    )


# 1. SIGKILL the server mid-load, restart it


def test_sigkill_server_mid_load_loses_nothing(fault_database: str, server_process) -> None:
    server: ServerProcess = server_process(fault_database)
    server.start()
    topic_id, queue_id = make_topic_and_queue(server.url, ack_deadline_seconds=5)
    load = Load(server.url, topic_id, queue_id, publishers=2, consumers=2, per_publisher=150)
    try:
        load.start()
        load.wait_published(load.total // 3)
        at = load.published_count()
        killed = time.monotonic()
        server.signal(signal.SIGKILL)
        code = server.wait(timeout=10)
        time.sleep(0.5)  # the load meets a closed port for a while
        took = server.start()
        print(
            f"\n[sigkill] injected: SIGKILL after {at} of {load.total} publishes got a 201 (exit {code});"
            f" restarted on the same port, serving again {time.monotonic() - killed:.1f} s after the kill"
            f" (start took {took:.1f} s)"
        )
        load.finish()
    finally:
        load.abort()
    assert code == -signal.SIGKILL
    transport = {k: v for k, v in load.ledger.statuses().items() if not k.isdigit()}
    print(f"[sigkill] requests without an answer while it was down: {transport}")
    assert_no_500_nor_hang(load.ledger, "sigkill")
    assert len(load.ledger.published) == load.total, f"{len(load.ledger.published)} of {load.total} publishes got a 201"
    check_delivery_invariants(load.ledger, drain(server.url, queue_id, fault_database), "sigkill")


# 2. Restart PostgreSQL mid-load


# Longer than the pool's default timeout (5 s), so that requests waiting for a connection give up
# while PostgreSQL is still down.
DOWN_SECONDS = 8.0


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_mid_load(mode: str, fault_cluster: Cluster, fault_database: str, server_process) -> None:
    server: ServerProcess = server_process(fault_database)
    server.start()
    topic_id, queue_id = make_topic_and_queue(server.url, ack_deadline_seconds=5)
    load = Load(server.url, topic_id, queue_id, publishers=2, consumers=2, per_publisher=120)
    probes = Ledger()
    health_bodies: list[tuple[int | None, object, float]] = []
    down_window: list[float] = []
    probing = threading.Event()

    def probe() -> None:
        with new_client(server.url) as client:
            while probing.is_set():
                probes.request(client, "probe", "GET", "/topics")
                started = time.monotonic()
                try:
                    response = client.get("/health")
                    health_bodies.append((response.status_code, response.json(), time.monotonic() - started))
                    probes.record(Call("health", started, time.monotonic(), response.status_code))
                except httpx.HTTPError as exc:
                    health_bodies.append((None, type(exc).__name__, time.monotonic() - started))
                    probes.record(Call("health", started, time.monotonic(), None, error=type(exc).__name__))
                time.sleep(0.2)

    prober = threading.Thread(target=probe, daemon=True)
    try:
        load.start()
        load.wait_published(load.total // 3)
        at = load.published_count()
        stop_took = fault_cluster.stop(mode)
        down_window.append(time.monotonic())
        probing.set()
        prober.start()
        time.sleep(DOWN_SECONDS)
        down_window.append(time.monotonic())
        start_took = fault_cluster.start()
        recovered = server.wait_until_serving(healthy=True, timeout=60)
        probing.clear()
        prober.join(timeout=30)
        print(
            f"\n[pg {mode}] injected: pg_ctl stop -m {mode} after {at} of {load.total} publishes got a 201"
            f" (stop took {stop_took:.1f} s); down {down_window[1] - down_window[0]:.1f} s; start took {start_took:.1f} s;"
            f" the same server process answered /health 200 again {recovered:.1f} s after PostgreSQL was back"
        )
        load.finish()
    finally:
        probing.clear()
        load.abort()
        fault_cluster.ensure_running()

    assert server.process is not None and server.process.poll() is None, "the server process died"
    # Every answer given while it was down: 503 with a detail; /health says success false; all within the bound.
    during = [
        c
        for c in probes.calls + load.ledger.calls
        if c.kind in API_KINDS and down_window[0] + 0.2 <= c.ended <= down_window[1]
    ]
    unavailable = [c for c in during if c.status == 503]
    down_health = [(s, b) for s, b, _ in health_bodies]
    print(
        f"[pg {mode}] while down: {len(during)} API answers, statuses"
        f" {sorted({str(c.status or c.error) for c in during})}, slowest {max((c.seconds for c in during), default=0):.2f} s;"
        f" /health answers {sorted({(s, str(b)) for s, b in down_health}, key=str)[:3]},"
        f" slowest /health {max((t for _, _, t in health_bodies), default=0):.2f} s"
    )
    assert unavailable, "no request got a 503 while PostgreSQL was down"
    assert all(c.status == 503 for c in during), f"while down, statuses were {[c.status or c.error for c in during]}"
    bad_detail = [c.detail for c in unavailable if not (isinstance(c.detail, str) and c.detail.strip())]
    assert not bad_detail, f"503 answers without a clear detail: {bad_detail[:3]}"
    print(f"[pg {mode}] 503 detail: {unavailable[0].detail!r}")
    assert any(s == 500 and b == {"success": False} for s, b in down_health), f"/health while down: {down_health[:5]}"
    up = {"success": True, "primary": f"127.0.0.1:{fault_cluster.port}"}
    assert all(b in ({"success": False}, up) for _, b in down_health), down_health
    assert max(t for _, _, t in health_bodies) <= REQUEST_BOUND_SECONDS
    # Throughout: the server process never dropped a connection, never answered 500, never hung.
    transport = [c for c in load.ledger.calls + probes.calls if c.status is None]
    assert not transport, f"{len(transport)} requests got no HTTP answer: {sorted({c.error for c in transport})}"
    assert_no_500_nor_hang(load.ledger, f"pg {mode}")
    assert_no_500_nor_hang(probes, f"pg {mode} probes", kinds={"probe"})
    assert len(load.ledger.published) == load.total
    check_delivery_invariants(load.ledger, drain(server.url, queue_id, fault_database), f"pg {mode}")


# 3. Exhaust the connection pool


def _lock_messages(database_url: str, ids: list[str]) -> psycopg.Connection:
    """A side connection holding row locks on these messages (ack and nack of them block)."""
    side = psycopg.connect(database_url)
    side.execute("select id from fastqueue.messages where id = any(%s::uuid[]) for update", (ids,))
    return side


def _wait_for_lock_waiters(database_url: str, count: int, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    waiting = 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                "select count(*) from pg_stat_activity"
                " where application_name = 'fastqueue-server' and wait_event_type = 'Lock'"
            ).fetchone()[0]
            if waiting >= count:
                return waiting
            time.sleep(0.05)
    return waiting


def _leased_messages(url: str, topic_id: str, queue_id: str, count: int) -> list[str]:
    with new_client(url) as client:
        for n in range(count):
            assert client.post(f"/topics/{topic_id}/messages", json={"data": {"n": n}}).status_code == 201
        response = client.get(f"/queues/{queue_id}/messages", params={"limit": count})
        assert response.status_code == 200
        return [m["id"] for m in response.json()["data"]]


def _pool_storm(server: ServerProcess, database_url: str, hold_seconds: float, label: str) -> Ledger:
    """Two acks that block on row locks hold both pooled connections for hold_seconds, while 24 other
    requests arrive at once."""
    topic_id, queue_id = make_topic_and_queue(server.url, ack_deadline_seconds=600)
    ids = _leased_messages(server.url, topic_id, queue_id, 6)
    ledger = Ledger()
    side = _lock_messages(database_url, ids[:3])
    threads: list[threading.Thread] = []

    def one(kind: str, method: str, path: str, **kwargs) -> None:
        with new_client(server.url, keepalive=False) as client:
            ledger.request(client, kind, method, path, **kwargs)

    try:
        for message_id in ids[:2]:
            threads.append(threading.Thread(target=one, args=("ack", "PUT", f"/messages/{message_id}/ack")))
            threads[-1].start()
        waiting = _wait_for_lock_waiters(database_url, 2)
        storm = []
        for n in range(24):
            storm.append(
                [
                    ("ack", "PUT", f"/messages/{ids[2]}/ack", {}),
                    ("probe", "GET", f"/queues/{queue_id}/stats", {}),
                    ("probe", "GET", "/topics", {}),
                    ("publish", "POST", f"/topics/{topic_id}/messages", {"json": {"data": {"storm": n}}}),
                    ("nack", "PUT", f"/messages/{ids[3 + n % 3]}/nack", {}),
                    ("consume", "GET", f"/queues/{queue_id}/messages", {}),
                ][n % 6]
            )
        for kind, method, path, kwargs in storm:
            threads.append(threading.Thread(target=one, args=(kind, method, path), kwargs=kwargs))
            threads[-1].start()
        time.sleep(hold_seconds)
    finally:
        side.rollback()
        side.close()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "requests still running 60 s after the locks were released"
    held = [c for c in ledger.calls if c.kind == "ack" and c.seconds > 1.5]
    print(
        f"\n[{label}] injected: pool max 2, timeout 1 s; 2 acks blocked on row locks ({waiting} backends waiting)"
        f" for {hold_seconds:.0f} s while {len(storm)} more requests arrived at once;"
        f" statuses {ledger.statuses()}; slowest {ledger.slowest():.2f} s;"
        f" acks held by the lock took {sorted(round(c.seconds, 1) for c in held)}"
    )
    return ledger


POOL_ENV = {"FASTQUEUE_DATABASE_POOL_MAX_SIZE": "2", "FASTQUEUE_DATABASE_POOL_TIMEOUT_SECONDS": "1"}


def _check_storm(ledger: Ledger, server: ServerProcess, label: str) -> None:
    transport = [c for c in ledger.calls if c.status is None]
    assert not transport, f"{len(transport)} requests got no HTTP answer: {[c.error for c in transport]}"
    odd = [c for c in ledger.calls if not (200 <= c.status < 300 or c.status == 503)]
    assert not odd, f"answers other than 2xx or 503: {[(c.kind, c.status, c.detail) for c in odd]}"
    assert ledger.with_status(503), "the pool was never exhausted: no 503"
    assert_no_500_nor_hang(ledger, label, kinds=API_KINDS)
    with new_client(server.url) as client:
        assert client.get("/health").json()["success"] is True
        assert client.get("/topics").status_code == 200
    print(f"[{label}] checked: only 2xx and 503, none over {REQUEST_BOUND_SECONDS:.0f} s; healthy afterwards")


def test_pool_exhaustion_answers_503_not_hang(fault_database: str, server_process) -> None:
    server: ServerProcess = server_process(fault_database, **POOL_ENV)
    server.start()
    ledger = _pool_storm(server, fault_database, hold_seconds=3, label="pool")
    _check_storm(ledger, server, "pool")


def test_pool_exhaustion_with_locks_held_past_the_bound(fault_database: str, server_process) -> None:
    server: ServerProcess = server_process(fault_database, **POOL_ENV)
    server.start()
    ledger = _pool_storm(server, fault_database, hold_seconds=REQUEST_BOUND_SECONDS + 2, label="pool, long lock")
    _check_storm(ledger, server, "pool, long lock")


# 4. SIGTERM under load


@dataclass
class SigtermOutcome:
    exit_code: int | None
    in_flight: list[Call]
    cut_off: list[Call]
    refused_after: list[str]
    served_after: list[int]
    ledger: Ledger
    drained: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def sigterm_outcome(fault_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SigtermOutcome]:
    """SIGTERM while 2 acks are in flight (blocked on row locks, released 1.5 s after the signal) and
    publishers and consumers are running; then a restart on the same port and a drain."""
    fault_cluster.ensure_running()
    database_url = fault_cluster.create_migrated_database()
    server = ServerProcess(database_url=database_url, log_dir=tmp_path_factory.mktemp("sigterm"), env={})
    load = None
    side = None
    try:
        server.start()
        topic_id, queue_id = make_topic_and_queue(server.url, ack_deadline_seconds=5)
        other_topic, other_queue = make_topic_and_queue(server.url, ack_deadline_seconds=600)
        held_ids = _leased_messages(server.url, other_topic, other_queue, 2)
        load = Load(server.url, topic_id, queue_id, publishers=2, consumers=2, per_publisher=120, keepalive=False)
        load.start()
        load.wait_published(60)
        in_flight = Ledger()
        side = _lock_messages(database_url, held_ids)

        def held_ack(message_id: str) -> None:
            with new_client(server.url, keepalive=False) as client:
                in_flight.request(client, "ack", "PUT", f"/messages/{message_id}/ack")

        acks = [threading.Thread(target=held_ack, args=(m,)) for m in held_ids]
        for thread in acks:
            thread.start()
        waiting = _wait_for_lock_waiters(database_url, 2)
        signalled = time.monotonic()
        server.signal(signal.SIGTERM)
        time.sleep(0.5)
        refused_after: list[str] = []
        served_after: list[int] = []
        for _ in range(3):
            try:
                served_after.append(httpx.get(server.url + "/topics", timeout=5).status_code)
            except httpx.TransportError as exc:
                refused_after.append(type(exc).__name__)
            time.sleep(0.2)
        time.sleep(max(0.0, signalled + 1.5 - time.monotonic()))
        side.rollback()
        side.close()
        side = None
        for thread in acks:
            thread.join(timeout=30)
        try:
            exit_code = server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            exit_code = None
        print(
            f"\n[sigterm] injected: SIGTERM with {waiting} acks blocked on row locks (released 1.5 s later) and"
            f" {load.published_count()} of {load.total} publishes done; exit code {exit_code};"
            f" in-flight acks {[c.status or c.error for c in in_flight.calls]} in"
            f" {[round(c.seconds, 2) for c in in_flight.calls]} s; new connections after the signal:"
            f" refused {refused_after}, served {served_after}"
        )
        # Everything the load sent before the signal must have had an answer.
        cut_off = [c for c in load.ledger.calls if c.status is None and c.started < signalled - 0.02]
        if exit_code is None:
            server.stop()
        server.start()
        load.finish()
        drained = drain(server.url, queue_id, database_url)
        yield SigtermOutcome(exit_code, in_flight.calls, cut_off, refused_after, served_after, load.ledger, drained)
    finally:
        if load is not None:
            load.abort()
        if side is not None:
            side.close()
        server.stop()
        fault_cluster.ensure_running()
        fault_cluster.drop_database(database_url)


def test_sigterm_finishes_in_flight_requests_and_refuses_new_ones(sigterm_outcome: SigtermOutcome) -> None:
    outcome = sigterm_outcome
    print(
        f"[sigterm] load before the signal: {len(outcome.cut_off)} requests cut off;"
        f" whole load: statuses {outcome.ledger.statuses()}"
    )
    assert [c.status for c in outcome.in_flight] == [204, 204], [(c.status, c.error) for c in outcome.in_flight]
    assert not outcome.cut_off, (
        f"requests sent before SIGTERM got no answer: {[(c.kind, c.error) for c in outcome.cut_off]}"
    )
    assert outcome.refused_after and not outcome.served_after, (
        f"after SIGTERM new connections were served {outcome.served_after}, refused {outcome.refused_after}"
    )
    assert_no_500_nor_hang(outcome.ledger, "sigterm")
    check_delivery_invariants(outcome.ledger, outcome.drained, "sigterm")


def test_sigterm_exits_zero(sigterm_outcome: SigtermOutcome) -> None:
    print(f"[sigterm] exit code {sigterm_outcome.exit_code}")
    assert sigterm_outcome.exit_code == 0
