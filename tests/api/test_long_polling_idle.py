"""Idle long polling costs the database nothing per poll (issue 17): a long poll on a queue the server
knows to be empty (app/gateway/listener.py) waits without consuming first, and is still woken by what
wakes every other wait: a NOTIFY, the re-check for a delay that ends, a queue deleted meanwhile (404 again
within EMPTY_TRUST_SECONDS). Against a real server and PostgreSQL, pg_stat_statements counting the calls."""

import asyncio
import time
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest
from fastqueue.gateway.listener import EMPTY_TRUST_SECONDS
from psycopg.types.json import Jsonb

from tests.api.conftest import Server, migrated_database
from tests.conftest import drop_database

CLIENTS = 20


@pytest.fixture(scope="module")
def idle_server(template_database: str, server_factory: Callable[..., Server]) -> Iterator[tuple[Server, str]]:
    """A server of its own on a database of its own, so that pg_stat_statements counts only its calls."""
    name, url = migrated_database(template_database, "fq_longpoll_skip")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create extension if not exists pg_stat_statements")
    server = server_factory(url)
    try:
        yield server, url
    finally:
        server.stop()
        drop_database(name)


def _consume_calls(conn: psycopg.Connection) -> int:
    return conn.execute(
        "select coalesce(sum(calls), 0)::bigint from pg_stat_statements"
        " where dbid = (select oid from pg_database where datname = current_database())"
        " and query ilike '%fastqueue.consume(%'"
    ).fetchone()[0]


async def _keep_polling(http: httpx.AsyncClient, queue_id: str, until: float, answers: list[httpx.Response]) -> None:
    """Long polls of 1 s, one after the other, until `until` (loop time)."""
    while time.monotonic() < until:
        answers.append(await http.get(f"/queues/{queue_id}/messages", params={"wait_seconds": 1}))


def test_idle_consumers_repolling_an_empty_queue_do_not_consume_at_every_poll(
    idle_server: tuple[Server, str],
) -> None:
    server, url = idle_server
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_queue('idle-repoll', null, 30, 600)")

        async def scenario() -> tuple[list[httpx.Response], int, int]:
            limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
            async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as http:
                answers: list[httpx.Response] = []
                until = time.monotonic() + 9
                polls = [
                    asyncio.create_task(_keep_polling(http, "idle-repoll", until, answers)) for _ in range(CLIENTS)
                ]
                await asyncio.sleep(2)  # the first polls consumed, a re-check found the queue empty
                before, answered_before = _consume_calls(conn), len(answers)
                await asyncio.sleep(6)
                consumed = _consume_calls(conn) - before
                answered = len(answers) - answered_before
                await asyncio.gather(*polls)
                return answers, consumed, answered

        answers, consumed, answered = asyncio.run(scenario())
    print(f"\n{CLIENTS} idle consumers: {answered} polls answered, {consumed} consumes in 6 s")
    assert all(a.status_code == 200 and a.json() == {"data": []} for a in answers), answers[-1].text
    assert answered >= CLIENTS * 4, f"only {answered} polls of 1 s answered in 6 s by {CLIENTS} clients"
    # One consume every EMPTY_TRUST_SECONDS proves the queue still exists; every other poll waits at once.
    assert consumed <= 6, f"{consumed} consumes for {answered} idle polls: the polls consumed each time"


def test_a_publish_wakes_a_poll_that_waited_without_consuming(idle_server: tuple[Server, str]) -> None:
    server, url = idle_server
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_topic('idle-wake-t')")
        conn.execute("select fastqueue.create_queue('idle-wake', 'idle-wake-t', 30, 600)")

        async def scenario() -> tuple[httpx.Response, float, int]:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                answers: list[httpx.Response] = []
                await _keep_polling(http, "idle-wake", time.monotonic() + 2.5, answers)  # now known empty
                assert answers and all(a.json() == {"data": []} for a in answers)
                before = _consume_calls(conn)
                poll = asyncio.create_task(http.get("/queues/idle-wake/messages", params={"wait_seconds": 10}))
                await asyncio.sleep(0.5)
                assert not poll.done()
                skipped = _consume_calls(conn) - before
                conn.execute("select fastqueue.publish('idle-wake-t', %s)", (Jsonb({"n": "woken"}),))
                published = time.monotonic()
                response = await poll
                return response, time.monotonic() - published, skipped

        response, latency, consumed_while_waiting = asyncio.run(scenario())
    assert consumed_while_waiting == 0, "the poll on a queue known to be empty consumed before it waited"
    assert response.status_code == 200, response.text
    assert [m["data"] for m in response.json()["data"]] == [{"n": "woken"}]
    assert latency < 0.5, f"answered {latency * 1000:.0f} ms after the publish: the NOTIFY did not wake it"


def test_a_delayed_message_reaches_polls_that_wait_without_consuming(idle_server: tuple[Server, str]) -> None:
    server, url = idle_server
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_topic('idle-delay-t')")
        conn.execute(
            "select fastqueue.create_queue('idle-delay', 'idle-delay-t', 30, 600, delivery_delay_seconds => 2)"
        )

        async def scenario() -> tuple[list[httpx.Response], float]:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                answers: list[httpx.Response] = []
                await _keep_polling(http, "idle-delay", time.monotonic() + 2.5, answers)  # now known empty
                conn.execute("select fastqueue.publish('idle-delay-t', %s)", (Jsonb({"n": "due"}),))
                published = time.monotonic()
                answers.clear()
                while not any(a.json()["data"] for a in answers) and time.monotonic() < published + 10:
                    answers.append(await http.get("/queues/idle-delay/messages", params={"wait_seconds": 1}))
                return answers, time.monotonic() - published

        answers, delay = asyncio.run(scenario())
    assert [m["data"] for m in answers[-1].json()["data"]] == [{"n": "due"}], answers[-1].text
    # Due 2 s after its publish; the re-check runs every second, then one consume.
    assert 1.95 <= delay < 4.5, f"answered {delay:.2f} s after the publish; expected between 2 and about 3 s"


def test_a_queue_deleted_while_known_empty_answers_404_again(idle_server: tuple[Server, str]) -> None:
    server, url = idle_server
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_queue('idle-gone', null, 30, 600)")

        async def scenario() -> tuple[httpx.Response, float]:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                answers: list[httpx.Response] = []
                await _keep_polling(http, "idle-gone", time.monotonic() + 2.5, answers)  # now known empty
                conn.execute("select fastqueue.delete_queue('idle-gone')")
                deleted = time.monotonic()
                response = answers[-1]
                while response.status_code == 200 and time.monotonic() < deleted + EMPTY_TRUST_SECONDS + 10:
                    response = await http.get("/queues/idle-gone/messages", params={"wait_seconds": 1})
                return response, time.monotonic() - deleted

        response, after = asyncio.run(scenario())
    assert response.status_code == 404, response.text
    # Polls that started while the queue was trusted to exist answer as if it was deleted during their wait.
    assert after < EMPTY_TRUST_SECONDS + 2.5, f"404 only {after:.1f} s after the queue was deleted"
