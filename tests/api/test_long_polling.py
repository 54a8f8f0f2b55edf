"""Long polling, GET /queues/{id}/messages?wait_seconds=N, against a real server and PostgreSQL: woken by
NOTIFY within milliseconds of a commit (never by a rollback), by the shared once-a-second re-check for
delays and leases that end, cheap while idle, leasing nothing for a client that left, and ended
promptly by SIGTERM."""

import asyncio
import os
import signal
import statistics
import time
from collections.abc import Callable

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.api.conftest import Server, migrated_database
from tests.conftest import drop_database

# How long a request needs to be parked in its wait before the test acts (it has consumed once and
# registered with the listener by then, on a loopback server).
SETTLE_SECONDS = 0.5


def _publish_sql(conn: psycopg.Connection, topic_id: str, data: dict | None = None) -> None:
    conn.execute("select fastqueue.publish(%s, %s)", (topic_id, Jsonb(data or {"n": 1})))


def _poll(client: httpx.Client, queue_id: str, wait_seconds: int, **params) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = client.get(f"/queues/{queue_id}/messages", params={"wait_seconds": wait_seconds, **params}, timeout=40)
    return response, time.monotonic() - started


def _message_state(db: psycopg.Connection, queue_id: str) -> list[tuple[int, bool]]:
    """(delivery_attempts, due now) of every message in the queue."""
    return db.execute(
        "select delivery_attempts, scheduled_at <= now() from fastqueue.messages where queue_id = %s", (queue_id,)
    ).fetchall()


def test_a_message_published_during_the_wait_answers_within_100_ms_of_the_commit(
    server: Server, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]

    async def one_round(http: httpx.AsyncClient, publisher: psycopg.AsyncConnection, n: int) -> float:
        poll = asyncio.create_task(http.get(f"/queues/{queue_id}/messages", params={"wait_seconds": 10}))
        await asyncio.sleep(SETTLE_SECONDS)
        assert not poll.done(), "the long poll answered before anything was published"
        await publisher.execute("select fastqueue.publish(%s, %s)", (topic_id, Jsonb({"n": n})))
        committed = time.monotonic()  # autocommit: execute returns once the commit is done
        response = await poll
        answered = time.monotonic()
        assert response.status_code == 200, response.text
        assert [m["data"] for m in response.json()["data"]] == [{"n": n}]
        return answered - committed

    async def rounds() -> list[float]:
        async with (
            httpx.AsyncClient(base_url=server.url, timeout=30) as http,
            await psycopg.AsyncConnection.connect(db.info.dsn, autocommit=True) as publisher,
        ):
            return [await one_round(http, publisher, n) for n in range(5)]

    latencies = asyncio.run(rounds())
    figures = ", ".join(f"{latency * 1000:.1f}" for latency in latencies)
    print(f"\nlong poll: commit -> response {figures} ms (median {statistics.median(latencies) * 1000:.1f} ms)")
    # The target is 100 ms; on a loopback server it takes a few milliseconds (NOTIFY at commit, one
    # consume). What this pins is that the NOTIFY wakes the wait: the median stays under the target,
    # and no round waits for the once-a-second re-check (a loaded machine may delay one round past
    # 100 ms; speed itself is measured by `make bench`, not here).
    assert statistics.median(latencies) < 0.1, f"commit -> response took {figures} ms; the target is under 100 ms"
    assert max(latencies) < 0.5, f"commit -> response took {figures} ms: a round waited for the re-check"


def test_without_messages_the_wait_ends_with_an_empty_list_after_wait_seconds(
    client: httpx.Client, make_queue: Callable[..., dict]
) -> None:
    queue_id = make_queue()["id"]
    response, elapsed = _poll(client, queue_id, 2)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": []}
    assert 1.95 <= elapsed < 3.0, f"answered after {elapsed:.2f} s, expected about 2 s"


def test_wait_seconds_zero_and_absent_answer_at_once(client: httpx.Client, make_queue: Callable[..., dict]) -> None:
    queue_id = make_queue()["id"]
    for params in ({}, {"wait_seconds": 0}):
        started = time.monotonic()
        response = client.get(f"/queues/{queue_id}/messages", params=params)
        assert response.status_code == 200, response.text
        assert response.json() == {"data": []}
        assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("wait_seconds", ["21", "-1", "1.5", "soon"])
def test_wait_seconds_outside_0_to_20_is_refused(
    client: httpx.Client, make_queue: Callable[..., dict], wait_seconds: str
) -> None:
    queue_id = make_queue()["id"]
    response = client.get(f"/queues/{queue_id}/messages", params={"wait_seconds": wait_seconds})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "wait_seconds"]


def test_an_unknown_queue_is_404_at_once_even_when_waiting(client: httpx.Client) -> None:
    response, elapsed = _poll(client, "no-such-queue-for-long-polling", 5)
    assert response.status_code == 404
    assert response.json() == {"detail": "Queue not found"}
    assert elapsed < 1


