"""fastqueue db-migrate: fresh database, re-runs, concurrent runs, edited migrations, the CLI."""

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest

from app.migrate import MigrationError, MigrationReport, migrate
from app.sql_files import migration_files, repeatable_files

MIGRATION_NAME = re.compile(r"^\d{4}_[a-z0-9]+(_[a-z0-9]+)*\.sql$")


def recorded_migrations(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("select version, applied_at::text from fastqueue.schema_migrations order by version").fetchall()


def test_migration_files_are_named_nnnn_description() -> None:
    names = [path.name for path in migration_files()]
    assert names, "no migrations found"
    assert [n for n in names if not MIGRATION_NAME.match(n)] == []
    versions = [n[:4] for n in names]
    assert len(set(versions)) == len(versions), "two migrations share a number"


def test_fresh_database_gets_every_migration_and_function(empty_database_url: str) -> None:
    output: list[str] = []
    report = migrate(empty_database_url, echo=output.append)

    assert report.applied == [path.name for path in migration_files()]
    assert report.functions == len(repeatable_files())
    assert [v for v, _ in recorded_migrations(empty_database_url)] == [p.name[:4] for p in migration_files()]
    with psycopg.connect(empty_database_url) as conn:
        tables = {r[0] for r in conn.execute("select tablename from pg_tables where schemaname = 'fastqueue'")}
        functions = {r[0] for r in conn.execute("select proname from pg_proc where pronamespace = 'fastqueue'::regnamespace")}
    assert {"topics", "queues", "messages", "schema_migrations"} <= tables
    assert {"publish", "consume", "ack", "nack", "cleanup", "queue_stats"} <= functions
    assert any("0001_create_queue_tables.sql: applied" in line for line in output)


def test_database_without_pg_cron_is_told_to_run_the_worker(empty_database_url: str) -> None:
    # Only the cluster's cron.database_name can hold pg_cron; this test database is another one.
    report = migrate(empty_database_url, echo=lambda _: None)
    assert report.cleanup_scheduled is False
    assert "fastqueue worker" in report.cleanup_note


def test_second_run_changes_nothing(empty_database_url: str) -> None:
    migrate(empty_database_url, echo=lambda _: None)
    before = recorded_migrations(empty_database_url)
    output: list[str] = []
    report = migrate(empty_database_url, echo=output.append)
    assert report.applied == []
    assert recorded_migrations(empty_database_url) == before
    assert any("up to date" in line for line in output)


def test_concurrent_runs_apply_each_migration_once(empty_database_url: str) -> None:
    reports: list[MigrationReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run() -> None:
        start.wait()
        try:
            reports.append(migrate(empty_database_url, echo=lambda _: None))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(reports) == 4
    applied = sorted(name for report in reports for name in report.applied)
    assert applied == [path.name for path in migration_files()]
    assert len(recorded_migrations(empty_database_url)) == len(migration_files())


def test_an_edited_migration_is_refused(empty_database_url: str) -> None:
    migrate(empty_database_url, echo=lambda _: None)
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("update fastqueue.schema_migrations set checksum = 'edited' where version = '0001'")
    with pytest.raises(MigrationError, match="0001_create_queue_tables.sql was edited"):
        migrate(empty_database_url, echo=lambda _: None)


def test_cli_migrates_with_the_quickstart_url_form(empty_database_url: str) -> None:
    url = empty_database_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    env = {**os.environ, "FASTQUEUE_DATABASE_URL": url}
    fastqueue = Path(sys.executable).with_name("fastqueue")
    result = subprocess.run([fastqueue, "db-migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "0001_create_queue_tables.sql: applied" in result.stdout
    assert "fastqueue worker" in result.stdout
    again = subprocess.run([fastqueue, "db-migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
