"""SigV4 on the SQS endpoint with FASTQUEUE_SQS_CREDENTIALS, and the rules when it is unset: open with
FASTQUEUE_AUTH_TOKENS unset too, closed with tokens set. boto3 signs; nothing here signs by hand."""

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.auth  # type: ignore[import-untyped]
import botocore.exceptions  # type: ignore[import-untyped]
import httpx
import pytest

from tests.api.conftest import Server, start_server
from tests.api.sqs_clients import sqs_client

pytestmark = pytest.mark.gateway_only("SigV4 and token checks happen in the gateway")

ADMIN_KEY, ADMIN_SECRET = "AKIAFASTQUEUEADMIN", "admin-secret-0123456789abcdef"
PUBLISHER_KEY, PUBLISHER_SECRET = "AKIAFASTQUEUEPUB", "publisher-secret-0123456789"
CONSUMER_KEY, CONSUMER_SECRET = "AKIAFASTQUEUECON", "consumer-secret-0123456789"
CREDENTIALS = (
    f"{ADMIN_KEY}:{ADMIN_SECRET}:admin, {PUBLISHER_KEY}:{PUBLISHER_SECRET}:publisher,"
    f"{CONSUMER_KEY}:{CONSUMER_SECRET}:consumer"
)
BEARER = "bearer-token-for-the-rest-api-0123456789"


@pytest.fixture(scope="module")
def signed_server(api_database_url: str, server_factory: Callable[..., Server]) -> Server:
    return server_factory(
        api_database_url, FASTQUEUE_SQS_CREDENTIALS=CREDENTIALS, FASTQUEUE_AUTH_TOKENS=f"{BEARER}:admin"
    )


