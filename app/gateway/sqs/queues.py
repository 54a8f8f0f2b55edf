"""SQS queue attributes as fastqueue queue settings, and queue URLs.

    VisibilityTimeout            ack_deadline_seconds (1..600; SQS allows 0..43200)
    MessageRetentionPeriod       message_retention_seconds (600..1209600; SQS allows 60..1209600)
    DelaySeconds                 delivery_delay_seconds (0..900, 0 stored as null)
    RedrivePolicy                dead_queue_id (the ARN's last part) and message_max_deliveries (maxReceiveCount 1..1000)
    ApproximateNumberOf*         fastqueue.queue_stats (exact counts)

The rest are accepted within SQS's ranges and not stored (docs/sqs.md says so for each); FIFO
attributes are refused: fastqueue does not map FIFO queues (see docs/sqs.md).
"""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from ...limits import MAX_ACK_DEADLINE_SECONDS, MAX_DELAY_SECONDS, MAX_RETENTION_SECONDS, MIN_RETENTION_SECONDS
from .messages import MAX_MESSAGE_BYTES
from .protocol import SqsError

ACCOUNT = "000000000000"  # the placeholder account of every queue URL and ARN
DEFAULT_REGION = "us-east-1"
DEFAULT_VISIBILITY_TIMEOUT = 30
DEFAULT_RETENTION_SECONDS = 345600  # SQS's default, 4 days

APPLIED = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "RedrivePolicy")
# Accepted (checked against SQS's rules) and not stored.
IGNORED_RANGES = {
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "MaximumMessageSize": (1024, 1048576),
    "KmsDataKeyReusePeriodSeconds": (60, 86400),
}
IGNORED_FREE = ("Policy", "KmsMasterKeyId", "SqsManagedSseEnabled", "RedriveAllowPolicy")
FIFO_ONLY = ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
READABLE = (
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
    "ApproximateNumberOfMessagesDelayed",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
)
# Names SQS knows that this server never answers (FIFO, KMS, policies): asked for, they are left out.
UNANSWERED = (
    "Policy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedriveAllowPolicy",
)
STATS = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed")

FIFO_REFUSED = (
    "FIFO queues are not supported by fastqueue: its ordering keys and deduplication do not map onto"
    " MessageGroupId and MessageDeduplicationId cleanly (docs/sqs.md). Use a standard queue."
)


def check_name(name: str) -> None:
    if name.endswith(".fifo"):
        raise SqsError("InvalidParameterValue", FIFO_REFUSED)
    if not (1 <= len(name) <= 80) or not all(c.isascii() and (c.isalnum() or c in "-_") for c in name):
        raise SqsError(
            "InvalidParameterValue",
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        )


def queue_url(base: str, queue_id: str) -> str:
    return f"{base}/{ACCOUNT}/{queue_id}"


def queue_arn(region: str | None, queue_id: str) -> str:
    return f"arn:aws:sqs:{region or DEFAULT_REGION}:{ACCOUNT}:{queue_id}"


def queue_id_of(url: str) -> str:
    """The queue named by a QueueUrl (its last path segment), as SDKs build and parse them."""
    path = urlsplit(url).path if "://" in url else url
    name = unquote(path.rstrip("/").rsplit("/", 1)[-1])
    if not name:
        raise SqsError("QueueDoesNotExist", "The specified queue does not exist.")
    return name


def _seconds(name: str, value: str, low: int, high: int, sqs_low: int, sqs_high: int) -> int:
    try:
        seconds = int(value)
    except ValueError:
        raise SqsError("InvalidAttributeValue", f"Invalid value for the parameter {name}.") from None
    if not sqs_low <= seconds <= sqs_high:
        raise SqsError(
            "InvalidAttributeValue", f"Invalid value for the parameter {name}: SQS allows {sqs_low} to {sqs_high}."
        )
    if not low <= seconds <= high:
        raise SqsError(
            "InvalidAttributeValue",
            f"Invalid value for the parameter {name}: fastqueue supports {low} to {high} (docs/sqs.md).",
        )
    return seconds


def _redrive(value: str) -> tuple[str | None, int | None]:
    if value == "":
        return None, None
    try:
        policy = json.loads(value)
        arn = policy["deadLetterTargetArn"]
        count = int(policy["maxReceiveCount"])
    except (ValueError, KeyError, TypeError):
        raise SqsError(
            "InvalidParameterValue",
            "Value for parameter RedrivePolicy is invalid. Reason: it must be a JSON object with"
            " deadLetterTargetArn and maxReceiveCount.",
        ) from None
    if not isinstance(arn, str) or not arn.startswith("arn:") or not arn.rsplit(":", 1)[-1]:
        raise SqsError(
            "InvalidParameterValue",
            "Value for parameter RedrivePolicy is invalid. Reason: invalid deadLetterTargetArn.",
        )
    if not 1 <= count <= 1000:
        raise SqsError(
            "InvalidParameterValue",
            "Value for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: must be between 1 and 1000.",
        )
    return arn.rsplit(":", 1)[-1], count


