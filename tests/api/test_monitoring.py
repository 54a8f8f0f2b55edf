"""/health, /metrics, /docs and /openapi.json; health while the database goes away and comes back;
metrics added up across server worker processes."""

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from psycopg.conninfo import conninfo_to_dict

from tests.api.conftest import REPO, Server, free_port

API_PATHS = {
    "/topics",
    "/topics/{topic_id}",
    "/topics/{topic_id}/messages",
    "/queues",
    "/queues/{queue_id}",
    "/queues/{queue_id}/stats",
    "/queues/{queue_id}/purge",
    "/queues/{queue_id}/redrive",
    "/queues/{queue_id}/messages",
    "/queues/{queue_id}/messages/consume",
    "/messages/{message_id}/ack",
    "/messages/{message_id}/nack",
    "/topics/{topic_id}/messages/batch",
    "/messages/{message_id}/deadline",
    "/messages/ack",
    "/messages/nack",
    "/overview/queues",
    "/overview/topics",
    "/queues/{queue_id}/peek",
    "/health",
    "/metrics",
}


def scrape(base_url: str) -> str:
    # A new connection each time, so that with several workers any of them may answer.
    response = httpx.get(base_url + "/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample, 0 when the series does not exist (yet)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return 0.0


def test_health(client: httpx.Client) -> None:
    response = client.get("/health")
    database = conninfo_to_dict(os.environ["FASTQUEUE_TEST_ADMIN_URL"])
    primary = f"{database['host']}:{database.get('port', 5432)}"
    assert (response.status_code, response.json()) == (200, {"success": True, "primary": primary})


def test_docs_and_openapi(client: httpx.Client) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text and "/openapi.json" in docs.text

    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) == API_PATHS
    schemas = spec["components"]["schemas"]
    assert set(schemas["Queue"]["properties"]) >= {"id", "topic_id", "delivery_delay_seconds", "created_at"}
    assert schemas["QueueCreate"]["properties"]["ack_deadline_seconds"]["maximum"] == 600
    assert schemas["QueueCreate"]["examples"][0]["id"] == "all-events"
    assert schemas["MessagePublish"]["examples"]
    assert "404" in spec["paths"]["/queues/{queue_id}"]["get"]["responses"]
    consume = schemas["ConsumeRequest"]["properties"]
    assert (consume["limit"]["maximum"], consume["wait_seconds"]["maximum"], consume["ack_ids"]["maxItems"]) == (
        1000,
        20,
        1000,
    )


def test_metrics_count_requests_by_route_and_status(
    client: httpx.Client, server: Server, uid: Callable[[str], str]
) -> None:
    labels = {"method": "GET", "route": "/topics/{topic_id}", "status": "404"}
    before = scrape(server.url)
    assert client.get(f"/topics/{uid('missing')}").status_code == 404
    assert client.get("/no/such/route").status_code == 404
    after = scrape(server.url)

    assert sample(after, "fastqueue_http_requests_total", **labels) == (
        sample(before, "fastqueue_http_requests_total", **labels) + 1
    )
    assert sample(after, "fastqueue_http_request_duration_seconds_count", **labels) == (
        sample(before, "fastqueue_http_request_duration_seconds_count", **labels) + 1
    )
    assert sample(after, "fastqueue_http_request_duration_seconds_sum", **labels) > 0
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert sample(after, "fastqueue_http_requests_total", **unmatched) >= 1
    # Route templates, not raw paths: ids never become label values.
    assert "/topics/missing-" not in after


