"""`fastqueue stats` as a user runs it: a subprocess against a migrated database with busy queues. Its
table and its --json rows agree with fastqueue.queue_stats() and with GET /queues/{id}/stats."""

import json
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.api.conftest import start_server
from tests.support.ports import free_port

FASTQUEUE = Path(sys.executable).with_name("fastqueue")
HEADER = [
    "queue",
    "topic",
    "available",
    "in flight",
    "delayed",
    "dead-letter candidates",
    "oldest age (s)",
    "dead queue",
    "push in flight",
    "push window",
    "push endpoint",
]
# table column -> queue_stats() field
STATS_FIELDS = {
    "available": "num_undelivered_messages",
    "in flight": "num_inflight_messages",
    "delayed": "num_delayed_messages",
    "dead-letter candidates": "num_dead_letter_candidates",
    "oldest age (s)": "oldest_unacked_message_age_seconds",
}
NAIVE_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$")


def run_stats(database_url: str, *args: str) -> subprocess.CompletedProcess:
    # A session time zone that is not UTC: the JSON timestamps must be UTC all the same.
    env = {**os.environ, "FASTQUEUE_DATABASE_URL": database_url, "PGTZ": "America/Sao_Paulo", "TZ": "Asia/Tokyo"}
    return subprocess.run(
        [str(FASTQUEUE), "stats", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def table_lines(output: str) -> list[str]:
    """The queue table's lines: what comes before the blank line and the store's rotation line."""
    table, blank, store = output.rstrip("\n").partition("\n\n")
    assert blank and store.startswith("store: slot "), output
    return table.split("\n")


def parse_table(output: str) -> list[dict[str, str]]:
    lines = table_lines(output)
    assert re.split(r" {2,}", lines[0].strip()) == HEADER
    return [dict(zip(HEADER, re.split(r" {2,}", line.strip()), strict=True)) for line in lines[1:]]


@pytest.fixture
def busy(database_url: str) -> str:
    """'work' (dead queue 'work-dead' after 2 deliveries): 3 available (one 90 s old), 2 in flight,
    1 dead-letter candidate; 'slow': 6 delayed; 'work-dead': 1 available; 'idle' (no topic): nothing."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_topic('events')")
        conn.execute("select fastqueue.create_queue('work-dead', null, 30, 600)")
        conn.execute("select fastqueue.create_queue('work', 'events', 30, 600, null, 'work-dead', 2)")
        conn.execute("select fastqueue.create_queue('slow', 'events', 30, 600, delivery_delay_seconds => 600)")
        conn.execute("select fastqueue.create_queue('idle', null, 30, 600)")
        conn.execute("select fastqueue.publish('events', jsonb_build_object('n', n)) from generate_series(1, 6) n")
        conn.execute("select fastqueue.consume('work', 2)")
        conn.execute(
            "update fastqueue.messages set delivery_attempts = 2, scheduled_at = now() - interval '1 second'"
            " where id = (select id from fastqueue.messages where queue_id = 'work' and delivery_attempts = 0 limit 1)"
        )
        conn.execute(
            "update fastqueue.messages set created_at = now() - interval '90 seconds'"
            " where id = (select id from fastqueue.messages where queue_id = 'work' and delivery_attempts = 0 limit 1)"
        )
        conn.execute(
            "insert into fastqueue.messages (queue_id, data, expired_at, scheduled_at)"
            " values ('work-dead', '{}', now() + interval '1 hour', now())"
        )
    return database_url


@pytest.fixture
def http(busy: str, tmp_path: Path) -> Iterator[httpx.Client]:
    server = start_server(busy, tmp_path)
    try:
        server.wait_until_serving()
        with httpx.Client(base_url=server.url, timeout=15) as client:
            yield client
    finally:
        server.stop()


def sql_stats(database_url: str) -> dict[str, dict]:
    with psycopg.connect(database_url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        rows = conn.execute("select q.id, s.* from fastqueue.queues q, fastqueue.queue_stats(q.id) s").fetchall()
    return {row.pop("id"): row for row in rows}


def test_the_table_agrees_with_queue_stats_and_the_http_stats(busy: str, http: httpx.Client) -> None:
    started = time.monotonic()
    result = run_stats(busy)
    assert result.returncode == 0, result.stderr
    rows = parse_table(result.stdout)
    assert [row["queue"] for row in rows] == ["idle", "slow", "work", "work-dead"]
    expected = sql_stats(busy)
    for row in rows:
        from_sql = expected[row["queue"]]
        from_http = http.get(f"/queues/{row['queue']}/stats").json()
        # Seconds pass between the three reads (the command's start alone takes seconds on a busy
        # machine): the ages may differ by the whole seconds elapsed since the command started, plus
        # one for rounding.
        age_slack = math.ceil(time.monotonic() - started) + 1
        for column, field in STATS_FIELDS.items():
            if column == "oldest age (s)":
                assert abs(int(row[column]) - from_sql[field]) <= age_slack, (row["queue"], age_slack)
                assert abs(int(row[column]) - from_http[field]) <= age_slack, (row["queue"], age_slack)
            else:
                assert int(row[column]) == from_sql[field] == from_http.get(field, 0), (row["queue"], column)
    work = next(row for row in rows if row["queue"] == "work")
    assert (work["available"], work["in flight"], work["delayed"], work["dead-letter candidates"]) == (
        "3",
        "2",
        "0",
        "1",
    )
    assert 90 <= int(work["oldest age (s)"]) < 150  # 90 s, plus the time the server took to start
    assert (work["topic"], work["dead queue"]) == ("events", "work-dead")
    idle = next(row for row in rows if row["queue"] == "idle")
    assert (idle["topic"], idle["dead queue"]) == ("-", "-")


def test_numbers_are_right_aligned_under_their_headers(busy: str) -> None:
    lines = table_lines(run_stats(busy).stdout)
    header = lines[0]
    for title in ("available", "in flight", "delayed", "dead-letter candidates", "oldest age (s)"):
        end = header.index(title) + len(title)
        for line in lines[1:]:
            assert line[end - 1].isdigit() and (end == len(line) or line[end] == " "), (title, line)


def test_json_prints_the_full_rows_agreeing_with_queue_stats_and_http(busy: str, http: httpx.Client) -> None:
    result = run_stats(busy, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["id"] for row in rows] == ["idle", "slow", "work", "work-dead"]
    expected = sql_stats(busy)
    overview = {row["id"]: row for row in http.get("/overview/queues").json()["data"]}
    for row in rows:
        from_sql = expected[row["id"]]
        assert row["available_messages"] == from_sql["num_undelivered_messages"]
        assert row["inflight_messages"] == from_sql["num_inflight_messages"]
        assert row["delayed_messages"] == from_sql["num_delayed_messages"]
        assert row["dead_letter_candidates"] == from_sql["num_dead_letter_candidates"]
        stats = http.get(f"/queues/{row['id']}/stats").json()
        assert row["available_messages"] == stats["num_undelivered_messages"]
        assert row["dead_letter_candidates"] == stats.get("num_dead_letter_candidates", 0)
        # The same row as GET /overview/queues, timestamps (UTC) included, but the age that may have ticked.
        assert {k: v for k, v in row.items() if k != "oldest_message_age_seconds"} == {
            k: v for k, v in overview[row["id"]].items() if k != "oldest_message_age_seconds"
        }
        assert row["created_at"] == http.get(f"/queues/{row['id']}").json()["created_at"]
        assert NAIVE_UTC.match(row["created_at"])
    work = next(row for row in rows if row["id"] == "work")
    assert (work["total_messages"], work["message_max_deliveries"], work["dead_queue_id"]) == (6, 2, "work-dead")


def test_an_empty_database_says_no_queues(database_url: str) -> None:
    result = run_stats(database_url)
    assert (result.returncode, table_lines(result.stdout)) == (0, ["no queues"])
    assert json.loads(run_stats(database_url, "--json").stdout) == []


def test_an_unreachable_database_exits_1_with_a_clear_message() -> None:
    result = run_stats(f"postgresql://postgres@127.0.0.1:{free_port()}/fastqueue")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "fastqueue stats: cannot reach the database (FASTQUEUE_DATABASE_URL)" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_without_fastqueue_says_to_migrate(empty_database_url: str) -> None:
    result = run_stats(empty_database_url)
    assert result.returncode == 1
    assert "run `fastqueue db-migrate`" in result.stderr


def test_the_store_line_shows_the_rotation_state(database_url: str) -> None:
    before = run_stats(database_url)
    assert before.returncode == 0, before.stderr
    assert before.stdout.endswith("\nstore: slot 0, 0 rotations, 0 skipped; last attempt: -; never rotated\n")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("set fastqueue.rotation_min_changes = 0")
        assert conn.execute("select outcome from fastqueue.rotate_store()").fetchone() == ("rotated",)
    after = run_stats(database_url).stdout.rstrip("\n").rsplit("\n", 1)[1]
    assert re.fullmatch(
        r"store: slot 1, 1 rotations, 0 skipped; last attempt: rotated; last rotation \d+\.\d s ago, carried 0 deliveries",
        after,
    ), after
