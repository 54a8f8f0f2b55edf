"""Fault-injection harness: a PostgreSQL cluster and `fastqueue server` processes of these tests' own,
so they can be killed, stopped and restarted without disturbing the rest of the suite, plus HTTP
publisher/consumer loops that record every request and what it returned.

Every test in this folder is marked `fault` (pytest -m fault runs them alone). Each prints what it
injected and what it checked (run with -s to see it).
"""

import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.cluster import Cluster
from tests.support.load import Ledger, new_client
from tests.support.ports import port_is_free
from tests.support.server import ServerProcess

# Ports these tests may give their own cluster (other engineers' clusters use other ports).
CLUSTER_PORTS = range(55521, 55530)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.fault)


@pytest.fixture(scope="session")
def fault_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster of this folder's own, in a mkdtemp under /tmp that the postgres user can
    enter (pytest's tmp_path is closed to it), on the first free port of 55521-55529."""
    port = next((p for p in CLUSTER_PORTS if port_is_free(p)), None)
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
        {
            message_id
            for message_id, sent in ledger.deliveries
            if message_id in ledger.acked and sent > ledger.acked[message_id]
        }
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
    assert not lost, (
        f"{len(lost)} of {len(published)} messages that got a 201 were never acked nor drained: {sorted(lost)[:5]}"
    )
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
