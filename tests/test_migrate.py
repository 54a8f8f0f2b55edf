"""fastqueue db-migrate: fresh database, re-runs, concurrent runs, edited migrations, the CLI."""

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from fastqueue.commands.migrate import MigrationError, MigrationReport, migrate
from fastqueue.database.sql_files import migration_files, repeatable_files

from tests.test_migration_0007 import migrate_to_just_before

MIGRATION_NAME = re.compile(r"^\d{4}_[a-z0-9]+(_[a-z0-9]+)*\.sql$")


def recorded_migrations(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select version, applied_at::text from fastqueue.schema_migrations order by version"
        ).fetchall()


def test_migration_files_are_named_nnnn_description() -> None:
    names = [path.name for path in migration_files()]
    assert names, "no migrations found"
    assert [n for n in names if not MIGRATION_NAME.match(n)] == []
    versions = [n[:4] for n in names]
    assert len(set(versions)) == len(versions), "two migrations share a number"


def test_fresh_database_gets_every_migration_and_function(empty_database_url: str) -> None:
    output: list[str] = []
    report = migrate(empty_database_url, echo=output.append)

    assert report.applied == [path.name for path in migration_files()]
    assert report.functions == len(repeatable_files())
    assert [v for v, _ in recorded_migrations(empty_database_url)] == [p.name[:4] for p in migration_files()]
    with psycopg.connect(empty_database_url) as conn:
        tables = {r[0] for r in conn.execute("select tablename from pg_tables where schemaname = 'fastqueue'")}
        views = {r[0] for r in conn.execute("select viewname from pg_views where schemaname = 'fastqueue'")}
        functions = {
            r[0] for r in conn.execute("select proname from pg_proc where pronamespace = 'fastqueue'::regnamespace")
        }
    assert {"topics", "queues", "deliveries", "message_bodies", "schema_migrations"} <= tables
    assert "messages" in views  # the rotated store's view of a message (migration 0009)
    assert {"publish", "consume", "ack", "nack", "cleanup", "queue_stats"} <= functions
    assert any("0001_create_queue_tables.sql: applied" in line for line in output)


def test_database_without_pg_cron_is_told_to_run_the_worker(empty_database_url: str) -> None:
    # Only the cluster's cron.database_name can hold pg_cron; this test database is another one.
    report = migrate(empty_database_url, echo=lambda _: None)
    assert report.cleanup_note.startswith("pg_cron: not available")
    assert "fastqueue worker" in report.cleanup_note


def test_second_run_changes_nothing(empty_database_url: str) -> None:
    migrate(empty_database_url, echo=lambda _: None)
    before = recorded_migrations(empty_database_url)
    output: list[str] = []
    report = migrate(empty_database_url, echo=output.append)
    assert report.applied == []
    assert recorded_migrations(empty_database_url) == before
    assert any("up to date" in line for line in output)