def test_metrics_report_queue_depths_from_sql(
    client: httpx.Client, server: Server, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue = make_queue(topic_id=topic_id)
    empty = make_queue("empty")
    for n in range(3):
        client.post(f"/topics/{topic_id}/messages", json={"data": {"n": n}})
    client.get(f"/queues/{queue['id']}/messages", params={"limit": 1})

    text = scrape(server.url)
    assert sample(text, "fastqueue_database_up") == 1
    assert sample(text, "fastqueue_queue_available_messages", queue_id=queue["id"]) == 2
    assert sample(text, "fastqueue_queue_messages", queue_id=queue["id"]) == 3
    assert f'fastqueue_queue_available_messages{{queue_id="{empty["id"]}"}} 0.0' in text


@pytest.mark.single_database("sets rotation_min_changes in its session; all-shard calls carry no session settings")
def test_metrics_report_the_store_rotation(server: Server, db: psycopg.Connection) -> None:
    before = scrape(server.url)
    db.execute("set fastqueue.rotation_min_changes = 0")
    assert db.execute("select outcome from fastqueue.rotate_store()").fetchone()[0] == "rotated"
    after = scrape(server.url)
    assert sample(after, "fastqueue_store_rotations_total") == sample(before, "fastqueue_store_rotations_total") + 1
    assert sample(after, "fastqueue_store_rotation_skips_total") == sample(
        before, "fastqueue_store_rotation_skips_total"
    )
    assert "fastqueue_store_seconds_since_rotation " in after
    assert 0 <= sample(after, "fastqueue_store_seconds_since_rotation") < 3600


@pytest.mark.gateway_only("metrics of the gateway's worker processes")
def test_metrics_add_up_across_worker_processes(
    api_database_url: str, server_factory: Callable[..., Server], uid: Callable[[str], str]
) -> None:
    server = server_factory(api_database_url, FASTQUEUE_SERVER_NUM_WORKERS="2")
    try:
        workers = [stat for stat in Path("/proc").glob("[0-9]*/stat") if _parent_pid(stat) == server.process.pid]
        assert len(workers) >= 2
        requests = 30
        for _ in range(requests):
            # New connections: the kernel spreads them over both workers.
            assert httpx.get(f"{server.url}/topics/{uid('missing')}", timeout=10).status_code == 404
        labels = {"method": "GET", "route": "/topics/{topic_id}", "status": "404"}
        for _ in range(4):
            text = scrape(server.url)
            assert sample(text, "fastqueue_http_requests_total", **labels) == requests
            assert sample(text, "fastqueue_http_request_duration_seconds_count", **labels) == requests
            assert sample(text, "fastqueue_database_up") == 1
    finally:
        server.stop()


def _parent_pid(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


@dataclass
class Cluster:
    datadir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/fastqueue"

    def start(self) -> None:
        subprocess.run(
            [
                str(REPO / "scripts/pg-cluster.sh"),
                "start",
                str(self.datadir),
                str(self.port),
                "fastqueue",
                "--throwaway",
            ],
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            [str(REPO / "scripts/pg-cluster.sh"), "stop", str(self.datadir)], check=True, capture_output=True
        )


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster of this test's own, which it may stop and start."""
    workdir = Path(tempfile.mkdtemp(prefix="fastqueue-api-health-"))
    workdir.chmod(0o755)  # the cluster runs as the postgres user
    cluster = Cluster(datadir=workdir / "pgdata", port=free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def timed_get(url: str) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    response = httpx.get(url, timeout=30)
    return response, time.monotonic() - start


@pytest.mark.gateway_only("a cluster of its own, no router")
@pytest.mark.slow
def test_health_follows_the_database_down_and_up(own_cluster: Cluster, server_factory: Callable[..., Server]) -> None:
    server = server_factory(own_cluster.url)
    try:
        up = {"success": True, "primary": f"127.0.0.1:{own_cluster.port}"}
        assert httpx.get(server.url + "/health").json() == up

        own_cluster.stop()
        response, elapsed = timed_get(server.url + "/health")
        assert (response.status_code, response.json()) == (500, {"success": False})
        assert elapsed < 5
        # An API call fails fast with 503, without naming hosts or ports.
        response, elapsed = timed_get(server.url + "/topics")
        assert (response.status_code, response.json()) == (
            503,
            {"detail": "The database is unavailable, try again later"},
        )
        assert response.headers["retry-after"] == "1"
        assert elapsed < 8
        # /metrics still answers, and says that the database is away.
        text = scrape(server.url)
        assert sample(text, "fastqueue_database_up") == 0
        assert sample(text, "fastqueue_http_requests_total", method="GET", route="/health", status="500") >= 1

        own_cluster.start()
        deadline = time.monotonic() + 30
        while (response := httpx.get(server.url + "/health", timeout=10)).status_code != 200:
            assert time.monotonic() < deadline, "the server did not reconnect within 30 s"
            assert response.json() == {"success": False}
            time.sleep(0.25)
        assert response.json() == up
        assert server.process.poll() is None  # the same server, never restarted
    finally:
        server.stop()
