"""`fastqueue db-migrate`: versioned migrations once each, then every function file, then pg_cron's jobs
(cleanup every minute, and the store's rotation: a procedure that tries once a second for 55 s, every minute).

Two runs at once are serialised by a session advisory lock; each migration commits in its own
transaction together with its row in fastqueue.schema_migrations, so a failure leaves the database
at the last migration that completed. Function and view files are re-applied every run, in one transaction.

Whoever migrates, the NOLOGIN role fastqueue_owner owns the schema and everything in it: the API
functions are SECURITY DEFINER, so they run as their owner, and that must not be the superuser that
migrated (compose's and `make run`'s). Each migration's transaction and the functions' transaction
end by handing over what the migrator created (and, on a database migrated before this rule,
everything). A superuser may migrate; so may a role that is a member of fastqueue_owner (and has
CREATE on the database for the first run); a role with CREATEROLE creates fastqueue_owner and joins
it by itself.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ..database.sql_files import bookkeeping_file, migration_files, repeatable_files

# pg_advisory_lock key: the bytes of "fastqueu"; any constant works as long as every migrator agrees.
MIGRATE_LOCK_KEY = int.from_bytes(b"fastqueu", "big")
CLEANUP_JOB_NAME = "fastqueue-cleanup"
CLEANUP_SCHEDULE = "* * * * *"
CLEANUP_COMMAND = "select fastqueue.cleanup()"
# pg_cron 1.4 schedules by the minute, and while any of its jobs runs its launcher holds up every DROP
# DATABASE in the cluster (PostgreSQL 15): one short attempt a minute; the worker tries every second
# (docs/storage.md, Rotation, "Who runs it").
ROTATION_JOB_NAME = "fastqueue-rotate-store"
ROTATION_SCHEDULE = "* * * * *"
ROTATION_COMMAND = "select fastqueue.rotate_store()"

OWNER_ROLE = "fastqueue_owner"

OWNER_ROLE_SQL = """
do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'fastqueue_owner') then
        begin
            create role fastqueue_owner nologin;
            comment on role fastqueue_owner is
                'fastqueue: owns schema fastqueue and everything in it; its SECURITY DEFINER functions run as it. Nobody logs in as it.';
        exception
            -- Another database's migration created it between the check and the create.
            when duplicate_object or unique_violation then null;
        end;
    end if;
end;
$$;
"""

# Every object of schema fastqueue not yet owned by fastqueue_owner is given to it. Tables first:
# their indexes, row types and the sequences they own follow them. Changing a table's owner locks it
# for a moment, so only what needs it is touched (after the first run, nothing).
HAND_OVER_SQL = """
do $$
declare
    v_statement text;
begin
    if (select n.nspowner from pg_catalog.pg_namespace n where n.nspname = 'fastqueue') <> 'fastqueue_owner'::regrole then
        alter schema fastqueue owner to fastqueue_owner;
    end if;
    for v_statement in
        select format('alter %s %s owner to fastqueue_owner',
                      case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
                                     when 'f' then 'foreign table' when 'S' then 'sequence' else 'table' end,
                      c.oid::regclass)
          from pg_catalog.pg_class c
         where c.relnamespace = 'fastqueue'::regnamespace
           and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
           and c.relowner <> 'fastqueue_owner'::regrole
        union all
        select format('alter %s %s owner to fastqueue_owner',
                      case t.typtype when 'd' then 'domain' else 'type' end, t.oid::regtype)
          from pg_catalog.pg_type t
          left join pg_catalog.pg_class c on c.oid = t.typrelid
         where t.typnamespace = 'fastqueue'::regnamespace
           and t.typtype in ('c', 'd', 'e', 'r')
           and (t.typrelid = 0 or c.relkind = 'c')  -- a table's row type follows its table
           and t.typowner <> 'fastqueue_owner'::regrole
        union all
        select format('alter routine %s owner to fastqueue_owner', p.oid::regprocedure)
          from pg_catalog.pg_proc p
         where p.pronamespace = 'fastqueue'::regnamespace
           and p.prokind in ('f', 'p')
           and p.proowner <> 'fastqueue_owner'::regrole
    loop
        execute v_statement;
    end loop;
