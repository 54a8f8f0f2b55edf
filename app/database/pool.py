"""The gateway's connection pool and the two ways a route runs its one SQL call.

One AsyncConnectionPool per process, opened and closed by the FastAPI lifespan (app/gateway/main.py). Its
connections are in autocommit mode: every route sends one statement, a call of one SQL API function,
which is its own transaction. Rows come back as dicts (dict_row).

Each connection gets its settings in the startup packet (libpq `options`, `-c name=value`), so no
request pays an extra round trip for them: fastqueue.max_message_bytes (the gateway's
FASTQUEUE_MAX_MESSAGE_BYTES, read by publish(); it overrides `alter database ... set` for the
gateway's sessions only, direct SQL callers get the database's setting), and lock_timeout and
statement_timeout, so that a call stuck behind another session's lock gives its connection back and
answers 503 instead of holding the request for as long as the lock is held.

A connection the database has dropped (a restart, a crash, an administrator's kill, a failover) is
found when it is checked out, without a round trip per request: see check_connection. With a
multi-host URL (`postgresql://h1:p1,h2:p2/db?target_session_attrs=read-write`) every new connection
goes to whichever host is primary now (libpq tries them in order), so after a failover the pool
refills on the new primary by itself (docs/ha.md). json and jsonb values are
parsed by load_json, except a message's data and attributes (fetch_messages): those stay the JSON text
PostgreSQL wrote, compacted (compact_json), and go into the answer as they are, so that any JSON
PostgreSQL stores comes back exactly, numbers of any size and precision included.

fastqueue.max_response_bytes (FASTQUEUE_MAX_RESPONSE_BYTES) is set the same way: consume() and peek()
lease or show no more messages than fit in an answer of that many bytes (always one).
"""

import json
import os
import re
import select
from collections.abc import Mapping
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from psycopg import AsyncConnection, OperationalError, ProgrammingError
from psycopg.adapt import Buffer, Loader
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import AsyncConnectionPool
from pydantic_core import from_json, to_json

from ..settings import Settings

# The gateway's pool: its connections hand rows over as dicts (row_factory=dict_row).
DictPool = AsyncConnectionPool[AsyncConnection[DictRow]]

# How long one attempt to open a connection may take (libpq connect_timeout).
CONNECT_TIMEOUT_SECONDS = 5
# psycopg_pool retries a failed connection attempt after 1, 2, 4, 8... s, without bound: after a
# failover (or a restart) the pool could wait twice as long as the database was away before it looks
# again. An attempt gives up after this long instead, and the next request waiting for a connection
# starts a new one at once, so the pool finds the new primary within a second or two of its promotion.
RECONNECT_TIMEOUT_SECONDS = 2.0
# /health and /metrics wait less: monitoring must learn fast that the database is away.
PROBE_TIMEOUT_SECONDS = 2.0


def connection_options(settings: Settings) -> str:
    """libpq `options` for the gateway's connections: the user's own (from the URL, else PGOPTIONS,
    which an explicit value would otherwise replace) followed by the gateway's settings."""
    try:
        existing = conninfo_to_dict(settings.conninfo).get("options")
    except ProgrammingError:  # an unparsable URL: let the connection attempt report it
        existing = None
    existing = existing or os.environ.get("PGOPTIONS")
    ours = " ".join(
        (
            f"-c fastqueue.max_message_bytes={settings.max_message_bytes}",
            f"-c fastqueue.max_response_bytes={settings.max_response_bytes}",
            f"-c fastqueue.push_allow_private_networks={'true' if settings.push_allow_private_networks else 'false'}",
            f"-c lock_timeout={round(settings.database_lock_timeout_seconds * 1000)}",
            f"-c statement_timeout={round(settings.database_statement_timeout_seconds * 1000)}",
        )
    )
    return f"{existing} {ours}" if existing else ours


_READABLE_OR_CLOSED = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


async def check_connection(conn: AsyncConnection[DictRow]) -> None:
    """The pool's check of every connection it hands out, costing one poll() instead of a round trip.

    An idle autocommit connection has nothing to read: PostgreSQL sends nothing unprompted except when
    the session ends (its FATAL "terminating connection" message and EOF on a shutdown or restart; EOF
    after a crash or a kill) or, rarely, an asynchronous notice. So only a connection whose socket is
    readable, or closed, gets the full check (psycopg_pool's, an empty query), which raises for a
    broken one: the pool then discards it and hands out another. (A database host that vanished
    without closing anything would keep a round trip waiting as long as the request's own statement,
    which then fails with a 503.)"""
    if conn.closed:
        raise OperationalError("the connection is closed")
    poller = select.poll()
    poller.register(conn.fileno(), _READABLE_OR_CLOSED)
    if poller.poll(0):
        await AsyncConnectionPool.check_connection(conn)


