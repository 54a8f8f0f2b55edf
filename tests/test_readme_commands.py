"""The README's quickstart as a newcomer follows it: the fenced bash blocks of "Quickstart", pasted in
order into one shell, against a real run command (scripts/run.sh with its own local PostgreSQL), then the
psql session of docs/sql-api.md. And the README's Development section lists the tree as it is. Only the ports differ from what the README shows (a test must not take 8000
or 54329, another run may have them). What matters is checked, not the bytes of each answer: every
command succeeds, the ack and nack answer 204, and the message ends consumed, acked and gone."""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port
from tests.test_run_command import ROOT, ctrl_c, start_run, wait_healthy

README = ROOT / "README.md"
SQL_API = ROOT / "docs" / "sql-api.md"


def section(text: str, heading: str) -> str:
    """From the heading to the next heading of the same or a higher level."""
    level = heading.split(" ")[0]
    start = text.index(f"\n{heading}\n")
    following = re.compile(rf"^#{{1,{len(level)}}} ", re.MULTILINE)
    end = following.search(text, start + len(heading) + 2)
    return text[start : end.start() if end else len(text)]


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def _tree_entries(block: str, indent: str) -> set[str]:
    """The names a tree listing shows at one indentation (before its description, `a, b` listing two)."""
    names: set[str] = set()
    for line in block.splitlines():
        if line.startswith(indent) and line[len(indent) : len(indent) + 1] not in (" ", ""):
            listed = re.split(r"\s{2,}", line[len(indent) :].strip())[0]
            names |= {name.strip().rstrip("/") for name in listed.split(",")}
    return names


def test_development_section_lists_the_tree_as_ls_shows_it() -> None:
    """Every top-level file and folder git knows, and every entry of app/ and db/, is in the README's tree,
    and the tree names nothing that is not there."""
    (tree,) = fenced(section(README.read_text(), "## Development"), "")
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    # As `ls` shows it: hidden files (.gitignore, .ci/, ...) aside.
    top = {name.split("/", 1)[0] for name in tracked if (ROOT / name).exists() and not name.startswith(".")}
    assert _tree_entries(tree, "") == top, "the README's Development tree and the repository's top level differ"
    lines = tree.splitlines()
    for folder in ("app", "db"):
        start = next(i for i, line in enumerate(lines) if line.startswith(folder + "/"))
        end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines))
        listed = _tree_entries("\n".join(lines[start + 1 : end]), "  ")
        present = {
            path.name
            for path in (ROOT / folder).iterdir()
            if path.name not in ("__pycache__", "__init__.py") and not path.name.startswith(".")
        }
        assert listed == present, f"the README's tree of {folder}/ and `ls {folder}` differ"


@pytest.mark.slow
def test_readme_commands_run_as_written_in_order() -> None:
    readme = README.read_text()
    quickstart = fenced(section(readme, "## Quickstart"), "bash")
    sql_section = SQL_API.read_text()
    psql_command = fenced(sql_section, "bash")[0].strip()
    psql_session = fenced(sql_section, "sql")[0]
    assert quickstart and psql_command.startswith("psql ")

    folder = Path(tempfile.mkdtemp(prefix="fastqueue-readme-", dir="/tmp"))
    folder.chmod(0o755)
    pgdata = folder / "pgdata"
    pgport, port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTQUEUE_")}
    env |= {"FASTQUEUE_PGDATA": str(pgdata), "FASTQUEUE_PGPORT": str(pgport), "FASTQUEUE_SERVER_PORT": str(port)}
    base_url = f"http://127.0.0.1:{port}"
    run = start_run(env)
    try:
        wait_healthy(base_url, run)
        script = "\n".join(quickstart).replace("localhost:8000", f"localhost:{port}")
        # From a folder of its own: the commands must not depend on the checkout being the working directory,
        # except those that name .venv/, which a newcomer types in the checkout.
        shell = subprocess.run(
            ["bash", "-e", "-u", "-o", "pipefail", "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert shell.returncode == 0, f"{shell.stdout}\n{shell.stderr}"
        lines = shell.stdout.splitlines()
        assert lines.count("204") == 2, f"the nack and ack did not both answer 204:\n{shell.stdout}"
        assert '{"data":[]}' in lines, f"the queue was not empty after the ack:\n{shell.stdout}"
        # The terminal's part (fastqueue publish, then consume --ack): its message printed and acked.
        consumed = [line for line in lines if '"event_name": "event2"' in line or '"event_name":"event2"' in line]
        assert len(consumed) >= 2, f"the CLI's publish and consume did not both print the message:\n{shell.stdout}"

        with httpx.Client(base_url=base_url, timeout=10) as api:
            stats = api.get("/queues/all-events/stats")
            assert stats.status_code == 200, stats.text
            counts = stats.json()
            assert counts["num_undelivered_messages"] == 0 and counts.get("num_inflight_messages", 0) == 0, counts
            peek = api.get("/queues/all-events/peek")
            assert peek.status_code == 200 and peek.json()["data"] == [], peek.text

        psql = psql_command.replace(":54329/", f":{pgport}/").split()
        session = subprocess.run(
            [*psql, "-X", "-v", "ON_ERROR_STOP=1"],
            input=psql_session,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert session.returncode == 0, f"{session.stdout}\n{session.stderr}"
        assert "ERROR" not in session.stderr, session.stderr
        # The SQL session consumed what it published and acked it: nothing is left in any queue.
        with httpx.Client(base_url=base_url, timeout=10) as api:
            overview = api.get("/overview/queues")
            assert overview.status_code == 200, overview.text
            assert all(queue["total_messages"] == 0 for queue in overview.json()["data"]), overview.text
    finally:
        ctrl_c(run) if run.poll() is None else None
        subprocess.run([ROOT / "scripts" / "pg-cluster.sh", "stop", pgdata], check=False)
        shutil.rmtree(folder, ignore_errors=True)
