"""Request and response bodies of the HTTP API, as /docs shows them.

Request models mirror the SQL rules (id format, ranges, JSON shapes) only so that a client gets a
field-by-field 422 and /docs shows the limits; the SQL functions check every rule again and are the
authority (rules that need the database, such as "the dead queue exists", live only there).

Response models fix the wire format of the original fastqueue 1.7 (see the quickstart): timestamps are
naive UTC ISO 8601 with microseconds. Every field a response model lists is always present (0, false or
null when unset): 1.7's fields first, in its order, the fields it did not have after them.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    WithJsonSchema,
)

from ..limits import (
    MAX_ACK_DEADLINE_SECONDS,
    MAX_BATCH_SIZE,
    MAX_DEDUPLICATION_WINDOW_SECONDS,
    MAX_DELAY_SECONDS,
    MAX_DELIVERIES,
    MAX_PAGE_SIZE,
    MAX_PUSH_IN_FLIGHT,
    MAX_RETENTION_SECONDS,
    MAX_RETRY_BACKOFF_SECONDS,
    MAX_WAIT_SECONDS,
    MIN_RETENTION_SECONDS,
)

# Letters, digits, ".", "_" and "-", but not dots alone: HTTP clients drop "." and ".." path segments
# (no lookahead: the pattern must read the same in pydantic's regex engine and in JSON Schema).
ID_PATTERN = r"^[a-zA-Z0-9._-]*[a-zA-Z0-9_-][a-zA-Z0-9._-]*$"
ID_MAX_LENGTH = 128
INT4_MAX = 2147483647


def naive_utc(value: datetime) -> str:
    """2022-10-05T19:21:30.651029: UTC, no offset, always six fractional digits (as fastqueue 1.7)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def _not_a_boolean(value: Any) -> Any:
    # pydantic's lax mode turns true into 1; numeric strings ("30", as httpie's `key=30` sends) stay welcome.
    if isinstance(value, bool):
        raise ValueError("Input should be a valid integer, not a boolean")
    return value


Timestamp = Annotated[
    datetime,
    PlainSerializer(naive_utc, return_type=str),
    # Not "format": "date-time": RFC 3339 wants an offset, and fastqueue 1.7's wire format has none.
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$",
            "description": "UTC, ISO 8601 without an offset, always with microseconds.",
            "examples": ["2022-10-05T19:21:30.651029"],
        },
        mode="serialization",
    ),
]
ResourceId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=ID_MAX_LENGTH,
        pattern=ID_PATTERN,
        description='1 to 128 characters, each a letter, a digit, ".", "_" or "-", not made only of dots.',
    ),
]
Integer = Annotated[int, BeforeValidator(_not_a_boolean)]


class ErrorDetail(BaseModel):
    """An error: a sentence from the database, or FastAPI's list of invalid fields."""

    detail: str | list[dict[str, Any]]

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "Queue not found"}]})


# FastAPI's own answer to a body it cannot even decode (not UTF-8, say): every route with a body has it.
# The `responses` of a route decorator: status -> its OpenAPI description (FastAPI's own type).
Responses = dict[int | str, dict[str, Any]]

BODY_NOT_JSON: Responses = {400: {"model": ErrorDetail, "description": "The body is not JSON text (UTF-8)"}}


# Topics


DEFAULT_DEDUPLICATION_WINDOW_SECONDS = 300


class TopicCreate(BaseModel):
    id: ResourceId
    deduplication_window_seconds: Integer = Field(
        DEFAULT_DEDUPLICATION_WINDOW_SECONDS,
        ge=0,
        le=MAX_DEDUPLICATION_WINDOW_SECONDS,
        description="How long a deduplication_id given to a publish is remembered; 0 turns deduplication off.",
    )

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "events"}]})


class Topic(BaseModel):
    id: str
    created_at: Timestamp
    deduplication_window_seconds: int = Field(
        description="How long a deduplication_id is remembered (300 by default); 0: deduplication is off."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "events", "created_at": "2022-10-05T19:21:30.651029", "deduplication_window_seconds": 300}
            ]
        }
    )


