"""Size limits of the HTTP API, and the guard that refuses oversized request bodies before they are parsed.

The message size rule itself lives in SQL (db/functions/publish.sql reads the custom setting
fastqueue.max_message_bytes, which the gateway sets on its connections: app/db.py). Here only:

- the request body guard: a body larger than the message limit plus ENVELOPE_BYTES cannot hold an
  acceptable message, so it gets 413 before anything reads it into memory and parses it;
- page sizes (`limit` of the list and consume routes: 1..MAX_PAGE_SIZE, else FastAPI's 422, as the
  SQL functions bound them too);
- MAX_BATCH_SIZE, for batch endpoints (publish or ack many at once) when they come: none exists yet.
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
# The most items one batch request may carry (for batch endpoints to come; nothing uses it yet). Such an
# endpoint needs its own body allowance: MAX_BATCH_SIZE messages do not fit max_body_bytes().
MAX_BATCH_SIZE = 100


def max_body_bytes(max_message_bytes: int) -> int:
    return max_message_bytes + ENVELOPE_BYTES


class BodySizeLimitMiddleware:
    """413 for a request body over max_message_bytes + ENVELOPE_BYTES, before the application reads it.

    With a Content-Length the header decides (the server never delivers more than it announces). Without
    one (Transfer-Encoding: chunked) the chunks are read and counted here, holding at most the limit in
    memory, then handed on to the application as one body; the first chunk past the limit ends it with 413.
    """

    def __init__(self, app: ASGIApp, max_message_bytes: int) -> None:
        self.app = app
        self.max_message_bytes = max_message_bytes
        self.max_body_bytes = max_body_bytes(max_message_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared > self.max_body_bytes:
                await self._too_large(f"{declared} bytes", scope, receive, send)
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
            if size > self.max_body_bytes:
                chunks.clear()
                await self._too_large(f"more than {self.max_body_bytes} bytes", scope, receive, send)
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

    async def _too_large(self, size: str, scope: Scope, receive: Receive, send: Send) -> None:
        detail = (
            f"Request body too large: {size}, the limit is {self.max_body_bytes} bytes"
            f" (a message of at most {self.max_message_bytes} bytes plus {ENVELOPE_BYTES} for the rest of the request)"
        )
        await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() else None
