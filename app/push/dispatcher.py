"""The push dispatcher: one asyncio loop, in a thread of `fastqueue worker` (docs/push.md).

Settings: fastqueue.push_queues() once at start, then again only on NOTIFY fastqueue_push_queues
(sent by a trigger when a push queue is created, changed or deleted). Wake-ups: the same
NOTIFY fastqueue_available as long polls, on one LISTEN connection, for the push queues this worker
watches (fastqueue.watch_queue, an hour at a time). A queue with nothing to deliver costs no query:
after an empty consume, one peek tells when the next message is due (a delay, a retry, a lease),
and the loop sleeps until then or a notification; with nothing there at all it sleeps for
IDLE_RECHECK_SECONDS (messages published with a delay send no NOTIFY).

Each queue leases with fastqueue.consume() as many messages as its endpoint's window has room for,
and POSTs each one at once (on a queue with enable_message_ordering, consume hands out one message
per ordering key at a time, so those go one by one, in order). A request's timeout ends before the
lease does (the ack deadline minus a margin), so a slow endpoint never holds a message that was
delivered again. 2xx: ack. Anything else: nack with the queue's retry backoff, or
window.retry_delay() when it has none; after message_max_deliveries the message goes to the dead
queue (cleanup). Acks and nacks are fenced with delivery_attempt.

Stopping (stop()): no more leases; requests in flight finish (each within its timeout); whatever
is still leased and unsettled after that is nacked with no delay. A killed worker loses nothing:
its leases run out and the messages come back."""

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from ..database.pool import CONNECT_TIMEOUT_SECONDS, connection_options
from ..settings import Settings
from .client import PushFailed, post
from .safety import Endpoint, RefusedEndpoint, parse_endpoint
from .window import Window, retry_delay
from .wire import SIGNATURE_HEADER, request_body, signature

log = logging.getLogger("fastqueue.push")

AVAILABLE_CHANNEL = "fastqueue_available"
SETTINGS_CHANNEL = "fastqueue_push_queues"
WATCH_SECONDS = 3600
WATCH_RENEW_BEFORE_SECONDS = 300
IDLE_RECHECK_SECONDS = 30.0
BLOCKED_RECHECK_MAX_SECONDS = 30.0
REPORT_INTERVAL_SECONDS = 1.0
RECONNECT_DELAY_SECONDS = 2.0
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

PUSH_QUEUES = "select * from fastqueue.push_queues()"
CONSUME = (
    "select id, queue_id, data::text as data, attributes::text as attributes, delivery_attempts, created_at"
    " from fastqueue.consume(queue_id => %(queue_id)s, max_messages => %(max_messages)s::integer)"
)
NEXT_DUE = (
    "select id, scheduled_at <= now() as due, extract(epoch from scheduled_at - now())::float8 as wait"
    " from fastqueue.peek(queue_id => %(queue_id)s, max_messages => %(max_messages)s::integer)"
)
WATCH = (
    "select fastqueue.watch_queue(queue_id => %(queue_id)s, watcher => %(watcher)s, seconds => %(seconds)s::integer)"
)
ACK = "select fastqueue.ack(message_id => %(id)s, delivery_attempt => %(attempt)s::integer)"
NACK = (
    "select fastqueue.nack(message_id => %(id)s, delivery_attempt => %(attempt)s::integer,"
    " delay_seconds => %(delay)s::integer)"
)
REPORT = "select fastqueue.report_push_states(worker => %(worker)s, states => %(states)s::jsonb)"


def lease_margin(ack_deadline_seconds: int) -> float:
    """How long before the lease ends a push request must be over (time to ack or nack it)."""
    return min(max(0.5, ack_deadline_seconds * 0.1), 5.0, ack_deadline_seconds / 2)


def outcome_of(status: int) -> str:
    return f"{status // 100}xx"


