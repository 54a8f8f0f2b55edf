"""scripts/bootstrap.sh shows each step with the time it took, and stops with a clear message naming the
step that failed (with that step's own output), instead of hiding it."""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.test_run_command import ROOT, copy_checkout

STEP_LINE = re.compile(r"^bootstrap: .+ \(\d+ s\)$", re.MULTILINE)


def test_bootstrap_shows_each_step_and_its_time() -> None:
    done = subprocess.run(
        [ROOT / "scripts" / "bootstrap.sh", "test"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    steps = STEP_LINE.findall(done.stdout)
    assert any("Debian packages" in line for line in steps), done.stdout
    assert any("Python packages" in line for line in steps), done.stdout


def test_a_failing_step_stops_bootstrap_with_its_name_and_output() -> None:
    folder = Path(tempfile.mkdtemp(prefix="fastqueue-bootstrap-", dir="/tmp"))
    try:
        copy_checkout(folder)
        pyproject = folder / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('"fastapi>=0.115",', '"fastapi >= not a version",', 1))
        failed = subprocess.run(
            [folder / "scripts" / "bootstrap.sh", "run"], cwd=folder, capture_output=True, text=True, timeout=600
        )
        assert failed.returncode != 0, failed.stdout
        assert re.search(r"bootstrap: installing Python packages .*failed", failed.stdout + failed.stderr), (
            failed.stdout + failed.stderr
        )
        assert "not a version" in failed.stderr, "the failing step's own output is not shown"
        assert STEP_LINE.search(failed.stdout), failed.stdout
    finally:
        shutil.rmtree(folder, ignore_errors=True)
