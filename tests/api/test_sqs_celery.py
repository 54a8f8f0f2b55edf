"""Celery from PyPI, with kombu's SQS transport (boto3 to send and delete, pycurl to long-poll), runs
tasks end to end through fastqueue: a real `celery worker` process, bounded in time."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import REPO, Server
from tests.api.sqs_clients import sqs_client

TASKS = 20
DEADLINE_SECONDS = 90


@pytest.fixture
def celery_environment(server: Server, uid: Callable[[str], str], tmp_path: Path) -> dict[str, str]:
    host_port = server.url.removeprefix("http://")
    return {
        "FASTQUEUE_CELERY_BROKER": f"sqs://AKIACELERY:celery-secret@{host_port}",
        "FASTQUEUE_CELERY_PREFIX": uid("celery").replace(".", "-") + "-",
        "FASTQUEUE_CELERY_OUTPUT": str(tmp_path / "results.txt"),
    }


@pytest.fixture
def worker(celery_environment: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.api.sqs_celery_app",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=REPO,
        env={**os.environ, **celery_environment},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def test_celery_worker_runs_tasks_through_fastqueue(
    server: Server,
    celery_environment: dict[str, str],
    worker: subprocess.Popen[bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in celery_environment.items():
        monkeypatch.setenv(name, value)
    from tests.api.sqs_celery_app import app, multiply

    output = Path(celery_environment["FASTQUEUE_CELERY_OUTPUT"])
    with app.connection_for_write() as connection:
        for n in range(TASKS):
            multiply.apply_async((n, 3), connection=connection)
    expected = {f"{n}*3={n * 3}" for n in range(TASKS)}
    deadline = time.monotonic() + DEADLINE_SECONDS
    done: set[str] = set()
    while time.monotonic() < deadline and done != expected:
        assert worker.poll() is None, (tmp_path / "worker.log").read_text(errors="replace")
        done = set(output.read_text().split()) if output.exists() else set()
        time.sleep(0.2)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert done == expected, log
    # Acked: the queue (a fastqueue queue, made by kombu's CreateQueue) is empty, nothing in flight.
    sqs: Any = sqs_client(server.url)
    url = sqs.get_queue_url(QueueName=celery_environment["FASTQUEUE_CELERY_PREFIX"] + "celery")["QueueUrl"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        if attributes == {name: "0" for name in names}:
            break
        time.sleep(0.2)
    assert attributes == {name: "0" for name in names}, log
    assert "Traceback" not in log
