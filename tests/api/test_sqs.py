"""The SQS endpoint through boto3 from PyPI, every supported action, against the session's server
(open mode: any signature is accepted). Queues are fastqueue queues: REST, SQL and SQS see the same ones."""

import base64
import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import botocore.exceptions  # type: ignore[import-untyped]
import httpx
import psycopg
import pytest

from tests.api.conftest import Server
from tests.api.sqs_clients import sqs_client


@pytest.fixture
def sqs(server: Server) -> Any:
    return sqs_client(server.url)


def _name(uid: Callable[[str], str], name: str) -> str:
    return uid(name).replace(".", "-")


def _error(excinfo: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> dict[str, Any]:
    return excinfo.value.response["Error"]  # type: ignore[no-any-return]


# Queues


def test_create_get_list_delete_queue(sqs: Any, uid: Callable[[str], str], client: httpx.Client) -> None:
    name = _name(uid, "sqs-orders")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url.endswith(f"/000000000000/{name}")
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    # The same name with the same (or no) attributes: the same URL; with another value: QueueNameExists.
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists):
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})
    # A fastqueue queue: REST sees it with SQS's defaults.
    queue = client.get(f"/queues/{name}").json()
    assert (queue["ack_deadline_seconds"], queue["message_retention_seconds"], queue["topic_id"]) == (30, 345600, None)
    assert url in sqs.list_queues(QueueNamePrefix=name[:-3])["QueueUrls"]
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as excinfo:
        sqs.get_queue_url(QueueName=name)
    assert _error(excinfo)["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.delete_queue(QueueUrl=url)
    assert client.get(f"/queues/{name}").status_code == 404


def test_rest_queues_are_sqs_queues(sqs: Any, uid: Callable[[str], str], client: httpx.Client) -> None:
    topic, queue = uid("sqs-topic"), _name(uid, "sqs-rest")
    assert client.post("/topics", json={"id": topic}).status_code == 201
    created = {"id": queue, "topic_id": topic, "ack_deadline_seconds": 20, "message_retention_seconds": 3600}
    assert client.post("/queues", json=created).status_code == 201
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "MessageRetentionPeriod"])
    assert attributes["Attributes"] == {"VisibilityTimeout": "20", "MessageRetentionPeriod": "3600"}
    # A REST publish is received over SQS as its data's JSON text, its attributes as String attributes.
    published = {"data": {"order_id": 42, "note": "é"}, "attributes": {"kind": "order"}}
    assert client.post(f"/topics/{topic}/messages", json=published).status_code == 201
    message = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
    assert message["Body"] == '{"note":"é","order_id":42}'
    assert message["MessageAttributes"] == {"kind": {"StringValue": "order", "DataType": "String"}}
    assert message["MD5OfBody"] == hashlib.md5(message["Body"].encode()).hexdigest()
    # And an SQS message is read over REST at data.body.
    sqs.send_message(
        QueueUrl=url, MessageBody="plain text", MessageAttributes={"kind": {"DataType": "String", "StringValue": "x"}}
    )
    consumed = client.get(f"/queues/{queue}/messages").json()["data"]
    assert [(m["data"], m["attributes"]) for m in consumed] == [
        (
            {"body": "plain text", "message_attributes": {"kind": {"DataType": "String", "StringValue": "x"}}},
            {"kind": "x"},
        )
    ]


def test_list_queues_prefix_and_pagination(sqs: Any, uid: Callable[[str], str]) -> None:
    prefix = _name(uid, "sqs-page")
    names = [f"{prefix}-{n}" for n in range(5)]
    for name in names:
        sqs.create_queue(QueueName=name)
    first = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    second = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=first["NextToken"])
    third = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=second["NextToken"])
    urls = first["QueueUrls"] + second["QueueUrls"] + third["QueueUrls"]
    assert [url.rsplit("/", 1)[1] for url in urls] == names
    assert "NextToken" not in third
    # boto3's own paginator walks the same pages.
    pages = sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix, PaginationConfig={"PageSize": 2})
    assert [url.rsplit("/", 1)[1] for page in pages for url in page["QueueUrls"]] == names
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=prefix + "-none")


