"""The application image's HEALTHCHECK: GET /health on the local `fastqueue server`.

Standard library only (the slim image has no curl). One image runs three commands, so the check
looks at what the container was started with first: a `db-migrate` or `worker` container has no
HTTP port and is reported healthy; only a `server` container is asked for /health.

Exit status 0 is healthy, 1 unhealthy (what Docker's HEALTHCHECK expects).
"""

import os
import sys
import urllib.error
import urllib.request

# PID 1 is `python .../fastqueue server` (exec-form ENTRYPOINT), or docker-init with the same
# arguments after it when the container runs with --init.
PID1_CMDLINE = "/proc/1/cmdline"


def runs_server(cmdline_path: str = PID1_CMDLINE) -> bool:
    try:
        with open(cmdline_path, "rb") as file:
            arguments = file.read().split(b"\0")
    except OSError:
        return True  # cannot tell: check the endpoint rather than report a blind success
    return b"server" in arguments


def health_url() -> str:
    host = os.environ.get("FASTQUEUE_SERVER_HOST", "0.0.0.0").strip()
    port = os.environ.get("FASTQUEUE_SERVER_PORT", "8000").strip() or "8000"
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/health"


def main() -> int:
    if not runs_server(os.environ.get("FASTQUEUE_HEALTHCHECK_CMDLINE", PID1_CMDLINE)):
        print("not a `fastqueue server` container: no HTTP endpoint to check")
        return 0
    url = health_url()
    timeout = float(os.environ.get("FASTQUEUE_HEALTHCHECK_TIMEOUT_SECONDS", "3"))
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        print(f"{url}: HTTP {exc.code}")
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {getattr(exc, 'reason', exc)}")
        return 1
    print(f"{url}: HTTP {status}")
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
