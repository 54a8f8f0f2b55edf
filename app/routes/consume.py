"""Consuming: GET /queues/{queue_id}/messages leases messages."""

from typing import Annotated

from fastapi import APIRouter, Query

from app import queries
from app.db import Pool, fetch_all
from app.limits import MAX_PAGE_SIZE
from app.schemas import ErrorDetail, MessageList

router = APIRouter(tags=["messages"])


@router.get(
    "/queues/{queue_id}/messages",
    response_model=MessageList,
    responses={404: {"model": ErrorDetail, "description": "Queue not found"}},
)
async def consume(
    queue_id: str,
    pool: Pool,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Most messages to lease.")] = 10,
):
    """Lease up to `limit` available messages, oldest first. Each is hidden for the queue's
    ack_deadline_seconds: ack it when done, nack it to retry now, or it comes back after the deadline."""
    return {"data": await fetch_all(pool, queries.CONSUME, {"queue_id": queue_id, "max_messages": limit})}
