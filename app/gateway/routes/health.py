"""/health and /metrics: what monitoring reads. Both answer within a few seconds even when the database
is down."""

import asyncio
import logging
from typing import Any

import psycopg
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from ...database import queries
from ...database.pool import PROBE_TIMEOUT_SECONDS, Pool
from ...push.metrics import PUSH_METRICS
from .. import metrics
from ..schemas import Health

router = APIRouter(tags=["monitoring"])
log = logging.getLogger("fastqueue.health")


@router.get("/health", response_model=Health, responses={500: {"model": Health, "description": "Database down"}})
async def health(pool: Pool) -> JSONResponse | dict[str, bool | str]:
    """{"success": true, "primary": "host:port"} when the database answers and takes writes: primary is
    the host of FASTQUEUE_DATABASE_URL the gateway's connections reached (with several hosts, the one
    that is primary now). Else {"success": false} with status 500 (down, or a standby reached)."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS + 1):
            async with pool.connection(timeout=PROBE_TIMEOUT_SECONDS) as conn:
                cursor = await conn.execute(queries.HEALTH)
                row = await cursor.fetchone()
                primary = f"{conn.info.host}:{conn.info.port}"
    except (psycopg.Error, TimeoutError) as exc:
        log.warning("health check failed: %s", str(exc).strip() or type(exc).__name__)
        return JSONResponse({"success": False}, status_code=500)
    if row is None or not row["writable"]:
        log.warning("health check failed: %s is a standby (read-only)", primary)
        return JSONResponse({"success": False}, status_code=500)
    return {"success": True, "primary": primary}


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def prometheus_metrics(pool: Pool) -> Response:
    """Prometheus text format: HTTP requests by method, route and status; messages per queue; the
    store's rotations."""
    depths = None
    rotation = None
    push_rows: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS + 1):
            async with pool.connection(timeout=PROBE_TIMEOUT_SECONDS) as conn:
                cursor = await conn.execute(queries.QUEUE_DEPTHS)
                depths = await cursor.fetchall()
                cursor = await conn.execute(queries.STORE_ROTATION)
                rotation = await cursor.fetchone()
                push_rows = await (await conn.execute(PUSH_METRICS)).fetchall()
    except (psycopg.Error, TimeoutError) as exc:
        log.warning("metrics: queue depths unavailable: %s", str(exc).strip() or type(exc).__name__)
    body, content_type = metrics.exposition(depths, rotation, push_rows)
    return Response(body, media_type=content_type)
