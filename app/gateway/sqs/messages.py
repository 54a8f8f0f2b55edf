"""SQS messages as fastqueue messages, and back; their checksums; SQS's message rules.

The representation (docs/sqs.md): an SQS message is stored with

    data = {"body": "<the SQS body, as a JSON string>"}
           + "message_attributes": {name: {"DataType": ..., "StringValue": ... | "BinaryValue": "<base64>"}}
             when it has message attributes,
           + "aws_trace_header": "<AWSTraceHeader>" when it has that system attribute;
    attributes = {name: StringValue} for its String and Number attributes (what queue filters match;
                 null when it has none).

A JSON string holds any SQS body (SQS allows #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD and
#x10000-#x10FFFF, all of which jsonb stores and returns unchanged), so the body comes back byte for
byte; a REST or SQL consumer reads it at data->>'body'. A message published over REST or SQL is
received over SQS as its data's JSON text (compact, as the REST API answers it), with its attributes
as String message attributes, unless its data has that shape itself ("body" a string, and no key
other than the three above): then it is read as an SQS message.
"""

import base64
import hashlib
import json
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .protocol import SqsError

# SQS's limits.
MAX_MESSAGE_BYTES = 256 * 1024  # body and message attributes (names, types and values) together
MAX_ATTRIBUTES = 10
MAX_ATTRIBUTE_NAME_LENGTH = 256
MAX_DATA_TYPE_LENGTH = 256

_SQS_KEYS = frozenset({"body", "message_attributes", "aws_trace_header"})
# The characters SQS allows in a body and in string attribute values.
_NOT_ALLOWED = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_DATA_TYPE = re.compile(r"(String|Number|Binary)(\..+)?", re.DOTALL)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

STRING, BINARY = 1, 2  # the transport type bytes of MD5OfMessageAttributes


@dataclass(frozen=True)
class Attribute:
    """One message attribute: data_type String*, Number* (string_value) or Binary* (binary_value)."""

    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None

    def to_sqs(self) -> dict[str, Any]:
        if self.binary_value is not None:
            return {"DataType": self.data_type, "BinaryValue": base64.b64encode(self.binary_value).decode("ascii")}
        return {"DataType": self.data_type, "StringValue": self.string_value}

    @property
    def size(self) -> int:
        value = self.binary_value if self.binary_value is not None else (self.string_value or "").encode("utf-8")
        return len(self.data_type.encode("utf-8")) + len(value)


# Checksums, as SQS computes them (the Java and .NET SDKs verify them).


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest()


def _length_prefixed(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def md5_of_attributes(attributes: Mapping[str, Attribute]) -> str:
    """Names in byte order; for each: its name, its data type (both UTF-8, each after its length as a
    4-byte big-endian integer), one byte 1 (string) or 2 (binary), then its value, length-prefixed too."""
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes, key=lambda name: name.encode("utf-8")):
        attribute = attributes[name]
        digest.update(_length_prefixed(name.encode("utf-8")))
        digest.update(_length_prefixed(attribute.data_type.encode("utf-8")))
        if attribute.binary_value is not None:
            digest.update(bytes([BINARY]) + _length_prefixed(attribute.binary_value))
        else:
            digest.update(bytes([STRING]) + _length_prefixed((attribute.string_value or "").encode("utf-8")))
    return digest.hexdigest()


# SQS's rules for what is sent.


def check_body(body: str) -> None:
    if body == "":
        raise SqsError("InvalidParameterValue", "The request must contain a non-empty message body.")
    if _NOT_ALLOWED.search(body):
        raise SqsError(
            "InvalidMessageContents",
            "Invalid characters found. Valid values: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
        )


