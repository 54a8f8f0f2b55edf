"""Migration 0007 on a database that has data: topic and queue ids made only of dots are not changed
behind the operator's back (the migration refuses, names them and says what to do, and db-migrate
goes through once they are gone), and deduplication records made before it get the fingerprint of a
copy that still exists, so another message under their id is refused after the upgrade too."""

import psycopg
import pytest
from fastqueue.commands.migrate import MigrationError, _checksum, _version_and_name, migrate
from fastqueue.database.sql_files import bookkeeping_file, migration_files

BEFORE = "0007"


def migrate_to_just_before(url: str, version: str) -> None:
    """Applies the migrations older than `version` as db-migrate would (recorded, in order)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(bookkeeping_file().read_text())
        for path in migration_files():
            number, name = _version_and_name(path)
            if number >= version:
                break
            with conn.transaction():
                conn.execute(
                    "insert into fastqueue.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                    (number, name, _checksum(path)),
                )
                conn.execute(path.read_text())


def test_existing_ids_made_only_of_dots_stop_the_migration_until_they_are_gone(empty_database_url: str) -> None:
    migrate_to_just_before(empty_database_url, BEFORE)
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("insert into fastqueue.topics (id) values ('..'), ('fine.topic')")
        conn.execute(
            "insert into fastqueue.queues (id, topic_id, ack_deadline_seconds, message_retention_seconds)"
            " values ('.', '..', 30, 600), ('...', null, 30, 600), ('fine', '..', 30, 600)"
        )

    with pytest.raises(MigrationError) as refused:
        migrate(empty_database_url, echo=lambda _: None)
    message = str(refused.value)
    assert "0007" in message and "rolled back" in message
    assert "ids made only of dots" in message
    assert """topic "..\"""" in message and """queue ".\"""" in message and """queue "...\"""" in message
    assert "fine" not in message
    with psycopg.connect(empty_database_url) as conn:
        recorded = [v for (v,) in conn.execute("select version from fastqueue.schema_migrations order by 1")]
        assert BEFORE not in recorded, "a refused migration is not recorded"
        assert conn.execute("select count(*) from fastqueue.queues").fetchone() == (3,), "nothing was deleted"

    # The operator's way out, as the message says: rename (or delete) them, then migrate again.
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("delete from fastqueue.queues where id in ('.', '...')")
        conn.execute("insert into fastqueue.topics (id) values ('dots')")
        conn.execute("update fastqueue.queues set topic_id = 'dots' where topic_id = '..'")
        conn.execute("delete from fastqueue.topics where id = '..'")
    report = migrate(empty_database_url, echo=lambda _: None)
    assert any(name.startswith(BEFORE) for name in report.applied)


def test_deduplication_records_from_before_get_the_fingerprint_of_their_copies(empty_database_url: str) -> None:
    migrate_to_just_before(empty_database_url, BEFORE)
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("insert into fastqueue.topics (id) values ('events')")
        conn.execute(
            "insert into fastqueue.queues (id, topic_id, ack_deadline_seconds, message_retention_seconds)"
            " values ('work', 'events', 30, 600)"
        )
        (message_id,) = conn.execute(
            "insert into fastqueue.messages (queue_id, data, attributes, expired_at, scheduled_at)"
            """ values ('work', '{"order": 42}', '{"kind": "created"}', now() + interval '1 hour', now()) returning id"""
        ).fetchone()
        conn.execute(
            "insert into fastqueue.deduplications (topic_id, deduplication_id, message_ids, expired_at) values"
            " ('events', 'order-42', array[%s]::uuid[], now() + interval '1 hour'),"
            " ('events', 'all-acked', array[gen_random_uuid()], now() + interval '1 hour')",
            (message_id,),
        )
    migrate(empty_database_url, echo=lambda _: None)

    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        with pytest.raises(psycopg.Error) as refused:
            conn.execute("""select fastqueue.publish('events', '{"probe": 1}', deduplication_id => 'order-42')""")
        assert refused.value.sqlstate == "FQDUP"
        retry = conn.execute(
            """select id from fastqueue.publish('events', '{"order": 42}', '{"kind": "created"}', deduplication_id => 'order-42')"""
        ).fetchall()
        assert retry == [(message_id,)]
        # A record whose copies were all gone before the upgrade has nothing left to show.
        assert (
            conn.execute(
                """select * from fastqueue.publish('events', '{"probe": 1}', deduplication_id => 'all-acked')"""
            ).fetchall()
            == []
        )
        assert conn.execute("select count(*) from fastqueue.messages").fetchone() == (1,)