def _code(excinfo: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_right_secret_is_accepted(signed_server: Server, uid: Callable[[str], str]) -> None:
    sqs = sqs_client(signed_server.url, ADMIN_KEY, ADMIN_SECRET)
    url = sqs.create_queue(QueueName=uid("sqs-signed").replace(".", "-"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="signed")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["signed"]
    # The REST API keeps its bearer tokens: the SQS credentials are not REST tokens.
    assert (
        httpx.get(signed_server.url + "/queues", headers={"Authorization": f"Bearer {ADMIN_SECRET}"}).status_code == 401
    )
    assert httpx.get(signed_server.url + "/queues", headers={"Authorization": f"Bearer {BEARER}"}).status_code == 200


def test_wrong_secret_unknown_key_and_no_signature(signed_server: Server) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sqs_client(signed_server.url, ADMIN_KEY, ADMIN_SECRET + "x").list_queues()
    assert _code(excinfo) == "SignatureDoesNotMatch"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sqs_client(signed_server.url, "AKIAUNKNOWN", ADMIN_SECRET).list_queues()
    assert _code(excinfo) == "InvalidClientTokenId"
    unsigned = httpx.post(
        signed_server.url + "/",
        content=b"{}",
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ListQueues"},
    )
    assert unsigned.status_code == 403
    assert unsigned.json()["__type"] == "com.amazonaws.sqs#MissingAuthenticationToken"
    # A bearer token does not open the SQS endpoint either.
    bearer = httpx.post(
        signed_server.url + "/",
        content=b"{}",
        headers={"X-Amz-Target": "AmazonSQS.ListQueues", "Authorization": f"Bearer {BEARER}"},
    )
    assert bearer.status_code == 403


def test_a_signed_body_cannot_be_changed(signed_server: Server) -> None:
    """The payload's hash is part of the signature: the same headers with another body are refused."""
    captured: dict[str, Any] = {}
    sqs = sqs_client(signed_server.url, ADMIN_KEY, ADMIN_SECRET)

    def keep(request: Any, **kwargs: Any) -> None:
        captured["headers"] = dict(request.headers)

    sqs.meta.events.register("before-send.sqs.ListQueues", keep)
    sqs.list_queues(QueueNamePrefix="a")
    headers = {
        name: value.decode() if isinstance(value, bytes) else value for name, value in captured["headers"].items()
    }
    headers.pop("Content-Length", None)
    replayed = httpx.post(signed_server.url + "/", content=b'{"QueueNamePrefix": "b"}', headers=headers)
    assert replayed.status_code == 403
    assert replayed.json()["__type"] == "com.amazonaws.sqs#SignatureDoesNotMatch"


def test_clock_skew_is_bounded(signed_server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    sqs = sqs_client(signed_server.url, ADMIN_KEY, ADMIN_SECRET)
    sqs.list_queues()  # within the bound: fine
    skewed = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: skewed)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sqs.list_queues()
    assert _code(excinfo) == "SignatureDoesNotMatch"
    assert "expired" in excinfo.value.response["Error"]["Message"]


def test_roles_limit_the_actions(signed_server: Server, uid: Callable[[str], str]) -> None:
    admin = sqs_client(signed_server.url, ADMIN_KEY, ADMIN_SECRET)
    publisher = sqs_client(signed_server.url, PUBLISHER_KEY, PUBLISHER_SECRET)
    consumer = sqs_client(signed_server.url, CONSUMER_KEY, CONSUMER_SECRET)
    name = uid("sqs-roles").replace(".", "-")
    admin.create_queue(QueueName=name)
    url = publisher.get_queue_url(QueueName=name)["QueueUrl"]
    publisher.send_message(QueueUrl=url, MessageBody="from the publisher")
    message = consumer.receive_message(QueueUrl=url)["Messages"][0]
    consumer.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert consumer.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    calls: list[Callable[[], Any]] = [
        lambda: publisher.receive_message(QueueUrl=url),
        lambda: publisher.create_queue(QueueName=name + "-x"),
        lambda: consumer.send_message(QueueUrl=url, MessageBody="x"),
        lambda: consumer.purge_queue(QueueUrl=url),
        lambda: consumer.delete_queue(QueueUrl=url),
    ]
    for call in calls:
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            call()
        assert _code(excinfo) == "AccessDenied"
    assert admin.get_queue_url(QueueName=name)["QueueUrl"] == url


def test_secrets_are_not_logged(signed_server: Server) -> None:
    with pytest.raises(botocore.exceptions.ClientError):
        sqs_client(signed_server.url, ADMIN_KEY, "wrong-" + ADMIN_SECRET).list_queues()
    log = signed_server.log()
    for secret in (ADMIN_SECRET, PUBLISHER_SECRET, CONSUMER_SECRET):
        assert secret not in log


def test_tokens_without_sqs_credentials_close_the_sqs_endpoint(
    api_database_url: str, server_factory: Callable[..., Server]
) -> None:
    closed = server_factory(api_database_url, FASTQUEUE_AUTH_TOKENS=f"{BEARER}:admin")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sqs_client(closed.url, ADMIN_KEY, ADMIN_SECRET).list_queues()
    assert _code(excinfo) == "InvalidClientTokenId"
    assert "FASTQUEUE_SQS_CREDENTIALS" in excinfo.value.response["Error"]["Message"]


def test_open_mode_accepts_any_signature(server: Server) -> None:
    """Neither FASTQUEUE_SQS_CREDENTIALS nor FASTQUEUE_AUTH_TOKENS (the session's server): any key works."""
    assert "ResponseMetadata" in sqs_client(server.url, "anything", "at-all").list_queues()


def test_malformed_credentials_stop_the_server(api_database_url: str, tmp_path: Path) -> None:
    server = start_server(api_database_url, tmp_path, FASTQUEUE_SQS_CREDENTIALS="key-without-secret:admin")
    try:
        assert server.process.wait(timeout=60) != 0
        assert "is not ACCESS_KEY_ID:SECRET:ROLE" in server.log()
        assert "key-without-secret" not in server.log()
    finally:
        server.stop()