class TopicList(BaseModel):
    data: list[Topic]


# Queues

_QUEUE_EXAMPLE: dict[str, JsonValue] = {
    "id": "all-events",
    "topic_id": "events",
    "ack_deadline_seconds": 30,
    "message_retention_seconds": 1209600,
    "message_filters": None,
    "dead_queue_id": None,
    "message_max_deliveries": None,
}


class QueueSettings(BaseModel):
    topic_id: str | None = Field(None, description="The topic this queue receives messages from; null for none.")
    ack_deadline_seconds: Integer = Field(
        ge=1,
        le=MAX_ACK_DEADLINE_SECONDS,
        description="How long a consumed message stays leased before it is delivered again.",
    )
    message_retention_seconds: Integer = Field(
        ge=MIN_RETENTION_SECONDS,
        le=MAX_RETENTION_SECONDS,
        description="How long a message lives before it expires undelivered (at most 14 days).",
    )
    message_filters: dict[str, list[str]] | None = Field(
        None,
        description="Only messages whose attributes have every key with one of its listed values reach this queue;"
        " null takes every message.",
        examples=[{"event_name": ["created", "updated"]}],
    )
    dead_queue_id: str | None = Field(
        None, description="Where messages go after message_max_deliveries deliveries; given together with it."
    )
    message_max_deliveries: Integer | None = Field(
        None,
        ge=1,
        le=MAX_DELIVERIES,
        description="Deliveries before a message moves to dead_queue_id; given together with it.",
    )
    delivery_delay_seconds: Integer | None = Field(
        None,
        ge=1,
        le=MAX_DELAY_SECONDS,
        description="New messages become available only after this delay; null for none.",
    )
    retry_min_backoff_seconds: Integer | None = Field(
        None,
        ge=0,
        le=MAX_RETRY_BACKOFF_SECONDS,
        description="With retry_max_backoff_seconds: a nack without a delay waits"
        " min(max, min * 2^(delivery_attempts - 1)) seconds.",
    )
    retry_max_backoff_seconds: Integer | None = Field(
        None,
        ge=0,
        le=MAX_RETRY_BACKOFF_SECONDS,
        description="The longest retry backoff; given together with retry_min_backoff_seconds.",
    )
    enable_message_ordering: bool = Field(
        False, description="Deliver messages that share an ordering_key one at a time, in publish order."
    )
    filter: str | None = Field(
        None,
        min_length=1,
        max_length=256,
        description='A Pub/Sub-style filter over attributes, e.g. attributes.event = "created" AND NOT'
        " attributes:test; a message must pass it and message_filters.",
    )
    # Push delivery (docs/push.md); the rules are SQL's (create_queue, _check_push_endpoint).
    push_endpoint: str | None = Field(
        None,
        max_length=2048,
        description="null for a pull queue; else the http(s) URL `fastqueue worker` POSTs each message to.",
    )
    push_format: Literal["wrapped", "unwrapped"] = Field(
        "wrapped", description="wrapped: a JSON envelope; unwrapped: the body is the data, the rest in headers."
    )
    push_secret: str | None = Field(
        None,
        max_length=256,
        description="16..256 characters that sign each push request (fastqueue-signature). Write-only: never"
        ' returned (push_secret_set says whether one is set); on PUT, null keeps it and "" removes it.',
    )
    push_max_in_flight: Integer = Field(
        16, ge=1, le=MAX_PUSH_IN_FLIGHT, description="The most concurrent push requests."
    )


class QueueCreate(QueueSettings):
    id: ResourceId

    model_config = ConfigDict(json_schema_extra={"examples": [_QUEUE_EXAMPLE]})


