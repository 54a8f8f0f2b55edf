"""`fastqueue stats`: every queue's counts in the terminal, like `rabbitmqctl list_queues`.

Two statements, `select * from fastqueue.queue_overview` and `select * from fastqueue.store_overview`,
over a connection of its own (FASTQUEUE_DATABASE_URL, or make run's local PostgreSQL when that is
unset). The table shows the counts an operator watches, then, after a blank line, one line on the
store's rotation (one per shard on a sharded fastqueue's router, whose store_overview has a row per shard); `--json` prints the queue view's full rows for scripts, in the HTTP API's wire
format (GET /overview/queues: the same model renders both, timestamps naive UTC ISO 8601)."""

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import psycopg
from psycopg.rows import dict_row

from ..database.queries import OVERVIEW_QUEUES
from ..gateway.schemas import QueueOverview
from .queue_commands import where

STORE_QUERY = (
    "select current_slot, rotations, skips, last_outcome, seconds_since_rotation, last_carried_deliveries"
    " from fastqueue.store_overview"
)
CONNECT_TIMEOUT_SECONDS = 5

# (header, column of queue_overview, right-aligned)
COLUMNS: Sequence[tuple[str, str, bool]] = (
    ("queue", "id", False),
    ("topic", "topic_id", False),
    ("available", "available_messages", True),
    ("in flight", "inflight_messages", True),
    ("delayed", "delayed_messages", True),
    ("dead-letter candidates", "dead_letter_candidates", True),
    ("oldest age (s)", "oldest_message_age_seconds", True),
    ("dead queue", "dead_queue_id", False),
    # Push queues (docs/push.md); "-" for a pull queue. The secret is never shown (--json: push_secret_set).
    ("push in flight", "push_in_flight", True),
    ("push window", "push_window", True),
    ("push endpoint", "push_endpoint", False),
)
NONE = "-"


class StatsError(Exception):
    """What to tell the user instead of a traceback."""


def fetch_rows(conninfo: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The queue overview's rows and the store overview's rows (one; on a router, one per shard)."""
    try:
        with psycopg.connect(
            conninfo,
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name="fastqueue-stats",
        ) as conn:
            # The store's line first: the queue counts (ages in seconds) are read last, as late as before.
            stores = conn.execute(STORE_QUERY).fetchall()
            return conn.execute(OVERVIEW_QUEUES).fetchall(), stores
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StatsError(f"cannot reach the database {where(conninfo)}: {reason}") from exc
    except psycopg.errors.UndefinedTable as exc:
        raise StatsError(
            "fastqueue.queue_overview does not exist in this database: run `fastqueue db-migrate`"
        ) from exc
    except psycopg.errors.InsufficientPrivilege as exc:
        raise StatsError(f"{exc.diag.message_primary}: the database user needs the fastqueue_admin role") from exc
    except psycopg.Error as exc:
        raise StatsError(f"the database refused the query: {str(exc).strip()}") from exc


def render_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no queues"
    cells = [[NONE if row[column] is None else str(row[column]) for _, column, _ in COLUMNS] for row in rows]
    widths = [max(len(header), *(len(line[i]) for line in cells)) for i, (header, _, _) in enumerate(COLUMNS)]

    def line(values: list[str]) -> str:
        parts = [
            value.rjust(width) if right else value.ljust(width)
            for value, width, (_, _, right) in zip(values, widths, COLUMNS, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line([header for header, _, _ in COLUMNS]), *(line(values) for values in cells)])


def render_stores(stores: list[dict[str, Any]]) -> str:
    """A line per store (one; on a router, one per shard)."""
    if not stores:
        return "store: no rotation state (fastqueue.store_state is empty)"
    return "\n".join(render_store(store) for store in stores)


def render_store(store: dict[str, Any]) -> str:
    """One line: the current slot, rotations and skips, the latest attempt and rotation."""
    since = store["seconds_since_rotation"]
    last_rotation = (
        "never rotated"
        if since is None
        else f"last rotation {since:.1f} s ago, carried {store['last_carried_deliveries']} deliveries"
    )
    return (
        f"store: slot {store['current_slot']}, {store['rotations']} rotations, {store['skips']} skipped;"
        f" last attempt: {store['last_outcome'] or NONE}; {last_rotation}"
    )


def render_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps([QueueOverview.model_validate(row).model_dump(mode="json") for row in rows], indent=2)


def run(conninfo: str, as_json: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        rows, stores = fetch_rows(conninfo)
    except StatsError as exc:
        print(f"fastqueue stats: {exc}", file=err)
        return 1
    print(render_json(rows) if as_json else render_table(rows) + "\n\n" + render_stores(stores), file=out)
    return 0