@pytest.mark.single_database("a router's transaction does not undo a shard's publish (docs/sharding.md, Limits)")
def test_a_rolled_back_publish_wakes_nobody(
    client: httpx.Client, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]

    async def scenario() -> tuple[httpx.Response, float]:
        async with httpx.AsyncClient(base_url=client.base_url, timeout=30) as http:
            started = time.monotonic()
            poll = asyncio.create_task(http.get(f"/queues/{queue_id}/messages", params={"wait_seconds": 2}))
            await asyncio.sleep(SETTLE_SECONDS)
            async with await psycopg.AsyncConnection.connect(db.info.dsn) as publisher:
                await publisher.execute("select fastqueue.publish(%s, %s)", (topic_id, Jsonb({"n": 1})))
                await publisher.rollback()
            response = await poll
            return response, time.monotonic() - started

    response, elapsed = asyncio.run(scenario())
    assert response.status_code == 200, response.text
    assert response.json() == {"data": []}
    assert elapsed >= 1.95, f"the wait ended after {elapsed:.2f} s: something woke it and it found nothing"
    assert _message_state(db, queue_id) == []


def test_a_delayed_message_is_picked_up_by_the_recheck_within_about_a_second(
    client: httpx.Client, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id, delivery_delay_seconds=1)["id"]
    _publish_sql(db, topic_id)  # its NOTIFY comes too early: the message is due 1 s from now
    published = time.monotonic()
    response, _ = _poll(client, queue_id, 5)
    delay = time.monotonic() - published
    assert response.status_code == 200, response.text
    assert [m["delivery_attempts"] for m in response.json()["data"]] == [1]
    print(f"\nlong poll: a message delayed 1 s answered {delay:.2f} s after its publish")
    # Due after 1 s; the re-check runs every second (so up to 2 s in the worst phase), then one consume.
    assert 0.95 <= delay < 2.5, f"answered {delay:.2f} s after the publish; expected between 1 and about 2 s"


def test_a_message_whose_lease_ends_is_picked_up_by_the_recheck_within_about_a_second(
    client: httpx.Client, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id, ack_deadline_seconds=1)["id"]
    _publish_sql(db, topic_id)
    leased = client.get(f"/queues/{queue_id}/messages")
    leased_at = time.monotonic()
    assert [m["delivery_attempts"] for m in leased.json()["data"]] == [1]
    response, _ = _poll(client, queue_id, 5)
    delay = time.monotonic() - leased_at
    assert response.status_code == 200, response.text
    assert [m["delivery_attempts"] for m in response.json()["data"]] == [2]
    print(f"\nlong poll: a message whose 1 s lease ended answered {delay:.2f} s after it was leased")
    assert 0.95 <= delay < 2.5, f"answered {delay:.2f} s after the lease; expected between 1 and about 2 s"