def parse_attributes(value: object) -> dict[str, Attribute]:
    """MessageAttributes as the JSON protocol sends them (BinaryValue in base64), checked."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SqsError("InvalidParameterValue", "MessageAttributes must be a map.")
    if len(value) > MAX_ATTRIBUTES:
        raise SqsError(
            "InvalidParameterValue",
            f"Number of message attributes [{len(value)}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
        )
    attributes: dict[str, Attribute] = {}
    for name, attribute in value.items():
        _check_attribute_name(name)
        if not isinstance(attribute, dict):
            raise SqsError("InvalidParameterValue", f"The message attribute '{name}' must be an object.")
        data_type = attribute.get("DataType")
        if not isinstance(data_type, str) or not data_type:
            raise SqsError(
                "InvalidParameterValue", f"The message attribute '{name}' must contain a non-empty attribute type."
            )
        if len(data_type) > MAX_DATA_TYPE_LENGTH or not _DATA_TYPE.fullmatch(data_type):
            raise SqsError(
                "InvalidParameterValue",
                f"The type of message (user) attribute '{name}' is invalid. You must use only the following"
                " supported type prefixes: Binary, Number, String.",
            )
        if attribute.get("StringListValues") or attribute.get("BinaryListValues"):
            raise SqsError("InvalidParameterValue", f"The message attribute '{name}': list values are not supported.")
        if data_type.startswith("Binary"):
            encoded = attribute.get("BinaryValue")
            if not isinstance(encoded, str) or not encoded:
                raise SqsError(
                    "InvalidParameterValue",
                    f"The message attribute '{name}' with type 'Binary' must use field 'Binary'.",
                )
            try:
                binary = base64.b64decode(encoded, validate=True)
            except ValueError:
                raise SqsError(
                    "InvalidParameterValue", f"The message attribute '{name}' has a BinaryValue that is not base64."
                ) from None
            attributes[name] = Attribute(data_type, binary_value=binary)
            continue
        string_value = attribute.get("StringValue")
        if not isinstance(string_value, str) or not string_value:
            raise SqsError(
                "InvalidParameterValue",
                f"The message attribute '{name}' with type '{data_type.split('.')[0]}' must use field 'String'.",
            )
        if _NOT_ALLOWED.search(string_value):
            raise SqsError(
                "InvalidParameterValue", f"The message attribute '{name}' contains characters SQS does not allow."
            )
        if data_type.startswith("Number") and not _NUMBER.fullmatch(string_value):
            raise SqsError(
                "InvalidParameterValue", f"Can't cast the value of message (user) attribute '{name}' to a number."
            )
        attributes[name] = Attribute(data_type, string_value=string_value)
    return attributes


def _check_attribute_name(name: str) -> None:
    if (
        not name
        or len(name) > MAX_ATTRIBUTE_NAME_LENGTH
        or not _ATTRIBUTE_NAME.fullmatch(name)
        or name.startswith(".")
        or name.endswith(".")
        or ".." in name
        or name.lower().startswith(("aws.", "amazon."))
    ):
        raise SqsError(
            "InvalidParameterValue",
            f"Message (user) attribute name '{name}' is invalid: use 1 to 256 letters, digits, '_', '-' and '.',"
            " without '..', not starting or ending with '.', and not starting with 'AWS.' or 'Amazon.'.",
        )


def message_size(body: str, attributes: Mapping[str, Attribute]) -> int:
    return len(body.encode("utf-8")) + sum(len(name.encode("utf-8")) + a.size for name, a in attributes.items())


def check_size(body: str, attributes: Mapping[str, Attribute]) -> int:
    size = message_size(body, attributes)
    if size > MAX_MESSAGE_BYTES:
        raise SqsError(
            "InvalidParameterValue",
            f"One or more parameters are invalid. Reason: Message must be shorter than {MAX_MESSAGE_BYTES} bytes.",
        )
    return size


# The stored form.


def to_fastqueue(
    body: str, attributes: Mapping[str, Attribute], trace_header: str | None
) -> tuple[dict[str, Any], dict[str, str] | None]:
    """(data, attributes) for fastqueue.send()."""
    data: dict[str, Any] = {"body": body}
    if attributes:
        data["message_attributes"] = {name: attribute.to_sqs() for name, attribute in attributes.items()}
    if trace_header is not None:
        data["aws_trace_header"] = trace_header
    filterable = {
        name: attribute.string_value for name, attribute in attributes.items() if attribute.string_value is not None
    }
    return data, filterable or None


@dataclass(frozen=True)
class Received:
    body: str
    attributes: dict[str, Attribute]
    trace_header: str | None


def from_fastqueue(data_text: bytes, attributes_text: bytes | None) -> Received:
    """A stored message (data and attributes as JSON text) as SQS shows it."""
    data = json.loads(data_text)
    if isinstance(data, dict) and isinstance(data.get("body"), str) and _SQS_KEYS.issuperset(data):
        stored = data.get("message_attributes")
        trace = data.get("aws_trace_header")
        attributes = _stored_attributes(stored) if isinstance(stored, dict) else {}
        if attributes is not None:
            return Received(data["body"], attributes, trace if isinstance(trace, str) else None)
    # Published over REST or SQL: the JSON text, and the attributes as strings.
    plain = json.loads(attributes_text) if attributes_text is not None else None
    strings = (
        {
            name: Attribute("String", string_value=value)
            for name, value in plain.items()
            if isinstance(value, str) and value
        }
        if isinstance(plain, dict)
        else {}
    )
    return Received(data_text.decode("utf-8"), strings, None)


def _stored_attributes(stored: Mapping[str, Any]) -> dict[str, Attribute] | None:
    """The attributes stored by to_fastqueue, or None when they are not in that shape."""
    attributes: dict[str, Attribute] = {}
    for name, value in stored.items():
        if not isinstance(value, dict) or not isinstance(value.get("DataType"), str):
            return None
        if isinstance(value.get("BinaryValue"), str):
            try:
                attributes[name] = Attribute(value["DataType"], binary_value=base64.b64decode(value["BinaryValue"]))
            except ValueError:
                return None
        elif isinstance(value.get("StringValue"), str):
            attributes[name] = Attribute(value["DataType"], string_value=value["StringValue"])
        else:
            return None
    return attributes


def select_attributes(attributes: Mapping[str, Attribute], names: list[str]) -> dict[str, Attribute]:
    """ReceiveMessage's MessageAttributeNames: All or .*, exact names, or prefixes ending in .*."""
    if not names:
        return {}
    if "All" in names or ".*" in names:
        return dict(attributes)
    prefixes = tuple(name[:-1] for name in names if name.endswith(".*"))
    exact = set(names)
    return {
        name: attribute
        for name, attribute in attributes.items()
        if name in exact or (prefixes and name.startswith(prefixes))
    }
