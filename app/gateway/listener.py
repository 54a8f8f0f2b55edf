"""Long polling's wake-ups: one LISTEN connection per server process, shared by every waiting consumer.

publish, nack, redrive and lease release call fastqueue._notify_available(queue_id), a NOTIFY on
channel fastqueue_available with the queue id as payload, sent at commit (a rolled-back transaction
wakes nobody). The Listener holds one dedicated autocommit connection, outside the pool, that LISTENs
on that channel, and a dict queue id -> the events of the requests waiting on that queue: a
notification sets them, and each woken request consumes again through the pool. A waiting request
holds no database connection.

Some messages become available without any NOTIFY: a delivery delay or a lease runs out. For them the
same connection runs one safety re-check per RECHECK_INTERVAL_SECONDS, fastqueue.available_queues()
over every queue that has waiters, and wakes those it names; with no waiters it sends nothing at all.

A NOTIFY is sent only for queues someone watches (fastqueue.watch_queue): NOTIFY makes concurrent
commits wait for each other, so publishing to a queue nobody waits on must not pay for it. Before a
request waits, watch() makes sure this process's watch on the queue (WATCH_SECONDS long, renewed
before it could end during the wait) is in place; the request then consumes once more, since a
message may have been committed before the watch was.

Sharded (docs/sharding.md, FASTQUEUE_SHARD_URLS set, the database URL a router): a shard's NOTIFY
reaches only its own listeners, so the Listener also opens one LISTEN connection per shard, each
connecting and reconnecting on its own, and a notification from any of them wakes its queue's waiters.
The re-check stays on the router's connection (available_queues over every shard); while a shard's
LISTEN connection is away, nothing is taken to be known empty.

The connection reconnects by itself (after a database restart, say) with a growing delay, and wakes
every waiter once it is back, since notifications sent meanwhile were lost. Requests never wait for
it: while it is away a long poll just waits out its time.

Idle consumers cost the database nothing per poll: a long poll on a queue that this process knows to
be empty starts waiting without consuming first. Known empty: the last re-check found nothing available
in it and nothing has woken it since (no notification, no re-check naming it, no reconnect, no new
watch), its watch covers the whole wait, and a consume of this process found it empty (so it exists)
within the last EMPTY_TRUST_SECONDS; when that is longer ago, one long poll consumes and the others
arriving meanwhile wait for its answer. A message a re-check would find still wakes such a wait within
a re-check's interval, as it wakes every other waiting request.

On SIGTERM/SIGINT uvicorn waits for requests in flight before it shuts the application down; a long
poll could hold it for 20 s. So the Listener chains itself in front of uvicorn's signal handlers and,
on the signal, ends every wait at once (the requests answer with what they have, an empty list).
"""

import asyncio
import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request

from ..database import queries
from ..database.pool import CONNECT_TIMEOUT_SECONDS, connection_options
from ..settings import Settings, to_conninfo

log = logging.getLogger("fastqueue.listener")

CHANNEL = "fastqueue_available"
LISTEN = "listen fastqueue_available"
# How often the shared re-check runs while some request waits: the most a message whose delay or
# lease ends may wait for a long-polling consumer.
RECHECK_INTERVAL_SECONDS = 1.0
# How long one fastqueue.watch_queue() call watches a queue; it is renewed when a wait could outlast it.
WATCH_SECONDS = 30
WATCH_MARGIN_SECONDS = 2.0
# How long a consume that found a queue empty vouches that it exists, for long polls that skip their
# first consume (a queue deleted meanwhile answers 404 again after this long).
EMPTY_TRUST_SECONDS = 5.0
RECONNECT_MIN_DELAY_SECONDS = 0.5
RECONNECT_MAX_DELAY_SECONDS = 5.0
# The connection mostly sits idle: TCP keepalives notice a database host that vanished silently.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}
SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Waiter:
    """One waiting request: woken by a notification or re-check for its queue, by shutdown, or by
    its client going away."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, timeout: float) -> bool:
        """True when woken, False when the timeout ran out first."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        return True


