"""Where pg_cron is available (the cluster's cron.database_name), db-migrate schedules cleanup and the
store's rotation."""

import os

import psycopg
import pytest

from app.migrate import CLEANUP_JOB_NAME, ROTATION_JOB_NAME, migrate
from tests.conftest import database_url_for

CRON_DATABASE = os.environ.get("FASTQUEUE_TEST_CRON_DATABASE", "")


@pytest.fixture
def cron_database_url() -> str:
    if not CRON_DATABASE:
        pytest.fail("FASTQUEUE_TEST_CRON_DATABASE is not set: run the tests with `make test`")
    return database_url_for(CRON_DATABASE)


def test_cleanup_is_scheduled_once_however_often_migrate_runs(cron_database_url: str) -> None:
    first = migrate(cron_database_url, echo=lambda _: None)
    second = migrate(cron_database_url, echo=lambda _: None)
    assert first.cleanup_scheduled and second.cleanup_scheduled
    with psycopg.connect(cron_database_url) as conn:
        jobs = conn.execute(
            "select schedule, command, database, active from cron.job where jobname = %s", (CLEANUP_JOB_NAME,)
        ).fetchall()
    assert jobs == [("* * * * *", "select fastqueue.cleanup()", CRON_DATABASE, True)]


def test_rotation_is_scheduled_once_next_to_cleanup(cron_database_url: str) -> None:
    migrate(cron_database_url, echo=lambda _: None)
    report = migrate(cron_database_url, echo=lambda _: None)
    assert ROTATION_JOB_NAME in report.cleanup_note
    with psycopg.connect(cron_database_url) as conn:
        jobs = conn.execute(
            "select schedule, command, database, active from cron.job where jobname = %s", (ROTATION_JOB_NAME,)
        ).fetchall()
    assert jobs == [("* * * * *", "call fastqueue.rotate_store_for(55)", CRON_DATABASE, True)]
