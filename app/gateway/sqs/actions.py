"""The SQS actions, each a few calls of fastqueue's SQL API (docs/sqs.md maps them one by one)."""

import asyncio
import base64
import binascii
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from ...database import queries
from ...database.pool import DictPool, fetch_all, fetch_messages, fetch_one
from ...settings import ADMIN, CONSUMER, PUBLISHER
from .. import errors
from ..listener import Listener
from . import messages, queues
from .messages import Attribute
from .protocol import (
    SqsError,
    integer,
    invalid,
    object_list,
    required_string,
    string,
    string_list,
    string_map,
)
from .receipts import ReceiptHandles
from .signing import Caller

log = logging.getLogger("fastqueue.sqs")

MAX_BATCH_ENTRIES = 10
MAX_VISIBILITY_SECONDS = 600  # set_deadline's range; SQS allows up to 43200
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")

# Leasing with ReceiveMessage's VisibilityTimeout: each leased message's lease set at once, fenced to
# the delivery just made, in the same statement (one transaction).
RECEIVE_WITH_VISIBILITY = (
    "select m.*, fastqueue.set_deadline(m.id, %(visibility)s::integer, m.delivery_attempts) as deadline_set"
    " from fastqueue.consume(queue_id => %(queue_id)s, max_messages => %(max_messages)s::integer) m"
)
SEND_IDS = queries.SEND.replace("select * from", "select id from", 1)


@dataclass
class Context:
    pool: DictPool
    listener: Listener
    receipts: ReceiptHandles
    caller: Caller
    base_url: str
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)


Handler = Callable[[Context, Mapping[str, Any]], Awaitable[dict[str, Any]]]


def sql_error(exc: psycopg.Error) -> SqsError:
    """A database error as SQS's error (the sentence of fastqueue's own SQLSTATEs, nothing else)."""
    status = errors.status_for(exc)
    if status == 404:
        return SqsError("QueueDoesNotExist", "The specified queue does not exist.")
    if status == 503:
        return SqsError("ServiceUnavailable", errors.detail_for(exc, status))
    if status >= 500:
        log.error("SQS call failed: %s (sqlstate %s)", str(exc).strip(), exc.sqlstate, exc_info=exc)
        return SqsError("InternalFailure", errors.INTERNAL_ERROR)
    return SqsError("InvalidParameterValue", errors.detail_for(exc, status))


async def _one(ctx: Context, query: str, params: Mapping[str, Any]) -> DictRow:
    try:
        return await fetch_one(ctx.pool, query, params)
    except psycopg.Error as exc:
        raise sql_error(exc) from exc


async def _all(ctx: Context, query: str, params: Mapping[str, Any]) -> list[DictRow]:
    try:
        return await fetch_all(ctx.pool, query, params)
    except psycopg.Error as exc:
        raise sql_error(exc) from exc


def _queue_id(params: Mapping[str, Any]) -> str:
    return queues.queue_id_of(required_string(params, "QueueUrl"))


async def _queue(ctx: Context, queue_id: str) -> DictRow:
    return await _one(ctx, queries.GET_QUEUE, {"id": queue_id})


def _dead_letter_target_missing() -> SqsError:
    return SqsError(
        "InvalidParameterValue",
        "Value for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.",
    )


