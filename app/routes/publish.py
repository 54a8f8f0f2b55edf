"""Publishing: POST /topics/{topic_id}/messages."""

from fastapi import APIRouter, status
from psycopg.types.json import Jsonb

from app import queries
from app.db import Pool, fetch_all
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