class Listener:
    def __init__(self, settings: Settings) -> None:
        self._conninfo = settings.conninfo
        # Sharded: one more LISTEN connection per shard (the module's docstring), and those not listening now.
        self._shard_conninfos = [
            to_conninfo(url.strip()) for url in (settings.shard_urls or "").split(",") if url.strip()
        ]
        self._deaf_shards: set[int] = set(range(len(self._shard_conninfos)))
        self._options = connection_options(settings)
        self._waiters: dict[str, set[Waiter]] = {}
        # This process's watches: queue id -> loop time when it ends, and the calls in flight.
        self._watcher = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[-128:]
        self._watched_until: dict[str, float] = {}
        self._watch_calls: dict[str, asyncio.Future[None]] = {}
        # Queues the last re-check found empty, not woken since; and when a consume last found each empty.
        self._empty: set[str] = set()
        self._consumed_empty_at: dict[str, float] = {}
        # Long polls' consumes in flight, one per queue: True when it found the queue empty.
        self._consumes: dict[str, asyncio.Future[bool]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._previous_handlers: dict[int, Any] = {}

    # Life cycle (the FastAPI lifespan, app/gateway/main.py)

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(self._conninfo, None), name="fastqueue-listener")]
        for shard, conninfo in enumerate(self._shard_conninfos):
            self._tasks.append(asyncio.create_task(self._run(conninfo, shard), name=f"fastqueue-listener-shard{shard}"))
        self._chain_signal_handlers()

    async def stop(self) -> None:
        self._restore_signal_handlers()
        self.shut_down()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def shut_down(self) -> None:
        """Ends every wait now, and any wait that would start from now on."""
        self._stopping.set()
        for waiters in self._waiters.values():
            for waiter in waiters:
                waiter.wake()

    @property
    def shutting_down(self) -> bool:
        return self._stopping.is_set()

    # Waiting (app/gateway/routes/consume.py)

    @contextmanager
    def waiter(self, queue_id: str) -> Iterator[Waiter]:
        """Registers a waiter on queue_id for the duration of the block. Register before the first
        consume, so that a message published between that consume and the wait still wakes it."""
        waiter = Waiter()
        self._waiters.setdefault(queue_id, set()).add(waiter)
        if self.shutting_down:
            waiter.wake()
        try:
            yield waiter
        finally:
            waiters = self._waiters.get(queue_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[queue_id]

    @contextmanager
    def consuming(self, queue_id: str) -> Iterator[Callable[[bool], None]]:
        """Around a long poll's consume of queue_id: yields report(found_empty), to be called with
        whether it leased nothing. Long polls arriving meanwhile may wait for that answer
        (may_skip_consume); a consume that raised reports nothing, and they consume themselves."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bool] | None = None
        if queue_id not in self._consumes:
            answer = self._consumes[queue_id] = loop.create_future()
        found_empty = False

        def report(empty: bool) -> None:
            nonlocal found_empty
            found_empty = empty
            if empty:  # the queue exists, with nothing to lease
                self._consumed_empty_at[queue_id] = loop.time()

        try:
            yield report
        finally:
            if answer is not None:
                del self._consumes[queue_id]
                answer.set_result(found_empty)

    async def may_skip_consume(self, queue_id: str, wait_seconds: float) -> bool:
        """True when a long poll of wait_seconds on queue_id may wait without consuming first: the queue
        is known empty (the module's docstring). Register the waiter first, so that every wake-up from
        then on reaches it, and do not clear it after this call."""
        if not self._known_empty(queue_id, wait_seconds):
            return False
        loop = asyncio.get_running_loop()
        if loop.time() - self._consumed_empty_at.get(queue_id, -EMPTY_TRUST_SECONDS) < EMPTY_TRUST_SECONDS:
            return True
        answer = self._consumes.get(queue_id)
        if answer is None:  # this poll's consume proves the queue still exists
            return False
        return await asyncio.shield(answer) and self._known_empty(queue_id, wait_seconds)

    def _known_empty(self, queue_id: str, wait_seconds: float) -> bool:
        if queue_id not in self._empty:
            return False
        deadline = asyncio.get_running_loop().time() + wait_seconds + WATCH_MARGIN_SECONDS
        return self._watched_until.get(queue_id, 0.0) >= deadline

    async def watch(self, pool: Any, queue_id: str, wait_seconds: float) -> bool:
        """Makes sure this process watches queue_id for the next wait_seconds (one SQL call when the
        watch is missing or would end before the wait does; waiters on one queue share it). True when
        it called: the caller should consume once more before waiting."""
        loop = asyncio.get_running_loop()
        if self._watched_until.get(queue_id, 0.0) >= loop.time() + wait_seconds + WATCH_MARGIN_SECONDS:
            return False
        call = self._watch_calls.get(queue_id)
        if call is None:
            call = asyncio.ensure_future(self._watch_queue(pool, queue_id))
            self._watch_calls[queue_id] = call
            call.add_done_callback(lambda _: self._watch_calls.pop(queue_id, None))
        await asyncio.shield(call)
        return True

    async def _watch_queue(self, pool: Any, queue_id: str) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with pool.connection() as conn:
            await conn.execute(
                queries.WATCH_QUEUE, {"queue_id": queue_id, "watcher": self._watcher, "seconds": WATCH_SECONDS}
            )
        if self._watched_until.get(queue_id, 0.0) < started:
            # The watch had lapsed (or never was): what was published meanwhile notified nobody.
            self._empty.discard(queue_id)
        self._watched_until[queue_id] = started + WATCH_SECONDS

    def _wake(self, queue_id: str) -> None:
        self._empty.discard(queue_id)
        for waiter in self._waiters.get(queue_id, ()):
            waiter.wake()

    def _wake_all(self) -> None:
        self._empty.clear()
        for queue_id in list(self._waiters):
            self._wake(queue_id)

    # The connection

    async def _run(self, conninfo: str, shard: int | None) -> None:
        """One LISTEN connection, kept up: the database's (or router's), which also re-checks, when shard
        is None; else shard number shard's, which only hears notifications."""
        where = CHANNEL if shard is None else f"{CHANNEL} on shard {shard}"
        delay = RECONNECT_MIN_DELAY_SECONDS
        while not self.shutting_down:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    conninfo,
                    autocommit=True,
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    application_name="fastqueue-listener",
                    options=self._options,
                    keepalives=KEEPALIVES["keepalives"],
                    keepalives_idle=KEEPALIVES["keepalives_idle"],
                    keepalives_interval=KEEPALIVES["keepalives_interval"],
                    keepalives_count=KEEPALIVES["keepalives_count"],
                )
            except psycopg.Error as exc:
                log.warning("cannot connect to listen on %s (retrying in %.1f s): %s", where, delay, exc)
            else:
                try:
                    async with conn:
                        await conn.execute(LISTEN)
                        # After a crash the watches are gone (an unlogged table): make them anew.
                        self._watched_until.clear()
                        delay = RECONNECT_MIN_DELAY_SECONDS
                        log.debug("listening on %s", where)
                        if shard is not None:
                            self._deaf_shards.discard(shard)
                        # Notifications sent while there was no connection are lost: everyone looks again.
                        self._wake_all()
                        if shard is None:
                            await self._listen(conn)
                        else:
                            async for notify in conn.notifies():
                                self._wake(notify.payload)
                except psycopg.Error as exc:
                    # Notifications are lost until the next connection: nothing is known empty meanwhile.
                    if shard is not None:
                        self._deaf_shards.add(shard)
                    self._empty.clear()
                    log.warning("lost the connection listening on %s (reconnecting in %.1f s): %s", where, delay, exc)
            try:  # sleep, unless shutting down
                await asyncio.wait_for(self._stopping.wait(), delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, RECONNECT_MAX_DELAY_SECONDS)

    async def _listen(self, conn: psycopg.AsyncConnection[Any]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # Notifications until the next re-check is due (the generator ends at its timeout);
            # those arriving during the re-check query are kept by psycopg for the next round.
            async for notify in conn.notifies(timeout=RECHECK_INTERVAL_SECONDS):
                self._wake(notify.payload)
            if self._waiters:
                started = loop.time()
                checked = list(self._waiters)
                cursor = await conn.execute(queries.AVAILABLE_QUEUES, {"queue_ids": checked})
                available = {queue_id for (queue_id,) in await cursor.fetchall()}
                # Empty when the query ran; a notification that came meanwhile is handled next (it
                # wakes the queue, which is then no longer known empty). Not while a shard is unheard.
                if not self._deaf_shards:
                    self._empty.update(queue_id for queue_id in checked if queue_id not in available)
                for queue_id in available:
                    self._wake(queue_id)
                log.debug("re-checked in %.1f ms", (loop.time() - started) * 1000)

    # Signals

    def _chain_signal_handlers(self) -> None:
        """Ends the waits on SIGTERM/SIGINT, then lets the handler that was there (uvicorn's) run.
        Only where a Python handler is installed, in the main thread (uvicorn's own case): a test
        client running the app in another thread keeps its signals as they are."""
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for signum in SHUTDOWN_SIGNALS:
            previous = signal.getsignal(signum)
            if not callable(previous):
                continue

            def handler(sig: int, frame: FrameType | None, previous: Callable[..., Any] = previous) -> None:
                loop.call_soon_threadsafe(self.shut_down)
                previous(sig, frame)

            signal.signal(signum, handler)
            self._previous_handlers[signum] = (previous, handler)

    def _restore_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, (previous, handler) in self._previous_handlers.items():
            if signal.getsignal(signum) is handler:  # nobody chained in after us
                signal.signal(signum, previous)
        self._previous_handlers.clear()


async def get_listener(request: Request) -> Listener:
    listener: Listener = request.app.state.listener
    return listener


ListenerDep = Annotated[Listener, Depends(get_listener)]