def test_queue_attributes_map_onto_queue_settings(sqs: Any, uid: Callable[[str], str], client: httpx.Client) -> None:
    dead, name = _name(uid, "sqs-attr-dead"), _name(uid, "sqs-attr")
    dead_url = sqs.create_queue(QueueName=dead)["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert dead_arn == f"arn:aws:sqs:us-east-1:000000000000:{dead}"
    redrive = f'{{"deadLetterTargetArn": "{dead_arn}", "maxReceiveCount": "3"}}'
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": "60",
            "MessageRetentionPeriod": "86400",
            "DelaySeconds": "5",
            "RedrivePolicy": redrive,
            "ReceiveMessageWaitTimeSeconds": "0",
            "MaximumMessageSize": "262144",
        },
    )["QueueUrl"]
    queue = client.get(f"/queues/{name}").json()
    assert (
        queue["ack_deadline_seconds"],
        queue["message_retention_seconds"],
        queue["delivery_delay_seconds"],
        queue["dead_queue_id"],
        queue["message_max_deliveries"],
    ) == (60, 86400, 5, dead, 3)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "60" and attributes["DelaySeconds"] == "5"
    assert attributes["RedrivePolicy"] == f'{{"deadLetterTargetArn": "{dead_arn}", "maxReceiveCount": 3}}'
    assert attributes["MaximumMessageSize"] == "262144"
    assert int(attributes["CreatedTimestamp"]) == pytest.approx(time.time(), abs=600)
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"VisibilityTimeout": "120", "DelaySeconds": "0", "RedrivePolicy": ""}
    )
    queue = client.get(f"/queues/{name}").json()
    assert (queue["ack_deadline_seconds"], queue["delivery_delay_seconds"], queue["dead_queue_id"]) == (120, None, None)
    assert sqs.list_dead_letter_source_queues(QueueUrl=dead_url)["queueUrls"] == []
    # Outside fastqueue's ranges, unknown names, FIFO: SQS's errors.
    with pytest.raises(sqs.exceptions.InvalidAttributeValue) as excinfo:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "3600"})
    assert "1 to 600" in _error(excinfo)["Message"]
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"NoSuchAttribute": "1"})
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["NoSuchAttribute"])
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sqs.set_queue_attributes(
            QueueUrl=url,
            Attributes={
                "RedrivePolicy": '{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:missing", "maxReceiveCount": 2}'
            },
        )
    assert _error(excinfo)["Code"] == "InvalidParameterValue"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sqs.create_queue(QueueName=name + ".fifo", Attributes={"FifoQueue": "true"})
    assert _error(excinfo)["Code"] == "InvalidParameterValue" and "FIFO" in _error(excinfo)["Message"]
    with pytest.raises(sqs.exceptions.UnsupportedOperation):
        sqs.tag_queue(QueueUrl=url, Tags={"team": "a"})
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)


def test_purge_queue_and_exact_counts(sqs: Any, uid: Callable[[str], str]) -> None:
    url = sqs.create_queue(QueueName=_name(uid, "sqs-purge"))["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=600)
    sqs.receive_message(QueueUrl=url)
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"] == dict(
        zip(names, ["2", "1", "1"])
    )
    sqs.purge_queue(QueueUrl=url)
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"] == dict(
        zip(names, ["0", "0", "0"])
    )


# Messages


BODIES = [
    "x",
    "  spaces, \t tabs,\r\nCRLF and a trailing newline\n",
    '{"looks": "like JSON", "n": 1.50}',
    "é ü 中文 \U0001f600 \ud7ff \ue000 \ufffd \U0010ffff",
    '\\u0000 is text here, "quoted"',
]


def test_bodies_round_trip_byte_for_byte(sqs: Any, uid: Callable[[str], str]) -> None:
    url = sqs.create_queue(QueueName=_name(uid, "sqs-bodies"))["QueueUrl"]
    sent = {}
    for body in BODIES:
        result = sqs.send_message(QueueUrl=url, MessageBody=body)
        assert result["MD5OfMessageBody"] == hashlib.md5(body.encode("utf-8")).hexdigest()
        sent[result["MessageId"]] = body
    received: dict[str, str] = {}
    while len(received) < len(BODIES):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            received[message["MessageId"]] = message["Body"]
            assert message["MD5OfBody"] == hashlib.md5(message["Body"].encode("utf-8")).hexdigest()
    assert received == sent


