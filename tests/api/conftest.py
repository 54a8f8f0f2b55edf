"""The HTTP API through real HTTP: `fastqueue server` runs as a subprocess on a free loopback port,
against a migrated copy of the session's template database (tests/conftest.py), and tests talk to it
with httpx. Starting a server costs about a second, so most tests share one session-wide server and
keep apart by giving their topics and queues unique ids.

FASTQUEUE_TEST_SHARDED=2 runs the same tests through a 2-shard router (docs/sharding.md, Tests): every
migrated database here (the session server's, and those of tests that start a server of their own) is
then a router over 2 shards built as tests/sharding/conftest.py builds them, the `db` fixture connects
to the router, and each server is given the shards' URLs (FASTQUEUE_SHARD_URLS) as a user's would be.
Tests marked single_database (they read or change tables, which a router has not) are skipped, with
their reason (tests/conftest.py)."""

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import SHARDED, create_database, drop_database, unique_name
from tests.sharding.conftest import drop_sharded, make_sharded, plproxy_missing
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
FASTQUEUE = Path(sys.executable).with_name("fastqueue")
# Whatever the session's time zone, the API must answer in UTC: run the database sessions and the
# server process in time zones that are not.
SERVER_TIME_ZONES = {"PGTZ": "America/Sao_Paulo", "TZ": "Asia/Tokyo"}


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_serving(self, healthy: bool = True, timeout: float = 20.0) -> None:
        """Until /health answers (with 200, when healthy)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"fastqueue server exited with {self.process.returncode}:\n{self.log()}")
            try:
                response = httpx.get(self.url + "/health", timeout=5)
                if response.status_code == 200 or not healthy:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"fastqueue server did not serve within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            # The server is the leader of its own process group (its workers included).
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# Sharded runs: each router's URL -> its shards' URLs, and the prefixes of the databases to drop at the end.
SHARD_URLS: dict[str, list[str]] = {}
SHARDED_PREFIXES: list[str] = []


def start_server(database_url: str, log_dir: Path, **env: str) -> Server:
    port = free_port()
    if database_url in SHARD_URLS:
        env = {"FASTQUEUE_SHARD_URLS": ",".join(SHARD_URLS[database_url]), **env}
    log_path = log_dir / f"server-{port}.log"
    environment = {
        **os.environ,
        **SERVER_TIME_ZONES,
        "FASTQUEUE_DATABASE_URL": database_url,
        "FASTQUEUE_SERVER_HOST": "127.0.0.1",
        "FASTQUEUE_SERVER_PORT": str(port),
        "FASTQUEUE_SERVER_NUM_WORKERS": "1",
        "FASTQUEUE_LOG_LEVEL": "warning",
        **env,
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(FASTQUEUE), "server"],
            cwd=REPO,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)


@pytest.fixture(scope="session")
def server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    """Starts servers (database_url, extra environment) and stops them all at the end of the session."""
    log_dir = tmp_path_factory.mktemp("fastqueue-servers")
    servers: list[Server] = []

    def factory(database_url: str, *, healthy: bool = True, **env: str) -> Server:
        server = start_server(database_url, log_dir, **env)
        servers.append(server)
        server.wait_until_serving(healthy=healthy)
        return server

    yield factory
    for server in servers:
        server.stop()


def migrated_database(template_database: str, prefix: str) -> tuple[str, str]:
    """A migrated database (name, url) of its own; in a sharded run, a router over 2 shards of its own
    (drop_database(name) drops the router, the shards go at the end of the session)."""
    name = unique_name(prefix)
    if not SHARDED:
        return name, create_database(name, template=template_database)
    reason = plproxy_missing()
    if reason:
        pytest.fail(f"FASTQUEUE_TEST_SHARDED is set but {reason}")
    SHARDED_PREFIXES.append(name)
    sharded = make_sharded(name, template_database, command=False)
    SHARD_URLS[sharded.router_url] = sharded.shard_urls
    return sharded.router_url.rsplit("/", 1)[1], sharded.router_url


@pytest.fixture(scope="session", autouse=True)
def sharded_databases() -> Iterator[None]:
    """Drops every router and shard that migrated_database made in a sharded run."""
    yield
    for prefix in SHARDED_PREFIXES:
        drop_sharded(prefix)


@pytest.fixture(scope="session")
def api_database_url(template_database: str) -> Iterator[str]:
    """The migrated database that the session-wide server uses."""
    name, url = migrated_database(template_database, "fq_api")
    yield url
    drop_database(name)


@pytest.fixture(scope="session")
def server(api_database_url: str, server_factory: Callable[..., Server]) -> Server:
    return server_factory(api_database_url)


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=15) as http:
        yield http


@pytest.fixture
def db(api_database_url: str) -> Iterator[psycopg.Connection]:
    """SQL access to the server's database, for what HTTP cannot do (run cleanup(), age a message)."""
    with psycopg.connect(api_database_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def uid(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """A topic or queue id no other test uses: uid("orders") -> "orders-3f9c2a1b". In a sharded run every
    id of one test is placed on one shard, chosen at random per test (uid("orders") may then end in
    "-1", "-2", ...), as a user co-locates a queue with its dead queue or a redrive's destination
    (docs/sharding.md, Placement)."""
    suffix = uuid.uuid4().hex[:8]
    if not SHARDED:
        return lambda name: f"{name}-{suffix}"
    router_url = request.getfixturevalue("api_database_url")
    shard = random.randrange(2)
    made: dict[str, str] = {}

    def make(name: str) -> str:
        if name not in made:
            candidates = [f"{name}-{suffix}"] + [f"{name}-{suffix}-{k}" for k in range(1, 64)]
            with psycopg.connect(router_url) as router:
                row = router.execute(
                    "select c from unnest(%s::text[]) with ordinality u(c, n)"
                    " where fastqueue_router.hash_shard(c) = %s order by n limit 1",
                    (candidates, shard),
                ).fetchone()
            assert row is not None
            made[name] = row[0]
        return made[name]

    return make


@pytest.fixture
def make_topic(client: httpx.Client, uid: Callable[[str], str]) -> Callable[..., str]:
    def make(name: str = "topic") -> str:
        topic_id = uid(name)
        response = client.post("/topics", json={"id": topic_id})
        assert response.status_code == 201, response.text
        return topic_id

    return make


@pytest.fixture
def make_queue(client: httpx.Client, uid: Callable[[str], str]) -> Callable[..., dict]:
    def make(name: str = "queue", topic_id: str | None = None, **settings) -> dict:
        body = {
            "id": uid(name),
            "topic_id": topic_id,
            "ack_deadline_seconds": 30,
            "message_retention_seconds": 1209600,
            **settings,
        }
        response = client.post("/queues", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return make
