"""`make bench` (python -m bench): fastqueue's benchmark. See docs/development.md.

Without --database-url it uses the project-local cluster the way `make run` does
(scripts/pg-cluster.sh, FASTQUEUE_PGDATA / FASTQUEUE_PGPORT with make run's defaults, scripts/local-settings.sh,
fsync and synchronous_commit on), starting it if it is not running and stopping it again at the end
if it started it. In either case it (re)creates the database fastqueue_bench, migrates it, runs the
parts and writes BENCHMARKS.md (and bench/BENCHMARKS.json).
"""

import argparse
import datetime
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench import endurance, httpbench, pushbench, report, shardbench, sqlbench
from bench.common import ROOT, Target, drop_database, machine, recreate_database, server_settings

# The committed raw figures live with the bench; the committed report (BENCHMARKS.md) in the root.
JSON_OUTPUT = ROOT / "bench" / "BENCHMARKS.json"

PARTS = report.PARTS


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description="fastqueue benchmark: SQL, HTTP, endurance.")
    p.add_argument(
        "--quick",
        action="store_true",
        help="a few seconds per case, endurance 1 minute, 1k/100k depths: what CI or a smoke test uses",
    )
    p.add_argument("--only", action="append", choices=PARTS, help="run only this part (repeatable)")
    p.add_argument("--duration", type=float, help="seconds per SQL and HTTP case (default 10, --quick 3)")
    p.add_argument("--endurance-duration", type=int, help="seconds of each endurance run (default 600, --quick 60)")
    p.add_argument("--sample-interval", type=float, default=10.0, help="endurance sampling interval in seconds (10)")
    p.add_argument(
        "--cases",
        type=lambda text: [x.strip() for x in text.split(",") if x.strip()],
        help="run only these SQL cases (names as in bench/sqlbench.py CASES, comma-separated; default all)",
    )
    p.add_argument(
        "--http-cases",
        type=lambda text: [x.strip() for x in text.split(",") if x.strip()],
        help="run only these HTTP cases (comma-separated: " + ", ".join(httpbench.CASES) + "; default all)",
    )
    p.add_argument("--clients", type=_ints, default=[1, 4, 16], help="pgbench client counts (1,4,16)")
    p.add_argument("--http-clients", type=_ints, default=[4, 16], help="HTTP concurrent clients (4,16)")
    p.add_argument("--workers", type=_ints, default=[1, 2], help="server worker counts (1,2)")
    p.add_argument(
        "--shard-clients", type=_ints, default=[4, 16], help="pgbench clients of the shards part's throughput (4,16)"
    )
    p.add_argument(
        "--shard-counts", type=_ints, default=[1, 2, 4], help="shard counts of the shards part's routers (1,2,4)"
    )
    p.add_argument(
        "--depths", type=_ints, help="queue depths for the consume latency case (1000,1000000; --quick 1000,100000)"
    )
    p.add_argument(
        "--database-url",
        help="an existing server's admin URL (any database on it, e.g. .../postgres);"
        " no cluster is started. Default: the project-local cluster",
    )
    p.add_argument(
        "--database-name", default="fastqueue_bench", help="the database the bench (re)creates (fastqueue_bench)"
    )
    p.add_argument("--drop-database", action="store_true", help="drop the bench database at the end")
    p.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md", help="the report (BENCHMARKS.md)")
    p.add_argument(
        "--json-output",
        type=Path,
        default=None,
        help="the raw figures (default: bench/BENCHMARKS.json for the default --output, else beside it)",
    )
    p.add_argument("--note", default="", help="a sentence put at the top of the report")
    p.add_argument(
        "--no-carry-over",
        action="store_true",
        help="with --only: leave the parts not run out of the report instead of keeping the previous"
        " results file's figures for them (each labelled with the run that measured it)",
    )
    args = p.parse_args(argv)
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.endurance_duration = args.endurance_duration or (60 if args.quick else 600)
    args.depths = args.depths or ([1_000, 100_000] if args.quick else [1_000, 1_000_000])
    args.parts = args.only or list(PARTS)
    return args