def _write_settings(queue_id: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    filters = settings["message_filters"]
    return {**settings, "id": queue_id, "message_filters": None if filters is None else Jsonb(filters)}


# Queues


async def create_queue(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    name = required_string(params, "QueueName")
    queues.check_name(name)
    attributes = string_map(params, "Attributes")
    if params.get("tags"):
        raise SqsError("UnsupportedOperation", "Queue tags are not supported by fastqueue (docs/sqs.md).")
    settings = queues.apply(queues.new_queue_settings(), attributes)
    try:
        await fetch_one(ctx.pool, queries.CREATE_QUEUE, _write_settings(name, settings))
    except psycopg.Error as exc:
        if exc.sqlstate == "P0002":  # the queue has no topic: the dead queue is missing
            raise _dead_letter_target_missing() from exc
        if exc.sqlstate != "23505":
            raise sql_error(exc) from exc
        # It exists: the same URL when the attributes given are its own, as SQS does.
        existing = queues.settings_of(await _queue(ctx, name))
        if queues.apply(existing, attributes) != existing:
            raise SqsError(
                "QueueNameExists", "A queue already exists with the same name and a different value for an attribute."
            ) from None
    return {"QueueUrl": queues.queue_url(ctx.base_url, name)}


async def get_queue_url(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    name = required_string(params, "QueueName")
    queue = await _queue(ctx, name)
    return {"QueueUrl": queues.queue_url(ctx.base_url, queue["id"])}


async def _queue_ids(ctx: Context) -> list[str]:
    ids: list[str] = []
    while True:
        rows = await _all(ctx, queries.LIST_QUEUES, {"offset": len(ids), "limit": 1000})
        ids.extend(row["id"] for row in rows)
        if len(rows) < 1000:
            return ids


async def list_queues(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    prefix = string(params, "QueueNamePrefix") or ""
    max_results = integer(params, "MaxResults", 1, 1000)
    token = string(params, "NextToken")
    after = ""
    if token:
        try:
            after = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
        except (binascii.Error, ValueError):
            raise invalid("NextToken", token, "Invalid NextToken value.") from None
    # In code point order here, whatever the database's collation: NextToken is the last name answered.
    names = sorted(name for name in await _queue_ids(ctx) if name.startswith(prefix) and name > after)
    page = names[: max_results or 1000]
    result: dict[str, Any] = {}
    if page:  # SQS leaves QueueUrls out when there are none
        result["QueueUrls"] = [queues.queue_url(ctx.base_url, name) for name in page]
    if max_results is not None and len(names) > len(page):
        result["NextToken"] = base64.urlsafe_b64encode(page[-1].encode("utf-8")).decode("ascii")
    return result


async def list_dead_letter_source_queues(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    queue_id = _queue_id(params)
    await _queue(ctx, queue_id)
    sources: list[str] = []
    offset = 0
    while True:
        rows = await _all(ctx, queries.LIST_QUEUES, {"offset": offset, "limit": 1000})
        sources.extend(row["id"] for row in rows if row["dead_queue_id"] == queue_id)
        offset += len(rows)
        if len(rows) < 1000:
            break
    return {"queueUrls": [queues.queue_url(ctx.base_url, name) for name in sources]}


async def delete_queue(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    await _one(ctx, queries.DELETE_QUEUE, {"id": _queue_id(params)})
    return {}


async def purge_queue(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    await _one(ctx, queries.PURGE_QUEUE, {"id": _queue_id(params)})
    return {}


async def get_queue_attributes(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    queue_id = _queue_id(params)
    names = queues.requested(string_list(params, "AttributeNames"))
    queue = await _queue(ctx, queue_id)
    stats = None
    if any(name in queues.STATS for name in names):
        stats = await _one(ctx, queries.QUEUE_STATS, {"id": queue_id})
    attributes = queues.attributes_of(queue, stats, names, ctx.caller.region)
    return {"Attributes": attributes} if attributes else {}


async def set_queue_attributes(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    queue_id = _queue_id(params)
    attributes = string_map(params, "Attributes")
    current = queues.settings_of(await _queue(ctx, queue_id))
    settings = queues.apply(current, attributes)
    try:
        await fetch_one(ctx.pool, queries.UPDATE_QUEUE, _write_settings(queue_id, settings))
    except psycopg.Error as exc:
        if exc.sqlstate == "P0002" and settings["dead_queue_id"] is not None:
            raise _dead_letter_target_missing() from exc
        raise sql_error(exc) from exc
    return {}


async def list_queue_tags(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    await _queue(ctx, _queue_id(params))
    return {}  # fastqueue stores no tags (TagQueue is refused)


# Sending


def _trace_header(entry: Mapping[str, Any]) -> str | None:
    system = entry.get("MessageSystemAttributes")
    if not system:
        return None
    if not isinstance(system, dict) or set(system) != {"AWSTraceHeader"}:
        raise SqsError("InvalidParameterValue", "The only supported message system attribute is AWSTraceHeader.")
    trace = messages.parse_attributes(system)["AWSTraceHeader"]
    if trace.data_type != "String" or trace.string_value is None:
        raise SqsError("InvalidParameterValue", "The message system attribute AWSTraceHeader must be of type String.")
    return trace.string_value


@dataclass(frozen=True)
class Outgoing:
    body: str
    attributes: dict[str, Attribute]
    trace_header: str | None
    delay_seconds: int | None
    size: int


def _outgoing(entry: Mapping[str, Any]) -> Outgoing:
    body = required_string(entry, "MessageBody")
    messages.check_body(body)
    if entry.get("MessageGroupId") is not None or entry.get("MessageDeduplicationId") is not None:
        raise SqsError(
            "InvalidParameterValue",
            "The request include parameter that is not valid for this queue type:"
            " MessageGroupId and MessageDeduplicationId are for FIFO queues, which fastqueue does not support.",
        )
    delay = integer(entry, "DelaySeconds", 0, 900)
    attributes = messages.parse_attributes(entry.get("MessageAttributes"))
    trace = _trace_header(entry)
    size = messages.check_size(body, attributes)
    return Outgoing(body, attributes, trace, delay, size)


async def _send(ctx: Context, queue_id: str, message: Outgoing) -> dict[str, Any]:
    data, attributes = messages.to_fastqueue(message.body, message.attributes, message.trace_header)
    row = await _one(
        ctx,
        SEND_IDS,
        {
            "queue_id": queue_id,
            "data": Jsonb(data),
            "attributes": None if attributes is None else Jsonb(attributes),
            "delay_seconds": message.delay_seconds,
        },
    )
    result: dict[str, Any] = {"MessageId": str(row["id"]), "MD5OfMessageBody": messages.md5_of_body(message.body)}
    if message.attributes:
        result["MD5OfMessageAttributes"] = messages.md5_of_attributes(message.attributes)
    if message.trace_header is not None:
        result["MD5OfMessageSystemAttributes"] = messages.md5_of_attributes(
            {"AWSTraceHeader": Attribute("String", string_value=message.trace_header)}
        )
    return result


async def send_message(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    queue_id = _queue_id(params)
    return await _send(ctx, queue_id, _outgoing(params))


def _entries(params: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    entries = object_list(params, name)
    if not entries:
        raise SqsError("EmptyBatchRequest", f"There should be at least one {name[:-1]} in the request.")
    if len(entries) > MAX_BATCH_ENTRIES:
        raise SqsError(
            "TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are {MAX_BATCH_ENTRIES}. You have sent {len(entries)}.",
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id")
        if not isinstance(entry_id, str) or not _BATCH_ID.fullmatch(entry_id):
            raise SqsError(
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores."
                " It can be at most 80 letters long.",
            )
        if entry_id in seen:
            raise SqsError("BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.")
        seen.add(entry_id)
    return entries


def _failed(entry_id: str, error: SqsError) -> dict[str, Any]:
    return {"Id": entry_id, "SenderFault": error.sender_fault, "Code": error.shape, "Message": error.message}


async def _batch(
    entries: list[dict[str, Any]], run: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """Each entry on its own (its own transaction): some may fail while the others succeed. A queue
    that is not there fails the whole request."""
    successful: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for entry in entries:
        try:
            successful.append({"Id": entry["Id"], **await run(entry)})
        except SqsError as error:
            if error.shape in ("QueueDoesNotExist", "ServiceUnavailable", "InternalFailure"):
                raise
            failed.append(_failed(entry["Id"], error))
    return {"Successful": successful, "Failed": failed}


async def send_message_batch(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    queue_id = _queue_id(params)
    entries = _entries(params, "Entries")
    checked: dict[str, Outgoing | SqsError] = {}
    for entry in entries:
        try:
            checked[entry["Id"]] = _outgoing(entry)
        except SqsError as error:
            checked[entry["Id"]] = error
    total = sum(item.size for item in checked.values() if isinstance(item, Outgoing))
    if total > messages.MAX_MESSAGE_BYTES:
        raise SqsError(
            "BatchRequestTooLong",
            f"Batch requests cannot be longer than {messages.MAX_MESSAGE_BYTES} bytes. You have sent {total} bytes.",
        )

    async def run(entry: dict[str, Any]) -> dict[str, Any]:
        item = checked[entry["Id"]]
        if isinstance(item, SqsError):
            raise item
        return await _send(ctx, queue_id, item)

    return await _batch(entries, run)


# Receiving


async def _lease(ctx: Context, queue_id: str, max_messages: int, visibility: int | None) -> list[DictRow]:
    params = {"queue_id": queue_id, "max_messages": max_messages, "ack_message_ids": None, "visibility": visibility}
    query = queries.CONSUME if visibility is None else RECEIVE_WITH_VISIBILITY
    try:
        return await fetch_messages(ctx.pool, query, params)
    except psycopg.Error as exc:
        raise sql_error(exc) from exc


async def _long_poll(
    ctx: Context, queue_id: str, max_messages: int, visibility: int | None, wait: int
) -> list[DictRow]:
    """The REST consume's long poll (app/gateway/listener.py): wait, holding no connection, for a notification
    or the listener's re-check on this queue, then lease again; nothing once the client has left."""
    listener = ctx.listener
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    # Registered before the first lease: a message committed between that lease and the wait wakes it.
    with listener.waiter(queue_id) as waiter:
        wake_on_disconnect = asyncio.create_task(_wake_when(ctx.disconnected, waiter.wake))
        try:
            while True:
                waiter.clear()
                rows = await _lease(ctx, queue_id, max_messages, visibility)
                remaining = deadline - loop.time()
                if rows or remaining <= 0 or listener.shutting_down:
                    return rows
                if await listener.watch(ctx.pool, queue_id, remaining):
                    continue  # the watch is new: a message committed before it woke nobody, look again
                if not await waiter.wait(remaining):
                    return []
                if listener.shutting_down or ctx.disconnected.is_set():
                    return []  # a client that left leases nothing
        finally:
            wake_on_disconnect.cancel()


async def _wake_when(event: asyncio.Event, wake: Callable[[], None]) -> None:
    await event.wait()
    wake()


def _system_attributes(row: Mapping[str, Any], names: list[str], received: messages.Received) -> dict[str, str]:
    every = "All" in names
    values = {
        "ApproximateReceiveCount": str(row["delivery_attempts"]),
        "SentTimestamp": str(int(row["created_at"].timestamp() * 1000)),
        "SenderId": queues.ACCOUNT,
    }
    if received.trace_header is not None:
        values["AWSTraceHeader"] = received.trace_header
    return {name: value for name, value in values.items() if every or name in names}


async def receive_message(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    queue_id = _queue_id(params)
    max_messages = integer(params, "MaxNumberOfMessages", 1, 10) or 1
    wait = integer(params, "WaitTimeSeconds", 0, 20) or 0
    visibility = integer(params, "VisibilityTimeout", 0, 43200)
    if visibility is not None and visibility > MAX_VISIBILITY_SECONDS:
        raise invalid("VisibilityTimeout", visibility, f"fastqueue supports 0 to {MAX_VISIBILITY_SECONDS} seconds.")
    system_names = string_list(params, "AttributeNames") + string_list(params, "MessageSystemAttributeNames")
    attribute_names = string_list(params, "MessageAttributeNames")
    if wait:
        rows = await _long_poll(ctx, queue_id, max_messages, visibility, wait)
    else:
        rows = await _lease(ctx, queue_id, max_messages, visibility)
    answered = []
    for row in rows:
        received = messages.from_fastqueue(row["data"], row["attributes"])
        message: dict[str, Any] = {
            "MessageId": str(row["id"]),
            "ReceiptHandle": ctx.receipts.issue(queue_id, row["id"], row["delivery_attempts"]),
            "MD5OfBody": messages.md5_of_body(received.body),
            "Body": received.body,
        }
        system = _system_attributes(row, system_names, received)
        if system:
            message["Attributes"] = system
        selected = messages.select_attributes(received.attributes, attribute_names)
        if selected:
            message["MessageAttributes"] = {name: attribute.to_sqs() for name, attribute in selected.items()}
            message["MD5OfMessageAttributes"] = messages.md5_of_attributes(selected)
        answered.append(message)
    return {"Messages": answered} if answered else {}


# Settling


def _handle(entry: Mapping[str, Any]) -> str:
    return required_string(entry, "ReceiptHandle")


async def _delete(ctx: Context, queue_id: str, handle: str) -> dict[str, Any]:
    receipt = ctx.receipts.read(queue_id, handle)
    try:
        # False (already deleted) is a success, as in SQS; a stale handle (FQ409) changes nothing.
        await fetch_one(
            ctx.pool, queries.ACK, {"message_id": receipt.message_id, "delivery_attempt": receipt.delivery_attempt}
        )
    except psycopg.Error as exc:
        if exc.sqlstate != "FQ409":
            raise sql_error(exc) from exc
    return {}


async def _change_visibility(ctx: Context, queue_id: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    handle = _handle(entry)
    seconds = integer(entry, "VisibilityTimeout", 0, 43200)
    if seconds is None:
        raise SqsError("MissingParameter", "The request must contain the parameter VisibilityTimeout.")
    if seconds > MAX_VISIBILITY_SECONDS:
        raise invalid("VisibilityTimeout", seconds, f"fastqueue supports 0 to {MAX_VISIBILITY_SECONDS} seconds.")
    receipt = ctx.receipts.read(queue_id, handle)
    try:
        row = await fetch_one(
            ctx.pool,
            queries.SET_DEADLINE,
            {"message_id": receipt.message_id, "seconds": seconds, "delivery_attempt": receipt.delivery_attempt},
        )
    except psycopg.Error as exc:
        if exc.sqlstate == "FQ409":
            return {}  # an earlier receive's handle: only the latest one acts
        raise sql_error(exc) from exc
    if not row["found"]:
        raise invalid(
            "ReceiptHandle", handle[:200], "Message does not exist or is not available for visibility timeout change."
        )
    return {}


async def delete_message(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    return await _delete(ctx, _queue_id(params), _handle(params))


async def delete_message_batch(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    queue_id = _queue_id(params)
    return await _batch(_entries(params, "Entries"), lambda entry: _delete(ctx, queue_id, _handle(entry)))


async def change_message_visibility(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    return await _change_visibility(ctx, _queue_id(params), params)


async def change_message_visibility_batch(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    queue_id = _queue_id(params)
    return await _batch(_entries(params, "Entries"), lambda entry: _change_visibility(ctx, queue_id, entry))


# The actions, and the roles that may call them besides admin.
ACTIONS: dict[str, tuple[Handler, frozenset[str]]] = {
    "CreateQueue": (create_queue, frozenset()),
    "GetQueueUrl": (get_queue_url, frozenset({PUBLISHER, CONSUMER})),
    "ListQueues": (list_queues, frozenset()),
    "ListDeadLetterSourceQueues": (list_dead_letter_source_queues, frozenset()),
    "DeleteQueue": (delete_queue, frozenset()),
    "PurgeQueue": (purge_queue, frozenset()),
    "GetQueueAttributes": (get_queue_attributes, frozenset({CONSUMER})),
    "SetQueueAttributes": (set_queue_attributes, frozenset()),
    "ListQueueTags": (list_queue_tags, frozenset()),
    "SendMessage": (send_message, frozenset({PUBLISHER})),
    "SendMessageBatch": (send_message_batch, frozenset({PUBLISHER})),
    "ReceiveMessage": (receive_message, frozenset({CONSUMER})),
    "DeleteMessage": (delete_message, frozenset({CONSUMER})),
    "DeleteMessageBatch": (delete_message_batch, frozenset({CONSUMER})),
    "ChangeMessageVisibility": (change_message_visibility, frozenset({CONSUMER})),
    "ChangeMessageVisibilityBatch": (change_message_visibility_batch, frozenset({CONSUMER})),
}
# SQS actions this server refuses with UnsupportedOperation (docs/sqs.md says why).
UNSUPPORTED = frozenset(
    {
        "TagQueue",
        "UntagQueue",
        "AddPermission",
        "RemovePermission",
        "StartMessageMoveTask",
        "CancelMessageMoveTask",
        "ListMessageMoveTasks",
    }
)


def handler_for(action: str, role: str) -> Handler:
    if action in UNSUPPORTED:
        raise SqsError("UnsupportedOperation", f"{action} is not supported by fastqueue (docs/sqs.md).")
    if action not in ACTIONS:
        raise SqsError("InvalidAction", f"The action {action[:100]} is not valid for this endpoint.")
    handler, roles = ACTIONS[action]
    if role != ADMIN and role not in roles:
        raise SqsError("AccessDenied", f"The {role} role may not call {action}.")
    return handler
