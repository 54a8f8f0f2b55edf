"""A 2-shard fastqueue on the test run's throwaway cluster (docs/sharding.md): scripts/shards.sh makes
the databases, `fastqueue db-migrate` with FASTQUEUE_SHARD_URLS migrates the shards and builds the
router. One router per session (tests keep apart by unique ids); the quickstart gets its own."""

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from fastqueue.commands.sharding import migrate_sharded

from tests.conftest import ADMIN_URL

REPO = Path(__file__).resolve().parents[2]
FASTQUEUE = Path(sys.executable).with_name("fastqueue")
SHARDS = 2


def plproxy_missing() -> str | None:
    with psycopg.connect(ADMIN_URL) as conn:
        if conn.execute("select 1 from pg_available_extensions where name = 'plproxy'").fetchone():
            return None
    return "PL/Proxy is not installed (Debian: postgresql-15-plproxy; scripts/bootstrap.sh test installs it)"


def one(conn: psycopg.Connection, query: str, params: tuple[object, ...] = ()) -> tuple[Any, ...]:
    """The single row a query answers."""
    row = conn.execute(query, params).fetchone()
    assert row is not None, query
    return row


@dataclass
class Sharded:
    prefix: str
    router_url: str
    shard_urls: list[str]

    def shard(self, number: int) -> psycopg.Connection:
        return psycopg.connect(self.shard_urls[number], autocommit=True)

    def router(self) -> psycopg.Connection:
        return psycopg.connect(self.router_url, autocommit=True)


def make_sharded(prefix: str, template: str, command: bool = True) -> Sharded:
    """Shards copied from the session's migrated template database (tests/conftest.py), then
    `fastqueue db-migrate` as a user runs it (command=False: the same function, in this process, which
    saves the command's start-up): it finds them migrated, numbers them, builds the router."""
    port = str(urlsplit(ADMIN_URL).port)
    created = subprocess.run(
        [
            str(REPO / "scripts" / "shards.sh"),
            "create",
            port,
            prefix,
            str(SHARDS),
            template,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    settings = dict(line.split("=", 1) for line in created.stdout.splitlines() if "=" in line)
    urls = settings["FASTQUEUE_SHARD_URLS"].split(",")
    if not command:
        migrate_sharded(settings["FASTQUEUE_DATABASE_URL"], urls, echo=lambda _: None)
        return Sharded(prefix, settings["FASTQUEUE_DATABASE_URL"], urls)
    migrated = subprocess.run(
        [str(FASTQUEUE), "db-migrate"],
        check=False,
        env={**os.environ, **settings},
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "router: " in migrated.stdout and f"over {SHARDS} shards" in migrated.stdout, migrated.stdout
    return Sharded(prefix, settings["FASTQUEUE_DATABASE_URL"], urls)


def drop_sharded(prefix: str) -> None:
    port = str(urlsplit(ADMIN_URL).port)
    subprocess.run(
        [str(REPO / "scripts" / "shards.sh"), "drop", port, prefix],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def sharded(template_database: str) -> Iterator[Sharded]:
    reason = plproxy_missing()
    if reason:
        pytest.skip(reason)
    prefix = f"fq_sharded_{uuid.uuid4().hex[:8]}"
    try:
        yield make_sharded(prefix, template_database)
    finally:
        drop_sharded(prefix)


@pytest.fixture
def router(sharded: Sharded) -> Iterator[psycopg.Connection]:
    with sharded.router() as conn:
        yield conn


@pytest.fixture
def on_shard(router: psycopg.Connection) -> Callable[[str, int], str]:
    """on_shard("orders", 1) -> a unique id, starting with "orders-", whose hash places it on shard 1."""

    def make(name: str, shard: int) -> str:
        while True:
            candidate = f"{name}-{uuid.uuid4().hex[:8]}"
            placed = router.execute("select fastqueue_router.hash_shard(%s)", (candidate,)).fetchone()
            assert placed is not None
            if placed[0] == shard:
                return candidate

    return make
