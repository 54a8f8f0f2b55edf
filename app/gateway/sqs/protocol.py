"""SQS's JSON protocol: the request's action, its parameters, and answers and errors in SQS's shapes.

A request is `POST /` (any path) with `X-Amz-Target: AmazonSQS.<Action>` and a JSON object body
(`Content-Type: application/x-amz-json-1.0`). A success answers 200 with a JSON object. An error
answers its HTTP status with `{"__type": "com.amazonaws.sqs#<Shape>", "message": ...}` and the header
`x-amzn-query-error: <query code>;Sender` (or `;Receiver`): botocore raises the modeled exception named
by the shape (QueueDoesNotExist, ReceiptHandleIsInvalid, ...) and reports the query code as
`Error.Code`, as SQS does, so code written against either protocol's codes keeps working.
"""

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

TARGET_PREFIX = "AmazonSQS."
CONTENT_TYPE = "application/x-amz-json-1.0"

# The error shape -> (its code in the query protocol, HTTP status). Shapes of SQS's model and the
# common AWS errors SQS answers (InvalidParameterValue, MissingParameter, the signature errors).
ERRORS: dict[str, tuple[str, int]] = {
    "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
    "QueueNameExists": ("QueueAlreadyExists", 400),
    "ReceiptHandleIsInvalid": ("ReceiptHandleIsInvalid", 400),
    "MessageNotInflight": ("AWS.SimpleQueueService.MessageNotInflight", 400),
    "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
    "TooManyEntriesInBatchRequest": ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400),
    "BatchEntryIdsNotDistinct": ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
    "BatchRequestTooLong": ("AWS.SimpleQueueService.BatchRequestTooLong", 400),
    "InvalidBatchEntryId": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400),
    "UnsupportedOperation": ("AWS.SimpleQueueService.UnsupportedOperation", 400),
    "InvalidAttributeName": ("InvalidAttributeName", 400),
    "InvalidAttributeValue": ("InvalidAttributeValue", 400),
    "InvalidMessageContents": ("InvalidMessageContents", 400),
    "InvalidParameterValue": ("InvalidParameterValue", 400),
    "MissingParameter": ("MissingParameter", 400),
    "InvalidAction": ("InvalidAction", 400),
    "SerializationException": ("SerializationException", 400),
    "RequestEntityTooLarge": ("RequestEntityTooLarge", 413),
    "MissingAuthenticationToken": ("MissingAuthenticationToken", 403),
    "InvalidClientTokenId": ("InvalidClientTokenId", 403),
    "SignatureDoesNotMatch": ("SignatureDoesNotMatch", 403),
    "AccessDenied": ("AccessDenied", 403),
    "InternalFailure": ("InternalFailure", 500),
    "ServiceUnavailable": ("ServiceUnavailable", 503),
}


class SqsError(Exception):
    """An error answered in SQS's shape; `shape` is a key of ERRORS."""

    def __init__(self, shape: str, message: str) -> None:
        super().__init__(message)
        if shape not in ERRORS:
            raise ValueError(f"unknown SQS error shape {shape!r}")
        self.shape = shape
        self.message = message

    @property
    def query_code(self) -> str:
        return ERRORS[self.shape][0]

    @property
    def status(self) -> int:
        return ERRORS[self.shape][1]

    @property
    def sender_fault(self) -> bool:
        return self.status < 500


def invalid(parameter: str, value: object, reason: str) -> SqsError:
    """SQS's own wording for a parameter out of its rules."""
    return SqsError("InvalidParameterValue", f"Value {value} for parameter {parameter} is invalid. Reason: {reason}")


def answer(content: Mapping[str, Any]) -> Response:
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status_code=200, media_type=CONTENT_TYPE)


def error_answer(error: SqsError) -> Response:
    body = json.dumps(
        {"__type": f"com.amazonaws.sqs#{error.shape}", "message": error.message}, ensure_ascii=False
    ).encode("utf-8")
    fault = "Sender" if error.sender_fault else "Receiver"
    return Response(
        body,
        status_code=error.status,
        media_type=CONTENT_TYPE,
        headers={"x-amzn-query-error": f"{error.query_code};{fault}"},
    )


def parse_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise SqsError("SerializationException", "The request body is not a JSON object") from None
    if not isinstance(parsed, dict):
        raise SqsError("SerializationException", "The request body is not a JSON object")
    return parsed


# Reading parameters: boto3 checks types before sending, other clients may not.


def string(params: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None:
        if required:
            raise SqsError("MissingParameter", f"The request must contain the parameter {name}.")
        return None
    if not isinstance(value, str):
        raise SqsError("InvalidParameterValue", f"The parameter {name} must be a string.")
    return value


def required_string(params: Mapping[str, Any], name: str) -> str:
    value = string(params, name, required=True)
    assert value is not None
    return value


def integer(params: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SqsError("InvalidParameterValue", f"The parameter {name} must be an integer.")
    if not low <= value <= high:
        raise invalid(name, value, f"Must be between {low} and {high}, if provided.")
    return value


def string_list(params: Mapping[str, Any], name: str) -> list[str]:
    value = params.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SqsError("InvalidParameterValue", f"The parameter {name} must be a list of strings.")
    return value


def string_map(params: Mapping[str, Any], name: str) -> dict[str, str]:
    value = params.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise SqsError("InvalidParameterValue", f"The parameter {name} must be a map of strings.")
    return value


def object_list(params: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    value = params.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise SqsError("InvalidParameterValue", f"The parameter {name} must be a list of objects.")
    return value