class QueueUpdate(QueueSettings):
    """Replaces every setting: a field left out becomes null (or fails, for the required ones)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{k: v for k, v in _QUEUE_EXAMPLE.items() if k != "id"}]})


# Queue settings fastqueue 1.7 did not have: in every answer, after 1.7's fields (null or false when unset).
QUEUE_EXTENSION_FIELDS = (
    "delivery_delay_seconds",
    "retry_min_backoff_seconds",
    "retry_max_backoff_seconds",
    "enable_message_ordering",
    "filter",
    "push_endpoint",
    "push_format",
    "push_secret_set",
    "push_max_in_flight",
)


class Queue(BaseModel):
    id: str
    topic_id: str | None
    ack_deadline_seconds: int
    message_retention_seconds: int
    message_filters: dict[str, list[str]] | None
    dead_queue_id: str | None
    message_max_deliveries: int | None
    created_at: Timestamp
    updated_at: Timestamp
    # Beyond fastqueue 1.7: always present, after its fields.
    delivery_delay_seconds: int | None
    retry_min_backoff_seconds: int | None
    retry_max_backoff_seconds: int | None
    enable_message_ordering: bool
    filter: str | None
    push_endpoint: str | None
    push_format: str
    push_secret_set: bool
    push_max_in_flight: int

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_QUEUE_EXAMPLE,
                    "created_at": "2022-10-05T19:27:17.456611",
                    "updated_at": "2022-10-05T19:27:17.456611",
                    "delivery_delay_seconds": None,
                    "retry_min_backoff_seconds": None,
                    "retry_max_backoff_seconds": None,
                    "enable_message_ordering": False,
                    "filter": None,
                    "push_endpoint": None,
                    "push_format": "wrapped",
                    "push_secret_set": False,
                    "push_max_in_flight": 16,
                }
            ]
        }
    )


class QueueList(BaseModel):
    data: list[Queue]


class QueueStats(BaseModel):
    num_undelivered_messages: int = Field(description="Messages a consumer could lease now.")
    oldest_unacked_message_age_seconds: int = Field(description="Age of the oldest of them; 0 when there are none.")
    # Beyond fastqueue 1.7: always present, after its two counts.
    num_inflight_messages: int = Field(description="Messages leased now (delivered, lease not over, not expired).")
    num_delayed_messages: int = Field(description="Messages never delivered yet that become available later.")
    num_dead_letter_candidates: int = Field(
        description="On a queue with a dead queue: unexpired messages already delivered message_max_deliveries"
        " times, which cleanup() moves there once their last lease ends; 0 on a queue without one.",
    )
    push_in_flight: int | None = Field(
        description="On a push queue: push requests in flight now (null on a pull queue)."
    )
    push_window: int | None = Field(
        description="On a push queue: the endpoint's current window of concurrent requests (null until known)."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "num_undelivered_messages": 1,
                    "oldest_unacked_message_age_seconds": 165,
                    "num_inflight_messages": 0,
                    "num_delayed_messages": 0,
                    "num_dead_letter_candidates": 0,
                    "push_in_flight": None,
                    "push_window": None,
                }
            ]
        }
    )


class Redrive(BaseModel):
    destination_queue_id: str = Field(description="The queue that receives this queue's available messages.")

    model_config = ConfigDict(json_schema_extra={"examples": [{"destination_queue_id": "all-events"}]})


# Messages


class MessagePublish(BaseModel):
    data: dict[str, Any] = Field(description="The message: any JSON object.")
    attributes: dict[str, str] | None = Field(
        None, description="String values that queue filters match on; null for none."
    )
    delay_seconds: Integer | None = Field(
        None,
        ge=0,
        le=MAX_DELAY_SECONDS,
        description="Overrides the queues' delivery_delay_seconds for this message; null: theirs.",
    )
    deduplication_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="A second publish with this id to the topic within its deduplication window (300 s by default)"
        " stores nothing: the same message (data, attributes, ordering_key) gets the first publish's messages,"
        " another message 409.",
    )
    ordering_key: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="Queues with enable_message_ordering deliver messages that share it one at a time, in publish order.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"data": {"event_name": "event1", "success": True}, "attributes": {"event_name": "event1"}}]
        }
    )


class MessageBatchPublish(BaseModel):
    messages: list[MessagePublish] = Field(
        min_length=1, max_length=MAX_BATCH_SIZE, description="1 to 1000 messages, published all or nothing."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "messages": [
                        {"data": {"order_id": 42, "status": "created"}, "ordering_key": "order-42"},
                        {"data": {"order_id": 42, "status": "paid"}, "ordering_key": "order-42"},
                    ]
                }
            ]
        }
    )


class Message(BaseModel):
    id: UUID
    queue_id: str
    data: dict[str, Any]
    attributes: dict[str, str] | None
    delivery_attempts: int
    expired_at: Timestamp
    scheduled_at: Timestamp
    created_at: Timestamp
    updated_at: Timestamp
    # Beyond fastqueue 1.7: always present, after its fields.
    ordering_key: str | None = Field(description="The publish's ordering_key; null without one.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "671cfac2-252c-4c22-9abc-28809a4f9fe8",
                    "queue_id": "all-events",
                    "data": {"event_name": "event1", "success": True},
                    "attributes": {"event_name": "event1"},
                    "delivery_attempts": 1,
                    "expired_at": "2022-10-19T19:36:06.501056",
                    "scheduled_at": "2022-10-05T19:44:24.679562",
                    "created_at": "2022-10-05T19:36:06.501056",
                    "updated_at": "2022-10-05T19:43:54.679562",
                    "ordering_key": None,
                }
            ]
        }
    )


class MessageList(BaseModel):
    data: list[Message]


class MessageId(BaseModel):
    id: UUID = Field(description="The stored copy's id (what consume returns and ack takes).")
    queue_id: str = Field(description="The queue that holds this copy.")


class MessageIdList(BaseModel):
    """The copies a publish stored, without their data: a batch publish's answer (message by message in
    input order, each message's copies in queue id order), and a single publish's with
    `Prefer: return=minimal`."""

    data: list[MessageId]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"data": [{"id": "671cfac2-252c-4c22-9abc-28809a4f9fe8", "queue_id": "all-events"}]}]
        }
    )


# Settling leased messages: lease control and batches


class Deadline(BaseModel):
    seconds: Integer = Field(
        ge=0,
        le=MAX_ACK_DEADLINE_SECONDS,
        description="The lease ends this many seconds from now; 0 makes the message available at once.",
    )

    model_config = ConfigDict(json_schema_extra={"examples": [{"seconds": 60}]})


class MessageBatch(BaseModel):
    ids: list[UUID] = Field(
        min_length=1,
        max_length=MAX_BATCH_SIZE,
        description="1 to 1000 message ids; ids of messages that no longer exist are not counted.",
    )

    model_config = ConfigDict(json_schema_extra={"examples": [{"ids": ["671cfac2-252c-4c22-9abc-28809a4f9fe8"]}]})


class ConsumeRequest(BaseModel):
    """POST /queues/{queue_id}/messages/consume: ack the messages of the last lease and lease the next
    ones, in one transaction (GET /queues/{queue_id}/messages's query parameters, plus ack_ids)."""

    limit: Integer = Field(10, ge=1, le=MAX_PAGE_SIZE, description="Most messages to lease, 1 to 1000.")
    wait_seconds: Integer = Field(
        0,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Long polling, as on GET /queues/{queue_id}/messages: when no message is available, wait"
        " up to this many seconds (0..20) for one. The acks are made and committed before any wait.",
    )
    ack_ids: list[UUID] = Field(
        default_factory=list,
        max_length=MAX_BATCH_SIZE,
        description="0 to 1000 ids of this queue's messages to ack (delete) before leasing; ids of other"
        " queues' messages and of messages that no longer exist are ignored.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"limit": 10, "wait_seconds": 20, "ack_ids": ["671cfac2-252c-4c22-9abc-28809a4f9fe8"]}]
        }
    )