def apply(settings: dict[str, Any], attributes: Mapping[str, str]) -> dict[str, Any]:
    """The fastqueue settings (create_queue/update_queue parameters) with these SQS attributes applied."""
    settings = dict(settings)
    for name, value in attributes.items():
        if name == "VisibilityTimeout":
            settings["ack_deadline_seconds"] = _seconds(name, value, 1, MAX_ACK_DEADLINE_SECONDS, 0, 43200)
        elif name == "MessageRetentionPeriod":
            settings["message_retention_seconds"] = _seconds(
                name, value, MIN_RETENTION_SECONDS, MAX_RETENTION_SECONDS, 60, 1209600
            )
        elif name == "DelaySeconds":
            settings["delivery_delay_seconds"] = _seconds(name, value, 0, MAX_DELAY_SECONDS, 0, 900) or None
        elif name == "RedrivePolicy":
            settings["dead_queue_id"], settings["message_max_deliveries"] = _redrive(value)
        elif name in IGNORED_RANGES:
            low, high = IGNORED_RANGES[name]
            _seconds(name, value, low, high, low, high)
        elif name in IGNORED_FREE:
            pass
        elif name == "FifoQueue":
            if value.lower() != "false":
                raise SqsError("InvalidAttributeValue", FIFO_REFUSED)
        elif name in FIFO_ONLY:
            raise SqsError(
                "InvalidAttributeName",
                f"Unknown Attribute {name}: it applies to FIFO queues only, which fastqueue does not support.",
            )
        else:
            raise SqsError("InvalidAttributeName", f"Unknown Attribute {name}.")
    return settings


def new_queue_settings() -> dict[str, Any]:
    return {
        "topic_id": None,
        "ack_deadline_seconds": DEFAULT_VISIBILITY_TIMEOUT,
        "message_retention_seconds": DEFAULT_RETENTION_SECONDS,
        "message_filters": None,
        "dead_queue_id": None,
        "message_max_deliveries": None,
        "delivery_delay_seconds": None,
        "retry_min_backoff_seconds": None,
        "retry_max_backoff_seconds": None,
        "enable_message_ordering": False,
        "filter": None,
        # Push delivery (docs/push.md): an SQS queue is a pull queue unless set over REST or SQL.
        "push_endpoint": None,
        "push_format": "wrapped",
        "push_secret": None,
        "push_max_in_flight": 16,
    }


SETTING_NAMES = tuple(new_queue_settings())


def settings_of(queue: Mapping[str, Any]) -> dict[str, Any]:
    # The push secret is never read back (the row says only push_secret_set); null keeps it on update.
    return {name: None if name == "push_secret" else queue[name] for name in SETTING_NAMES}


def requested(names: list[str]) -> list[str]:
    """GetQueueAttributes' AttributeNames: the readable ones asked for (All: every one)."""
    if "All" in names:
        return list(READABLE)
    for name in names:
        if name not in READABLE and name not in UNANSWERED:
            raise SqsError("InvalidAttributeName", f"Unknown Attribute {name}.")
    return [name for name in READABLE if name in names]


def _epoch(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def attributes_of(
    queue: Mapping[str, Any], stats: Mapping[str, Any] | None, names: list[str], region: str | None
) -> dict[str, str]:
    values: dict[str, str] = {
        "VisibilityTimeout": str(queue["ack_deadline_seconds"]),
        "MaximumMessageSize": str(MAX_MESSAGE_BYTES),
        "MessageRetentionPeriod": str(queue["message_retention_seconds"]),
        "CreatedTimestamp": _epoch(queue["created_at"]),
        "LastModifiedTimestamp": _epoch(queue["updated_at"]),
        "QueueArn": queue_arn(region, queue["id"]),
        "DelaySeconds": str(queue["delivery_delay_seconds"] or 0),
        "ReceiveMessageWaitTimeSeconds": "0",
        "SqsManagedSseEnabled": "false",
    }
    if queue["dead_queue_id"] is not None:
        values["RedrivePolicy"] = json.dumps(
            {
                "deadLetterTargetArn": queue_arn(region, queue["dead_queue_id"]),
                "maxReceiveCount": queue["message_max_deliveries"],
            }
        )
    if stats is not None:
        values["ApproximateNumberOfMessages"] = str(stats["num_undelivered_messages"])
        values["ApproximateNumberOfMessagesNotVisible"] = str(stats["num_inflight_messages"])
        values["ApproximateNumberOfMessagesDelayed"] = str(stats["num_delayed_messages"])
    return {name: values[name] for name in names if name in values}
