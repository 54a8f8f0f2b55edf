"""`fastqueue publish | consume | peek | purge | redrive`: the queue at a terminal, over the SQL API.

Each command is one call of one fastqueue function over a connection of its own (FASTQUEUE_DATABASE_URL,
or make run's local PostgreSQL when that is unset). Messages are printed as JSON lines, one message per
line, with the columns the function returns (timestamps naive UTC ISO 8601, as the HTTP API shows them).
Exit codes: 0 done, 1 the database refused the call or could not be reached (the message says which),
2 the command line is wrong (argparse's own code for usage errors).
"""

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TextIO
from uuid import UUID

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row

from ..limits import MAX_DELAY_SECONDS, MAX_PAGE_SIZE

CONNECT_TIMEOUT_SECONDS = 5
# --wait re-checks the queue this often until a message comes or the wait is over (a consume that finds
# nothing costs one index probe).
WAIT_POLL_SECONDS = 0.5
MAX_WAIT_SECONDS = 3600


class CommandError(Exception):
    """What to tell the user instead of a traceback (exit 1)."""


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def message_line(row: dict[str, Any]) -> str:
    return json.dumps(row, default=_json_value, ensure_ascii=False, separators=(",", ":"))


def connect(conninfo: str) -> psycopg.Connection[DictRow]:
    try:
        # UTC on the session, so timestamps print as the HTTP API prints them.
        return psycopg.connect(
            conninfo,
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name="fastqueue-cli",
            options="-c timezone=UTC",
        )
    except psycopg.OperationalError as exc:
        raise CommandError(f"cannot reach the database {where(conninfo)}: {first_line(exc)}") from exc


def where(conninfo: str) -> str:
    """Which database a connection error is about, and where that setting comes from."""
    from ..settings import get_settings

    info = conninfo_to_dict(conninfo)
    address = f"{info.get('host', 'localhost')}:{info.get('port', '5432')}/{info.get('dbname', '')}"
    if get_settings().database_url is None:
        return f"(FASTQUEUE_DATABASE_URL is unset: make run's local PostgreSQL, which `make run` starts): {address}"
    return f"(FASTQUEUE_DATABASE_URL): {address}"


def first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def call(conn: psycopg.Connection[DictRow], query: str, params: Iterable[Any]) -> list[dict[str, Any]]:
    try:
        return conn.execute(query, tuple(params)).fetchall()
    except psycopg.errors.UndefinedFunction as exc:
        raise CommandError("the fastqueue functions are missing in this database: run `fastqueue db-migrate`") from exc
    except psycopg.errors.InsufficientPrivilege as exc:
        raise CommandError(f"{exc.diag.message_primary}: the database user lacks a fastqueue role") from exc
    except psycopg.DataError as exc:
        # The SQL API's own sentences (22023 out of range, 54000 too large, ...); or psycopg's, for a NUL byte.
        raise CommandError(exc.diag.message_primary or first_line(exc)) from exc
    except psycopg.Error as exc:
        if exc.diag.message_primary and exc.sqlstate and not exc.sqlstate.startswith(("08", "57", "XX")):
            raise CommandError(exc.diag.message_primary) from exc
        raise CommandError(f"the database failed the call: {first_line(exc)}") from exc


# ---- the commands ----------------------------------------------------------------------------------


def _publish(conn: psycopg.Connection[DictRow], args: argparse.Namespace, out: TextIO) -> None:
    rows = call(
        conn,
        "select * from fastqueue.publish(%s, %s::jsonb, %s::jsonb, delay_seconds => %s,"
        " deduplication_id => %s, ordering_key => %s)",
        (args.topic, args.data, args.attributes, args.delay, args.deduplication_id, args.ordering_key),
    )
    for row in rows:
        print(message_line(row), file=out)


def _consume(conn: psycopg.Connection[DictRow], args: argparse.Namespace, out: TextIO) -> None:
    deadline = time.monotonic() + args.wait
    while True:
        rows = call(conn, "select * from fastqueue.consume(%s, %s)", (args.queue, args.limit))
        if rows or time.monotonic() >= deadline:
            break
        time.sleep(min(WAIT_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
    for row in rows:
        print(message_line(row), file=out)
        out.flush()
        if args.ack:
            # Fenced: acks this delivery only, never a later one of the same message.
            call(conn, "select fastqueue.ack(%s, delivery_attempt => %s)", (row["id"], row["delivery_attempts"]))


def _peek(conn: psycopg.Connection[DictRow], args: argparse.Namespace, out: TextIO) -> None:
    for row in call(conn, "select * from fastqueue.peek(%s, %s)", (args.queue, args.limit)):
        print(message_line(row), file=out)


def _purge(conn: psycopg.Connection[DictRow], args: argparse.Namespace, out: TextIO) -> None:
    [row] = call(conn, "select fastqueue.purge_queue(%s) as count", (args.queue,))
    print(f"purged {row['count']} messages from {args.queue}", file=out)


def _redrive(conn: psycopg.Connection[DictRow], args: argparse.Namespace, out: TextIO) -> None:
    [row] = call(conn, "select fastqueue.redrive_queue(%s, %s) as count", (args.queue, args.destination))
    print(f"moved {row['count']} messages from {args.queue} to {args.destination}", file=out)


# ---- the command line ------------------------------------------------------------------------------


def _json_object(text: str) -> str:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"DATA is not JSON ({exc.msg} at character {exc.pos})") from exc
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("DATA must be a JSON object, e.g. '{\"order_id\": 42}'")
    return text


def _attribute(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"an attribute is KEY=VALUE, not {text!r}")
    return key, value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= MAX_WAIT_SECONDS:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_WAIT_SECONDS} seconds")
    return value


