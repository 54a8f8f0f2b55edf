"""`fastqueue db-migrate`: versioned migrations once each, then every function file, then pg_cron.

Two runs at once are serialised by a session advisory lock; each migration commits in its own
transaction together with its row in fastqueue.schema_migrations, so a failure leaves the database
at the last migration that completed. Function and view files are re-applied every run, in one transaction.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from app.sql_files import migration_files, repeatable_files

# pg_advisory_lock key: the bytes of "fastqueu"; any constant works as long as every migrator agrees.
MIGRATE_LOCK_KEY = int.from_bytes(b"fastqueu", "big")
CLEANUP_JOB_NAME = "fastqueue-cleanup"
CLEANUP_SCHEDULE = "* * * * *"
CLEANUP_COMMAND = "select fastqueue.cleanup()"

BOOKKEEPING_SQL = """
create schema if not exists fastqueue;
create table if not exists fastqueue.schema_migrations (
    version text primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
);
comment on table fastqueue.schema_migrations is 'Migrations applied by fastqueue db-migrate (db/migrations/NNNN_name.sql).';
"""


class MigrationError(Exception):
    """The database and the migration files disagree in a way a person must resolve."""


@dataclass
class MigrationReport:
    applied: list[str] = field(default_factory=list)
    functions: int = 0
    cleanup_scheduled: bool = False
    cleanup_note: str = ""


def _checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _version_and_name(path: Path) -> tuple[str, str]:
    version, _, name = path.stem.partition("_")
    return version, name


def migrate(conninfo: str, echo: Callable[[str], None] = print) -> MigrationReport:
    report = MigrationReport()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (MIGRATE_LOCK_KEY,))
        try:
            conn.execute(BOOKKEEPING_SQL)
            report.applied = _apply_migrations(conn, echo)
            report.functions = _apply_functions(conn)
            echo(f"functions and views: {report.functions} files applied")
            report.cleanup_scheduled, report.cleanup_note = _schedule_cleanup(conn)
            echo(report.cleanup_note)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (MIGRATE_LOCK_KEY,))
    return report


def _apply_migrations(conn: psycopg.Connection, echo: Callable[[str], None]) -> list[str]:
    recorded = dict(conn.execute("select version, checksum from fastqueue.schema_migrations").fetchall())
    files = migration_files()
    known = {_version_and_name(path)[0] for path in files}
    unknown = sorted(set(recorded) - known)
    if unknown:
        echo(f"warning: the database has migrations this fastqueue does not know: {', '.join(unknown)}")
    applied = []
    for path in files:
        version, name = _version_and_name(path)
        checksum = _checksum(path)
        if version in recorded:
            if recorded[version] != checksum:
                raise MigrationError(
                    f"migration {path.name} was edited after it was applied to this database;"
                    " landed migrations must not change: restore it and add a new migration instead"
                )
            continue
        try:
            with conn.transaction():
                conn.execute(
                    "insert into fastqueue.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                    (version, name, checksum),
                )
                conn.execute(path.read_text())
        except psycopg.Error as exc:
            raise MigrationError(f"migration {path.name} failed and was rolled back: {str(exc).strip()}") from exc
        echo(f"migration {path.name}: applied")
        applied.append(path.name)
    if not applied:
        echo(f"migrations: up to date ({len(files)} applied)")
    return applied


def _apply_functions(conn: psycopg.Connection) -> int:
    """Re-applies db/functions then db/views, all in one transaction; returns how many files."""
    files = repeatable_files()
    with conn.transaction():
        # Function bodies are checked when called, not when created, so function files may use each
        # other in any order; views come last (their queries are checked when created).
        conn.execute("set local check_function_bodies = off")
        for path in files:
            try:
                conn.execute(path.read_text())
            except psycopg.Error as exc:
                raise MigrationError(
                    f"{path.parent.name}/{path.name} failed; no function or view was changed: {str(exc).strip()}"
                ) from exc
    return len(files)


def _schedule_cleanup(conn: psycopg.Connection) -> tuple[bool, str]:
    """Schedules fastqueue.cleanup() every minute with pg_cron, where this database can have it."""
    try:
        with conn.transaction():
            conn.execute("create extension if not exists pg_cron")
            conn.execute("select cron.schedule(%s, %s, %s)", (CLEANUP_JOB_NAME, CLEANUP_SCHEDULE, CLEANUP_COMMAND))
    except psycopg.Error as exc:
        reason = (exc.diag.message_primary or str(exc)).strip()
        return False, (
            f"pg_cron: not available in this database ({reason}); "
            "run `fastqueue worker` to clean up expired and over-delivered messages"
        )
    return True, f"pg_cron: job {CLEANUP_JOB_NAME!r} runs {CLEANUP_COMMAND!r} every minute"
