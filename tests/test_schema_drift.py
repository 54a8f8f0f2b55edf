"""db/schema.sql (the declared schema) and db/migrations must build the same schema."""

import importlib.util
from pathlib import Path

import psycopg

# The differ is a tool of scripts/ (scripts/draft-migration.sh runs it), loaded from its file.
_SPEC = importlib.util.spec_from_file_location(
    "schema_diff", Path(__file__).resolve().parent.parent / "scripts" / "schema_diff.py"
)
assert _SPEC is not None and _SPEC.loader is not None
schema_diff_module = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(schema_diff_module)
build_declared = schema_diff_module.build_declared
schema_diff = schema_diff_module.schema_diff


def test_migrations_build_the_declared_schema(database_url: str, empty_database_url: str) -> None:
    build_declared(empty_database_url)
    assert schema_diff(database_url, empty_database_url) == ""


def test_a_difference_is_reported(database_url: str, empty_database_url: str) -> None:
    build_declared(empty_database_url)
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("alter table fastqueue.deliveries add column priority integer")
        conn.execute("comment on constraint queues_ack_deadline_seconds_range on fastqueue.queues is 'changed'")
    diff = schema_diff(database_url, empty_database_url)
    assert 'add column "priority" integer' in diff
    assert "-- comment on constraint queues_ack_deadline_seconds_range on table fastqueue.queues" in diff