@dataclass
class PushQueue:
    queue_id: str
    endpoint_url: str
    push_format: str
    secret: str | None
    max_in_flight: int
    ack_deadline_seconds: int
    has_retry_backoff: bool
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    watched_until: float = 0.0
    retry_due: float = 0.0  # monotonic time at which the latest delayed nack comes back
    blocked_delay: float = 1.0
    outcomes: dict[str, int] = field(default_factory=dict)
    latency_counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    latency_sum: float = 0.0
    in_flight: int = 0

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "PushQueue":
        return cls(
            queue_id=row["queue_id"],
            endpoint_url=row["push_endpoint"],
            push_format=row["push_format"],
            secret=row["push_secret"],
            max_in_flight=row["push_max_in_flight"],
            ack_deadline_seconds=row["ack_deadline_seconds"],
            has_retry_backoff=row["has_retry_backoff"],
        )

    def update(self, other: "PushQueue") -> None:
        self.endpoint_url = other.endpoint_url
        self.push_format = other.push_format
        self.secret = other.secret
        self.max_in_flight = other.max_in_flight
        self.ack_deadline_seconds = other.ack_deadline_seconds
        self.has_retry_backoff = other.has_retry_backoff

    def record(self, outcome: str, seconds: float) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        self.latency_sum += seconds
        for i, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                self.latency_counts[i] += 1
                break
        else:
            self.latency_counts[-1] += 1

    def latency(self) -> dict[str, Any]:
        cumulative: dict[str, int] = {}
        total = 0
        for bound, count in zip(LATENCY_BUCKETS, self.latency_counts, strict=False):
            total += count
            cumulative[repr(bound)] = total
        total += self.latency_counts[-1]
        return {"buckets": cumulative, "sum": self.latency_sum, "count": total}


