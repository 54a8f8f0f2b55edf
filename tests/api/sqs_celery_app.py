"""A Celery app on kombu's SQS transport, pointed at a fastqueue server (tests/api/test_sqs_celery.py).

Configured from the environment by the test: FASTQUEUE_CELERY_BROKER (sqs://KEY:SECRET@host:port),
FASTQUEUE_CELERY_PREFIX (its queues' name prefix) and FASTQUEUE_CELERY_OUTPUT (a file each task
appends its result to)."""

import os
from pathlib import Path

from celery import Celery  # type: ignore[import-untyped]

app = Celery("fastqueue_sqs_test", broker=os.environ["FASTQUEUE_CELERY_BROKER"])
app.conf.update(
    broker_transport_options={
        "region": "us-east-1",
        "is_secure": False,  # http://host:port, the test server
        "queue_name_prefix": os.environ["FASTQUEUE_CELERY_PREFIX"],
        # kombu's default is 1800 s; fastqueue's leases are 1..600 s (docs/sqs.md).
        "visibility_timeout": 60,
        "wait_time_seconds": 2,  # a long poll on fastqueue's LISTEN machinery
        "polling_interval": 0.1,
    },
    broker_connection_retry_on_startup=True,
    worker_enable_remote_control=False,  # no fan-out (pidbox) queues on SQS
    worker_send_task_events=False,
    task_acks_late=True,
)


@app.task(name="fastqueue_sqs_test.multiply")  # type: ignore[untyped-decorator]
def multiply(x: int, y: int) -> int:
    result = x * y
    with Path(os.environ["FASTQUEUE_CELERY_OUTPUT"]).open("a") as output:
        output.write(f"{x}*{y}={result}\n")
    return result
