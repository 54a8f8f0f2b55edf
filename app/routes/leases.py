"""Settling leased messages: ack and nack."""

from uuid import UUID

from fastapi import APIRouter, status

from app import queries
from app.db import Pool, fetch_one

router = APIRouter(tags=["messages"])


@router.put("/messages/{message_id}/ack", status_code=status.HTTP_204_NO_CONTENT)
async def ack(message_id: UUID, pool: Pool) -> None:
    """Acknowledge a message: it was processed and is deleted. Acking an unknown or already acked
    message is not an error."""
    await fetch_one(pool, queries.ACK, {"message_id": message_id})


@router.put("/messages/{message_id}/nack", status_code=status.HTTP_204_NO_CONTENT)
async def nack(message_id: UUID, pool: Pool) -> None:
    """Give a leased message back: it is available again at once. An unknown message is not an error."""
    await fetch_one(pool, queries.NACK, {"message_id": message_id})
