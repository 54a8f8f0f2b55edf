"""The store's pg_cron rotation job leaves the rest of the cluster alone: on PostgreSQL 15, DROP DATABASE
waits until every process has absorbed a ProcSignalBarrier, and pg_cron 1.4's launcher absorbs none while
one of its jobs runs, so a job that runs for most of each minute held up every DROP DATABASE in the
cluster for that long."""

import os
import time

import psycopg
import pytest
from fastqueue.commands.migrate import ROTATION_JOB_NAME, migrate

from tests.conftest import create_database, database_url_for, drop_database, unique_name

CRON_DATABASE = os.environ.get("FASTQUEUE_TEST_CRON_DATABASE", "")

# A hang bound, not a speed target: without the job in the way the drop takes well under a second;
# with a job that runs for most of the minute it waits that long (about 50 s).
DROP_BOUND_SECONDS = 10.0


@pytest.fixture
def cron_database_url() -> str:
    if not CRON_DATABASE:
        pytest.fail("FASTQUEUE_TEST_CRON_DATABASE is not set: run the tests with `make test`")
    return database_url_for(CRON_DATABASE)


@pytest.mark.slow
def test_drop_database_elsewhere_does_not_wait_for_the_rotation_job(cron_database_url: str) -> None:
    migrate(cron_database_url, echo=lambda _: None)
    victim = unique_name("fq_dropped")
    create_database(victim)
    try:
        with psycopg.connect(cron_database_url, autocommit=True) as conn:
            row = conn.execute("select jobid from cron.job where jobname = %s", (ROTATION_JOB_NAME,)).fetchone()
            assert row is not None, "db-migrate did not schedule the rotation job"
            job_id: int = row[0]
            last_run = conn.execute(
                "select coalesce(max(runid), 0) from cron.job_run_details where jobid = %s", (job_id,)
            ).fetchone()
            assert last_run is not None
            # pg_cron starts the job at the next minute (bounded generously).
            deadline = time.monotonic() + 150
            started = None
            while started is None and time.monotonic() < deadline:
                started = conn.execute(
                    "select status from cron.job_run_details where jobid = %s and runid > %s",
                    (job_id, last_run[0]),
                ).fetchone()
                if started is None:
                    time.sleep(0.2)
            assert started is not None, "pg_cron did not start the rotation job within 150 s"
        # The job's run began at most a fraction of a second ago: drop a database of the same cluster.
        began = time.monotonic()
        drop_database(victim)
        took = time.monotonic() - began
    finally:
        drop_database(victim)
    assert took < DROP_BOUND_SECONDS, (
        f"DROP DATABASE of another database took {took:.1f} s while the rotation job ran "
        f"(job status when the drop began: {started[0]})"
    )