def test_a_redrive_during_the_wait_wakes_it(
    client: httpx.Client, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    dead_id = make_queue("dead", topic_id=topic_id)["id"]
    work_id = make_queue("work")["id"]
    _publish_sql(db, topic_id, {"n": "redriven"})

    async def scenario() -> tuple[httpx.Response, float]:
        async with httpx.AsyncClient(base_url=client.base_url, timeout=30) as http:
            poll = asyncio.create_task(http.get(f"/queues/{work_id}/messages", params={"wait_seconds": 10}))
            await asyncio.sleep(SETTLE_SECONDS)
            assert not poll.done()
            redrive = await http.put(f"/queues/{dead_id}/redrive", json={"destination_queue_id": work_id})
            redriven = time.monotonic()
            assert redrive.status_code == 204, redrive.text
            response = await poll
            return response, time.monotonic() - redriven

    response, latency = asyncio.run(scenario())
    assert response.status_code == 200, response.text
    assert [m["data"] for m in response.json()["data"]] == [{"n": "redriven"}]
    # Well under the re-check's second: the NOTIFY woke it.
    assert latency < 0.5, f"answered {latency * 1000:.0f} ms after the redrive"


def test_one_message_goes_to_one_of_several_waiters_and_the_others_keep_waiting(
    client: httpx.Client, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]

    async def scenario() -> list[tuple[httpx.Response, float]]:
        async with httpx.AsyncClient(base_url=client.base_url, timeout=30) as http:

            async def poll() -> tuple[httpx.Response, float]:
                response = await http.get(f"/queues/{queue_id}/messages", params={"wait_seconds": 3})
                return response, time.monotonic()

            polls = [asyncio.create_task(poll()) for _ in range(3)]
            await asyncio.sleep(SETTLE_SECONDS)
            _publish_sql(db, topic_id)
            published = time.monotonic()
            return [(response, at - published) for response, at in await asyncio.gather(*polls)]

    results = asyncio.run(scenario())
    lengths = sorted(len(response.json()["data"]) for response, _ in results)
    assert lengths == [0, 0, 1]
    for response, after in results:
        if response.json()["data"]:
            assert after < 0.5
        else:  # back to waiting until their own deadline
            assert after > 1.5


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_a_client_that_disconnects_during_the_wait_leases_nothing(
    server: Server, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]

    async def scenario() -> None:
        http = httpx.AsyncClient(base_url=server.url, timeout=30)
        poll = asyncio.create_task(http.get(f"/queues/{queue_id}/messages", params={"wait_seconds": 10}))
        await asyncio.sleep(SETTLE_SECONDS)
        poll.cancel()  # httpx closes the connection under a cancelled request
        await asyncio.gather(poll, return_exceptions=True)
        await http.aclose()
        await asyncio.sleep(0.3)

    asyncio.run(scenario())
    _publish_sql(db, topic_id)
    time.sleep(1.5)  # the notification, and a re-check, have come and gone
    assert _message_state(db, queue_id) == [(0, True)], "the message was leased for a client that had left"


@pytest.mark.gateway_only("measures idle queries per second")
def test_fifty_idle_long_polls_cost_at_most_a_handful_of_queries_per_second(
    template_database: str, server_factory: Callable[..., Server]
) -> None:
    name, url = migrated_database(template_database, "fq_longpoll_idle")
    try:
        with psycopg.connect(url, autocommit=True) as stats:
            stats.execute("create extension if not exists pg_stat_statements")
            server = server_factory(url)
            queue_ids = [f"idle-{n}" for n in range(10)]
            for queue_id in queue_ids:
                stats.execute("select fastqueue.create_queue(%s, null, 30, 600)", (queue_id,))

            def calls() -> int:
                # Everything this database ran but this very query and the reset.
                return stats.execute(
                    "select coalesce(sum(calls), 0)::bigint from pg_stat_statements"
                    " where dbid = (select oid from pg_database where datname = current_database())"
                    " and query not ilike '%pg_stat_statements%'"
                ).fetchone()[0]

            async def scenario() -> tuple[list[httpx.Response], float, int]:
                limits = httpx.Limits(max_connections=60, max_keepalive_connections=60)
                async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as http:
                    polls = [
                        asyncio.create_task(
                            http.get(f"/queues/{queue_ids[n % 10]}/messages", params={"wait_seconds": 10})
                        )
                        for n in range(50)
                    ]
                    await asyncio.sleep(2)  # every poll has made its first consume and waits
                    assert not any(poll.done() for poll in polls)
                    stats.execute("select pg_stat_statements_reset()")
                    started = time.monotonic()
                    await asyncio.sleep(6)
                    counted = calls()
                    window = time.monotonic() - started
                    assert not any(poll.done() for poll in polls)
                    return await asyncio.gather(*polls), window, counted

            responses, window, counted = asyncio.run(scenario())
            rate = counted / window
            print(f"\n50 idle long polls: {counted} statements in {window:.1f} s = {rate:.2f} per second")
            assert [response.json() for response in responses] == [{"data": []}] * 50
            # One shared re-check per second for the whole process, whatever the number of waiters.
            assert rate <= 5, f"{counted} statements in {window:.1f} s while 50 long polls sat idle"
            server.stop()
    finally:
        drop_database(name)


@pytest.mark.gateway_only("the gateway's shutdown")
def test_sigterm_ends_the_waits_and_the_server_exits_promptly(
    template_database: str, server_factory: Callable[..., Server]
) -> None:
    name, url = migrated_database(template_database, "fq_longpoll_stop")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("select fastqueue.create_queue('stop-here', null, 30, 600)")
        server = server_factory(url)

        async def scenario() -> tuple[list[httpx.Response | BaseException], float]:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                polls = [
                    asyncio.create_task(http.get("/queues/stop-here/messages", params={"wait_seconds": 20}))
                    for _ in range(3)
                ]
                await asyncio.sleep(SETTLE_SECONDS)
                signalled = time.monotonic()
                os.killpg(server.process.pid, signal.SIGTERM)
                results = await asyncio.gather(*polls, return_exceptions=True)
                await asyncio.to_thread(server.process.wait, 15)
                return results, time.monotonic() - signalled

        results, elapsed = asyncio.run(scenario())
        print(f"\nSIGTERM with 3 long polls waiting: the server exited after {elapsed:.2f} s")
        assert server.process.returncode == 0, server.log()
        assert elapsed < 3, f"the server took {elapsed:.1f} s to exit with long polls waiting"
        for result in results:
            assert isinstance(result, httpx.Response), result
            assert result.status_code == 200 and result.json() == {"data": []}
    finally:
        drop_database(name)