def load_json(data: str | bytes) -> Any:
    """A json or jsonb value as Python values, as json.loads would give them (the same types, the same
    floats: tests/api/test_responses.py) in a fraction of its time: pydantic-core's parser, and json.loads
    for what that one refuses (nesting deeper than 200 levels)."""
    try:
        return from_json(data)
    except ValueError:
        return json.loads(data)


def dump_json(value: Any) -> bytes | str:
    """A Python value (a request's data or attributes, as JSON parsed it) as JSON text for a json or jsonb
    parameter: pydantic-core's serializer, in a fraction of json.dumps' time (the same values: PostgreSQL
    parses either text to the same jsonb), and json.dumps for what that one refuses (a lone surrogate,
    which PostgreSQL then refuses as json.dumps writes it, as before)."""
    try:
        return to_json(value)
    except ValueError:
        return json.dumps(value)


# jsonb's text output puts one space after every "," and ":" between values, and none anywhere else
# outside strings. A string is matched whole first (so ", " inside one stays), then a separator loses its
# space. Strings are escaped as the gateway's other answers escape them (\", \\, \n, \u001f, ...).
_JSONB_SEPARATOR = re.compile(rb'("[^"\\]*(?:\\.[^"\\]*)*")|([,:]) ')


def _keep_string_or_separator(match: re.Match[bytes]) -> bytes:
    return match[1] or match[2]


def compact_json(text: bytes) -> bytes:
    """jsonb's text output without its spaces: {"a": [1, 2]} -> {"a":[1,2]}; nothing else changes.

    Without an escaped quote in the text, every '"' opens or closes a string, so the pieces between
    quotes alternate outside, inside, outside...: the outside ones lose their spaces (all separators
    there), with str methods only. A text with an escaped quote goes through the regular expression.
    A hot path: every message of every consume passes here."""
    if b'\\"' in text:
        return _JSONB_SEPARATOR.sub(_keep_string_or_separator, text)
    pieces = text.split(b'"')
    pieces[::2] = [piece.replace(b" ", b"") for piece in pieces[::2]]
    return b'"'.join(pieces)


class _CompactJsonLoader(Loader):
    """A json or jsonb value as compact JSON text (bytes), not parsed."""

    def load(self, data: Buffer) -> bytes:
        return compact_json(bytes(data))


# The route helpers below check a connection out with getconn() and give it back with putconn(), not with
# pool.connection(): that one also enters the connection's own context, which commits on the way out (a
# lock and a wait on every request), and an autocommit connection has nothing to commit. putconn() checks
# the connection's state as it always does: a broken one, or one left in a transaction, is not reused.


async def fetch_messages(pool: DictPool, query: str, params: Mapping[str, Any]) -> list[DictRow]:
    """Rows of fastqueue.messages with data and attributes as compact JSON text (app/gateway/responses.py puts
    them in the answer as they are)."""
    conn = await pool.getconn()
    try:
        cursor = conn.cursor()
        cursor.adapters.register_loader("jsonb", _CompactJsonLoader)
        await cursor.execute(query, params)
        return await cursor.fetchall()
    finally:
        await pool.putconn(conn)


async def configure_connection(conn: AsyncConnection[DictRow]) -> None:
    set_json_loads(load_json, conn)
    set_json_dumps(dump_json, conn)


def create_pool(settings: Settings) -> DictPool:
    return AsyncConnectionPool(
        settings.conninfo,
        connection_class=AsyncConnection[DictRow],
        min_size=settings.database_pool_min_size,
        max_size=settings.database_pool_max_size,
        kwargs={
            "autocommit": True,
            "row_factory": dict_row,
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "application_name": "fastqueue-server",
            "options": connection_options(settings),
        },
        open=False,
        configure=configure_connection,
        check=check_connection,
        # Bounded, so a database that is down answers 503 quickly instead of piling up requests.
        timeout=settings.database_pool_timeout_seconds,
        reconnect_timeout=RECONNECT_TIMEOUT_SECONDS,
        name="fastqueue",
    )


async def get_pool(request: Request) -> DictPool:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a handoff on every request.
    return cast(DictPool, request.app.state.pool)


Pool = Annotated[DictPool, Depends(get_pool)]


async def fetch_one(pool: DictPool, query: str, params: Mapping[str, Any]) -> DictRow:
    conn = await pool.getconn()
    try:
        cursor = await conn.execute(query, params)
        row = await cursor.fetchone()
    finally:
        await pool.putconn(conn)
    if row is None:  # every statement in app/database/queries.py returns exactly one row or raises
        raise RuntimeError(f"no row from a statement that always returns one: {query}")
    return row


async def fetch_all(pool: DictPool, query: str, params: Mapping[str, Any]) -> list[DictRow]:
    conn = await pool.getconn()
    try:
        cursor = await conn.execute(query, params)
        return await cursor.fetchall()
    finally:
        await pool.putconn(conn)
