"""pg_cron on every shard (docs/sharding.md, pg_cron and maintenance): db-migrate schedules each shard's
cleanup and rotation from its server's pg_cron database (cron.schedule_in_database), once per shard
however often it runs, and scripts/shards.sh drop takes the jobs away with the shards."""

import uuid

import psycopg
from fastqueue.commands.migrate import (
    CLEANUP_COMMAND,
    CLEANUP_JOB_NAME,
    CLEANUP_SCHEDULE,
    ROTATION_COMMAND,
    ROTATION_JOB_NAME,
    ROTATION_SCHEDULE,
)
from fastqueue.commands.sharding import migrate_sharded

from tests.conftest import ADMIN_URL, database_url_for
from tests.sharding.conftest import SHARDS, drop_sharded, make_sharded, one


def cron_database() -> str:
    with psycopg.connect(ADMIN_URL) as conn:
        (name,) = one(conn, "select current_setting('cron.database_name', true)")
    assert name, "pg_cron is not loaded in the test cluster (scripts/pg-cluster.sh preloads it)"
    return str(name)


def jobs_of(databases: list[str]) -> list[tuple[str, str, str, str, bool]]:
    with psycopg.connect(database_url_for(cron_database())) as conn:
        return [
            (name, schedule, command, database, active)
            for name, schedule, command, database, active in conn.execute(
                "select jobname, schedule, command, database, active from cron.job"
                " where database = any(%s) order by database, jobname",
                (databases,),
            ).fetchall()
        ]


def test_every_shard_gets_its_cleanup_and_rotation_jobs_once(template_database: str) -> None:
    """Named by job and shard database (pg_cron keeps one job per name and user)."""
    prefix = f"fq_cron_{uuid.uuid4().hex[:8]}"
    databases = [f"{prefix}_shard{k}" for k in range(SHARDS)]
    expected = [
        job
        for database in databases
        for job in sorted(
            [
                (f"{CLEANUP_JOB_NAME} {database}", CLEANUP_SCHEDULE, CLEANUP_COMMAND, database, True),
                (f"{ROTATION_JOB_NAME} {database}", ROTATION_SCHEDULE, ROTATION_COMMAND, database, True),
            ]
        )
    ]
    try:
        sharded = make_sharded(prefix, template_database, command=False)
        assert jobs_of(databases) == expected
        lines: list[str] = []
        migrate_sharded(sharded.router_url, sharded.shard_urls, echo=lines.append)
        assert jobs_of(databases) == expected, "a second db-migrate must change nothing"
        scheduled = [line for line in lines if "pg_cron: jobs" in line]
        assert len(scheduled) == SHARDS, lines
    finally:
        drop_sharded(prefix)
    assert jobs_of(databases) == [], "scripts/shards.sh drop leaves no job of its databases behind"
