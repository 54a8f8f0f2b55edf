"""No answer carries the database's own error text (issue 13, item 6, the gateway's half): an error
app/gateway/errors.py does not map is a 500 with a generic sentence, and the database's text goes to the log."""

import asyncio
import json
import logging

import psycopg
import pytest
from fastqueue.gateway import errors
from starlette.requests import Request


def _request() -> Request:
    return Request({"type": "http", "method": "POST", "path": "/queues", "headers": [], "query_string": b""})


def _error_from(conn: psycopg.Connection, statement: str) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as raised:
        conn.execute(statement)
    return raised.value


@pytest.mark.parametrize(
    "statement",
    [
        # A foreign key's name, as a concurrent delete once let through (queues_topic_id_fkey).
        'do $$ begin raise foreign_key_violation using message = \'insert or update on table "queues"'
        ' violates foreign key constraint "queues_topic_id_fkey"\'; end $$',
        "select 1 / 0",
        "select * from fastqueue.no_such_table",
        "do $$ begin raise exception 'internal detail: secret-7'; end $$",
    ],
)
def test_an_unmapped_database_error_answers_a_generic_sentence(
    conn: psycopg.Connection, statement: str, caplog: pytest.LogCaptureFixture
) -> None:
    exc = _error_from(conn, statement)
    text = exc.diag.message_primary
    assert text
    with caplog.at_level(logging.ERROR, logger="fastqueue.errors"):
        response = asyncio.run(errors.database_error(_request(), exc))
    assert response.status_code == 500
    assert json.loads(response.body) == {"detail": errors.INTERNAL_ERROR}
    assert text in caplog.text, "the database's text goes to the log"


def test_mapped_errors_keep_their_sentence(conn: psycopg.Connection) -> None:
    exc = _error_from(conn, "select * from fastqueue.get_queue('missing-queue')")
    response = asyncio.run(errors.database_error(_request(), exc))
    assert (response.status_code, json.loads(response.body)) == (404, {"detail": "Queue not found"})


def test_a_standby_or_a_lost_connection_is_a_503_with_retry_after(conn: psycopg.Connection) -> None:
    """What a request meets during a failover: a session on a read-only node (25006, as on a standby
    reached without target_session_attrs=read-write), or its connection ended (57P01, as when the old
    primary shuts down). Both are 503 with Retry-After, never a 500 (docs/ha.md)."""
    conn.execute("set default_transaction_read_only = on")
    read_only = _error_from(conn, "select fastqueue.create_topic('ha-read-only')")
    assert read_only.sqlstate == "25006"
    conn.rollback()
    ended = _error_from(conn, "do $$ begin raise admin_shutdown using message = 'terminating connection'; end $$")
    for exc in (read_only, ended):
        response = asyncio.run(errors.database_error(_request(), exc))
        assert response.status_code == 503, exc.sqlstate
        assert response.headers["retry-after"] == str(errors.RETRY_AFTER_SECONDS)
        assert json.loads(response.body) == {"detail": errors.UNAVAILABLE}
