"""/queues: create, list, read, replace and delete queues; their stats, purge and redrive."""

from typing import Any

from fastapi import APIRouter, status
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from ...database import queries
from ...database.pool import Pool, fetch_all, fetch_one
from ..request_json import JSONBodyRoute
from ..schemas import (
    BODY_NOT_JSON,
    ErrorDetail,
    Queue,
    QueueCreate,
    QueueList,
    QueueSettings,
    QueueStats,
    QueueUpdate,
    Redrive,
    Responses,
)
from ._params import Limit, Offset

router = APIRouter(prefix="/queues", tags=["queues"], route_class=JSONBodyRoute)

NOT_FOUND: Responses = {404: {"model": ErrorDetail, "description": "Queue not found"}}
INVALID: Responses = {422: {"model": ErrorDetail, "description": "A value breaks a rule; the detail says which"}}


def _settings(body: QueueSettings) -> dict[str, Any]:
    settings = body.model_dump(exclude={"id"})
    settings["message_filters"] = None if body.message_filters is None else Jsonb(body.message_filters)
    return settings


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Queue,
    responses={
        **BODY_NOT_JSON,
        404: {"model": ErrorDetail, "description": "Topic not found, or the dead queue was not found"},
        422: {"model": ErrorDetail, "description": "A value breaks a rule, or this queue already exists"},
    },
)
async def create_queue(body: QueueCreate, pool: Pool) -> DictRow:
    """Create a queue subscribed to a topic (or to none), with its delivery settings."""
    return await fetch_one(pool, queries.CREATE_QUEUE, {"id": body.id, **_settings(body)})


@router.get("", response_model=QueueList)
async def list_queues(pool: Pool, offset: Offset = 0, limit: Limit = 10) -> dict[str, list[DictRow]]:
    """List queues ordered by id, one page at a time."""
    return {"data": await fetch_all(pool, queries.LIST_QUEUES, {"offset": offset, "limit": limit})}


@router.get("/{queue_id}", response_model=Queue, responses=NOT_FOUND)
async def get_queue(queue_id: str, pool: Pool) -> DictRow:
    """Read one queue."""
    return await fetch_one(pool, queries.GET_QUEUE, {"id": queue_id})


@router.put(
    "/{queue_id}",
    response_model=Queue,
    responses={
        **BODY_NOT_JSON,
        404: {"model": ErrorDetail, "description": "Queue, topic or dead queue not found"},
        **INVALID,
    },
)
async def update_queue(queue_id: str, body: QueueUpdate, pool: Pool) -> DictRow:
    """Replace every setting of a queue. Messages already queued keep their expiry and schedule."""
    return await fetch_one(pool, queries.UPDATE_QUEUE, {"id": queue_id, **_settings(body)})


@router.delete("/{queue_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_queue(queue_id: str, pool: Pool) -> None:
    """Delete a queue and its messages. Queues that used it as their dead queue lose that setting."""
    await fetch_one(pool, queries.DELETE_QUEUE, {"id": queue_id})


@router.get("/{queue_id}/stats", response_model=QueueStats, responses=NOT_FOUND)
async def queue_stats(queue_id: str, pool: Pool) -> DictRow:
    """Count the messages a consumer could lease now, and the age of the oldest one (on a push queue,
    push_in_flight and push_window: null on a pull queue)."""
    return await fetch_one(pool, queries.QUEUE_STATS, {"id": queue_id})


@router.put("/{queue_id}/purge", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def purge_queue(queue_id: str, pool: Pool) -> None:
    """Delete every message of the queue, leased ones included."""
    await fetch_one(pool, queries.PURGE_QUEUE, {"id": queue_id})


@router.put(
    "/{queue_id}/redrive",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **BODY_NOT_JSON,
        404: {"model": ErrorDetail, "description": "Queue or destination queue not found"},
        **INVALID,
    },
)
async def redrive_queue(queue_id: str, body: Redrive, pool: Pool) -> None:
    """Move the queue's available messages (typically from a dead queue) to another queue, as if newly
    published there."""
    await fetch_one(pool, queries.REDRIVE_QUEUE, {"id": queue_id, "destination_queue_id": body.destination_queue_id})
