"""Size limits of the HTTP API, and the guard that refuses oversized request bodies before they are parsed.

The message size rule itself lives in SQL (db/functions/publish.sql reads the custom setting
fastqueue.max_message_bytes, which the gateway sets on its connections: app/db.py). Here only:

- the request body guard: a body larger than the message limit plus ENVELOPE_BYTES cannot hold an
  acceptable message, so it gets 413 before anything reads it into memory and parses it; a batch
  publish (POST /topics/{id}/messages/batch) may be larger, up to FASTQUEUE_MAX_BATCH_BYTES;
- page sizes (`limit` of the list and consume routes: 1..MAX_PAGE_SIZE, else FastAPI's 422, as the
  SQL functions bound them too);
- MAX_BATCH_SIZE, the most items of a batch request (publish_batch takes 1..1000 messages in SQL too);
- DEFAULT_MAX_RESPONSE_BYTES, how much of messages one consume or peek answers (applied in SQL while leasing).
"""

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
# jsonb cannot hold more than 2^28 - 1 bytes; a larger limit would promise what PostgreSQL refuses.
MAX_MESSAGE_BYTES_CEILING = 2**28 - 1
# What a request body may hold beyond the message: the JSON envelope, whitespace, escapes.
ENVELOPE_BYTES = 64 * 1024
MAX_PAGE_SIZE = 1000
# The ranges the SQL checks (db/functions/_allowed.sql, and the CHECK constraints of fastqueue.queues and
# fastqueue.topics in db/schema.sql); the request models repeat them only to answer 422 with the range
# before the database is asked. Every Python mention of them reads them from here.
MAX_DELAY_SECONDS = 900  # a message's delay_seconds and a nack's: 0..; a queue's delivery_delay_seconds: 1..
MAX_ACK_DEADLINE_SECONDS = 600  # ack_deadline_seconds 1..; a lease set by set_deadline 0..
MIN_RETENTION_SECONDS, MAX_RETENTION_SECONDS = 600, 1209600  # message_retention_seconds (14 days at most)
MAX_DELIVERIES = 1000  # message_max_deliveries 1..
MAX_RETRY_BACKOFF_SECONDS = 600  # retry_min_backoff_seconds and retry_max_backoff_seconds 0..
MAX_PUSH_IN_FLIGHT = 1000  # push_max_in_flight 1..
MAX_DEDUPLICATION_WINDOW_SECONDS = 86400  # a topic's deduplication_window_seconds 0..
# The longest long poll a consume may ask for (wait_seconds 0..MAX_WAIT_SECONDS): the wait is the
# gateway's alone, the SQL API has nothing to wait on.
MAX_WAIT_SECONDS = 20
# The most items one batch request may carry. A batch publish has its own body allowance (below):
# MAX_BATCH_SIZE messages do not fit max_body_bytes().
MAX_BATCH_SIZE = 1000
# A batch publish body may hold this much by default (FASTQUEUE_MAX_BATCH_BYTES): 1,000 messages of 1 MiB
# would be a gigabyte parsed in one process, so the batch as a whole is capped, never below one message.
DEFAULT_MAX_BATCH_BYTES = 16 * 1024 * 1024
# A consume answers at most this many bytes of messages by default (FASTQUEUE_MAX_RESPONSE_BYTES), always at
# least one message: consume() in SQL stops leasing there (the setting fastqueue.max_response_bytes).
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
# The route template whose bodies get the batch allowance, matched on the raw path before routing.
BATCH_PATH_PREFIX, BATCH_PATH_SUFFIX = "/topics/", "/messages/batch"


def max_body_bytes(max_message_bytes: int) -> int:
    return max_message_bytes + ENVELOPE_BYTES


def max_batch_body_bytes(max_message_bytes: int, max_batch_bytes: int) -> int:
    # A batch may always carry one message of the largest size a single publish accepts.
    return max(max_batch_bytes, max_body_bytes(max_message_bytes))


def _is_batch_path(path: str) -> bool:
    if not (path.startswith(BATCH_PATH_PREFIX) and path.endswith(BATCH_PATH_SUFFIX)):
        return False
    topic_id = path[len(BATCH_PATH_PREFIX) : -len(BATCH_PATH_SUFFIX)]
    return bool(topic_id) and "/" not in topic_id


class BodySizeLimitMiddleware:
    """413 for a request body over max_message_bytes + ENVELOPE_BYTES, before the application reads it.

    With a Content-Length the header decides (the server never delivers more than it announces). Without
    one (Transfer-Encoding: chunked) the chunks are read and counted here, holding at most the limit in
    memory, then handed on to the application as one body; the first chunk past the limit ends it with 413.
    """

    def __init__(self, app: ASGIApp, max_message_bytes: int, max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES) -> None:
        self.app = app
        self.max_message_bytes = max_message_bytes
        self.max_body_bytes = max_body_bytes(max_message_bytes)
        self.max_batch_body_bytes = max_batch_body_bytes(max_message_bytes, max_batch_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        batch = scope["method"] == "POST" and _is_batch_path(scope["path"])
        limit = self.max_batch_body_bytes if batch else self.max_body_bytes
        declared = _content_length(scope)
        if declared is not None:
            if declared > limit:
                await self._too_large(f"{declared} bytes", limit, batch, scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # http.disconnect: nobody is left to answer
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                chunks.clear()
                await self._too_large(f"more than {limit} bytes", limit, batch, scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        del chunks
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # what follows the body: http.disconnect

        await self.app(scope, replay, send)

    async def _too_large(self, size: str, limit: int, batch: bool, scope: Scope, receive: Receive, send: Send) -> None:
        if batch:
            detail = f"Request body too large: {size}, the limit for a batch is {limit} bytes (FASTQUEUE_MAX_BATCH_BYTES)"
        else:
            detail = (
                f"Request body too large: {size}, the limit is {limit} bytes (a message of at most"
                f" {self.max_message_bytes} bytes plus {ENVELOPE_BYTES} for the rest of the request)"
            )
        await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() else None
