"""The gateway's connection pool and the two ways a route runs its one SQL call.

One AsyncConnectionPool per process, opened and closed by the FastAPI lifespan (app/main.py). Its
connections are in autocommit mode: every route sends one statement, a call of one SQL API function,
which is its own transaction. Rows come back as dicts (dict_row).

Each connection gets its settings in the startup packet (libpq `options`, `-c name=value`), so no
request pays an extra round trip for them: fastqueue.max_message_bytes (the gateway's
FASTQUEUE_MAX_MESSAGE_BYTES, read by publish(); it overrides `alter database ... set` for the
gateway's sessions only, direct SQL callers get the database's setting), and lock_timeout and
statement_timeout, so that a call stuck behind another session's lock gives its connection back and
answers 503 instead of holding the request for as long as the lock is held.
"""

import os
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from app.settings import Settings

# How long one attempt to open a connection may take (libpq connect_timeout).
CONNECT_TIMEOUT_SECONDS = 5
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
            f"-c lock_timeout={round(settings.database_lock_timeout_seconds * 1000)}",
            f"-c statement_timeout={round(settings.database_statement_timeout_seconds * 1000)}",
        )
    )
    return f"{existing} {ours}" if existing else ours


def create_pool(settings: Settings) -> AsyncConnectionPool:
    return AsyncConnectionPool(
        settings.conninfo,
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
        check=AsyncConnectionPool.check_connection,
        # Bounded, so a database that is down answers 503 quickly instead of piling up requests.
        timeout=settings.database_pool_timeout_seconds,
        name="fastqueue",
    )


async def get_pool(request: Request) -> AsyncConnectionPool:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a handoff on every request.
    return request.app.state.pool


Pool = Annotated[AsyncConnectionPool, Depends(get_pool)]


async def fetch_one(pool: AsyncConnectionPool, query: str, params: Mapping[str, Any]) -> DictRow:
    async with pool.connection() as conn:
        cursor = await conn.execute(query, params)
        row = await cursor.fetchone()
    # Every statement in app/queries.py returns exactly one row or raises.
    assert row is not None, query
    return row


async def fetch_all(pool: AsyncConnectionPool, query: str, params: Mapping[str, Any]) -> list[DictRow]:
    async with pool.connection() as conn:
        cursor = await conn.execute(query, params)
        return await cursor.fetchall()
