"""Consuming: GET /queues/{queue_id}/messages leases messages, optionally long polling, and
POST /queues/{queue_id}/messages/consume does the same after acking the messages it names (ack_ids),
in the same SQL call and transaction (consume's ack_message_ids).

With wait_seconds (1..20) and nothing to lease, the request waits, holding no database connection,
until the listener (app/gateway/listener.py) says the queue may have messages (a NOTIFY from publish, nack,
redrive or lease release on a queue the gateway watches, or its once-a-second re-check for delays and
leases that end), then
consumes again; after wait_seconds it answers with an empty list. The wait is the gateway's alone:
the SQL API has nothing to wait on, so wait_seconds is checked here (422 outside 0..20). With acks,
only the first SQL call carries them, and it commits them whatever happens next (the wait ends
empty, the client leaves): the calls made when woken carry none.
"""

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from psycopg.rows import DictRow
from starlette.types import Receive

from ...database import queries
from ...database.pool import DictPool, fetch_messages
from ...limits import MAX_PAGE_SIZE, MAX_WAIT_SECONDS
from ..direct import DirectRoute, direct, json_body, query_ints
from ..listener import Listener
from ..responses import message_list
from ..schemas import BODY_NOT_JSON, ConsumeRequest, ErrorDetail, MessageList, Responses
from ..state import listener_of, pool_of

router = APIRouter(tags=["messages"], route_class=DirectRoute)
NOT_FOUND: Responses = {404: {"model": ErrorDetail, "description": "Queue not found"}}
CONSUME_DEFAULTS = {"limit": 10, "wait_seconds": 0}
CONSUME_BOUNDS = {"limit": (1, MAX_PAGE_SIZE), "wait_seconds": (0, MAX_WAIT_SECONDS)}


async def _consume_arguments(request: Request) -> dict[str, Any] | None:
    query = query_ints(request, CONSUME_DEFAULTS, CONSUME_BOUNDS)
    if query is None:
        return None
    return {"request": request, "queue_id": request.path_params["queue_id"], **query}


async def _consume_with_acks_arguments(request: Request) -> dict[str, Any] | None:
    body = await json_body(request, ConsumeRequest)
    if body is None:
        return None
    return {"request": request, "queue_id": request.path_params["queue_id"], "body": body}


@router.get(
    "/queues/{queue_id}/messages",
    response_model=MessageList,
    responses=NOT_FOUND,
)
@direct(_consume_arguments)
async def consume(
    request: Request,
    queue_id: str,
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
) -> Response:
    """Lease up to `limit` available messages, oldest first. Each is hidden for the queue's
    ack_deadline_seconds: ack it when done, nack it to retry now, or it comes back after the deadline.
    No more are leased than fit in an answer of FASTQUEUE_MAX_RESPONSE_BYTES (10 MiB by default), and
    always at least one: the rest stay available for the next call.
    With `wait_seconds`, wait up to that long for messages when there are none yet (long polling)."""
    return message_list(await _consume(request, queue_id, limit, wait_seconds, []))


@router.post(
    "/queues/{queue_id}/messages/consume",
    response_model=MessageList,
    responses={**NOT_FOUND, **BODY_NOT_JSON},
)
@direct(_consume_with_acks_arguments)
async def consume_with_acks(request: Request, queue_id: str, body: ConsumeRequest) -> Response:
    """Ack the messages named in `ack_ids` (those of this queue; other ids are ignored), then lease up to
    `limit` available messages, as GET /queues/{queue_id}/messages does, in one transaction: one request
    per cycle of lease, work, ack. A message acked here is never answered, and the next message of an
    ordering key whose head was acked can come in the same answer. With `wait_seconds`, the acks are
    committed before the wait, whatever happens next: the wait ends empty, or the client leaves."""
    return message_list(await _consume(request, queue_id, body.limit, body.wait_seconds, body.ack_ids))


async def _consume(
    request: Request,
    queue_id: str,
    limit: int,
    wait_seconds: int,
    ack_ids: list[UUID],
) -> list[DictRow]:
    params = {"queue_id": queue_id, "max_messages": limit, "ack_message_ids": ack_ids or None}
    pool = pool_of(request)
    if wait_seconds == 0:
        return await fetch_messages(pool, queries.CONSUME, params)
    return await _long_poll(request, pool, listener_of(request), params, wait_seconds)


async def _long_poll(
    request: Request, pool: DictPool, listener: Listener, params: dict[str, Any], wait_seconds: int
) -> list[DictRow]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    # Registered before the first consume: a message committed between that consume and the wait
    # still wakes this request.
    queue_id = params["queue_id"]
    with listener.waiter(queue_id) as waiter, _watch_disconnect(request.receive, waiter.wake) as gone:
        # An idle consumer on a queue known to be empty waits at once, costing the database nothing
        # (app/gateway/listener.py); acks must be sent, so a call with acks consumes first. The waiter
        # is not cleared then: a wake-up from its registration on counts.
        consume = params["ack_message_ids"] is not None or not await listener.may_skip_consume(queue_id, wait_seconds)
        while True:
            if consume:
                waiter.clear()
                with listener.consuming(queue_id) as report:
                    messages = await fetch_messages(pool, queries.CONSUME, params)
                    report(not messages)
            else:
                messages, consume = [], True
            # The acks are committed with the first call: the calls after a wake-up lease only.
            params = {**params, "ack_message_ids": None}
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
    """Watches the client's connection while the request waits (the request's body, if any, has been
    read by then, so the next ASGI message is http.disconnect) and calls on_disconnect when it goes.
    Yields a function telling whether it has gone."""
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
