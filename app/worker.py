"""`fastqueue worker`: runs fastqueue.cleanup() every FASTQUEUE_QUEUE_CLEANUP_INTERVAL_SECONDS, and
delivers the messages of push queues (app/push/, docs/push.md).

Needed only where pg_cron cannot run the cleanup inside PostgreSQL. Stops cleanly on SIGTERM or
SIGINT; a database that is down is retried on the next tick.
"""

import logging
import signal
import threading

import psycopg

from app.push import PushDelivery
from app.settings import Settings

log = logging.getLogger("fastqueue.worker")


def cleanup_once(conninfo: str) -> tuple[int, int]:
    """Runs one cleanup; returns (expired messages deleted, messages moved to dead queues)."""
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute("select expired_messages, dead_lettered_messages from fastqueue.cleanup()").fetchone()
    assert row is not None
    return row[0], row[1]


def run_worker(settings: Settings, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    interval = settings.queue_cleanup_interval_seconds
    log.info("worker started: cleanup every %s seconds", interval)
    push = PushDelivery(settings)  # docs/push.md: its own thread; stops after its requests end
    push.start()
    while not stop.is_set():
        try:
            expired, dead_lettered = cleanup_once(settings.conninfo)
            log.info("cleanup: %d expired messages deleted, %d moved to dead queues", expired, dead_lettered)
        except psycopg.Error as exc:
            log.warning("cleanup failed, next try in %s seconds: %s", interval, str(exc).strip())
        stop.wait(interval)
    push.stop()
    push.join()
    log.info("worker stopped")
