"""Where pg_cron is available (the cluster's cron.database_name), db-migrate schedules cleanup and the
store's rotation."""

import os
import time
from collections.abc import Iterator

import psycopg
import pytest
from fastqueue.commands.migrate import CLEANUP_JOB_NAME, ROTATION_JOB_NAME, migrate

from tests.conftest import database_url_for
from tests.support.cron import CronMinute

CRON_DATABASE = os.environ.get("FASTQUEUE_TEST_CRON_DATABASE", "")


@pytest.fixture
def cron_database_url() -> Iterator[str]:
    """The cluster's pg_cron database. Afterwards the rotation job is unscheduled and a run of it in
    progress ended: while `rotate_store_for(55)` runs, every DROP DATABASE in the cluster waits until it
    ends (up to 55 s; measured 38 s and 56 s), and the rest of the session drops a database after
    nearly every test."""
    if not CRON_DATABASE:
        pytest.fail("FASTQUEUE_TEST_CRON_DATABASE is not set: run the tests with `make test`")
    url = database_url_for(CRON_DATABASE)
    yield url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select cron.unschedule(jobid) from cron.job where jobname = %s", (ROTATION_JOB_NAME,))
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where query like 'call fastqueue.rotate_store_for(%%' and pid <> pg_backend_pid()"
        )


def test_cleanup_is_scheduled_once_however_often_migrate_runs(cron_database_url: str) -> None:
    first = migrate(cron_database_url, echo=lambda _: None)
    second = migrate(cron_database_url, echo=lambda _: None)
    for report in (first, second):
        assert report.cleanup_note.startswith(f"pg_cron: job {CLEANUP_JOB_NAME!r} runs"), report.cleanup_note
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
    assert jobs == [("* * * * *", "select fastqueue.rotate_store()", CRON_DATABASE, True)]


@pytest.mark.slow
def test_pg_cron_runs_the_rotation_procedure(cron_minute: CronMinute, cron_database_url: str) -> None:
    # cron_minute migrated the pg_cron database and waited for the job's next run (shared with
    # test_rotation_job.py and test_ownership.py: one wait for pg_cron's minute a session).
    with psycopg.connect(cron_minute.url, autocommit=True) as conn:
        deadline = time.monotonic() + 150
        seen = None
        while seen is None and time.monotonic() < deadline:
            seen = conn.execute(
                "select r.status from cron.job_run_details r, fastqueue.store_state s"
                " where r.jobid = %s and r.start_time > %s and r.status in ('running', 'succeeded')"
                "   and s.last_attempt_at > r.start_time",
                (cron_minute.rotation_job, cron_minute.migrated_at),
            ).fetchone()
            if seen is None:
                failed = conn.execute(
                    "select return_message from cron.job_run_details where jobid = %s and start_time > %s and status = 'failed'",
                    (cron_minute.rotation_job, cron_minute.migrated_at),
                ).fetchone()
                assert failed is None, f"the rotation job failed: {failed[0]}"
                time.sleep(0.2)
    assert seen is not None, "pg_cron did not run rotate_store within 150 s"
