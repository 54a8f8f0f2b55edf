"""What a push request carries (docs/push.md): the body and headers of the wrapped and unwrapped
formats, and the fastqueue-signature header."""

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from typing import Any

SIGNATURE_HEADER = "fastqueue-signature"
USER_AGENT = "fastqueue-push/1"
# A header name is an RFC 9110 token; a value here is visible ASCII and spaces. Anything else in an
# attribute's name or value is percent-encoded (UTF-8), so no attribute can break a header or add one.
_TOKEN = re.compile(r"[!#$&'*+.^_`|~0-9A-Za-z-]")
_VALUE = re.compile(r"[\x20-\x24\x26-\x7e]")


def _encode(text: str, allowed: re.Pattern[str]) -> str:
    return "".join(c if allowed.fullmatch(c) else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def _created_at(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


def _json_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def request_body(message: dict[str, Any], push_format: str) -> tuple[bytes, dict[str, str]]:
    """The body and the format's own headers for one message: a row of fastqueue.consume() with data
    and attributes as the JSON text PostgreSQL wrote (so every number goes out exactly as stored)."""
    data: str = message["data"]
    attributes_text: str | None = message["attributes"]
    if push_format == "unwrapped":
        headers = {
            "content-type": "application/json",
            "fastqueue-message-id": str(message["id"]),
            "fastqueue-queue-id": message["queue_id"],
            "fastqueue-delivery-attempts": str(message["delivery_attempts"]),
        }
        attributes: dict[str, Any] = json.loads(attributes_text) if attributes_text else {}
        for name, value in attributes.items():
            headers[f"fastqueue-attribute-{_encode(name, _TOKEN)}"] = _encode(str(value), _VALUE)
        return data.encode(), headers
    body = (
        '{"message":{"id":'
        + _json_text(str(message["id"]))
        + ',"data":'
        + data
        + ',"attributes":'
        + (attributes_text if attributes_text is not None else "null")
        + ',"delivery_attempts":'
        + str(int(message["delivery_attempts"]))
        + ',"created_at":'
        + _json_text(_created_at(message["created_at"]))
        + '},"queue_id":'
        + _json_text(message["queue_id"])
        + "}"
    )
    return body.encode(), {"content-type": "application/json"}


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The fastqueue-signature header's value: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"
