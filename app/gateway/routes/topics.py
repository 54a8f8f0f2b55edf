"""/topics: create, list, read and delete topics."""

from fastapi import APIRouter, status
from psycopg.rows import DictRow

from ...database import queries
from ...database.pool import Pool, fetch_all, fetch_one
from ..request_json import JSONBodyRoute
from ..schemas import BODY_NOT_JSON, ErrorDetail, Responses, Topic, TopicCreate, TopicList
from ._params import Limit, Offset

router = APIRouter(prefix="/topics", tags=["topics"], route_class=JSONBodyRoute)

NOT_FOUND: Responses = {404: {"model": ErrorDetail, "description": "Topic not found"}}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Topic,
    responses={
        **BODY_NOT_JSON,
        422: {"model": ErrorDetail, "description": "Invalid id or window, or this topic already exists"},
    },
)
async def create_topic(body: TopicCreate, pool: Pool) -> DictRow:
    """Create a topic: a name that publishers send messages to. deduplication_window_seconds is 300 unless
    given."""
    params = {"id": body.id, "deduplication_window_seconds": body.deduplication_window_seconds}
    return await fetch_one(pool, queries.CREATE_TOPIC, params)


@router.get("", response_model=TopicList)
async def list_topics(pool: Pool, offset: Offset = 0, limit: Limit = 10) -> dict[str, list[DictRow]]:
    """List topics ordered by id, one page at a time."""
    return {"data": await fetch_all(pool, queries.LIST_TOPICS, {"offset": offset, "limit": limit})}


@router.get("/{topic_id}", response_model=Topic, responses=NOT_FOUND)
async def get_topic(topic_id: str, pool: Pool) -> DictRow:
    """Read one topic."""
    return await fetch_one(pool, queries.GET_TOPIC, {"id": topic_id})


@router.delete("/{topic_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_topic(topic_id: str, pool: Pool) -> None:
    """Delete a topic. Its queues stay, unsubscribed (topic_id becomes null), with their messages."""
    await fetch_one(pool, queries.DELETE_TOPIC, {"id": topic_id})
