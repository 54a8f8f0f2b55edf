"""Publishing: POST /topics/{topic_id}/messages, and many at once: POST /topics/{topic_id}/messages/batch.

A single publish answers every stored copy, as fastqueue 1.7 did, or, with `Prefer: return=minimal`
(RFC 7240), only their ids and queue ids (answered with `Preference-Applied: return=minimal`). A batch
always answers ids and queue ids: its copies' data is what the client just sent, times the queues."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from psycopg.types.json import Jsonb

from ...database import queries
from ...database.pool import fetch_all, fetch_messages
from ..direct import DirectRoute, direct, json_body
from ..responses import message_ids, message_list
from ..schemas import BODY_NOT_JSON, ErrorDetail, MessageBatchPublish, MessageIdList, MessageList, MessagePublish
from ..state import pool_of

router = APIRouter(tags=["messages"], route_class=DirectRoute)

MINIMAL = "return=minimal"


def _prefers_minimal(prefer: str | None) -> bool:
    """RFC 7240: Prefer holds comma-separated preferences, each maybe with parameters after a ";"."""
    if not prefer:
        return False
    return any(
        preference.split(";", 1)[0].strip().replace(" ", "").lower() == MINIMAL for preference in prefer.split(",")
    )


DEDUPLICATION_CONFLICT = {
    "model": ErrorDetail,
    "description": "The deduplication_id was used on this topic within its window for a different message; nothing is stored",
}


async def _publish_arguments(request: Request) -> dict[str, Any] | None:
    body = await json_body(request, MessagePublish)
    if body is None:
        return None
    topic_id = request.path_params["topic_id"]
    return {"topic_id": topic_id, "body": body, "request": request, "prefer": request.headers.get("prefer")}


@router.post(
    "/topics/{topic_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageList | MessageIdList,
    responses={
        201: {
            "description": "Every stored copy (MessageList); with `Prefer: return=minimal`, only their ids and"
            " queue ids (MessageIdList), and the header `Preference-Applied: return=minimal`.",
        },
        **BODY_NOT_JSON,
        404: {"model": ErrorDetail, "description": "Topic not found"},
        413: {
            "model": ErrorDetail,
            "description": "data and attributes, as JSON text, are larger than FASTQUEUE_MAX_MESSAGE_BYTES",
        },
        422: {"model": ErrorDetail, "description": "data, attributes or another field has the wrong shape or range"},
        409: DEDUPLICATION_CONFLICT,
    },
)
@direct(_publish_arguments)
async def publish(
    topic_id: str,
    body: MessagePublish,
    request: Request,
    prefer: Annotated[
        str | None,
        Header(description="`return=minimal` (RFC 7240): answer only the copies' ids and queue ids."),
    ] = None,
) -> Response:
    """Publish a message: every queue of the topic whose filters pass its attributes gets a copy, returned
    here (an empty list when no queue takes it). A deduplication_id already published to the topic within
    its deduplication window stores nothing: the same message again (data, attributes, ordering_key) gets
    the first publish's copies that still exist, another message gets 409."""
    params = {
        "topic_id": topic_id,
        "data": Jsonb(body.data),
        "attributes": None if body.attributes is None else Jsonb(body.attributes),
        "delay_seconds": body.delay_seconds,
        "deduplication_id": body.deduplication_id,
        "ordering_key": body.ordering_key,
    }
    pool = pool_of(request)
    if _prefers_minimal(prefer):
        rows = await fetch_all(pool, queries.PUBLISH_IDS, params)
        return message_ids(rows, status.HTTP_201_CREATED, {"Preference-Applied": MINIMAL})
    return message_list(await fetch_messages(pool, queries.PUBLISH, params), status.HTTP_201_CREATED)


@router.post(
    "/topics/{topic_id}/messages/batch",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageIdList,
    responses={
        **BODY_NOT_JSON,
        404: {"model": ErrorDetail, "description": "Topic not found"},
        413: {
            "model": ErrorDetail,
            "description": "The body is larger than FASTQUEUE_MAX_BATCH_BYTES, or a message larger than"
            " FASTQUEUE_MAX_MESSAGE_BYTES (messages[i]: ...)",
        },
        422: {
            "model": ErrorDetail,
            "description": "A message is invalid (its 0-based index is named); nothing is stored",
        },
        409: DEDUPLICATION_CONFLICT,
    },
)
async def publish_batch(topic_id: str, body: MessageBatchPublish, request: Request) -> Response:
    """Publish 1 to 1000 messages in one transaction, all or nothing. Answers the id and queue id of every
    stored copy (not their data), message by message in input order (each message's copies in queue id
    order)."""
    messages = [message.model_dump(exclude_none=True) for message in body.messages]
    params = {"topic_id": topic_id, "messages": Jsonb(messages)}
    return message_ids(await fetch_all(pool_of(request), queries.PUBLISH_BATCH, params), status.HTTP_201_CREATED)