def test_message_attributes_round_trip(sqs: Any, uid: Callable[[str], str]) -> None:
    url = sqs.create_queue(QueueName=_name(uid, "sqs-attributes"))["QueueUrl"]
    attributes = {
        "text": {"DataType": "String", "StringValue": "héllo"},
        "count": {"DataType": "Number", "StringValue": "-12.5e3"},
        "blob": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
        "meta.kind": {"DataType": "String.json", "StringValue": "{}"},
    }
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="with attributes",
        MessageAttributes=attributes,
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}},
    )
    message = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])[
        "Messages"
    ][0]
    assert message["MessageAttributes"] == attributes
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert message["Attributes"]["AWSTraceHeader"] == "Root=1-abc"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert int(message["Attributes"]["SentTimestamp"]) == pytest.approx(time.time() * 1000, abs=600_000)
    assert "MD5OfMessageSystemAttributes" in sent
    # By name, and by prefix: only those, with the checksum of those.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["text", "meta.*"])["Messages"][0]
    assert set(again["MessageAttributes"]) == {"text", "meta.kind"}
    assert again["MD5OfMessageAttributes"] != sent["MD5OfMessageAttributes"]
    assert "Attributes" not in again


def test_send_message_rules(sqs: Any, uid: Callable[[str], str]) -> None:
    url = sqs.create_queue(QueueName=_name(uid, "sqs-rules"))["QueueUrl"]
    with pytest.raises(sqs.exceptions.InvalidMessageContents):
        sqs.send_message(QueueUrl=url, MessageBody="bell \x07")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="x" * (256 * 1024 + 1))
    assert _error(excinfo)["Code"] == "InvalidParameterValue" and "262144" in _error(excinfo)["Message"]
    assert sqs.send_message(QueueUrl=url, MessageBody="x" * (256 * 1024))["MessageId"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sqs.send_message(
            QueueUrl=url,
            MessageBody="x",
            MessageAttributes={f"a{n}": {"DataType": "String", "StringValue": "v"} for n in range(11)},
        )
    assert _error(excinfo)["Code"] == "InvalidParameterValue"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sqs.send_message(
            QueueUrl=url, MessageBody="x", MessageAttributes={"n": {"DataType": "Number", "StringValue": "abc"}}
        )
    assert _error(excinfo)["Code"] == "InvalidParameterValue"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert _error(excinfo)["Code"] == "InvalidParameterValue"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=url + "-missing", MessageBody="x")


def test_delay_seconds(sqs: Any, uid: Callable[[str], str]) -> None:
    url = sqs.create_queue(QueueName=_name(uid, "sqs-delay"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=900)
    sqs.send_message(QueueUrl=url, MessageBody="now")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["now"]


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_visibility_timeout_override_and_change(sqs: Any, uid: Callable[[str], str], db: psycopg.Connection) -> None:
    name = _name(uid, "sqs-visibility")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="a")
    message = sqs.receive_message(QueueUrl=url, VisibilityTimeout=100)["Messages"][0]
    lease = db.execute(
        "select extract(epoch from scheduled_at - now()) from fastqueue.messages where queue_id = %s", (name,)
    ).fetchone()
    assert lease is not None and 90 < lease[0] <= 100
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=300)
    lease = db.execute(
        "select extract(epoch from scheduled_at - now()) from fastqueue.messages where queue_id = %s", (name,)
    ).fetchone()
    assert lease is not None and 290 < lease[0] <= 300
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=601)
    assert _error(excinfo)["Code"] == "InvalidParameterValue"
    # 0 gives it back at once (without counting a delivery), VisibilityTimeout=0 on receive too.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, AttributeNames=["ApproximateReceiveCount"])[
        "Messages"
    ][0]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    third = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert third["Attributes"]["ApproximateReceiveCount"] == "3"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"])
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"], VisibilityTimeout=10)
    assert _error(excinfo)["Code"] == "InvalidParameterValue"


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_stale_receipt_handles_change_nothing(sqs: Any, uid: Callable[[str], str], db: psycopg.Connection) -> None:
    name = _name(uid, "sqs-stale")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="once")
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    second = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert second["MessageId"] == first["MessageId"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    # The first receive's handle: the calls succeed, and change nothing.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    batch = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "old", "ReceiptHandle": first["ReceiptHandle"]}])
    assert [entry["Id"] for entry in batch["Successful"]] == ["old"]
    row = db.execute(
        "select delivery_attempts, scheduled_at > now() from fastqueue.messages where queue_id = %s", (name,)
    ).fetchone()
    assert row == (2, True)  # still there, still leased by the second receive
    # The latest handle acts.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"])
    assert db.execute("select count(*) from fastqueue.messages where queue_id = %s", (name,)).fetchone() == (0,)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"])  # already deleted: a success


def test_forged_and_corrupted_receipt_handles(sqs: Any, uid: Callable[[str], str]) -> None:
    url = sqs.create_queue(QueueName=_name(uid, "sqs-forged"))["QueueUrl"]
    other = sqs.create_queue(QueueName=_name(uid, "sqs-forged-other"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    raw = bytearray(base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4)))
    raw[5] ^= 1  # another message id, same MAC
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    forged = base64.urlsafe_b64encode(b"\x01" + uuid.uuid4().bytes + b"\x00\x00\x00\x01" + bytes(24)).decode()
    for bad in (tampered, forged, "not a handle", handle[:-4]):
        with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid) as excinfo:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=bad)
        assert _error(excinfo)["Code"] == "ReceiptHandleIsInvalid"
        with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=bad, VisibilityTimeout=0)
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):  # a real handle, of another queue
        sqs.delete_message(QueueUrl=other, ReceiptHandle=handle)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)