class MessageNackBatch(MessageBatch):
    delay_seconds: Integer | None = Field(
        None,
        ge=0,
        le=MAX_DELAY_SECONDS,
        description="Available again after this many seconds; null: after each queue's retry backoff (at once"
        " without one).",
    )


class AckedCount(BaseModel):
    acked: int = Field(description="How many of the messages were acked (deleted).")


class NackedCount(BaseModel):
    nacked: int = Field(description="How many of the messages were given back.")


class Health(BaseModel):
    success: bool
    primary: str | None = Field(
        None,
        description="host:port of the database server answering (with a multi-host FASTQUEUE_DATABASE_URL,"
        " the current primary); absent when success is false",
        examples=["127.0.0.1:5432"],
    )


# Overviews (the console, `fastqueue stats`): every column of the views, always present.


class QueueOverview(BaseModel):
    """A row of fastqueue.queue_overview: a queue's settings and its counts (as GET /queues/{id}/stats)."""

    id: str
    topic_id: str | None
    dead_queue_id: str | None
    message_filters: dict[str, list[str]] | None
    filter: str | None
    ack_deadline_seconds: int
    message_retention_seconds: int
    message_max_deliveries: int | None
    delivery_delay_seconds: int | None
    enable_message_ordering: bool
    retry_min_backoff_seconds: int | None
    retry_max_backoff_seconds: int | None
    available_messages: int = Field(description="A consumer could lease them now (num_undelivered_messages).")
    inflight_messages: int = Field(description="Leased now (num_inflight_messages).")
    delayed_messages: int = Field(description="Never delivered, scheduled later (num_delayed_messages).")
    dead_letter_candidates: int = Field(
        description="Unexpired and delivered message_max_deliveries times (num_dead_letter_candidates)."
    )
    total_messages: int = Field(description="Every stored message, expired ones not yet cleaned up included.")
    oldest_message_age_seconds: int = Field(
        description="Age of the oldest available message (oldest_unacked_message_age_seconds); 0 when none."
    )
    created_at: Timestamp
    updated_at: Timestamp
    push_endpoint: str | None = None
    push_format: str = "wrapped"
    push_secret_set: bool = False
    push_max_in_flight: int = 16
    push_in_flight: int | None = Field(None, description="Push requests in flight now (push queues only).")
    push_window: int | None = Field(None, description="The endpoint's current window (push queues only).")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "all-events",
                    "topic_id": "events",
                    "dead_queue_id": "all-events-dead",
                    "message_filters": None,
                    "filter": None,
                    "ack_deadline_seconds": 30,
                    "message_retention_seconds": 1209600,
                    "message_max_deliveries": 5,
                    "delivery_delay_seconds": None,
                    "enable_message_ordering": False,
                    "retry_min_backoff_seconds": None,
                    "retry_max_backoff_seconds": None,
                    "available_messages": 12,
                    "inflight_messages": 3,
                    "delayed_messages": 0,
                    "dead_letter_candidates": 1,
                    "total_messages": 16,
                    "oldest_message_age_seconds": 42,
                    "created_at": "2022-10-05T19:27:17.456611",
                    "updated_at": "2022-10-05T19:27:17.456611",
                }
            ]
        }
    )


class QueueOverviewList(BaseModel):
    data: list[QueueOverview]


class TopicOverview(BaseModel):
    """A row of fastqueue.topic_overview: a topic, its queues and what they hold available."""

    id: str
    created_at: Timestamp
    deduplication_window_seconds: int
    queue_ids: list[str] = Field(description="The queues subscribed to the topic, ordered by id.")
    queue_count: int
    available_messages: int = Field(description="The sum of its queues' available_messages.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "events",
                    "created_at": "2022-10-05T19:21:30.651029",
                    "deduplication_window_seconds": 300,
                    "queue_ids": ["all-events", "audit"],
                    "queue_count": 2,
                    "available_messages": 12,
                }
            ]
        }
    )


class TopicOverviewList(BaseModel):
    data: list[TopicOverview]
