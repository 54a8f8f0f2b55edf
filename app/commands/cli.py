"""The `fastqueue` command: server, worker, db-migrate, stats, and the queue commands of app/commands/queue_commands.py."""

import argparse
import logging
import signal
import sys

from pydantic import ValidationError

from ..settings import get_settings


def _server(_: argparse.Namespace) -> int:
    import os
    import shutil
    import tempfile

    import uvicorn

    settings = get_settings()
    metrics_dir = None
    if settings.server_num_workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several worker processes each count their own requests: prometheus_client's multiprocess mode
        # has them write to one folder, and /metrics (whichever worker answers) adds them up.
        metrics_dir = tempfile.mkdtemp(prefix="fastqueue-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    # uvicorn sends itself the SIGTERM/SIGINT it caught again once its graceful shutdown is done,
    # under the handler that was there before it started: ignore that one, so a clean stop exits 0.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    try:
        uvicorn.run(
            # The gateway of this very package (fastqueue once installed, whatever a checkout calls it).
            f"{__package__.rpartition('.')[0]}.gateway.main:app",
            host=settings.server_host,
            port=settings.server_port,
            workers=settings.server_num_workers,
            # uvicorn[standard]'s C event loop and HTTP parser, named so that a missing one fails at start
            # instead of uvicorn falling back to the pure-Python ones (several times the CPU per request).
            loop="uvloop",
            http="httptools",
            log_level=settings.log_level.lower(),
            # uvicorn logs each request at info; above that level its access logger prints nothing, but
            # would still format each request's client address and quoted path for it.
            access_log=settings.log_level.lower() in ("info", "debug", "trace"),
            timeout_graceful_shutdown=30,
        )
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _worker(_: argparse.Namespace) -> int:
    from .worker import run_worker

    run_worker(get_settings())
    return 0


def _db_migrate(_: argparse.Namespace) -> int:
    from .migrate import MigrationError, migrate

    settings = get_settings()
    try:
        if settings.shard_urls:
            from .sharding import migrate_sharded, shard_urls

            password = settings.router_password.get_secret_value() if settings.router_password else None
            migrate_sharded(settings.conninfo, shard_urls(settings.shard_urls), password)
        else:
            migrate(settings.conninfo)
    except MigrationError as exc:
        print(f"db-migrate: {exc}", file=sys.stderr)
        return 1
    return 0


def _stats(args: argparse.Namespace) -> int:
    from .stats import run

    return run(get_settings().conninfo, as_json=args.json)


def _queue_command(args: argparse.Namespace) -> int:
    from . import queue_commands

    return queue_commands.run(get_settings().conninfo, args)


def configuration_errors(exc: ValidationError) -> str:
    """One line per refused variable, named as the user wrote it. The settings hide the refused values
    (hide_input_in_errors): they may be tokens or passwords."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        variable = "FASTQUEUE_" + "_".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {variable}: {message}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fastqueue",
        description="A pub/sub message queue in PostgreSQL.",
        epilog="Every command talks to FASTQUEUE_DATABASE_URL (environment or .env); unset, to make run's local "
        "PostgreSQL (127.0.0.1, FASTQUEUE_PGPORT or 54329, database fastqueue). Exit status: 0 done, 1 the "
        "database refused the call or could not be reached, 2 a wrong command line or configuration. "
        "`fastqueue COMMAND --help` tells more.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("server", help="serve the HTTP API (FASTQUEUE_SERVER_HOST/PORT/NUM_WORKERS)").set_defaults(
        run=_server
    )
    commands.add_parser(
        "worker",
        help="run fastqueue.cleanup() and fastqueue.rotate_store() on their intervals (FASTQUEUE_QUEUE_CLEANUP_INTERVAL_SECONDS, FASTQUEUE_STORE_ROTATION_INTERVAL_SECONDS)",
    ).set_defaults(run=_worker)
    commands.add_parser(
        "db-migrate", help="apply pending migrations and the SQL API; schedule cleanup and rotation"
    ).set_defaults(run=_db_migrate)
    stats = commands.add_parser("stats", help="print every queue's message counts (fastqueue.queue_overview)")
    stats.add_argument("--json", action="store_true", help="print the full rows as a JSON array, for scripts")
    stats.set_defaults(run=_stats)
    from .queue_commands import add_commands

    add_commands(commands, _queue_command)
    args = parser.parse_args(argv)
    try:
        get_settings()
    except ValidationError as exc:
        print(f"fastqueue: invalid configuration:\n{configuration_errors(exc)}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=get_settings().log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
