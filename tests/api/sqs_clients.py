"""boto3 SQS clients for the SQS tests (tests/api/test_sqs*.py): real botocore, pointed at a test server."""

from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

REGION = "us-east-1"
# No retries: a test sees the server's first answer (botocore would retry 5xx and throttling).
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=40, connect_timeout=5)


def sqs_client(url: str, access_key_id: str = "test", secret: str = "test") -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret,
        config=NO_RETRIES,
    )
