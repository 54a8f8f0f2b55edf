"""Shared fixtures: a real PostgreSQL (the cluster `make test` starts), one migrated template
database per session, and a fresh copy of it per test that asks for `database_url`."""

import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import psycopg
import pytest
from fastqueue.commands.migrate import migrate
from psycopg import sql

if TYPE_CHECKING:
    from tests.support.cron import CronMinute

ADMIN_URL = os.environ.get("FASTQUEUE_TEST_ADMIN_URL", "")
# "2": the HTTP tests run through a 2-shard router (tests/api/conftest.py); tests marked single_database
# are then skipped with their reason.
SHARDED = os.environ.get("FASTQUEUE_TEST_SHARDED", "")


def pytest_configure(config: pytest.Config) -> None:
    if not ADMIN_URL:
        raise pytest.UsageError(
            "FASTQUEUE_TEST_ADMIN_URL is not set: run the tests with `make test`, which starts a throwaway PostgreSQL"
        )
    if SHARDED not in ("", "2"):
        raise pytest.UsageError(f"FASTQUEUE_TEST_SHARDED is {SHARDED!r}: set it to 2 (shards), or leave it unset")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a sharded run, skips the tests marked single_database("why") or gateway_only("why"), with the reason."""
    if not SHARDED:
        return
    for item in items:
        for name, says in (("single_database", "single database only"), ("gateway_only", "gateway only, not sharded")):
            marker = item.get_closest_marker(name)
            if marker is not None:
                item.add_marker(pytest.mark.skip(reason=f"{says}: {marker.args[0] if marker.args else name}"))
                break


def database_url_for(name: str) -> str:
    """The admin URL with another database name."""
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def create_database(name: str, template: str | None = None) -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        statement = sql.SQL("create database {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" template {}").format(sql.Identifier(template))
        conn.execute(statement)
    return database_url_for(name)


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def admin_url() -> str:
    return ADMIN_URL


@pytest.fixture(scope="session")
def template_database() -> Iterator[str]:
    """A database migrated once per session; tests get copies of it."""
    name = unique_name("fq_template")
    url = create_database(name)
    migrate(url, echo=lambda _: None)
    yield name
    drop_database(name)


@pytest.fixture
def database_url(template_database: str) -> Iterator[str]:
    """A migrated database of this test's own."""
    name = unique_name("fq_test")
    url = create_database(name, template=template_database)
    yield url
    drop_database(name)


@pytest.fixture
def empty_database_url() -> Iterator[str]:
    """An empty database, not migrated."""
    name = unique_name("fq_empty")
    url = create_database(name)
    yield url
    drop_database(name)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to this test's migrated database."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="session")
def cron_minute() -> "CronMinute":
    """One wait for pg_cron's next minute, shared by the tests that need a run of its jobs
    (tests/support/cron.py)."""
    from tests.support.cron import wait_for_the_next_minute  # it imports this module

    cron_database = os.environ.get("FASTQUEUE_TEST_CRON_DATABASE", "")
    if not cron_database:
        pytest.fail("FASTQUEUE_TEST_CRON_DATABASE is not set: run the tests with `make test`")
    return wait_for_the_next_minute(database_url_for(cron_database))
