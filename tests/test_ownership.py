"""Who owns fastqueue: db-migrate makes the NOLOGIN role fastqueue_owner own the schema and
everything in it, so the SECURITY DEFINER functions never run as the superuser that migrated
(db/tests/schema/ownership.sql checks a migrated database from the inside). Here: a database migrated
before this rule is handed over by the next db-migrate, a non-superuser member of fastqueue_owner
can migrate, one that is not is told what it needs, and pg_cron's job still runs."""

import time
from collections.abc import Iterator

import psycopg
import pytest
from fastqueue.commands.migrate import MigrationError, migrate
from psycopg import sql

from tests.conftest import ADMIN_URL, unique_name
from tests.support.cron import CronMinute

NOT_OWNED = """
    select 'schema fastqueue' from pg_namespace where nspname = 'fastqueue' and nspowner <> 'fastqueue_owner'::regrole
    union all
    select c.oid::regclass::text from pg_class c
     where c.relnamespace = 'fastqueue'::regnamespace and c.relowner <> 'fastqueue_owner'::regrole
    union all
    select t.oid::regtype::text from pg_type t
     where t.typnamespace = 'fastqueue'::regnamespace and t.typowner <> 'fastqueue_owner'::regrole
    union all
    select p.oid::regprocedure::text from pg_proc p
     where p.pronamespace = 'fastqueue'::regnamespace and p.proowner <> 'fastqueue_owner'::regrole
"""


def not_owned_by_fastqueue_owner(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [name for (name,) in conn.execute(NOT_OWNED)]


def url_as(url: str, user: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}@{rest.split('@', 1)[1]}"


@pytest.fixture
def login_role() -> Iterator[str]:
    """A login role of this test's own (no password: the test cluster trusts loopback)."""
    name = unique_name("fq_migrator")
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("create role {} login").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        for (database,) in conn.execute("select datname from pg_database where datallowconn").fetchall():
            with psycopg.connect(ADMIN_URL.rsplit("/", 1)[0] + "/" + database, autocommit=True) as db:
                db.execute(sql.SQL("drop owned by {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))


def test_a_fresh_database_is_owned_by_fastqueue_owner(empty_database_url: str) -> None:
    migrate(empty_database_url, echo=lambda _: None)
    assert not_owned_by_fastqueue_owner(empty_database_url) == []


def test_the_next_migrate_hands_a_database_owned_by_the_migrator_to_fastqueue_owner(database_url: str) -> None:
    # What every db-migrate before this rule left behind: everything owned by whoever migrated.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("reassign owned by fastqueue_owner to current_user")
    assert "fastqueue.messages" in not_owned_by_fastqueue_owner(database_url)
    report = migrate(database_url, echo=lambda _: None)
    assert report.applied == []
    assert not_owned_by_fastqueue_owner(database_url) == []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_topic('events')")
        conn.execute("select fastqueue.create_queue('work', 'events', 30, 600)")
        assert conn.execute("""select count(*) from fastqueue.publish('events', '{"n": 1}')""").fetchone() == (1,)


def test_a_non_superuser_member_of_fastqueue_owner_can_migrate(empty_database_url: str, login_role: str) -> None:
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("grant fastqueue_owner to {}").format(sql.Identifier(login_role)))
        database = conn.info.dbname
        conn.execute(
            sql.SQL("grant create on database {} to {}").format(sql.Identifier(database), sql.Identifier(login_role))
        )
    as_migrator = url_as(empty_database_url, login_role)
    first = migrate(as_migrator, echo=lambda _: None)
    assert first.applied, "every migration ran as the non-superuser"
    assert "pg_cron: not available" in first.cleanup_note
    assert migrate(as_migrator, echo=lambda _: None).applied == []
    assert not_owned_by_fastqueue_owner(empty_database_url) == []
    with psycopg.connect(as_migrator, autocommit=True) as conn:
        assert conn.execute("select fastqueue.create_topic('events')").fetchone()


def test_a_migrator_that_may_not_act_as_fastqueue_owner_is_told_what_it_needs(
    database_url: str, login_role: str
) -> None:
    with pytest.raises(MigrationError) as refused:
        migrate(url_as(database_url, login_role), echo=lambda _: None)
    message = str(refused.value)
    assert f"grant fastqueue_owner to {login_role}" in message
    assert "superuser" in message


@pytest.mark.slow
def test_pg_cron_still_runs_cleanup(cron_minute: CronMinute) -> None:
    # cron_minute migrated the pg_cron database and waited for pg_cron's next minute (shared with
    # test_cron.py and test_rotation_job.py): the cleanup job runs at the start of every minute too.
    assert not_owned_by_fastqueue_owner(cron_minute.url) == []
    with psycopg.connect(cron_minute.url, autocommit=True) as conn:
        (username,) = conn.execute(
            "select username from cron.job where jobid = %s", (cron_minute.cleanup_job,)
        ).fetchone()
        deadline = time.monotonic() + 150
        run = None
        while run is None and time.monotonic() < deadline:
            run = conn.execute(
                "select status, return_message from cron.job_run_details"
                " where jobid = %s and start_time > %s and status in ('succeeded', 'failed')"
                " order by start_time limit 1",
                (cron_minute.cleanup_job, cron_minute.migrated_at),
            ).fetchone()
            if run is None:
                time.sleep(0.2)
    assert run is not None, "pg_cron did not run the job within 150 s"
    assert run[0] == "succeeded", f"the job (as {username}) failed: {run[1]}"
