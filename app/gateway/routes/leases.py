"""Settling leased messages: ack and nack, one or a batch at a time, and moving a lease's deadline.

`delivery_attempt` (the delivery_attempts that consume returned) fences a call: it succeeds only while
that delivery is the message's latest, and otherwise answers 409 naming the current attempt, changing
nothing. Without it the call acts on whatever delivery is current, as fastqueue 1.7 did. A message that
no longer exists is not an error (204, or not counted in a batch).
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from ...database import queries
from ...database.pool import fetch_one
from ...limits import MAX_DELAY_SECONDS
from ..direct import DirectRoute, direct, json_body
from ..responses import json_response
from ..schemas import (
    BODY_NOT_JSON,
    INT4_MAX,
    AckedCount,
    Deadline,
    ErrorDetail,
    MessageBatch,
    MessageNackBatch,
    NackedCount,
    Responses,
)
from ..state import pool_of

router = APIRouter(tags=["messages"], route_class=DirectRoute)

DeliveryAttempt = Annotated[
    int | None,
    Query(
        ge=1,
        le=INT4_MAX,
        description="Fencing: the delivery_attempts the message was consumed with. The call then succeeds only"
        " while that delivery is the latest one (409 once the message was delivered again).",
    ),
]
DelaySeconds = Annotated[
    int | None,
    Query(
        ge=0,
        le=MAX_DELAY_SECONDS,
        description="Available again after this many seconds; left out: after the queue's retry backoff (at once"
        " without one).",
    ),
]
STALE: Responses = {
    409: {"model": ErrorDetail, "description": "The message was delivered again since delivery_attempt"}
}


async def _ack_messages_arguments(request: Request) -> dict[str, Any] | None:
    body = await json_body(request, MessageBatch)
    return None if body is None else {"body": body, "request": request}


# The batch routes are fixed paths with POST; PUT /messages/{message_id}/... never matches them.
@router.post("/messages/ack", response_model=AckedCount, responses=BODY_NOT_JSON)
@direct(_ack_messages_arguments)
async def ack_messages(body: MessageBatch, request: Request) -> Response:
    """Acknowledge 1 to 1000 messages in one transaction; `acked` counts those that still existed."""
    row = await fetch_one(pool_of(request), queries.ACK_MESSAGES, {"message_ids": body.ids})
    return json_response({"acked": row["acked"]})


@router.post("/messages/nack", response_model=NackedCount, responses=BODY_NOT_JSON)
async def nack_messages(body: MessageNackBatch, request: Request) -> Response:
    """Give 1 to 1000 leased messages back in one transaction, after delay_seconds or each queue's retry
    backoff; `nacked` counts those that still existed."""
    row = await fetch_one(
        pool_of(request), queries.NACK_MESSAGES, {"message_ids": body.ids, "delay_seconds": body.delay_seconds}
    )
    return json_response({"nacked": row["nacked"]})


@router.put("/messages/{message_id}/ack", status_code=status.HTTP_204_NO_CONTENT, responses=STALE)
async def ack(message_id: UUID, request: Request, delivery_attempt: DeliveryAttempt = None) -> None:
    """Acknowledge a message: it was processed and is deleted. Acking an unknown or already acked
    message is not an error."""
    await fetch_one(pool_of(request), queries.ACK, {"message_id": message_id, "delivery_attempt": delivery_attempt})


@router.put("/messages/{message_id}/nack", status_code=status.HTTP_204_NO_CONTENT, responses=STALE)
async def nack(
    message_id: UUID, request: Request, delivery_attempt: DeliveryAttempt = None, delay_seconds: DelaySeconds = None
) -> None:
    """Give a leased message back: it is available again at once, or after delay_seconds, or after the
    queue's retry backoff. An unknown message is not an error."""
    await fetch_one(
        pool_of(request),
        queries.NACK,
        {"message_id": message_id, "delivery_attempt": delivery_attempt, "delay_seconds": delay_seconds},
    )


@router.put(
    "/messages/{message_id}/deadline",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**BODY_NOT_JSON, **STALE},
)
async def set_deadline(
    message_id: UUID, body: Deadline, request: Request, delivery_attempt: DeliveryAttempt = None
) -> None:
    """Set the end of a message's lease to `seconds` (0..600) from now: extend it while processing takes
    long, or end it at once with 0. An unknown message is not an error."""
    await fetch_one(
        pool_of(request),
        queries.SET_DEADLINE,
        {"message_id": message_id, "seconds": body.seconds, "delivery_attempt": delivery_attempt},
    )
