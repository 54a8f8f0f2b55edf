"""The JSON answers of the hot routes (publish, consume, batch ack and nack), written straight from the rows.

Given a dict, FastAPI validates it into the route's response_model and then serializes the model: for
a consume of 10 messages that round trip through pydantic was the largest part of the request's CPU
time. The rows from SQL already are what the models describe, so these routes put the fields in the
models' order, format the timestamps as the models do (schemas.naive_utc) and hand the dict to
pydantic-core's serializer, the one behind model_dump_json: the same values give the same bytes (floats
as 1e+16, non-ASCII as UTF-8, ...). The routes return the Response themselves and keep their
response_model for /docs. tests/api/test_responses.py checks these answers against the models'.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic_core import to_json
from starlette.responses import Response

from app.schemas import naive_utc


def json_response(content: Any, status_code: int = 200) -> Response:
    """content (dicts, lists, strings, numbers, UUIDs) as compact JSON, as FastAPI's own answers are."""
    return Response(to_json(content), status_code=status_code, media_type="application/json")


def message(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of fastqueue.messages as schemas.Message shows it: its fields in order, timestamps naive UTC,
    ordering_key only when set."""
    shown = {
        "id": row["id"],
        "queue_id": row["queue_id"],
        "data": row["data"],
        "attributes": row["attributes"],
        "delivery_attempts": row["delivery_attempts"],
        "expired_at": naive_utc(row["expired_at"]),
        "scheduled_at": naive_utc(row["scheduled_at"]),
        "created_at": naive_utc(row["created_at"]),
        "updated_at": naive_utc(row["updated_at"]),
    }
    if row["ordering_key"] is not None:
        shown["ordering_key"] = row["ordering_key"]
    return shown


def message_list(rows: Iterable[Mapping[str, Any]], status_code: int = 200) -> Response:
    """schemas.MessageList: {"data": [message, ...]}."""
    return json_response({"data": [message(row) for row in rows]}, status_code)
