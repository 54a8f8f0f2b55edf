"""The guard that refuses oversized request bodies before they are parsed: a body larger than the message
limit plus ENVELOPE_BYTES cannot hold an acceptable message, so it gets 413 before anything reads it into
memory and parses it; a batch publish (POST /topics/{id}/messages/batch) may be larger, up to
FASTQUEUE_MAX_BATCH_BYTES. The limits themselves are app/limits.py's."""

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..limits import DEFAULT_MAX_BATCH_BYTES, ENVELOPE_BYTES, max_batch_body_bytes, max_body_bytes

# The route template whose bodies get the batch allowance, matched on the raw path before routing.
BATCH_PATH_PREFIX, BATCH_PATH_SUFFIX = "/topics/", "/messages/batch"


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
            detail = (
                f"Request body too large: {size}, the limit for a batch is {limit} bytes (FASTQUEUE_MAX_BATCH_BYTES)"
            )
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