def test_redrive_policy_moves_a_message_after_max_receive_count(
    sqs: Any, uid: Callable[[str], str], db: psycopg.Connection
) -> None:
    dead_url = sqs.create_queue(QueueName=_name(uid, "sqs-dlq"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=_name(uid, "sqs-redriven"),
        Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": f'{{"deadLetterTargetArn": "{arn}", "maxReceiveCount": 2}}',
        },
    )["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="poison")["MessageId"]
    counts = []
    for _ in range(2):  # received twice, never deleted; each lease runs out after 1 s
        message = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, AttributeNames=["ApproximateReceiveCount"])[
            "Messages"
        ][0]
        counts.append(message["Attributes"]["ApproximateReceiveCount"])
        time.sleep(1.2)
    assert counts == ["1", "2"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # past maxReceiveCount: never again
    db.execute("select fastqueue.cleanup()")  # what pg_cron or `fastqueue worker` runs every minute
    moved = sqs.receive_message(QueueUrl=dead_url, WaitTimeSeconds=5)["Messages"]
    assert [m["Body"] for m in moved] == ["poison"]
    assert sqs.list_dead_letter_source_queues(QueueUrl=dead_url)["queueUrls"] == [url]
    assert sent  # the dead-lettered copy has a new id (fastqueue moves messages as new copies)


# Batches


def test_send_message_batch_with_failing_entries(sqs: Any, uid: Callable[[str], str]) -> None:
    url = sqs.create_queue(QueueName=_name(uid, "sqs-send-batch"))["QueueUrl"]
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok-1", "MessageBody": "one"},
            {"Id": "bad-chars", "MessageBody": "\x00"},
            {
                "Id": "ok-2",
                "MessageBody": "two",
                "DelaySeconds": 0,
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
            {
                "Id": "bad-number",
                "MessageBody": "x",
                "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "one"}},
            },
        ],
    )
    assert sorted(entry["Id"] for entry in result["Successful"]) == ["ok-1", "ok-2"]
    assert {entry["Id"]: entry["Code"] for entry in result["Failed"]} == {
        "bad-chars": "InvalidMessageContents",
        "bad-number": "InvalidParameterValue",
    }
    assert all(entry["SenderFault"] for entry in result["Failed"])
    bodies = sorted(m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"])
    assert bodies == ["one", "two"]
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": "x"} for n in range(11)])
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}])
    with pytest.raises(sqs.exceptions.InvalidBatchEntryId):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a.b", "MessageBody": "x"}])
    with pytest.raises(sqs.exceptions.EmptyBatchRequest):
        sqs.send_message_batch(QueueUrl=url, Entries=[])
    with pytest.raises(sqs.exceptions.BatchRequestTooLong):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": "x" * 100_000} for n in range(3)])


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_delete_and_change_visibility_batches(sqs: Any, uid: Callable[[str], str], db: psycopg.Connection) -> None:
    name = _name(uid, "sqs-settle-batch")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": str(n)} for n in range(4)])
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(received) == 4
    handles = {m["Body"]: m["ReceiptHandle"] for m in received}
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "zero", "ReceiptHandle": handles["0"], "VisibilityTimeout": 0},
            {"Id": "forged", "ReceiptHandle": handles["1"][:-2] + "xx", "VisibilityTimeout": 0},
            {"Id": "too-long", "ReceiptHandle": handles["1"], "VisibilityTimeout": 700},
        ],
    )
    assert [entry["Id"] for entry in changed["Successful"]] == ["zero"]
    assert {entry["Id"]: entry["Code"] for entry in changed["Failed"]} == {
        "forged": "ReceiptHandleIsInvalid",
        "too-long": "InvalidParameterValue",
    }
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "one", "ReceiptHandle": handles["1"]},
            {"Id": "two", "ReceiptHandle": handles["2"]},
            {"Id": "garbage", "ReceiptHandle": "garbage"},
        ],
    )
    assert sorted(entry["Id"] for entry in deleted["Successful"]) == ["one", "two"]
    assert [(entry["Id"], entry["Code"]) for entry in deleted["Failed"]] == [("garbage", "ReceiptHandleIsInvalid")]
    left = db.execute("select data->>'body' from fastqueue.messages where queue_id = %s order by 1", (name,)).fetchall()
    assert left == [("0",), ("3",)]