def test_concurrent_runs_apply_each_migration_once(empty_database_url: str) -> None:
    reports: list[MigrationReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run() -> None:
        start.wait()
        try:
            reports.append(migrate(empty_database_url, echo=lambda _: None))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(reports) == 4
    applied = sorted(name for report in reports for name in report.applied)
    assert applied == [path.name for path in migration_files()]
    assert len(recorded_migrations(empty_database_url)) == len(migration_files())


def test_an_edited_migration_is_refused(empty_database_url: str) -> None:
    migrate(empty_database_url, echo=lambda _: None)
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("update fastqueue.schema_migrations set checksum = 'edited' where version = '0001'")
    with pytest.raises(MigrationError, match="0001_create_queue_tables.sql was edited"):
        migrate(empty_database_url, echo=lambda _: None)


def test_cli_migrates_with_the_quickstart_url_form(empty_database_url: str) -> None:
    url = empty_database_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    env = {**os.environ, "FASTQUEUE_DATABASE_URL": url}
    fastqueue = Path(sys.executable).with_name("fastqueue")
    result = subprocess.run([fastqueue, "db-migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "0001_create_queue_tables.sql: applied" in result.stdout
    assert "fastqueue worker" in result.stdout
    again = subprocess.run([fastqueue, "db-migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout


# A database at migration 0008 (one table, fastqueue.messages) holding messages in every state,
# carried into the rotated store by 0009 (docs/storage.md, Migration).
_AT_0008_SQL = """
insert into fastqueue.topics (id) values ('events');
insert into fastqueue.queues (id, topic_id, ack_deadline_seconds, message_retention_seconds) values
    ('dead', null, 30, 600);
insert into fastqueue.queues (id, topic_id, ack_deadline_seconds, message_retention_seconds,
                              retry_min_backoff_seconds, retry_max_backoff_seconds,
                              dead_queue_id, message_max_deliveries) values
    ('work', 'events', 30, 600, 10, 60, 'dead', 3);
insert into fastqueue.queues (id, topic_id, ack_deadline_seconds, message_retention_seconds, enable_message_ordering)
values ('ordered', 'events', 30, 600, true);
insert into fastqueue.messages (id, queue_id, data, attributes, delivery_attempts, expired_at, scheduled_at,
                                created_at, updated_at, ordering_key, ordering_sequence) values
    -- available, leased (attempt 1, lease running), delayed, nacked with backoff (attempt 2, waiting)
    ('00000000-0000-4000-8000-000000000001', 'work', '{"state": "available"}', '{"kind": "a"}', 0,
     now() + interval '1 hour', now() - interval '5 seconds', now() - interval '1 minute', now() - interval '1 minute', null, null),
    ('00000000-0000-4000-8000-000000000002', 'work', '{"state": "leased"}', null, 1,
     now() + interval '1 hour', now() + interval '30 seconds', now() - interval '1 minute', now(), null, null),
    ('00000000-0000-4000-8000-000000000003', 'work', '{"state": "delayed"}', null, 0,
     now() + interval '1 hour', now() + interval '5 minutes', now(), now(), null, null),
    ('00000000-0000-4000-8000-000000000004', 'work', '{"state": "nacked"}', null, 2,
     now() + interval '1 hour', now() + interval '20 seconds', now() - interval '1 minute', now(), null, null),
    -- over-delivered: its 3 deliveries used, its last lease over: for cleanup to dead-letter
    ('00000000-0000-4000-8000-000000000005', 'work', '{"state": "over-delivered"}', null, 3,
     now() + interval '1 hour', now() - interval '1 second', now() - interval '2 minutes', now(), null, null),
    -- expired
    ('00000000-0000-4000-8000-000000000006', 'work', '{"state": "expired"}', null, 0,
     now() - interval '1 second', now() - interval '1 hour', now() - interval '2 hours', now() - interval '2 hours', null, null),
    -- keyed, on the ordered queue: the second waits for the first
    ('00000000-0000-4000-8000-000000000007', 'ordered', '{"state": "keyed", "n": 1}', null, 0,
     now() + interval '1 hour', now() - interval '3 seconds', now() - interval '1 minute', now(), 'order-1', 11),
    ('00000000-0000-4000-8000-000000000008', 'ordered', '{"state": "keyed", "n": 2}', null, 0,
     now() + interval '1 hour', now() - interval '4 seconds', now() - interval '1 minute', now(), 'order-1', 12);
select setval('fastqueue.messages_ordering_sequence', 12);
insert into fastqueue.deduplications (topic_id, deduplication_id, message_ids, expired_at, fingerprint)
values ('events', 'first', array['00000000-0000-4000-8000-000000000001']::uuid[], now() + interval '1 hour',
        sha256(convert_to(jsonb_build_array('{"state": "available"}'::jsonb, '{"kind": "a"}'::jsonb, null::text)::text, 'UTF8')));
"""


def test_messages_at_0008_are_carried_into_the_rotated_store(empty_database_url: str) -> None:
    migrate_to_just_before(empty_database_url, "0009")
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute(_AT_0008_SQL)
        before = conn.execute(
            "select id, queue_id, data, attributes, delivery_attempts, expired_at, scheduled_at, created_at,"
            "       updated_at, ordering_key, ordering_sequence from fastqueue.messages order by id"
        ).fetchall()
    report = migrate(empty_database_url, echo=lambda _: None)
    assert [name[:4] for name in report.applied] == ["0009"] + [
        p.name[:4] for p in migration_files() if p.name[:4] > "0009"
    ]

    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        # Every row as it was, column for column, through the view; one body per row, all in slot 0.
        after = conn.execute("select * from fastqueue.messages order by id").fetchall()
        assert after == before
        assert conn.execute(
            "select count(*), count(distinct body_id), min(slot), max(slot) from fastqueue.deliveries"
        ).fetchone() == (8, 8, 0, 0)
        assert conn.execute("select count(*), min(slot), max(slot) from fastqueue.message_bodies").fetchone() == (
            8,
            0,
            0,
        )

        # peek: every stored message of the queue, in consume's order, the expired one first (oldest
        # scheduled_at; peek shows what is stored).
        peeked = conn.execute("select data ->> 'state', delivery_attempts from fastqueue.peek('work', 10)").fetchall()
        assert peeked == [
            ("expired", 0),
            ("available", 0),
            ("over-delivered", 3),
            ("nacked", 2),
            ("leased", 1),
            ("delayed", 0),
        ]
        # queue_stats: available 1 (the over-delivered one waits for cleanup), in flight 2 (leased,
        # nacked), delayed 1, dead-letter candidates 1.
        stats = conn.execute(
            "select num_undelivered_messages, num_inflight_messages, num_delayed_messages,"
            "       num_dead_letter_candidates from fastqueue.queue_stats('work')"
        ).fetchone()
        assert stats == (1, 2, 1, 1)

        # The lease in flight is acked by its old id, fenced by its delivery attempt.
        leased = "00000000-0000-4000-8000-000000000002"
        with pytest.raises(psycopg.Error) as stale:
            conn.execute("select fastqueue.ack(%s, delivery_attempt => 2)", (leased,))
        assert stale.value.sqlstate == "FQ409"
        assert conn.execute("select fastqueue.ack(%s, delivery_attempt => 1)", (leased,)).fetchone() == (True,)
        # The nacked one keeps its backoff: not leased before it ends; nack/ack it by its old id.
        assert conn.execute("select fastqueue.ack('00000000-0000-4000-8000-000000000004', 2)").fetchone() == (True,)

        # consume leases the available one only, its old id and its payload.
        leases = conn.execute(
            "select id::text, data ->> 'state', delivery_attempts from fastqueue.consume('work', 10)"
        ).fetchall()
        assert leases == [("00000000-0000-4000-8000-000000000001", "available", 1)]

        # Ordering keys keep their sequence: the first of the key, then (its ack in the same call)
        # the second, though the second is scheduled earlier.
        first = conn.execute("select id::text, data ->> 'n' from fastqueue.consume('ordered', 10)").fetchall()
        assert first == [("00000000-0000-4000-8000-000000000007", "1")]
        second = conn.execute(
            "select id::text, data ->> 'n' from fastqueue.consume('ordered', 10, array[%s]::uuid[])", (first[0][0],)
        ).fetchall()
        assert second == [("00000000-0000-4000-8000-000000000008", "2")]

        # The deduplication record still answers a retry with the first publish's copy (same id).
        retry = conn.execute(
            """select id::text from fastqueue.publish('events', '{"state": "available"}', '{"kind": "a"}',"""
            " deduplication_id => 'first')"
        ).fetchall()
        assert retry == [("00000000-0000-4000-8000-000000000001",)]

        # cleanup: the expired one deleted, the over-delivered one moved to the dead queue.
        summary = conn.execute("select expired_messages, dead_lettered_messages from fastqueue.cleanup()").fetchone()
        assert summary == (1, 1)
        assert conn.execute("select data ->> 'state' from fastqueue.peek('dead')").fetchall() == [("over-delivered",)]