def add_commands(commands: Any, run: Callable[[argparse.Namespace], int]) -> None:
    """Adds the five commands to the `fastqueue` parser; `run` is called with the parsed arguments."""
    publish = commands.add_parser(
        "publish",
        help="publish a message to a topic (fastqueue.publish); prints one JSON line per queue it reached",
        description="Publish DATA (a JSON object) to TOPIC. Prints the stored copies, one JSON line per queue the "
        "message reached (none when no queue matched).",
    )
    publish.add_argument("topic", metavar="TOPIC")
    publish.add_argument("data", metavar="DATA", type=_json_object, help="a JSON object, e.g. '{\"order_id\": 42}'")
    publish.add_argument(
        "--attribute",
        "-a",
        metavar="KEY=VALUE",
        type=_attribute,
        action="append",
        default=[],
        help="an attribute (queues filter on them); repeat for more",
    )
    publish.add_argument(
        "--delay", type=int, metavar="SECONDS", help=f"deliver after this many seconds (0..{MAX_DELAY_SECONDS})"
    )
    publish.add_argument(
        "--deduplication-id",
        metavar="ID",
        help="a second publish with this id within the topic's window stores nothing",
    )
    publish.add_argument(
        "--ordering-key", metavar="KEY", help="queues with message ordering deliver messages sharing it one at a time"
    )
    publish.set_defaults(queue_command=_publish)

    consume = commands.add_parser(
        "consume",
        help="lease messages from a queue (fastqueue.consume); prints one JSON line per message",
        description="Lease up to --limit messages from QUEUE and print them as JSON lines. A leased message is "
        "hidden until the queue's ack deadline; --ack acks each one once it is printed. Prints nothing when "
        "the queue has no message available (after --wait seconds, with --wait).",
    )
    consume.add_argument("queue", metavar="QUEUE")
    consume.add_argument(
        "--limit", "-n", type=int, default=10, metavar="N", help=f"at most N messages (1..{MAX_PAGE_SIZE}, default 10)"
    )
    consume.add_argument(
        "--wait",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help=f"wait up to SECONDS for a message when there is none yet (re-checked every {WAIT_POLL_SECONDS} s; default 0)",
    )
    consume.add_argument(
        "--ack", action="store_true", help="ack each message after printing it (fenced to this delivery)"
    )
    consume.set_defaults(queue_command=_consume)

    peek = commands.add_parser(
        "peek",
        help="show a queue's messages without leasing them (fastqueue.peek; admin)",
        description="Print up to --limit of QUEUE's messages in every state, in the order consume reaches them, "
        "as JSON lines. Nothing is leased or changed.",
    )
    peek.add_argument("queue", metavar="QUEUE")
    peek.add_argument(
        "--limit", "-n", type=int, default=10, metavar="N", help=f"at most N messages (1..{MAX_PAGE_SIZE}, default 10)"
    )
    peek.set_defaults(queue_command=_peek)

    purge = commands.add_parser(
        "purge",
        help="delete all of a queue's messages (fastqueue.purge_queue; admin)",
        description="Delete every message of QUEUE, whatever its state, and print how many.",
    )
    purge.add_argument("queue", metavar="QUEUE")
    purge.set_defaults(queue_command=_purge)

    redrive = commands.add_parser(
        "redrive",
        help="move a queue's available messages to another queue (fastqueue.redrive_queue; admin)",
        description="Move QUEUE's available messages (a dead queue's, typically) to DESTINATION, reset as if "
        "newly published there, and print how many moved.",
    )
    redrive.add_argument("queue", metavar="QUEUE")
    redrive.add_argument("destination", metavar="DESTINATION")
    redrive.set_defaults(queue_command=_redrive)

    for parser in (publish, consume, peek, purge, redrive):
        parser.set_defaults(run=run)


def run(conninfo: str, args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    if getattr(args, "attribute", None) is not None:
        args.attributes = json.dumps(dict(args.attribute)) if args.attribute else None
    try:
        with connect(conninfo) as conn:
            args.queue_command(conn, args, out)
    except CommandError as exc:
        print(f"fastqueue {args.command}: {exc}", file=err)
        return 1
    return 0
