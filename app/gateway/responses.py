"""The JSON answers of the message routes (publish, consume, peek, batch ack and nack), written straight
from the rows.

A message's data and attributes arrive as the JSON text PostgreSQL wrote, compacted (app/database/pool.py
fetch_messages), and go into the answer as they are: any JSON PostgreSQL stores comes back exactly,
whatever digits its numbers have (jsonb writes numbers as numerics: 0.00000015, never 1.5e-7), and nothing
is parsed into Python objects, so an answer costs the gateway about its own size in memory. The other
fields are written in the order of schemas.Message, timestamps as schemas.naive_utc formats them, strings
by pydantic-core's serializer, the one behind model_dump_json: an ordinary message gives the bytes its
response model would write (tests/api/test_responses.py). The routes return the Response themselves and
keep their response_model for /docs.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic_core import to_json
from starlette.responses import Response

from .schemas import naive_utc


def json_response(content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """content (dicts, lists, strings, numbers, UUIDs) as compact JSON, as FastAPI's own answers are."""
    return Response(to_json(content), status_code=status_code, media_type="application/json", headers=headers)


def message(row: Mapping[str, Any]) -> bytes:
    """A row of fastqueue.messages (data and attributes as JSON text) as schemas.Message shows it: every
    field, in order."""
    attributes = row["attributes"]
    return b"".join(
        (
            b'{"id":"',
            str(row["id"]).encode(),
            b'","queue_id":',
            to_json(row["queue_id"]),
            b',"data":',
            row["data"],
            b',"attributes":',
            b"null" if attributes is None else attributes,
            b',"delivery_attempts":',
            str(row["delivery_attempts"]).encode(),
            b',"expired_at":"',
            naive_utc(row["expired_at"]).encode(),
            b'","scheduled_at":"',
            naive_utc(row["scheduled_at"]).encode(),
            b'","created_at":"',
            naive_utc(row["created_at"]).encode(),
            b'","updated_at":"',
            naive_utc(row["updated_at"]).encode(),
            b'","ordering_key":',
            to_json(row["ordering_key"]),
            b"}",
        )
    )


def message_list(rows: Iterable[Mapping[str, Any]], status_code: int = 200) -> Response:
    """schemas.MessageList: {"data": [message, ...]}."""
    body = b'{"data":[' + b",".join([message(row) for row in rows]) + b"]}"
    return Response(body, status_code=status_code, media_type="application/json")


def message_ids(
    rows: Iterable[Mapping[str, Any]], status_code: int = 201, headers: Mapping[str, str] | None = None
) -> Response:
    """schemas.MessageIdList: {"data": [{"id": ..., "queue_id": ...}, ...]}, one per stored copy."""
    return json_response(
        {"data": [{"id": row["id"], "queue_id": row["queue_id"]} for row in rows]}, status_code, headers
    )
