"""The README's run command (`make run`, i.e. scripts/run.sh) with FASTQUEUE_DATABASE_URL unset:
it starts a project-local PostgreSQL, migrates and serves; Ctrl-C (SIGINT to the foreground
process group) stops the server and that PostgreSQL; the data survives the next start."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parent.parent


def start_run(env: dict[str, str]) -> subprocess.Popen:
    # A session of its own, like a terminal's foreground job, so the SIGINT reaches every process of it.
    return subprocess.Popen(
        [ROOT / "scripts" / "run.sh"],
        env=env,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
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


def copy_checkout(destination: Path) -> None:
    """The working tree's files (tracked and new, not ignored) as a fresh clone would have them."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def without_fastqueue_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("FASTQUEUE_", "PG"))}


# A normal user: the postgres user stands in for one (it exists wherever PostgreSQL is installed).
NORMAL_USER = "postgres"


@pytest.mark.slow
@pytest.mark.parametrize("user", ["root", NORMAL_USER])
def test_make_run_from_a_checkout_under_a_mode_700_home(user: str) -> None:
    """As a newcomer would: a clone under a home folder closed to others (root's /root is mode 700), with
    its ports in .env and nothing else configured, as root and as a normal user. As root, a first run
    pointed at a folder the cluster's owner cannot reach fails clearly and leaves nothing behind; then
    `make run` serves (loopback only), the CLI finds its database, Ctrl-C stops it, and `make stop` says
    that nothing is running and where it looked."""
    if os.getuid() != 0:
        pytest.skip("needs root, to run the commands as root and as another user")
    as_user = [] if user == "root" else ["runuser", "-u", user, "--"]
    home = Path(tempfile.mkdtemp(prefix="fastqueue-home-", dir="/tmp"))
    home.chmod(0o700)
    checkout = home / "fastqueue"
    copy_checkout(checkout)
    pgport, port = free_port(), free_port()
    (checkout / ".env").write_text(
        f"# ports of this checkout\nFASTQUEUE_PGPORT={pgport}\nFASTQUEUE_SERVER_PORT='{port}'\n"
    )
    if as_user:
        shutil.chown(home, user, user)
        for path in home.rglob("*"):
            shutil.chown(path, user, user)
    env = without_fastqueue_settings()
    base_url = f"http://127.0.0.1:{port}"
    datadir = None
    try:
        if user == "root":
            # The earlier failure: a data folder the postgres user cannot reach.
            blocked = home / "blocked" / "pgdata"
            failed = subprocess.run(
                ["make", "run"],
                cwd=checkout,
                env=env | {"FASTQUEUE_PGDATA": str(blocked)},
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert failed.returncode != 0, failed.stdout + failed.stderr
            assert "cannot write" in failed.stderr or "cannot reach" in failed.stderr, failed.stdout + failed.stderr
            assert not blocked.exists(), "a failed run left its data folder behind"

        run = subprocess.Popen(
            [*as_user, "make", "run"],
            cwd=checkout,
            env=env,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        wait_healthy(base_url, run, seconds=600)
        # Loopback only: another loopback address of this machine finds nothing listening.
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.2:{port}/health", timeout=5)
        # The run command installs what running needs, not the test tools.
        probe = subprocess.run([checkout / ".venv" / "bin" / "python", "-c", "import selenium"], capture_output=True)
        assert probe.returncode != 0, "make run installed selenium (a test tool)"
        # The CLI reads the same .env and finds make run's database with nothing else configured.
        stats = subprocess.run(
            [*as_user, checkout / ".venv" / "bin" / "fastqueue", "stats"],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert stats.returncode == 0, stats.stderr
        # "no queues", then (after a blank line) the store's rotation line.
        assert stats.stdout.splitlines()[0] == "no queues", stats.stdout
        assert "store: slot" in stats.stdout, stats.stdout
        output = ctrl_c(run)
        assert "local PostgreSQL stopped" in output, output
        found = re.search(r"data in (\S+)", output)
        assert found, output
        datadir = Path(found.group(1))
        assert (datadir / "PG_VERSION").exists(), output
        if user == "root":
            assert not datadir.is_relative_to(home), "the cluster's data is where its owner cannot reach"
        else:
            assert datadir == checkout / ".fastqueue" / "pgdata", (
                "a normal user's cluster keeps its data in the checkout"
            )
        assert not (datadir / "postmaster.pid").exists(), "PostgreSQL still running after Ctrl-C"

        stop = subprocess.run(
            [*as_user, "make", "stop"], cwd=checkout, env=env, capture_output=True, text=True, timeout=120
        )
        assert stop.returncode == 0, stop.stderr
        assert "nothing was running" in stop.stdout and str(datadir) in stop.stdout, stop.stdout
    finally:
        if datadir is not None:
            subprocess.run([ROOT / "scripts" / "pg-cluster.sh", "stop", datadir], check=False)
            if os.getuid() == 0 and datadir.is_relative_to("/var/lib/fastqueue"):
                shutil.rmtree(datadir.parent, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


def test_make_stop_says_what_it_stopped() -> None:
    folder = Path(tempfile.mkdtemp(prefix="fastqueue-stop-", dir="/tmp"))
    folder.chmod(0o755)
    pgdata = folder / "pgdata"
    env = {k: v for k, v in os.environ.items() if k != "FASTQUEUE_DATABASE_URL"} | {"FASTQUEUE_PGDATA": str(pgdata)}
    try:
        subprocess.run(
            [ROOT / "scripts" / "pg-cluster.sh", "start", pgdata, str(free_port()), "fastqueue", "--throwaway"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        stopped = subprocess.run(
            ["make", "--no-print-directory", "stop"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert stopped.returncode == 0, stopped.stderr
        assert f"stopped the local PostgreSQL in {pgdata}" in stopped.stdout, stopped.stdout
        again = subprocess.run(
            ["make", "--no-print-directory", "stop"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr
        assert f"nothing was running (looked in {pgdata})" in again.stdout, again.stdout
    finally:
        subprocess.run([ROOT / "scripts" / "pg-cluster.sh", "stop", pgdata], check=False)
        shutil.rmtree(folder, ignore_errors=True)
