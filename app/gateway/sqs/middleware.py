"""The SQS endpoint inside the gateway: an ASGI middleware that answers SQS requests itself and hands
every other request to the REST API untouched.

A request is SQS's when it is a POST carrying `X-Amz-Target: AmazonSQS.<Action>` (the JSON protocol;
any path, though SDKs use `/`). It never reaches the REST API's bearer-token check or body guard: it
is authenticated here (app/gateway/sqs/signing.py) and its body is bounded here (MAX_REQUEST_BYTES).
"""

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...settings import Settings
from . import actions
from .protocol import TARGET_PREFIX, SqsError, answer, error_answer, parse_body
from .receipts import ReceiptHandles
from .signing import (
    Caller,
    Credential,
    SignedRequest,
    authenticate,
    open_caller,
    parse_credentials,
)

log = logging.getLogger("fastqueue.sqs")

# A batch of 10 messages of 256 KiB, each character escaped in JSON (up to 6 bytes), and the envelope.
MAX_REQUEST_BYTES = 16 * 1024 * 1024


class SqsSettings(BaseSettings):
    """FASTQUEUE_SQS_CREDENTIALS and FASTQUEUE_SQS_RECEIPT_KEY (from the environment or .env)."""

    model_config = SettingsConfigDict(
        env_prefix="FASTQUEUE_SQS_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    credentials: SecretStr | None = None
    receipt_key: SecretStr | None = None

    @field_validator("credentials")
    @classmethod
    def _well_formed(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_credentials(value.get_secret_value())  # raises ValueError saying what is wrong
        return value

    def parsed_credentials(self) -> dict[str, Credential] | None:
        return None if self.credentials is None else parse_credentials(self.credentials.get_secret_value())


def receipt_key(settings: Settings, sqs_settings: SqsSettings) -> bytes:
    """FASTQUEUE_SQS_RECEIPT_KEY, or a key derived from what every process of a deployment shares."""
    if sqs_settings.receipt_key is not None:
        return sqs_settings.receipt_key.get_secret_value().encode("utf-8")
    credentials = sqs_settings.credentials.get_secret_value() if sqs_settings.credentials else ""
    return hashlib.sha256(f"{settings.conninfo}\0{credentials}".encode()).digest()


@dataclass(frozen=True)
class SqsRoute:
    """What the metrics middleware labels an SQS request with (scope["route"].path)."""

    path: str


class SqsMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, sqs_settings: SqsSettings | None = None) -> None:
        self.app = app
        sqs_settings = sqs_settings or SqsSettings()
        self.credentials = sqs_settings.parsed_credentials()
        # The REST API is closed (bearer tokens) and no SQS credentials are given: SQS is closed too.
        self.closed = self.credentials is None and settings.tokens is not None
        self.receipts = ReceiptHandles(receipt_key(settings, sqs_settings))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        target = headers.get("x-amz-target", "")
        if not target.startswith(TARGET_PREFIX):
            await self.app(scope, receive, send)
            return
        action = target[len(TARGET_PREFIX) :]
        scope["route"] = SqsRoute(f"/ (SQS {action if action in actions.ACTIONS else 'other'})")
        response = await self._answer(scope, receive, headers, action)
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, headers: Headers, action: str) -> Response:
        disconnected = asyncio.Event()
        try:
            body = await _read_body(receive, disconnected)
            request = SignedRequest(
                method=scope["method"],
                raw_path=scope.get("raw_path", scope["path"].encode()).decode("latin-1").split("?", 1)[0],
                query_string=scope.get("query_string", b"").decode("latin-1"),
                headers={name: value for name, value in headers.items()},
                body=body,
            )
            caller = self._caller(request)
            handler = actions.handler_for(action, caller.role)
            params = parse_body(body)
            context = actions.Context(
                pool=scope["app"].state.pool,
                listener=scope["app"].state.listener,
                receipts=self.receipts,
                caller=caller,
                base_url=_base_url(scope, headers),
                disconnected=disconnected,
            )
            watch = asyncio.create_task(_watch_disconnect(receive, disconnected))
            try:
                return answer(await handler(context, params))
            finally:
                watch.cancel()
        except SqsError as error:
            return error_answer(error)
        except Exception:
            log.exception("SQS %s failed", action[:100])
            return error_answer(SqsError("InternalFailure", "Internal Server Error"))

    def _caller(self, request: SignedRequest) -> Caller:
        if self.closed:
            raise SqsError(
                "InvalidClientTokenId",
                "The SQS endpoint is closed: FASTQUEUE_AUTH_TOKENS is set and FASTQUEUE_SQS_CREDENTIALS is not.",
            )
        if self.credentials is None:
            return open_caller(request)
        return authenticate(request, self.credentials)


async def _read_body(receive: Receive, disconnected: asyncio.Event) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            disconnected.set()
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise SqsError("RequestEntityTooLarge", f"The request body is larger than {MAX_REQUEST_BYTES} bytes.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _watch_disconnect(receive: Receive, disconnected: asyncio.Event) -> None:
    """After the body, the next ASGI message is http.disconnect: a long poll whose client left ends."""
    if disconnected.is_set():
        return
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            disconnected.set()
            return


def _base_url(scope: Scope, headers: Headers) -> str:
    host = headers.get("host")
    if not host:
        server: Any = scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"
