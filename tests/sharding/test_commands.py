"""The CLI pointed at the router, as a user points it (docs/sharding.md: `fastqueue stats` and the queue
commands see only the router and need no change): `fastqueue stats` shows the queues of every shard and
the store of every shard; publish, peek and consume --ack go through it to the queue's shard."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg

from tests.sharding.conftest import Sharded

FASTQUEUE = Path(sys.executable).with_name("fastqueue")


def cli(router_url: str, *args: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FASTQUEUE_")}
    environment["FASTQUEUE_DATABASE_URL"] = router_url
    return subprocess.run(
        [str(FASTQUEUE), *args], env=environment, capture_output=True, text=True, timeout=60, cwd="/", check=False
    )


def test_stats_on_the_router_shows_the_queues_and_the_store_of_every_shard(
    sharded: Sharded, router: psycopg.Connection, on_shard: Callable[[str, int], str]
) -> None:
    queues = {}
    for shard, published in ((0, 1), (1, 2)):
        topic = on_shard("stats", shard)
        router.execute("select fastqueue.create_topic(%s)", (topic,))
        router.execute("select fastqueue.create_queue(%s, %s, 30, 600)", (topic + "-work", topic))
        for n in range(published):
            router.execute("select fastqueue.publish(%s, jsonb_build_object('n', %s::int))", (topic, n))
        queues[topic + "-work"] = (shard, published)

    as_json = cli(sharded.router_url, "stats", "--json")
    assert as_json.returncode == 0, as_json.stderr
    rows = {row["id"]: row for row in json.loads(as_json.stdout)}
    for queue, (_, published) in queues.items():
        assert rows[queue]["available_messages"] == published, rows[queue]

    table = cli(sharded.router_url, "stats")
    assert table.returncode == 0, table.stderr
    queue_lines, blank, store = table.stdout.rstrip("\n").partition("\n\n")
    assert blank, table.stdout
    assert all(any(line.startswith(queue + " ") for line in queue_lines.splitlines()) for queue in queues)
    with sharded.shard(0) as first, sharded.shard(1) as second:
        slots = [
            conn.execute("select current_slot from fastqueue.store_overview").fetchone()[0] for conn in (first, second)
        ]
    store_lines = store.splitlines()
    assert len(store_lines) == 2, store
    assert sorted(line.split(",")[0] for line in store_lines) == sorted(f"store: slot {slot}" for slot in slots)


def test_queue_commands_on_the_router_reach_the_queues_shard(
    sharded: Sharded, router: psycopg.Connection, on_shard: Callable[[str, int], str]
) -> None:
    topic = on_shard("cli", 1)
    router.execute("select fastqueue.create_topic(%s)", (topic,))
    # The longest lease there is: a lease taken by one command must not run out before the next starts.
    router.execute("select fastqueue.create_queue(%s, %s, 600, 600)", (topic + "-work", topic))

    published = cli(sharded.router_url, "publish", topic, '{"order": 7}')
    assert published.returncode == 0, published.stderr
    [copy] = [json.loads(line) for line in published.stdout.splitlines()]
    assert copy["queue_id"] == topic + "-work"

    peeked = cli(sharded.router_url, "peek", topic + "-work")
    assert peeked.returncode == 0, peeked.stderr
    assert [json.loads(line)["id"] for line in peeked.stdout.splitlines()] == [copy["id"]]

    consumed = cli(sharded.router_url, "consume", topic + "-work", "--ack")
    assert consumed.returncode == 0, consumed.stderr
    assert [json.loads(line)["id"] for line in consumed.stdout.splitlines()] == [copy["id"]]
    with sharded.shard(1) as shard:
        left = shard.execute("select count(*) from fastqueue.messages where queue_id = %s", (topic + "-work",))
        assert left.fetchone() == (0,), "--ack through the router left the message on its shard"
    again = cli(sharded.router_url, "consume", topic + "-work")
    assert again.returncode == 0 and again.stdout == "", again.stdout
