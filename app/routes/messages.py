"""Messages: publish to a topic, consume from a queue, ack and nack."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from psycopg.types.json import Jsonb

from app import queries
from app.db import Pool, fetch_all, fetch_one
from app.limits import MAX_PAGE_SIZE
from app.schemas import BODY_NOT_JSON, ErrorDetail, MessageList, MessagePublish

router = APIRouter(tags=["messages"])


@router.post(
    "/topics/{topic_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageList,
    responses={
        **BODY_NOT_JSON,
        404: {"model": ErrorDetail, "description": "Topic not found"},
        413: {
            "model": ErrorDetail,
            "description": "data and attributes, as JSON text, are larger than FASTQUEUE_MAX_MESSAGE_BYTES",
        },
        422: {"model": ErrorDetail, "description": "data or attributes has the wrong shape"},
    },
)
async def publish(topic_id: str, body: MessagePublish, pool: Pool):
    """Publish a message: every queue of the topic whose filters pass its attributes gets a copy, returned
    here (an empty list when no queue takes it)."""
    params = {
        "topic_id": topic_id,
        "data": Jsonb(body.data),
        "attributes": None if body.attributes is None else Jsonb(body.attributes),
    }
    return {"data": await fetch_all(pool, queries.PUBLISH, params)}


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


@router.put("/messages/{message_id}/ack", status_code=status.HTTP_204_NO_CONTENT)
async def ack(message_id: UUID, pool: Pool) -> None:
    """Acknowledge a message: it was processed and is deleted. Acking an unknown or already acked
    message is not an error."""
    await fetch_one(pool, queries.ACK, {"message_id": message_id})


@router.put("/messages/{message_id}/nack", status_code=status.HTTP_204_NO_CONTENT)
async def nack(message_id: UUID, pool: Pool) -> None:
    """Give a leased message back: it is available again at once. An unknown message is not an error."""
    await fetch_one(pool, queries.NACK, {"message_id": message_id})