# Long polling


def test_long_poll_wakes_up_within_100_ms_of_a_send(sqs: Any, server: Server, uid: Callable[[str], str]) -> None:
    url = sqs.create_queue(QueueName=_name(uid, "sqs-long-poll"))["QueueUrl"]
    sender = sqs_client(server.url)
    # The watch is made by the first long poll; warm it up so the measured one is the steady state.
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    answered: dict[str, Any] = {}

    def receive() -> None:
        answered["result"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        answered["at"] = time.monotonic()

    receiver = threading.Thread(target=receive)
    receiver.start()
    time.sleep(1.0)  # the receive is waiting by now (nothing to lease)
    assert receiver.is_alive()
    sender.send_message(QueueUrl=url, MessageBody="wake up")
    sent_at = time.monotonic()
    receiver.join(timeout=25)
    assert not receiver.is_alive()
    assert [m["Body"] for m in answered["result"]["Messages"]] == ["wake up"]
    # Measured from the send's answer (its commit) to the receive's answer: a generous bound of the
    # issue's 100 ms on a shared machine would hide nothing; the once-a-second re-check would take ~1 s.
    latency = answered["at"] - sent_at
    print(f"SQS long poll answered {latency * 1000:.1f} ms after the send's answer")
    assert latency < 0.1 * 5, f"{latency * 1000:.0f} ms"


def test_long_poll_answers_empty_after_wait_time(sqs: Any, uid: Callable[[str], str]) -> None:
    url = sqs.create_queue(QueueName=_name(uid, "sqs-long-empty"))["QueueUrl"]
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
    assert 1.9 <= time.monotonic() - started < 10
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21)
    assert _error(excinfo)["Code"] == "InvalidParameterValue"
    with pytest.raises(botocore.exceptions.ClientError):
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)


def test_sqs_errors_carry_the_query_error_header(server: Server) -> None:
    response = httpx.post(
        server.url + "/",
        content=b'{"QueueName": "sqs-no-such-queue"}',
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.GetQueueUrl"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "__type": "com.amazonaws.sqs#QueueDoesNotExist",
        "message": "The specified queue does not exist.",
    }
    assert response.headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    unknown = httpx.post(server.url + "/", content=b"{}", headers={"X-Amz-Target": "AmazonSQS.NoSuchAction"})
    assert unknown.status_code == 400 and unknown.json()["__type"] == "com.amazonaws.sqs#InvalidAction"
    # Without the header, POST / is the REST API's (which has no such route).
    assert httpx.post(server.url + "/", content=b"{}").status_code in (404, 405)
