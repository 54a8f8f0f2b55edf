"""The console's read-only views (admin): every queue and topic with its counts, and a look at a
queue's messages that leases nothing. Each route is one statement: a select from a view of
db/views/ (queue_overview, topic_overview) or a call of fastqueue.peek()."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from psycopg.rows import DictRow

from ...database import queries
from ...database.pool import Pool, fetch_all, fetch_messages
from ...limits import MAX_PAGE_SIZE
from ..responses import message_list
from ..schemas import ErrorDetail, MessageList, QueueOverviewList, TopicOverviewList

router = APIRouter()


@router.get("/overview/queues", response_model=QueueOverviewList, tags=["monitoring"])
async def queue_overview(pool: Pool) -> dict[str, list[DictRow]]:
    """Every queue, ordered by id, with its settings and its counts: available, in flight, delayed,
    dead-letter candidates, total, and the age of the oldest available message (the counts of
    GET /queues/{queue_id}/stats)."""
    return {"data": await fetch_all(pool, queries.OVERVIEW_QUEUES, {})}


@router.get("/overview/topics", response_model=TopicOverviewList, tags=["monitoring"])
async def topic_overview(pool: Pool) -> dict[str, list[DictRow]]:
    """Every topic, ordered by id, with the queues subscribed to it and the sum of their available
    messages."""
    return {"data": await fetch_all(pool, queries.OVERVIEW_TOPICS, {})}


@router.get(
    "/queues/{queue_id}/peek",
    response_model=MessageList,
    tags=["queues"],
    responses={404: {"model": ErrorDetail, "description": "Queue not found"}},
)
async def peek(
    queue_id: str,
    pool: Pool,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Most messages to show.")] = 10,
) -> Response:
    """Show up to `limit` of the queue's messages without leasing them (nothing changes: no delivery
    is counted, nothing is hidden), in every state (available, in flight, delayed), in the order
    consume reaches them (scheduled_at first); no more than fit in FASTQUEUE_MAX_RESPONSE_BYTES, always one."""
    return message_list(await fetch_messages(pool, queries.PEEK, {"queue_id": queue_id, "max_messages": limit}))
