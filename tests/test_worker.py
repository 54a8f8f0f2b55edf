"""`fastqueue worker` runs cleanup and the store's rotation on their intervals and stops cleanly on SIGTERM."""

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from fastqueue.commands.worker import Rotator


def test_worker_cleans_up_and_stops_on_sigterm(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_topic('events')")
        conn.execute("select fastqueue.create_queue('jobs', 'events', 30, 600)")
        conn.execute("select fastqueue.publish('events', '{\"n\": 1}')")
        # Retention is at least 600 s, so age the message instead of waiting for it.
        conn.execute("update fastqueue.messages set expired_at = now() - interval '1 second'")

    env = {**os.environ, "FASTQUEUE_DATABASE_URL": database_url, "FASTQUEUE_QUEUE_CLEANUP_INTERVAL_SECONDS": "0.2"}
    worker = subprocess.Popen(
        [Path(sys.executable).with_name("fastqueue"), "worker"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        remaining = 1
        while remaining and time.monotonic() < deadline:
            time.sleep(0.2)
            with psycopg.connect(database_url) as conn:
                remaining = conn.execute("select count(*) from fastqueue.messages").fetchone()[0]
        assert remaining == 0, "the worker did not delete the expired message"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=10) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    log = worker.stderr.read()
    assert "cleanup: 1 expired messages deleted" in log
    assert "worker stopped" in log


def test_worker_rotates_the_store_and_logs_an_unchanged_outcome_once(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        # Every attempt worth it (the worker's own sessions read the database's setting).
        database = conn.info.dbname
        conn.execute(f'alter database "{database}" set fastqueue.rotation_min_changes = 0')
    env = {
        **os.environ,
        "FASTQUEUE_DATABASE_URL": database_url,
        "FASTQUEUE_STORE_ROTATION_INTERVAL_SECONDS": "0.1",
    }
    worker = subprocess.Popen(
        [Path(sys.executable).with_name("fastqueue"), "worker"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        rotations = 0
        while rotations < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
            with psycopg.connect(database_url) as conn:
                rotations = conn.execute("select rotations from fastqueue.store_state").fetchone()[0]
        assert rotations >= 3, "the worker did not rotate the store three times"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=10) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    log = worker.stderr.read()
    assert "store rotation every 0.1 seconds" in log
    assert log.count("store rotation: rotated (carried 0 deliveries, dropped 0)") == 1, log


def test_a_failing_rotation_is_logged_once_per_change(
    empty_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    rotator = Rotator(empty_database_url)
    try:
        with caplog.at_level(logging.INFO, logger="fastqueue.worker"):
            outcomes = [rotator.attempt() for _ in range(3)]
        assert all(outcome.startswith("failed: ") for outcome in outcomes), outcomes
        failures = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(failures) == 1, caplog.text
        assert failures[0].getMessage().endswith('schema "fastqueue" does not exist')
    finally:
        rotator.close()
