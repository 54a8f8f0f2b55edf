"""Receipt handles: opaque, new on every receive, fenced, and authenticated.

A handle carries the message's id and the delivery attempt it was received with (consume's
delivery_attempts), a random nonce (so two handles never look alike), and an HMAC-SHA256 over those and
the queue's id with the server's receipt key. DeleteMessage and ChangeMessageVisibility pass the id
and attempt to fastqueue's fenced ack / set_deadline: the handle of an earlier receive names an
attempt that is no longer the latest, and changes nothing (the call succeeds, as in SQS). A handle whose
HMAC does not match (forged, corrupted, or of another queue) is ReceiptHandleIsInvalid.

The key: FASTQUEUE_SQS_RECEIPT_KEY when set, else derived from the configuration every server process
of one deployment shares (the database URL and FASTQUEUE_SQS_CREDENTIALS), so all processes and
restarts accept each other's handles.
"""

import base64
import binascii
import hashlib
import hmac
import os
import struct
import uuid
from dataclasses import dataclass

from .protocol import SqsError

VERSION = 1
_LAYOUT = struct.Struct(">B16sI8s")  # version, message id, delivery attempt, nonce
_MAC_BYTES = 16


@dataclass(frozen=True)
class Receipt:
    message_id: uuid.UUID
    delivery_attempt: int


class ReceiptHandles:
    def __init__(self, key: bytes) -> None:
        self._key = hashlib.sha256(b"fastqueue sqs receipt handles\0" + key).digest()

    def _mac(self, queue_id: str, fields: bytes) -> bytes:
        return hmac.new(self._key, fields + queue_id.encode("utf-8"), hashlib.sha256).digest()[:_MAC_BYTES]

    def issue(self, queue_id: str, message_id: uuid.UUID, delivery_attempt: int) -> str:
        fields = _LAYOUT.pack(VERSION, message_id.bytes, delivery_attempt, os.urandom(8))
        return base64.urlsafe_b64encode(fields + self._mac(queue_id, fields)).decode("ascii").rstrip("=")

    def read(self, queue_id: str, handle: str) -> Receipt:
        invalid = SqsError(
            "ReceiptHandleIsInvalid", f'The input receipt handle "{handle[:200]}" is not a valid receipt handle.'
        )
        try:
            raw = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4))
        except (binascii.Error, ValueError):
            raise invalid from None
        if len(raw) != _LAYOUT.size + _MAC_BYTES:
            raise invalid
        fields, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
        if not hmac.compare_digest(mac, self._mac(queue_id, fields)):
            raise invalid
        version, message_id, attempt, _ = _LAYOUT.unpack(fields)
        if version != VERSION or attempt < 1:
            raise invalid
        return Receipt(uuid.UUID(bytes=message_id), attempt)
