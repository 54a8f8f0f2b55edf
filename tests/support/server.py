"""`fastqueue server` as a subprocess on a fixed loopback port, so that a test can kill and restart it in place."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
FASTQUEUE = Path(sys.executable).with_name("fastqueue")


@dataclass
class ServerProcess:
    """`fastqueue server` on a fixed loopback port, so that it can be killed and restarted in place."""

    database_url: str
    log_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"server-{self.port}.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, healthy: bool = True, timeout: float = 30.0) -> float:
        """Starts the server and waits until /health answers (200 when healthy); returns the wait."""
        environment = {
            **os.environ,
            "FASTQUEUE_DATABASE_URL": self.database_url,
            "FASTQUEUE_SERVER_HOST": "127.0.0.1",
            "FASTQUEUE_SERVER_PORT": str(self.port),
            "FASTQUEUE_SERVER_NUM_WORKERS": "1",
            "FASTQUEUE_LOG_LEVEL": "warning",
            **self.env,
        }
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        began = time.monotonic()
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [str(FASTQUEUE), "server"],
                cwd=REPO,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        self.wait_until_serving(healthy=healthy, timeout=timeout)
        return time.monotonic() - began

    def wait_until_serving(self, healthy: bool = True, timeout: float = 30.0) -> float:
        began = time.monotonic()
        deadline = began + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"fastqueue server exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            try:
                response = httpx.get(self.url + "/health", timeout=5)
                if response.status_code == 200 or not healthy:
                    return time.monotonic() - began
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"fastqueue server did not serve (healthy={healthy}) within {timeout} s:\n{self.log()[-4000:]}")

    def signal(self, signum: int) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signum)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass
