"""`fastqueue worker` runs cleanup on its interval and stops cleanly on SIGTERM."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg


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
