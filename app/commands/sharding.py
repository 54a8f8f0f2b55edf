"""`fastqueue db-migrate` with FASTQUEUE_SHARD_URLS (docs/sharding.md): migrates every shard, then
builds the router database: PL/Proxy, the cluster configuration, and the API functions generated from
shard 0's catalog with the routes of ROUTES below.

The router's schema fastqueue holds no tables: its composite types are copies of the shard's (so the
functions return the same row types) and its functions are rebuilt on every run, in one transaction,
after the shards were migrated, so they follow every change of the shards' signatures. A shard
function without a route stops the run with its name.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..database.sql_files import migration_files, sql_root
from ..settings import to_conninfo
from .migrate import (
    CLEANUP_COMMAND,
    CLEANUP_JOB_NAME,
    CLEANUP_SCHEDULE,
    HAND_OVER_SQL,
    ROTATION_COMMAND,
    ROTATION_JOB_NAME,
    ROTATION_SCHEDULE,
    MigrationError,
    _ensure_owner_role,
    migrate,
)

CLUSTER = "fastqueue_shards"
ROUTER_ROLE = "fastqueue_router"
# The shards' list functions page by at most this many rows (db/functions/list_topics.sql).
SHARD_PAGE_LIMIT = 1000


@dataclass(frozen=True)
class Route:
    """How the router runs one API function.

    kind:
      one       on the shard of `shard` (an expression over the function's arguments, named)
      split     the array argument `array` split by `shard`; scalar results are summed
      place     a PL/pgSQL-free SQL wrapper: `shard` picks (and may record) the shard, then the call
      forget    as place, and the placement of the `forget` kind is removed after the shard's answer
      all       on every shard: set results are the union, a single row is combined column by column
      list      on every shard, merged in id order and paged (offset/limit) as one database would
      first     on shard 0 (answers that every shard gives alike)
      local     not on the router (a procedure each shard runs by itself)
    """

    kind: str
    shard: str = ""
    array: str = ""
    forget: str = ""


ROUTES: dict[str, Route] = {
    "create_topic": Route("place", "fastqueue_router.place_topic(create_topic.id)"),
    "get_topic": Route("one", "fastqueue_router.topic_shard(id)"),
    "delete_topic": Route("forget", "fastqueue_router.topic_shard(delete_topic.id)", forget="topic"),
    "list_topics": Route("list"),
    "create_queue": Route(
        "place",
        "fastqueue_router.place_queue(create_queue.id, create_queue.topic_id, create_queue.dead_queue_id)",
    ),
    "update_queue": Route(
        "place",
        "fastqueue_router.replace_queue(update_queue.id, update_queue.topic_id, update_queue.dead_queue_id)",
    ),
    "get_queue": Route("one", "fastqueue_router.queue_shard(id)"),
    "delete_queue": Route("forget", "fastqueue_router.queue_shard(delete_queue.id)", forget="queue"),
    "list_queues": Route("list"),
    "queue_stats": Route("one", "fastqueue_router.queue_shard(id)"),
    "purge_queue": Route("one", "fastqueue_router.queue_shard(id)"),
    "redrive_queue": Route(
        "place",
        "fastqueue_router.redrive_shard(redrive_queue.id, redrive_queue.destination_queue_id)",
    ),
    "publish": Route("one", "fastqueue_router.topic_shard(topic_id)"),
    "publish_batch": Route("one", "fastqueue_router.topic_shard(topic_id)"),
    "send": Route("one", "fastqueue_router.queue_shard(queue_id)"),
    "consume": Route("one", "fastqueue_router.queue_shard(queue_id)"),
    "peek": Route("one", "fastqueue_router.queue_shard(queue_id)"),
    "watch_queue": Route("one", "fastqueue_router.queue_shard(queue_id)"),
    "ack": Route("one", "fastqueue_router.message_shard(message_id)"),
    "nack": Route("one", "fastqueue_router.message_shard(message_id)"),
    "set_deadline": Route("one", "fastqueue_router.message_shard(message_id)"),
    "ack_messages": Route("split", "fastqueue_router.message_shard(message_ids)", array="message_ids"),
    "nack_messages": Route("split", "fastqueue_router.message_shard(message_ids)", array="message_ids"),
    "available_queues": Route("split", "fastqueue_router.queue_shard(queue_ids)", array="queue_ids"),
    "queue_depths": Route("all"),
    "cleanup": Route("all"),
    "rotate_store": Route("all"),
    "push_queues": Route("all"),
    "push_metrics": Route("all"),
    "report_push_states": Route("all"),
    "manual": Route("first"),
    "rotate_store_for": Route("local"),
}

# The custom settings the shards' functions read from the caller's session (the gateway sets them on its
# connections, app/database/pool.py): a PL/Proxy call runs in the router's own connection to the shard,
# so routes that reach one shard carry the router session's values and set them there, for that call's
# transaction only (set_config(..., true)), before the function runs. Unset on the router, the shard's
# own value (its database's setting) stands.
FORWARDED_SETTINGS = (
    "fastqueue.max_message_bytes",
    "fastqueue.max_response_bytes",
    "fastqueue.push_allow_private_networks",
)
FORWARDING_KINDS = ("one", "place", "forget")
# One text parameter each (PL/Proxy 2.10 names an array parameter's type wrongly in its remote query).
FORWARDED_PARAMETER = ", ".join(f"forwarded_{k} text default null" for k in range(len(FORWARDED_SETTINGS)))
FORWARDED_VALUES = ", ".join(f"pg_catalog.current_setting('{name}', true)" for name in FORWARDED_SETTINGS)

# How a single-row answer of every shard becomes one row, by column type.
COMBINE = {
    "bigint": "sum({c})::bigint",
    "integer": "sum({c})::integer",
    "smallint": "max({c})",
    "boolean": "bool_or({c})",
}
COMBINE_OTHER = "string_agg(distinct {c}::text, ',' order by {c}::text)"


@dataclass(frozen=True)
class ShardFunction:
    name: str
    arguments: str  # pg_get_function_arguments: names, types and defaults
    identity: str  # pg_get_function_identity_arguments
    result: str  # pg_get_function_result
    returns_set: bool
    result_type: str  # the return type's name (for a single composite row)
    in_count: int
    kind: str  # f function, p procedure
    comment: str | None
    grantees: list[str]


def shard_urls(value: str) -> list[str]:
    urls = [to_conninfo(url.strip()) for url in value.split(",") if url.strip()]
    if not urls:
        raise MigrationError("FASTQUEUE_SHARD_URLS is set but names no shard")
    if len(urls) & (len(urls) - 1) or len(urls) > 4096:
        raise MigrationError(
            f"FASTQUEUE_SHARD_URLS names {len(urls)} shards: give a power of two (1, 2, 4, ... 4096):"
            " PL/Proxy maps a hash to a shard with hash & (N - 1)"
        )
    if len(set(urls)) != len(urls):
        raise MigrationError("FASTQUEUE_SHARD_URLS names one shard twice")
    return urls


def partition_conninfo(url: str) -> str:
    """A shard's libpq connection string for the cluster configuration: its URL without user or password
    (the router connects as fastqueue_router, through the user mapping)."""
    params = {k: v for k, v in conninfo_to_dict(url).items() if k not in ("user", "password") and v is not None}
    return make_conninfo(**{k: str(v) for k, v in params.items()})


def migrate_sharded(
    router_url: str,
    urls: list[str],
    router_password: str | None = None,
    echo: Callable[[str], None] = print,
) -> None:
    for number, url in enumerate(urls):
        echo(f"shard {number}:")
        migrate(url, echo=lambda line: echo(f"  {line}"))
        _prepare_shard(url, number, len(urls), router_password)
        note = _schedule_from_cron_database(url)
        if note:
            echo(f"  {note}")
    functions = _shard_functions(urls[0])
    missing = sorted(f.name for f in functions if f.name not in ROUTES)
    if missing:
        raise MigrationError(
            f"shard function(s) without a route in app/commands/sharding.py ROUTES: {', '.join(missing)};"
            " add how the router runs each (docs/sharding.md, Routes)"
        )
    _install_router(router_url, urls, functions, router_password)
    echo(f"router: {len(functions)} functions over {len(urls)} shards (cluster {CLUSTER})")


def _prepare_shard(url: str, number: int, count: int, router_password: str | None) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        row = conn.execute("select shard_number, shard_count from fastqueue.shard_identity").fetchone()
        if row is not None and row[0] != number:
            raise MigrationError(
                f"the database at shard position {number} of FASTQUEUE_SHARD_URLS is shard {row[0]}: keep the"
                " shards in their order (message ids carry their shard number)"
            )
        conn.execute(
            "insert into fastqueue.shard_identity (shard_number, shard_count) values (%s, %s)"
            " on conflict (single_row) do update set shard_count = excluded.shard_count",
            (number, count),
        )
        _ensure_router_role(conn, router_password)


def _ensure_router_role(conn: psycopg.Connection, password: str | None) -> None:
    if not conn.execute("select 1 from pg_catalog.pg_roles where rolname = %s", (ROUTER_ROLE,)).fetchone():
        conn.execute(sql.SQL("create role {} login").format(sql.Identifier(ROUTER_ROLE)))
        conn.execute(
            sql.SQL("comment on role {} is {}").format(
                sql.Identifier(ROUTER_ROLE),
                sql.Literal("fastqueue: the role a PL/Proxy router connects to the shards as (docs/sharding.md)."),
            )
        )
    if password is not None:
        conn.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(ROUTER_ROLE), sql.Literal(password)))
    conn.execute(sql.SQL("grant fastqueue_admin to {}").format(sql.Identifier(ROUTER_ROLE)))


def cron_job_name(job: str, database: str) -> str:
    """The name of a shard's job in its server's pg_cron database: the job's, then the shard's database
    (pg_cron keeps one job per name and user; a name is at most 63 bytes)."""
    name = f"{job} {database}"
    if len(name.encode()) <= 63:
        return name
    return f"{job} {hashlib.sha256(database.encode()).hexdigest()[:16]}"


def _schedule_from_cron_database(url: str) -> str:
    """Schedules a shard's cleanup and rotation from its server's pg_cron database when the shard is not
    that database (migrate() schedules them in the shard itself when it is): pg_cron 1.4's
    cron.schedule_in_database, under names that carry the shard's database (cron_job_name), so that
    every shard on a server has its own jobs; scheduling again replaces them. Returns what it did, or
    "" when the shard is the cron database or its server has no pg_cron."""
    with psycopg.connect(url, autocommit=True) as conn:
        database, cron_database = _one_row(
            conn, "select current_database(), current_setting('cron.database_name', true)"
        )
    if not cron_database or cron_database == database:
        return ""
    params = {k: v for k, v in conninfo_to_dict(url).items() if v is not None}
    params["dbname"] = cron_database
    jobs = (
        (cron_job_name(CLEANUP_JOB_NAME, database), CLEANUP_SCHEDULE, CLEANUP_COMMAND),
        (cron_job_name(ROTATION_JOB_NAME, database), ROTATION_SCHEDULE, ROTATION_COMMAND),
    )
    try:
        with psycopg.connect(make_conninfo(**{k: str(v) for k, v in params.items()}), autocommit=True) as cron:
            with cron.transaction():
                cron.execute("create extension if not exists pg_cron")
                for name, schedule, command in jobs:
                    cron.execute(
                        "select cron.schedule_in_database(%s, %s, %s, %s)", (name, schedule, command, database)
                    )
    except psycopg.Error as exc:
        reason = (exc.diag.message_primary or str(exc)).strip()
        return (
            f"pg_cron: could not schedule this shard's jobs from database {cron_database} ({reason}); run"
            " `fastqueue worker` on the router to clean up and rotate every shard"
        )
    return (
        f"pg_cron: jobs {jobs[0][0]!r} and {jobs[1][0]!r} in database {cron_database} run"
        f" {CLEANUP_COMMAND!r} and {ROTATION_COMMAND!r} in {database} every minute"
    )


def _one_row(conn: psycopg.Connection, query: str) -> tuple[Any, ...]:
    row = conn.execute(query).fetchone()
    if row is None:
        raise MigrationError(f"no row from a query that always returns one: {query}")
    return row


SHARD_FUNCTIONS_SQL = """
select p.proname, pg_get_function_arguments(p.oid), pg_get_function_identity_arguments(p.oid),
       coalesce(pg_get_function_result(p.oid), ''), p.proretset, p.prorettype::regtype::text, p.pronargs,
       p.prokind, obj_description(p.oid, 'pg_proc'),
       coalesce(array(select a.grantee::regrole::text from aclexplode(p.proacl) a
                       where a.privilege_type = 'EXECUTE' and a.grantee <> 0 and a.grantee <> p.proowner
                       order by 1), '{}')
  from pg_catalog.pg_proc p
 where p.pronamespace = 'fastqueue'::regnamespace and p.proname !~ '^_'
 order by p.proname
"""

# Composite types of schema fastqueue (table row types and standalone ones) used by the API, with
# their columns.
SHARD_TYPES_SQL = """
select t.typname, array_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)) order by a.attnum)
  from pg_catalog.pg_type t
  join pg_catalog.pg_attribute a on a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped
 where t.typnamespace = 'fastqueue'::regnamespace and t.typtype = 'c'
   and t.oid in (select p.prorettype from pg_catalog.pg_proc p where p.pronamespace = 'fastqueue'::regnamespace)
 group by t.typname
 order by t.typname