end;
$$;
"""


class MigrationError(Exception):
    """The database and the migration files disagree in a way a person must resolve."""


@dataclass
class MigrationReport:
    applied: list[str] = field(default_factory=list)
    functions: int = 0
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
            _ensure_owner_role(conn)
            conn.execute(bookkeeping_file().read_text())
            report.applied = _apply_migrations(conn, echo)
            report.functions = _apply_functions(conn)
            echo(f"functions and views: {report.functions} files applied")
            report.cleanup_note = _schedule_cleanup(conn)
            echo(report.cleanup_note)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (MIGRATE_LOCK_KEY,))
    return report


def _apply_migrations(conn: psycopg.Connection, echo: Callable[[str], None]) -> list[str]:
    recorded: dict[str, str] = dict(
        conn.execute("select version, checksum from fastqueue.schema_migrations").fetchall()
    )
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
                conn.execute(HAND_OVER_SQL)
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
        conn.execute(HAND_OVER_SQL)
    return len(files)


def _one(conn: psycopg.Connection, query: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    """The one row of a query that always returns one."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise RuntimeError(f"no row from a query that always returns one: {query}")
    return row


def _ensure_owner_role(conn: psycopg.Connection) -> None:
    """Makes sure fastqueue_owner exists and that this login may act as it (create objects for it,
    hand objects over to it), or says what the login lacks."""
    user, superuser, createrole = _one(
        conn, "select rolname, rolsuper, rolcreaterole from pg_catalog.pg_roles where rolname = current_user"
    )
    needs = (
        f"db-migrate runs as a superuser, or as a role that is a member of {OWNER_ROLE} (as a superuser:"
        f" grant {OWNER_ROLE} to {user}) or has CREATEROLE"
    )
    (exists,) = _one(conn, "select exists (select from pg_catalog.pg_roles where rolname = %s)", (OWNER_ROLE,))
    if not exists:
        if not (superuser or createrole):
            raise MigrationError(f"role {OWNER_ROLE} does not exist and {user} may not create it: {needs}")
        conn.execute(OWNER_ROLE_SQL)
    if superuser:
        return
    if _one(conn, "select pg_catalog.pg_has_role(current_user, %s, 'usage')", (OWNER_ROLE,))[0]:
        return
    if createrole:
        try:
            conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(OWNER_ROLE), sql.Identifier(user)))
            return
        except psycopg.Error as exc:
            raise MigrationError(f"{user} could not join {OWNER_ROLE} ({str(exc).strip()}): {needs}") from exc
    raise MigrationError(f"{user} may not act as {OWNER_ROLE}, which owns schema fastqueue: {needs}")


def _schedule_cleanup(conn: psycopg.Connection) -> str:
    """Schedules fastqueue.cleanup() and the store's rotation every minute with pg_cron, where this
    database can have it (cron.schedule replaces a job of the same name: running again changes nothing)."""
    try:
        with conn.transaction():
            conn.execute("create extension if not exists pg_cron")
            conn.execute("select cron.schedule(%s, %s, %s)", (CLEANUP_JOB_NAME, CLEANUP_SCHEDULE, CLEANUP_COMMAND))
            conn.execute("select cron.schedule(%s, %s, %s)", (ROTATION_JOB_NAME, ROTATION_SCHEDULE, ROTATION_COMMAND))
    except psycopg.Error as exc:
        reason = (exc.diag.message_primary or str(exc)).strip()
        return (
            f"pg_cron: not available in this database ({reason}); "
            "run `fastqueue worker` to clean up expired and over-delivered messages and to rotate the store"
        )
    return (
        f"pg_cron: job {CLEANUP_JOB_NAME!r} runs {CLEANUP_COMMAND!r} every minute,"
        f" job {ROTATION_JOB_NAME!r} runs {ROTATION_COMMAND!r} every minute"
    )
