"""Sending one message straight to one queue: POST /queues/{queue_id}/messages (fastqueue.send).

POST on the queue's messages, where GET leases them: the message goes to this queue only, whatever its
topic and filters (what SQS's SendMessage does, and what app/gateway/sqs calls for it)."""

from typing import Any

from fastapi import APIRouter, status
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ...database import queries
from ...database.pool import Pool, fetch_messages
from ...limits import MAX_DELAY_SECONDS
from ..request_json import JSONBodyRoute
from ..responses import message_list
from ..schemas import BODY_NOT_JSON, ErrorDetail, Integer, MessageList

router = APIRouter(tags=["messages"], route_class=JSONBodyRoute)


class MessageSend(BaseModel):
    data: dict[str, Any] = Field(description="The message: any JSON object.")
    attributes: dict[str, str] | None = Field(None, description="String values; null for none.")
    delay_seconds: Integer | None = Field(
        None,
        ge=0,
        le=MAX_DELAY_SECONDS,
        description="Overrides the queue's delivery_delay_seconds for this message; null: its own.",
    )

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"data": {"order_id": 42}, "attributes": {"kind": "order"}}]}
    )


RESPONSES: dict[int | str, dict[str, Any]] = {
    400: dict(BODY_NOT_JSON[400]),
    404: {"model": ErrorDetail, "description": "Queue not found"},
    413: {
        "model": ErrorDetail,
        "description": "data and attributes, as JSON text, are larger than FASTQUEUE_MAX_MESSAGE_BYTES",
    },
    422: {"model": ErrorDetail, "description": "data, attributes or delay_seconds has the wrong shape or range"},
}


@router.post(
    "/queues/{queue_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageList,
    responses=RESPONSES,
)
async def send(queue_id: str, body: MessageSend, pool: Pool) -> Response:
    """Send a message to this queue only (not through a topic: no topic filters apply). Answers the
    stored message, in a list as publish does."""
    params = {
        "queue_id": queue_id,
        "data": Jsonb(body.data),
        "attributes": None if body.attributes is None else Jsonb(body.attributes),
        "delay_seconds": body.delay_seconds,
    }
    return message_list(await fetch_messages(pool, queries.SEND, params), status.HTTP_201_CREATED)
