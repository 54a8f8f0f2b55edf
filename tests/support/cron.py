"""pg_cron's next minute, waited for once per session: pg_cron starts its jobs at the start of a minute,
so a test that needs a run of one waits up to a minute for it. Three tests need one (the rotation job
runs rotate_store, a DROP DATABASE elsewhere does not wait for that run, the cleanup job runs as
fastqueue_owner): one migrate of the cluster's pg_cron database, one wait, and each test checks its
own part of what that minute did (the `cron_minute` fixture in tests/conftest.py)."""

import time
from dataclasses import dataclass
from datetime import datetime

import psycopg
from fastqueue.commands.migrate import CLEANUP_JOB_NAME, ROTATION_JOB_NAME, migrate

from tests.conftest import create_database, drop_database, unique_name

# pg_cron starts a job at the next minute: bounded generously.
NEXT_MINUTE_BOUND_SECONDS = 150.0


@dataclass(frozen=True)
class CronMinute:
    url: str  # the pg_cron database, migrated just before the wait
    migrated_at: datetime  # the database's now() right after that migrate
    rotation_job: int
    cleanup_job: int
    rotation_run: int  # the runid of the rotation job's first run after the migrate
    rotation_status_at_drop: str  # that run's status when the drop below began
    drop_seconds: float  # how long DROP DATABASE of another database took as that run began


def job_id(conn: psycopg.Connection, name: str) -> int:
    row = conn.execute("select jobid from cron.job where jobname = %s", (name,)).fetchone()
    assert row is not None, f"db-migrate did not schedule the pg_cron job {name!r}"
    found: int = row[0]
    return found


def wait_for_the_next_minute(url: str) -> CronMinute:
    """Migrates the pg_cron database at `url`, waits until pg_cron starts the rotation job's next run,
    and at once drops a database of the same cluster, timing the drop."""
    migrate(url, echo=lambda _: None)
    victim = unique_name("fq_dropped")
    create_database(victim)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            rotation_job, cleanup_job = job_id(conn, ROTATION_JOB_NAME), job_id(conn, CLEANUP_JOB_NAME)
            row = conn.execute("select now(), coalesce(max(runid), 0) from cron.job_run_details").fetchone()
            assert row is not None
            migrated_at, last_run = row
            deadline = time.monotonic() + NEXT_MINUTE_BOUND_SECONDS
            started = None
            while started is None and time.monotonic() < deadline:
                started = conn.execute(
                    "select runid, status from cron.job_run_details where jobid = %s and runid > %s"
                    " order by runid limit 1",
                    (rotation_job, last_run),
                ).fetchone()
                if started is None:
                    time.sleep(0.2)
            assert started is not None, f"pg_cron did not start the rotation job within {NEXT_MINUTE_BOUND_SECONDS} s"
        # The job's run began at most a fraction of a second ago: drop a database of the same cluster.
        began = time.monotonic()
        drop_database(victim)
        drop_seconds = time.monotonic() - began
    finally:
        drop_database(victim)
    return CronMinute(
        url=url,
        migrated_at=migrated_at,
        rotation_job=rotation_job,
        cleanup_job=cleanup_job,
        rotation_run=started[0],
        rotation_status_at_drop=started[1],
        drop_seconds=drop_seconds,
    )
