"""Consuming: GET /queues/{queue_id}/messages leases messages, optionally long polling.

With wait_seconds (1..20) and nothing to lease, the request waits, holding no database connection,
until the listener (app/listener.py) says the queue may have messages (a NOTIFY from publish, nack,
redrive or lease release on a queue the gateway watches, or its once-a-second re-check for delays and
leases that end), then
consumes again; after wait_seconds it answers with an empty list. The wait is the gateway's alone:
the SQL API has nothing to wait on, so wait_seconds is checked here (422 outside 0..20).
"""

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from psycopg.rows import DictRow
from psycopg_pool import AsyncConnectionPool
from starlette.types import Receive

from app import queries
from app.db import Pool, fetch_messages
from app.limits import MAX_PAGE_SIZE
from app.listener import Listener, ListenerDep
from app.responses import message_list
from app.schemas import ErrorDetail, MessageList

router = APIRouter(tags=["messages"])

MAX_WAIT_SECONDS = 20


@router.get(
    "/queues/{queue_id}/messages",
    response_model=MessageList,
    responses={404: {"model": ErrorDetail, "description": "Queue not found"}},
)
async def consume(
    request: Request,
    queue_id: str,
    pool: Pool,
    listener: ListenerDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Most messages to lease.")] = 10,
    wait_seconds: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_WAIT_SECONDS,
            description="Long polling: when no message is available, wait up to this many seconds for one"
            " and answer as soon as at least one is leased (an empty list when none came). 0, the default,"
            " answers at once. A message published, nacked or redriven meanwhile is answered within"
            " milliseconds; one whose delivery delay or lease ends, within about a second.",
        ),
    ] = 0,
):
    """Lease up to `limit` available messages, oldest first. Each is hidden for the queue's
    ack_deadline_seconds: ack it when done, nack it to retry now, or it comes back after the deadline.
    No more are leased than fit in an answer of FASTQUEUE_MAX_RESPONSE_BYTES (10 MiB by default), and
    always at least one: the rest stay available for the next call.
    With `wait_seconds`, wait up to that long for messages when there are none yet (long polling)."""
    params = {"queue_id": queue_id, "max_messages": limit}
    if wait_seconds == 0:
        return message_list(await fetch_messages(pool, queries.CONSUME, params))
    return message_list(await _long_poll(request, pool, listener, params, wait_seconds))


async def _long_poll(
    request: Request, pool: AsyncConnectionPool, listener: Listener, params: dict[str, Any], wait_seconds: int
) -> list[DictRow]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    # Registered before the first consume: a message committed between that consume and the wait
    # still wakes this request.
    with listener.waiter(params["queue_id"]) as waiter, _watch_disconnect(request.receive, waiter.wake) as gone:
        while True:
            waiter.clear()
            messages = await fetch_messages(pool, queries.CONSUME, params)
            remaining = deadline - loop.time()
            if messages or remaining <= 0 or listener.shutting_down:
                return messages
            # NOTIFY is sent only for watched queues: when the watch was (re)made just now, a
            # message committed before it would wake nobody, so look once more first.
            if await listener.watch(pool, params["queue_id"], remaining):
                continue
            # Woken: by a notification or the re-check for this queue, by shutdown, or by the client
            # leaving. Not woken: the time is up, and the re-check has found nothing in it either.
            if not await waiter.wait(remaining):
                return []
            # A client that left must lease nothing: its messages would stay hidden until their deadline.
            if listener.shutting_down or gone() or await request.is_disconnected():
                return []


@contextmanager
def _watch_disconnect(receive: Receive, on_disconnect: Callable[[], None]) -> Iterator[Callable[[], bool]]:
    """Watches the client's connection while the request waits (a GET's body has been read by then,
    so the next ASGI message is http.disconnect) and calls on_disconnect when it goes. Yields a
    function telling whether it has gone."""
    gone = False

    async def watch() -> None:
        nonlocal gone
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone = True
                on_disconnect()
                return

    task = asyncio.create_task(watch(), name="fastqueue-long-poll-disconnect")
    try:
        yield lambda: gone
    finally:
        task.cancel()