class PushDelivery:
    """Runs push delivery in a thread of its own: start(), then stop() and join()."""

    def __init__(self, settings: Settings) -> None:
        self._conninfo = settings.conninfo
        self._options = connection_options(settings)
        self._allow_private = settings.push_allow_private_networks
        self._worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[-128:]
        self._queues: dict[str, PushQueue] = {}
        self._windows: dict[str, Window] = {}
        self._unsettled: dict[uuid.UUID, int] = {}  # leased, not yet acked or nacked: id -> attempt
        self._deliveries: set[asyncio.Task[None]] = set()
        self._dirty = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[dict[str, Any]]] | None = None

    # Life cycle

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run_thread, name="fastqueue-push", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            loop.call_soon_threadsafe(stopping.set)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run_thread(self) -> None:
        asyncio.run(self.run())

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._pool = AsyncConnectionPool(
            self._conninfo,
            min_size=1,
            max_size=4,
            open=False,
            kwargs={
                "autocommit": True,
                "row_factory": dict_row,
                "options": self._options,
                "application_name": "fastqueue-push",
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            },
        )
        await self._pool.open(wait=False)
        log.info("push delivery started")
        reporter = asyncio.create_task(self._report_loop(), name="push-report")
        try:
            await self._listen_loop()
        finally:
            await self._shut_down()
            reporter.cancel()
            await asyncio.gather(reporter, return_exceptions=True)
            await self._report()
            await self._pool.close()
            log.info("push delivery stopped")

    @property
    def stopping(self) -> bool:
        return self._stopping is not None and self._stopping.is_set()

    async def _shut_down(self) -> None:
        for queue in self._queues.values():
            queue.wake.set()
        tasks = [q.task for q in self._queues.values() if q.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._deliveries:
            # Each request ends within its own timeout (inside its lease); the bound is a backstop.
            longest = max((q.ack_deadline_seconds for q in self._queues.values()), default=60)
            _done, pending = await asyncio.wait(set(self._deliveries), timeout=longest + 5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for message_id, attempt in list(self._unsettled.items()):
            await self._settle(message_id, attempt, ack=False, delay=0)
        self._dirty = True

    # Settings and wake-ups

    async def _listen_loop(self) -> None:
        assert self._stopping is not None
        while not self.stopping:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo,
                    autocommit=True,
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    application_name="fastqueue-push-listener",
                    options=self._options,
                ) as conn:
                    await conn.execute(f"listen {AVAILABLE_CHANNEL}")
                    await conn.execute(f"listen {SETTINGS_CHANNEL}")
                    await self._load_settings()
                    while not self.stopping:
                        await self._renew_watches()
                        async for notify in conn.notifies(timeout=1.0, stop_after=None):
                            if notify.channel == SETTINGS_CHANNEL:
                                await self._load_settings()
                            else:
                                queue = self._queues.get(notify.payload)
                                if queue is not None:
                                    queue.wake.set()
                            if self.stopping:
                                break
            except psycopg.Error as exc:
                log.warning("push delivery lost its database connection (retrying): %s", str(exc).strip())
                try:
                    await asyncio.wait_for(self._stopping.wait(), RECONNECT_DELAY_SECONDS)
                except TimeoutError:
                    pass

    async def _load_settings(self) -> None:
        assert self._pool is not None
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(PUSH_QUEUES)).fetchall()
        seen: set[str] = set()
        for row in rows:
            fresh = PushQueue.from_row(row)
            seen.add(fresh.queue_id)
            queue = self._queues.get(fresh.queue_id)
            if queue is None:
                queue = self._queues[fresh.queue_id] = fresh
                queue.task = asyncio.create_task(self._queue_loop(queue), name=f"push-{queue.queue_id}")
                log.info("pushing queue %s to %s", queue.queue_id, queue.endpoint_url)
            else:
                queue.update(fresh)
            self._window(queue).set_cap(
                max(q.max_in_flight for q in self._queues.values() if q.endpoint_url == queue.endpoint_url)
            )
            queue.wake.set()
        for queue_id in list(self._queues):
            if queue_id not in seen:
                queue = self._queues.pop(queue_id)
                log.info("no longer pushing queue %s", queue_id)
                if queue.task is not None:
                    queue.task.cancel()
        self._dirty = True

    async def _renew_watches(self) -> None:
        assert self._pool is not None
        now = time.monotonic()
        for queue in list(self._queues.values()):
            if queue.watched_until - WATCH_RENEW_BEFORE_SECONDS > now:
                continue
            async with self._pool.connection() as conn:
                await conn.execute(
                    WATCH, {"queue_id": queue.queue_id, "watcher": self._worker, "seconds": WATCH_SECONDS}
                )
            queue.watched_until = now + WATCH_SECONDS
            queue.wake.set()  # a message may have come before the watch did

    def _window(self, queue: PushQueue) -> Window:
        window = self._windows.get(queue.endpoint_url)
        if window is None:
            window = self._windows[queue.endpoint_url] = Window(queue.max_in_flight)
        return window

    # Leasing

    async def _queue_loop(self, queue: PushQueue) -> None:
        while not self.stopping and self._queues.get(queue.queue_id) is queue:
            queue.wake.clear()
            timeout: float | None = IDLE_RECHECK_SECONDS
            window = self._window(queue)
            free = min(window.free, queue.max_in_flight - queue.in_flight)
            if free > 0:
                try:
                    timeout = await self._lease_and_push(queue, free)
                except psycopg.Error as exc:
                    log.warning("push queue %s: consume failed (retrying): %s", queue.queue_id, str(exc).strip())
                    timeout = RECONNECT_DELAY_SECONDS
                if timeout == 0:
                    continue
            else:
                timeout = None  # a request that ends sets wake
            if queue.retry_due:
                until_retry = max(0.05, queue.retry_due - time.monotonic())
                timeout = until_retry if timeout is None else min(timeout, until_retry)
            try:
                await asyncio.wait_for(queue.wake.wait(), timeout)
            except TimeoutError:
                pass
            if queue.retry_due and queue.retry_due <= time.monotonic():
                queue.retry_due = 0.0

    async def _lease_and_push(self, queue: PushQueue, free: int) -> float:
        """Leases up to free messages and starts their requests. Returns how long the loop may sleep
        (0: look again at once)."""
        assert self._pool is not None
        leased_at = time.monotonic()
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(CONSUME, {"queue_id": queue.queue_id, "max_messages": free})).fetchall()
            if not rows:
                due = await (
                    await conn.execute(
                        NEXT_DUE, {"queue_id": queue.queue_id, "max_messages": min(1000, len(self._unsettled) + 1)}
                    )
                ).fetchall()
        if rows:
            queue.blocked_delay = 1.0
            window = self._window(queue)
            for row in rows:
                self._unsettled[row["id"]] = row["delivery_attempts"]
                window.in_flight += 1
                queue.in_flight += 1
                task = asyncio.create_task(self._push(queue, window, row, leased_at))
                self._deliveries.add(task)
                task.add_done_callback(self._deliveries.discard)
            self._dirty = True
            return 0 if len(rows) == free else IDLE_RECHECK_SECONDS
        # Nothing to lease: sleep until the next message not in our own hands is due.
        for row in due:
            if row["id"] in self._unsettled:
                continue
            if row["due"]:  # there, but not leasable (ordering, delivery limit, expiry): look again later
                wait = queue.blocked_delay
                queue.blocked_delay = min(queue.blocked_delay * 2, BLOCKED_RECHECK_MAX_SECONDS)
                return wait
            return min(max(0.05, float(row["wait"])), IDLE_RECHECK_SECONDS)
        return IDLE_RECHECK_SECONDS

    # Pushing

    async def _push(self, queue: PushQueue, window: Window, row: dict[str, Any], leased_at: float) -> None:
        message_id: uuid.UUID = row["id"]
        attempt: int = row["delivery_attempts"]
        started = time.monotonic()
        timeout = leased_at + queue.ack_deadline_seconds - lease_margin(queue.ack_deadline_seconds) - started
        outcome: str
        reason = ""
        try:
            endpoint: Endpoint = parse_endpoint(queue.endpoint_url)
            body, headers = request_body(row, queue.push_format)
            if queue.secret:
                headers[SIGNATURE_HEADER] = signature(queue.secret, int(time.time()), body)
            if timeout <= 0:
                raise PushFailed("timeout", "the lease ended before the request could start")
            response = await post(endpoint, body, headers, timeout, self._allow_private)
            outcome = outcome_of(response.status)
            reason = f"status {response.status}"
        except PushFailed as exc:
            outcome, reason = exc.outcome, str(exc)
        except RefusedEndpoint as exc:
            outcome, reason = "blocked", str(exc)
        finally:
            window.in_flight -= 1
            queue.in_flight -= 1
        elapsed = time.monotonic() - started
        queue.record(outcome, elapsed)
        if outcome == "2xx":
            if window.succeeded():
                log.info("push endpoint %s recovered (window %d)", queue.endpoint_url, window.limit)
            await self._settle(message_id, attempt, ack=True)
        else:
            if window.failed():
                log.warning("push endpoint %s failing: %s (window %d)", queue.endpoint_url, reason, window.limit)
            delay = None if queue.has_retry_backoff else retry_delay(attempt)
            await self._settle(message_id, attempt, ack=False, delay=delay)
            if delay:
                queue.retry_due = max(queue.retry_due, time.monotonic() + delay)
        self._dirty = True
        for other in self._queues.values():  # the window has room again
            if other.endpoint_url == queue.endpoint_url:
                other.wake.set()

    async def _settle(self, message_id: uuid.UUID, attempt: int, ack: bool, delay: int | None = None) -> None:
        assert self._pool is not None
        try:
            async with self._pool.connection() as conn:
                if ack:
                    await conn.execute(ACK, {"id": message_id, "attempt": attempt})
                else:
                    await conn.execute(NACK, {"id": message_id, "attempt": attempt, "delay": delay})
        except psycopg.Error as exc:
            if exc.sqlstate == "FQ409":  # delivered again meanwhile (the lease ran out): nothing to do
                log.debug("push: %s of %s skipped: %s", "ack" if ack else "nack", message_id, exc)
            else:
                log.warning(
                    "push: cannot %s message %s (its lease will run out): %s",
                    "ack" if ack else "nack",
                    message_id,
                    str(exc).strip(),
                )
        self._unsettled.pop(message_id, None)

    # Reporting (queue_stats, the console, /metrics)

    def _states(self) -> list[dict[str, Any]]:
        states = []
        for queue in self._queues.values():
            window = self._window(queue)
            states.append(
                {
                    "queue_id": queue.queue_id,
                    "in_flight": queue.in_flight,
                    "window": window.limit,
                    "failing": window.failing,
                    "outcomes": queue.outcomes,
                    "latency": queue.latency(),
                }
            )
        return states

    async def _report(self) -> None:
        if not self._dirty or self._pool is None:
            return
        self._dirty = False
        states = self._states()
        if not states:
            return
        try:
            async with self._pool.connection(timeout=5) as conn:
                await conn.execute(REPORT, {"worker": self._worker, "states": Jsonb(states)})
        except (psycopg.Error, PoolTimeout) as exc:
            log.debug("push: cannot report state: %s", exc)
            self._dirty = True

    async def _report_loop(self) -> None:
        while True:
            await asyncio.sleep(REPORT_INTERVAL_SECONDS)
            await self._report()