def display_command(argv: list[str]) -> str:
    """The command as `make bench` takes it; a --note's text is shown at the top of the report instead."""
    shown, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--note":
            shown.append("--note '…'")
            skip = True
        elif arg.startswith("--note="):
            shown.append("--note '…'")
        else:
            shown.append(shlex.quote(arg))
    return "make bench" + (f' ARGS="{" ".join(shown)}"' if shown else "")


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _commit() -> str | None:
    """The checkout's commit (short), marked when it has changes not committed; None outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
        # the report files are rewritten by the bench itself: their changes say nothing about the code
        changed_code = [
            line for line in changed.splitlines() if not line.endswith(("BENCHMARKS.md", "BENCHMARKS.json"))
        ]
        return head.stdout.strip() + (" with changes not committed" if changed_code else "")
    except (OSError, subprocess.SubprocessError):
        return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    commit = _commit()
    started_cluster = None
    if args.database_url:
        admin_url = args.database_url
        cluster = "an existing server given with --database-url"
    else:
        # The folder and port make run would use (environment, .env, then its defaults).
        datadir, port_text = subprocess.run(
            ["bash", "-c", 'source scripts/local-settings.sh && echo "$FASTQUEUE_PGDATA" && echo "$FASTQUEUE_PGPORT"'],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        port = int(port_text)
        was_running = _reachable(port)
        subprocess.run([str(ROOT / "scripts" / "pg-cluster.sh"), "start", datadir, str(port), "fastqueue"], check=True)
        if not was_running:
            started_cluster = datadir
        admin_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        cluster = (
            f"the project-local cluster (scripts/pg-cluster.sh, data {datadir}, 127.0.0.1:{port}),"
            f" {'started by the bench and stopped after it' if started_cluster else 'already running'}"
        )
    target = Target(admin_url, args.database_name)
    results: dict = {}
    part_minutes: dict[str, float] = {}
    try:
        recreate_database(target)
        settings = server_settings(target)
        print("bench: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
        for part in PARTS:
            if part not in args.parts:
                continue
            part_began = time.monotonic()
            if part == "sql":
                results["sql"] = sqlbench.run(target, args.clients, args.duration, cases=args.cases)
                results["depth"] = sqlbench.run_depth(target, args.depths, args.duration)
            elif part == "http":
                results["http"] = httpbench.run(
                    target, args.http_clients, args.workers, args.duration, cases=args.http_cases
                )
            elif part == "endurance":
                results["endurance"] = endurance.run(target, args.endurance_duration, args.sample_interval)
            elif part == "push":  # docs/push.md
                results["push"] = pushbench.run(target, args.duration)
            elif part == "shards":  # docs/sharding.md
                results["shards"] = shardbench.run(target, args.shard_clients, args.duration, args.shard_counts)
            part_minutes[part] = (time.monotonic() - part_began) / 60
        command = display_command(argv if argv is not None else sys.argv[1:])
        results["meta"] = {
            "finished_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": command,
            "elapsed_minutes": (time.monotonic() - began) / 60,
            "note": args.note,
            "machine": machine(),
            "settings": settings,
            "cluster": cluster,
            "duration": args.duration,
            "clients": args.clients,
            "http_clients": args.http_clients,
            "workers": args.workers,
            "depths": args.depths,
            "cases": args.cases,
            "http_cases": args.http_cases,
            "endurance_duration": args.endurance_duration,
            "sample_interval": args.sample_interval,
            "parts": args.parts,
            "shard_clients": args.shard_clients,
            "shard_counts": args.shard_counts,
            "commit": commit,
        }
        report.record_measured(results, part_minutes)
        json_output = args.json_output or (JSON_OUTPUT if args.output == ROOT / "BENCHMARKS.md" else None)
        report.write(results, args.output, json_output, carry=not args.no_carry_over)
        print(report.console_table(results))
        print(f"bench: report written to {args.output}")
    finally:
        if args.drop_database:
            try:
                drop_database(target)
            except Exception as exc:  # the report matters more than the cleanup's error
                print(f"bench: could not drop {target.name}: {exc}", file=sys.stderr)
        if started_cluster:
            subprocess.run([str(ROOT / "scripts" / "pg-cluster.sh"), "stop", started_cluster], check=False)
            print("bench: the project-local PostgreSQL it started is stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