"""

SHARD_VIEWS_SQL = """
select c.relname, array_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)) order by a.attnum),
       coalesce(array(select g.grantee::regrole::text from aclexplode(c.relacl) g
                       where g.privilege_type = 'SELECT' and g.grantee <> 0 and g.grantee <> c.relowner
                       order by 1), '{}'),
       obj_description(c.oid, 'pg_class')
  from pg_catalog.pg_class c
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
 where c.relnamespace = 'fastqueue'::regnamespace and c.relkind = 'v' and c.relname like '%\\_overview'
 group by c.oid, c.relname
 order by c.relname
"""


def _shard_functions(url: str) -> list[ShardFunction]:
    with psycopg.connect(url) as conn:
        return [ShardFunction(*row) for row in conn.execute(SHARD_FUNCTIONS_SQL).fetchall()]


def _columns_of(conn: psycopg.Connection, type_name: str) -> list[tuple[str, str]]:
    return [
        (name, kind)
        for name, kind in conn.execute(
            "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_catalog.pg_attribute a"
            " where a.attrelid = (select typrelid from pg_catalog.pg_type where oid = %s::regtype)"
            " and a.attnum > 0 and not a.attisdropped order by a.attnum",
            (type_name,),
        ).fetchall()
    ]


def _proxy(name: str, arguments: str, result: str, body: str) -> str:
    return (
        f"create function {name}({arguments})\nreturns {result}\nlanguage plproxy\nsecurity definer\n"
        f"as $plproxy$\n    cluster '{CLUSTER}';\n{body}\n$plproxy$;\n"
    )


def _inner_sql(name: str, arguments: str, result: str, body: str) -> str:
    return (
        f"create function fastqueue_router.{name}({arguments})\nreturns {result}\nlanguage sql\nvolatile\n"
        f"security definer\nset search_path = pg_catalog, pg_temp\nas $inner$\n{body}\n$inner$;\n"
    )


def _forwarding_arguments(first: int, count: int, settings: int) -> str:
    """$first .. $(first + count - 1) for a remote call, the first of them behind the forwarded settings
    (parameters $settings.., FORWARDED_SETTINGS' values): an argument is evaluated before its function runs."""
    sets = " or ".join(
        f"pg_catalog.set_config('{name}', coalesce(nullif(${settings + k}, ''),"
        f" pg_catalog.current_setting('{name}', true), ''), true) is null"
        for k, name in enumerate(FORWARDED_SETTINGS)
    )
    rest = _parameters(count - 1, first + 1)
    return f"case when {sets} then null else ${first} end" + (f", {rest}" if rest else "")


def _outer(f: ShardFunction) -> str:
    """The API function itself: calls its fastqueue_router version and raises a shard's error with the
    shard's own texts (fastqueue_router.raise_shard_error)."""
    arguments = _parameters(f.in_count)
    if ROUTES[f.name].kind in FORWARDING_KINDS:
        arguments += f", {FORWARDED_VALUES}"
    call = f"fastqueue_router.{f.name}({arguments})"
    answer = f"return query select * from {call};" if f.returns_set else f"return {call};"
    return (
        f"create function fastqueue.{f.name}({f.arguments})\nreturns {f.result}\nlanguage plpgsql\nvolatile\n"
        f"security definer\nset search_path = pg_catalog, pg_temp\nas $router$\n"
        f"declare\n    v_state text;\n    v_message text;\n    v_detail text;\n    v_hint text;\n"
        f"begin\n    {answer}\n"
        f"exception\n    when others then\n"
        f"        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,\n"
        f"                                v_detail = pg_exception_detail, v_hint = pg_exception_hint;\n"
        f"        perform fastqueue_router.raise_shard_error(v_state, v_message, nullif(v_detail, ''), nullif(v_hint, ''));\n"
        f"end;\n$router$;\n"
    )


def _parameters(count: int, first: int = 1) -> str:
    return ", ".join(f"${n}" for n in range(first, first + count))


def router_function_sql(f: ShardFunction, columns: list[tuple[str, str]]) -> str:
    """The router's version of one shard function: fastqueue.<name>, which calls
    fastqueue_router.<name> (PL/Proxy, or SQL over PL/Proxy helpers)."""
    route = ROUTES[f.name]
    if route.kind == "local":
        return ""
    return _inner(f, route, columns) + _outer(f)


def _inner(f: ShardFunction, route: Route, columns: list[tuple[str, str]]) -> str:
    public = f"fastqueue.{f.name}"
    inner = f"fastqueue_router.{f.name}"
    remote_call = f"select * from {public}({_parameters(f.in_count)});"
    if route.kind == "one":
        forwarding = _forwarding_arguments(1, f.in_count, f.in_count + 1)
        return _proxy(
            inner,
            f"{f.arguments}, {FORWARDED_PARAMETER}",
            f.result,
            f"    run on {route.shard};\n    select * from {public}({forwarding});",
        )
    if route.kind == "first":
        return _proxy(inner, f.arguments, f.result, f"    run on 0;\n    {remote_call}")
    if route.kind in ("place", "forget"):
        helper = f"fastqueue_router.{f.name}_on"
        setof = f.result if f.returns_set else f"setof {f.result}"
        forwarding = _forwarding_arguments(2, f.in_count, f.in_count + 2)
        out = _proxy(
            helper,
            f"shard integer, {f.identity}, {FORWARDED_PARAMETER}",
            setof,
            f"    run on shard;\n    select * from {public}({forwarding});",
        )
        call = f"select r.* from {helper}({route.shard}, {_parameters(f.in_count + len(FORWARDED_SETTINGS))}) r"
        if route.kind == "forget":
            call += f"\n  cross join lateral (select fastqueue_router.forget('{route.forget}', $1)) forgotten"
        return out + _inner_sql(f.name, f"{f.arguments}, {FORWARDED_PARAMETER}", f.result, call)
    if route.kind == "split":
        body = f"    split {route.array};\n    run on {route.shard};\n    {remote_call}"
        if f.returns_set:
            return _proxy(inner, f.arguments, f.result, body)
        helper = f"fastqueue_router.{f.name}_split"
        return _proxy(helper, f.arguments, f"setof {f.result}", body) + _inner_sql(
            f.name,
            f.arguments,
            f.result,
            f"select coalesce(sum(n), 0)::{f.result} from {helper}({_parameters(f.in_count)}) n",
        )
    if route.kind == "all":
        if f.returns_set:
            return _proxy(inner, f.arguments, f.result, f"    run on all;\n    {remote_call}")
        helper = f"fastqueue_router.{f.name}_all"
        out = _proxy(
            helper,
            f.arguments,
            f"setof {f.result}",
            f"    run on all;\n    {remote_call}",
        )
        if columns:
            combined = ", ".join(
                COMBINE.get(kind, COMBINE_OTHER).format(c=sql.Identifier(name).as_string(None))
                for name, kind in columns
            )
            body = f"select row({combined})::{f.result} from {helper}({_parameters(f.in_count)}) r"
        else:
            combine = COMBINE.get(f.result, COMBINE_OTHER).format(c="r")
            body = f"select {combine} from {helper}({_parameters(f.in_count)}) r"
        return out + _inner_sql(f.name, f.arguments, f.result, body)
    if route.kind == "list":
        helper = f"fastqueue_router.{f.name}_on"
        out = _proxy(
            helper,
            'shard integer, "offset" integer, "limit" integer',
            f.result,
            f"    run on shard;\n    select * from {public}($2, $3);",
        )
        page = f"fastqueue_router.{f.name}_page"
        out += _proxy(
            page,
            '"offset" integer, "limit" integer',
            f.result,
            f"    run on all;\n    select * from {public}($1, $2);",
        )
        # Bad offset or limit: shard 0 answers with its own error. Otherwise every shard's first
        # offset + limit rows, in pages of the shards' maximum, merged in id order.
        body = (
            f"select r.* from {helper}(0, $1, $2) r where $1 < 0 or $2 < 1 or $2 > {SHARD_PAGE_LIMIT}\n"
            f"union all\n"
            f"select m.* from (\n"
            f"    select r.* from generate_series(0, ($1::bigint + $2 - 1) / {SHARD_PAGE_LIMIT}) k,\n"
            f"         lateral {page}((k * {SHARD_PAGE_LIMIT})::integer,\n"
            f"                        least({SHARD_PAGE_LIMIT}, $1::bigint + $2 - k * {SHARD_PAGE_LIMIT})::integer) r\n"
            f"     where $1 >= 0 and $2 between 1 and {SHARD_PAGE_LIMIT}\n"
            f"     order by r.id offset $1 limit $2) m"
        )
        return out + _inner_sql(f.name, f.arguments, f.result, body)
    raise MigrationError(f"unknown route kind {route.kind!r} for {f.name}")


def _install_router(
    router_url: str,
    urls: list[str],
    functions: list[ShardFunction],
    password: str | None,
) -> None:
    with psycopg.connect(urls[0]) as shard:
        types = shard.execute(SHARD_TYPES_SQL).fetchall()
        views = shard.execute(SHARD_VIEWS_SQL).fetchall()
        columns = {
            f.name: _columns_of(shard, f.result_type)
            for f in functions
            if f.kind == "f" and not f.returns_set and f.result_type.startswith("fastqueue.")
        }
        shard_collation = shard.execute(
            "select datcollate from pg_database where datname = current_database()"
        ).fetchone()
    with psycopg.connect(router_url, autocommit=True) as conn:
        _ensure_owner_role(conn)  # the same owner rule as an unsharded database
        collation = conn.execute("select datcollate from pg_database where datname = current_database()").fetchone()
        if collation != shard_collation:
            raise MigrationError(
                f"the router's collation {collation} differs from shard 0's {shard_collation}:"
                " lists merged on the router would be ordered differently; create it like the shards"
            )
        with conn.transaction():
            # The three API roles, as migration 0002 makes them on a shard (its part before the grants).
            roles_migration = next(path for path in migration_files() if path.name.startswith("0002_"))
            conn.execute(roles_migration.read_text().split("-- The roles reach")[0])
            conn.execute("create extension if not exists plproxy")
            conn.execute("drop schema if exists fastqueue cascade")
            conn.execute("create schema fastqueue")
            conn.execute("create schema if not exists fastqueue_router")
            # The generated helpers are rebuilt like the API functions (placement.sql recreates its own).
            for (helper,) in conn.execute(
                "select p.oid::regprocedure::text from pg_catalog.pg_proc p"
                " where p.pronamespace = 'fastqueue_router'::regnamespace"
            ).fetchall():
                conn.execute(f"drop function {helper}")
            conn.execute(
                "comment on schema fastqueue is 'fastqueue API over shards (docs/sharding.md): PL/Proxy functions with"
                " the signatures of the shards'' schema fastqueue'"
            )
            _configure_cluster(conn, urls, password)
            conn.execute(
                f"create or replace function fastqueue_router.shard_count() returns integer language sql immutable"
                f" as $$ select {len(urls)} $$"
            )
            conn.execute((sql_root() / "router" / "placement.sql").read_text())
            for name, cols in types:
                conn.execute(f"create type fastqueue.{sql.Identifier(name).as_string(conn)} as ({', '.join(cols)})")
            for f in functions:
                text = router_function_sql(f, columns.get(f.name, []))
                if not text:
                    continue
                try:
                    conn.execute(text)
                except psycopg.Error as exc:
                    raise MigrationError(f"router function {f.name} failed: {str(exc).strip()}\n{text}") from exc
                signature = f"fastqueue.{f.name}({f.identity})"
                if f.comment:
                    conn.execute(f"comment on function {signature} is {sql.Literal(f.comment).as_string(conn)}")
                conn.execute(f"revoke execute on function {signature} from public")
                for grantee in f.grantees:
                    conn.execute(f"grant execute on function {signature} to {grantee}")
            for name, cols, grantees, comment in views:
                row_type = f"fastqueue_router.{name}_row"
                conn.execute(f"drop type if exists {row_type} cascade")
                conn.execute(f"create type {row_type} as ({', '.join(cols)})")
                conn.execute(
                    _proxy(
                        f"fastqueue_router.{name}_all",
                        "",
                        f"setof {row_type}",
                        f"    run on all;\n    select * from fastqueue.{name};",
                    )
                )
                conn.execute(f"create view fastqueue.{name} as select * from fastqueue_router.{name}_all()")
                if comment:
                    conn.execute(f"comment on view fastqueue.{name} is {sql.Literal(comment).as_string(conn)}")
                for grantee in grantees:
                    conn.execute(f"grant select on fastqueue.{name} to {grantee}")
                    # A view runs its functions with its caller's privileges.
                    conn.execute(f"grant execute on function fastqueue_router.{name}_all() to {grantee}")
            conn.execute("grant usage on schema fastqueue to fastqueue_publisher, fastqueue_consumer, fastqueue_admin")
            conn.execute("revoke all on schema fastqueue_router from public")
            conn.execute("revoke execute on all functions in schema fastqueue_router from public")
            conn.execute(HAND_OVER_SQL)
            conn.execute(
                HAND_OVER_SQL.replace("'fastqueue'", "'fastqueue_router'").replace(
                    "alter schema fastqueue owner",
                    "alter schema fastqueue_router owner",
                )
            )


def _configure_cluster(conn: psycopg.Connection, urls: list[str], password: str | None) -> None:
    """The SQL/MED cluster configuration: one server whose options pK are the shards' connection strings."""
    exists = conn.execute("select 1 from pg_catalog.pg_foreign_server where srvname = %s", (CLUSTER,)).fetchone()
    if not conn.execute("select 1 from pg_catalog.pg_foreign_data_wrapper where fdwname = 'plproxy'").fetchone():
        conn.execute("create foreign data wrapper plproxy validator plproxy_fdw_validator")
    if exists:
        conn.execute(f"drop server {CLUSTER} cascade")
    options = ", ".join(f"p{k} {sql.Literal(partition_conninfo(url)).as_string(conn)}" for k, url in enumerate(urls))
    conn.execute(f"create server {CLUSTER} foreign data wrapper plproxy options ({options})")
    mapping = f"user {sql.Literal(ROUTER_ROLE).as_string(conn)}"
    if password is not None:
        mapping += f", password {sql.Literal(password).as_string(conn)}"
    conn.execute(f"create user mapping for public server {CLUSTER} options ({mapping})")
    conn.execute(f"grant usage on foreign server {CLUSTER} to fastqueue_owner")
