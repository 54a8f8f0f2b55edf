"""The README's run command (`make run`, i.e. scripts/run.sh) with FASTQUEUE_DATABASE_URL unset:
it starts a project-local PostgreSQL, migrates and serves; Ctrl-C (SIGINT to the foreground
process group) stops the server and that PostgreSQL; the data survives the next start."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_run(env: dict[str, str]) -> subprocess.Popen:
    # A session of its own, like a terminal's foreground job, so the SIGINT reaches every process of it.
    return subprocess.Popen(
        [ROOT / "scripts" / "run.sh"], env=env, cwd=ROOT, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def wait_healthy(base_url: str, run: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if run.poll() is not None:
            pytest.fail(f"run command exited early:\n{run.stdout.read()}")
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail("the server did not become healthy")


def ctrl_c(run: subprocess.Popen) -> str:
    os.killpg(run.pid, signal.SIGINT)
    try:
        output, _ = run.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        raise
    return output


@pytest.mark.slow
def test_run_serves_a_local_postgres_that_ctrl_c_stops_and_data_survives() -> None:
    # Not pytest's tmp_path: its folder is closed to the postgres user that owns the cluster.
    folder = Path(tempfile.mkdtemp(prefix="fastqueue-run-", dir="/tmp"))
    folder.chmod(0o755)
    pgdata = folder / "pgdata"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "FASTQUEUE_DATABASE_URL"}
    env |= {"FASTQUEUE_PGDATA": str(pgdata), "FASTQUEUE_PGPORT": str(free_port()), "FASTQUEUE_SERVER_PORT": str(port)}
    base_url = f"http://127.0.0.1:{port}"
    try:
        run = start_run(env)
        wait_healthy(base_url, run)
        created = httpx.post(f"{base_url}/topics", json={"id": "kept"}, timeout=5)
        assert created.status_code == 201, created.text
        output = ctrl_c(run)
        assert "local PostgreSQL stopped" in output, output
        assert not (pgdata / "postmaster.pid").exists(), "PostgreSQL still running after Ctrl-C"

        run = start_run(env)
        wait_healthy(base_url, run)
        kept = httpx.get(f"{base_url}/topics/kept", timeout=5)
        assert kept.status_code == 200, "the topic did not survive the restart"
        ctrl_c(run)
        assert not (pgdata / "postmaster.pid").exists()
    finally:
        subprocess.run([ROOT / "scripts" / "pg-cluster.sh", "stop", pgdata], check=False)
        shutil.rmtree(folder, ignore_errors=True)
