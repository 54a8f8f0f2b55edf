"""`fastqueue worker`: runs fastqueue.cleanup() every FASTQUEUE_QUEUE_CLEANUP_INTERVAL_SECONDS and
fastqueue.rotate_store() every FASTQUEUE_STORE_ROTATION_INTERVAL_SECONDS, and delivers the messages of
push queues (app/push/, docs/push.md).

Needed only where pg_cron cannot run them inside PostgreSQL (both may run at once: a rotation
attempt that meets another one gives way). Rotation uses an autocommit connection of its own, kept
open between attempts, so each attempt is its own transaction. Its outcome is logged when it
changes, not every second. Stops cleanly on SIGTERM or SIGINT; a database that is down is retried
on the next tick.
"""

import logging
import signal
import threading
import time

import psycopg

from ..push import PushDelivery
from ..settings import Settings

log = logging.getLogger("fastqueue.worker")


def cleanup_once(conninfo: str) -> tuple[int, int]:
    """Runs one cleanup; returns (expired messages deleted, messages moved to dead queues)."""
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute("select expired_messages, dead_lettered_messages from fastqueue.cleanup()").fetchone()
    assert row is not None
    return row[0], row[1]


class Rotator:
    """Calls fastqueue.rotate_store() on one autocommit connection and logs once per state change."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.conn: psycopg.Connection | None = None
        self.last_state: str | None = None

    def attempt(self) -> str:
        """One attempt; returns its outcome, or 'failed: ...' when the call failed."""
        try:
            if self.conn is None or self.conn.closed:
                self.conn = psycopg.connect(
                    self.conninfo, autocommit=True, connect_timeout=10, application_name="fastqueue-rotation"
                )
            row = self.conn.execute(
                "select outcome, carried_deliveries, dropped_expired + dropped_orphaned from fastqueue.rotate_store()"
            ).fetchone()
        except psycopg.Error as exc:
            self.close()
            reason = (exc.diag.message_primary or str(exc)).strip()
            state = f"failed: {reason}"
            if state != self.last_state:
                log.warning("store rotation failed, retrying every interval: %s", reason)
            self.last_state = state
            return state
        assert row is not None
        outcome, carried, dropped = row
        if outcome != self.last_state:
            if outcome == "rotated":
                log.info("store rotation: rotated (carried %d deliveries, dropped %d)", carried, dropped)
            else:
                log.info("store rotation: %s", outcome)
        self.last_state = outcome
        return str(outcome)

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg.Error:
                pass
            self.conn = None


def run_worker(settings: Settings, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    cleanup_interval = settings.queue_cleanup_interval_seconds
    rotation_interval = settings.store_rotation_interval_seconds
    log.info(
        "worker started: cleanup every %s seconds, store rotation every %s seconds", cleanup_interval, rotation_interval
    )
    rotator = Rotator(settings.conninfo)
    push = PushDelivery(settings)  # docs/push.md: its own thread; stops after its requests end
    push.start()
    next_cleanup = next_rotation = time.monotonic()
    try:
        while not stop.is_set():
            now = time.monotonic()
            if now >= next_cleanup:
                try:
                    expired, dead_lettered = cleanup_once(settings.conninfo)
                    log.info("cleanup: %d expired messages deleted, %d moved to dead queues", expired, dead_lettered)
                except psycopg.Error as exc:
                    log.warning("cleanup failed, next try in %s seconds: %s", cleanup_interval, str(exc).strip())
                next_cleanup = time.monotonic() + cleanup_interval
            if now >= next_rotation:
                rotator.attempt()
                next_rotation = time.monotonic() + rotation_interval
            stop.wait(max(0.0, min(next_cleanup, next_rotation) - time.monotonic()))
    finally:
        rotator.close()
        push.stop()
        push.join()
    log.info("worker stopped")
