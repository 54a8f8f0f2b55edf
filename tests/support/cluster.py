"""A throwaway PostgreSQL cluster on 127.0.0.1 of a test's own, which it may stop and start
(scripts/pg-cluster.sh makes it, as `make test` makes the suite's)."""

import os
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from fastqueue.commands.migrate import migrate
from psycopg import sql

REPO = Path(__file__).resolve().parents[2]
PG_CLUSTER = REPO / "scripts" / "pg-cluster.sh"
PG_BINDIR = Path(os.environ.get("FASTQUEUE_PG_BINDIR", "/usr/lib/postgresql/15/bin"))


def _as_owner(*command: str) -> list[str]:
    """initdb and pg_ctl refuse to run as root: as root, run them as postgres."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


@dataclass
class Cluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1 that a test may stop and start."""

    root: Path
    port: int

    @property
    def datadir(self) -> Path:
        return self.root / "pgdata"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> float:
        """Starts (or creates and starts) the cluster; returns how long it took."""
        began = time.monotonic()
        subprocess.run(
            ["bash", str(PG_CLUSTER), "start", str(self.datadir), str(self.port), "fastqueue", "--throwaway"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return time.monotonic() - began

    def stop(self, mode: str = "fast") -> float:
        """pg_ctl stop -m MODE; returns how long it took."""
        began = time.monotonic()
        subprocess.run(
            _as_owner(str(PG_BINDIR / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "-t", "60", "stop"),
            check=True,
            capture_output=True,
            timeout=90,
            cwd="/",
        )
        return time.monotonic() - began

    def is_running(self) -> bool:
        result = subprocess.run(
            _as_owner(str(PG_BINDIR / "pg_ctl"), "-D", str(self.datadir), "status"),
            capture_output=True,
            cwd="/",
        )
        return result.returncode == 0

    def ensure_running(self) -> None:
        if not self.is_running():
            self.start()

    def create_migrated_database(self) -> str:
        name = f"fq_fault_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        url = self.url(name)
        migrate(url, echo=lambda _: None)
        return url

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
