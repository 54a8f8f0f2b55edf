"""The CLI's queue commands as a person at a terminal runs them (subprocesses, a real migrated database):
publish, consume (JSON lines, --limit, --wait, --ack), peek, purge and redrive, each over the SQL API,
each with --help, a clear message and an exit code when something is wrong. And with nothing configured
the CLI looks where `make run`'s PostgreSQL is (127.0.0.1, FASTQUEUE_PGPORT or 54329, database fastqueue)."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.conftest import ADMIN_URL

FASTQUEUE = Path(sys.executable).with_name("fastqueue")


def cli(database_url: str | None, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FASTQUEUE_")}
    if database_url:
        environment["FASTQUEUE_DATABASE_URL"] = database_url
    environment |= env
    return subprocess.run(
        [str(FASTQUEUE), *args], env=environment, capture_output=True, text=True, timeout=timeout, cwd="/", check=False
    )


def lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines()]


@pytest.fixture
def events(database_url: str) -> str:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_topic('events')")
        # The longest lease there is: a lease taken by one command must not run out while the next
        # commands start (seconds each on a busy machine), or its message is leased again.
        conn.execute("select fastqueue.create_queue('work', 'events', 600, 600)")
        conn.execute("select fastqueue.create_queue('other', null, 30, 600)")
    return database_url


def test_every_queue_command_has_help() -> None:
    for command in ("publish", "consume", "peek", "purge", "redrive"):
        shown = cli(None, command, "--help")
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith(f"usage: fastqueue {command}"), shown.stdout
    overall = cli(None, "--help")
    for command in ("publish", "consume", "peek", "purge", "redrive"):
        assert command in overall.stdout


def test_publish_consume_ack(events: str) -> None:
    published = cli(
        events, "publish", "events", '{"order": 42}', "--attribute", "kind=created", "--attribute", "region=eu=1"
    )
    assert published.returncode == 0, published.stderr
    [copy] = lines(published.stdout)
    assert copy["queue_id"] == "work" and copy["data"] == {"order": 42}
    assert copy["attributes"] == {"kind": "created", "region": "eu=1"}

    peeked = cli(events, "peek", "work")
    assert peeked.returncode == 0, peeked.stderr
    assert [m["id"] for m in lines(peeked.stdout)] == [copy["id"]]

    consumed = cli(events, "consume", "work", "--limit", "5", "--ack")
    assert consumed.returncode == 0, consumed.stderr
    [message] = lines(consumed.stdout)
    assert message["id"] == copy["id"] and message["delivery_attempts"] == 1
    with psycopg.connect(events) as conn:
        assert conn.execute("select count(*) from fastqueue.messages").fetchone()[0] == 0, "--ack left the message"

    empty = cli(events, "consume", "work")
    assert empty.returncode == 0 and empty.stdout == "", empty.stdout


def test_consume_without_ack_leases_and_wait_waits_for_a_message(events: str) -> None:
    cli(events, "publish", "events", '{"n": 1}')
    leased = cli(events, "consume", "work")
    assert leased.returncode == 0 and len(lines(leased.stdout)) == 1
    with psycopg.connect(events) as conn:
        assert conn.execute("select count(*) from fastqueue.messages where queue_id = 'work'").fetchone()[0] == 1
    # Nothing to lease now: --wait gives up after its seconds and prints nothing.
    waited = cli(events, "consume", "work", "--wait", "1")
    assert waited.returncode == 0 and waited.stdout == "", waited.stdout
    # A publish while it waits is consumed.
    waiting = subprocess.Popen(
        [str(FASTQUEUE), "consume", "work", "--wait", "20", "--ack"],
        env={**os.environ, "FASTQUEUE_DATABASE_URL": events},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        cli(events, "publish", "events", '{"n": 2}')
        output, _ = waiting.communicate(timeout=40)
    finally:
        waiting.kill()
    assert waiting.returncode == 0
    assert [m["data"] for m in lines(output)] == [{"n": 2}]


def test_purge_and_redrive_print_counts(events: str) -> None:
    for n in range(3):
        cli(events, "publish", "events", json.dumps({"n": n}))
    moved = cli(events, "redrive", "work", "other")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip() == "moved 3 messages from work to other"
    purged = cli(events, "purge", "other")
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.strip() == "purged 3 messages from other"
    assert cli(events, "purge", "other").stdout.strip() == "purged 0 messages from other"


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["publish", "nowhere", "{}"], 1, "Topic not found"),
        (["publish", "events", "{not json"], 2, "DATA is not JSON"),
        (["publish", "events", "[1, 2]"], 2, "DATA must be a JSON object"),
        (["publish", "events", "{}", "--attribute", "novalue"], 2, "KEY=VALUE"),
        (["consume", "nowhere"], 1, "Queue not found"),
        (["consume", "work", "--limit", "0"], 1, "max_messages"),
        (["consume", "work", "--wait", "-1"], 2, "--wait"),
        (["peek", "nowhere"], 1, "Queue not found"),
        (["purge", "nowhere"], 1, "Queue not found"),
        (["redrive", "work", "nowhere"], 1, "not found"),
        (["consume"], 2, "QUEUE"),
    ],
)
def test_errors_say_what_is_wrong(events: str, args: list[str], code: int, says: str) -> None:
    failed = cli(events, *args)
    assert failed.returncode == code, (failed.returncode, failed.stderr)
    assert says in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr


def test_an_unreachable_database_is_exit_1_with_the_address() -> None:
    port = 1  # nothing listens on port 1
    failed = cli(f"postgresql://postgres@127.0.0.1:{port}/fastqueue", "peek", "work")
    assert failed.returncode == 1
    assert "cannot reach the database" in failed.stderr and "127.0.0.1" in failed.stderr, failed.stderr


def test_nothing_configured_means_make_runs_database() -> None:
    """No FASTQUEUE_DATABASE_URL: the CLI connects to postgresql://postgres@127.0.0.1:FASTQUEUE_PGPORT/fastqueue,
    as `make run` serves it. The test cluster has a database `fastqueue`; whether it is migrated or not, the
    CLI must reach it, not localhost:5432."""
    port = str(urlsplit(ADMIN_URL).port)
    reached = cli(None, "stats", FASTQUEUE_PGPORT=port)
    assert "cannot reach" not in reached.stderr, reached.stderr
    assert reached.returncode == 0 or "db-migrate" in reached.stderr, reached.stderr
    unreachable = cli(None, "stats", FASTQUEUE_PGPORT="1")
    assert unreachable.returncode == 1 and "127.0.0.1:1" in unreachable.stderr, unreachable.stderr
