"""What LISTEN fastqueue_available tells a role that may do nothing else (docs/guarantees.md, "Not
promised"): PostgreSQL has no privilege on LISTEN, so any role that may connect to the database
hears the ids of watched queues as messages become available on them, and nothing more (no message
data, no attributes, nothing of unwatched queues). Taking away CONNECT is what stops it."""

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from tests.conftest import ADMIN_URL, unique_name


@pytest.fixture
def nobody() -> Iterator[str]:
    """A login role granted nothing at all."""
    name = unique_name("fq_nobody")
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("create role {} login").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))


def as_role(url: str, role: str) -> str:
    return url.replace("://postgres@", f"://{role}@", 1)


def test_any_role_that_may_connect_hears_watched_queue_ids_and_nothing_else(
    conn: psycopg.Connection, database_url: str, nobody: str
) -> None:
    conn.execute("select fastqueue.create_topic('payroll')")
    conn.execute("select fastqueue.create_queue('payroll-watched', 'payroll', 30, 600)")
    conn.execute("select fastqueue.create_queue('payroll-unwatched', 'payroll', 30, 600)")
    with psycopg.connect(as_role(database_url, nobody), autocommit=True) as eavesdropper:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            eavesdropper.execute("select fastqueue.queue_stats('payroll-watched')")
        eavesdropper.execute("listen fastqueue_available")  # no privilege is checked

        conn.execute("select fastqueue.watch_queue('payroll-watched', 'gateway', 60)")
        conn.execute("""select fastqueue.publish('payroll', '{"salary": 123456}', '{"employee": "alice"}')""")
        heard = [(n.channel, n.payload) for n in eavesdropper.notifies(timeout=2, stop_after=5)]
    assert heard == [("fastqueue_available", "payroll-watched")], "the watched queue's id, and only that"


def test_without_connect_on_the_database_a_role_hears_nothing(database_url: str, nobody: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        database = conn.info.dbname
        conn.execute(sql.SQL("revoke connect on database {} from public").format(sql.Identifier(database)))
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(as_role(database_url, nobody)).close()
