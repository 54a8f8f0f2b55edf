"""Publish throughput over HTTP with a synchronous standby, beside the same without waiting for one.

    .venv/bin/python scripts/ha-publish-throughput.py DIR [SECONDS_PER_ROUND] [ROUNDS]

DIR holds a formation scripts/ha-cluster.sh started (without FASTQUEUE_HA_FAST, so fsync is on). Two
`fastqueue server` processes on its multi-host URL: one as it is (every commit waits until the
synchronous standby has the WAL on disk), one whose sessions commit with synchronous_commit = local
(the primary's own disk only: what the same machine does without a synchronous standby). Rounds
alternate between the two; each round is 8 client threads publishing single messages for
SECONDS_PER_ROUND (5) to a topic with one queue. Prints each round and the median publishes/s.
"""

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx

REPO = Path(__file__).resolve().parents[1]
CLIENTS = 8


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(database_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "FASTQUEUE_DATABASE_URL": database_url,
        "FASTQUEUE_SERVER_PORT": str(port),
        "FASTQUEUE_LOG_LEVEL": "warning",
    }
    with log.open("ab") as out:
        process = subprocess.Popen([str(REPO / ".venv/bin/fastqueue"), "server"], env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the server on {database_url} did not serve; see {log}")


def one_round(url: str, topic_id: str, seconds: float) -> float:
    counts = [0] * CLIENTS
    stop = threading.Event()

    def client(i: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while not stop.is_set():
                response = http.post(f"/topics/{topic_id}/messages", json={"data": {"n": counts[i]}})
                if response.status_code != 201:
                    raise SystemExit(f"publish answered {response.status_code}: {response.text}")
                counts[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - began)


def main() -> None:
    folder = Path(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    base = subprocess.run(
        ["bash", str(REPO / "scripts/ha-cluster.sh"), "url", str(folder)], capture_output=True, text=True, check=True
    ).stdout.strip()
    urls = {
        "synchronous standby": base,
        "local commit only": base + "&options=" + quote("-c synchronous_commit=local"),
    }
    servers = {name: start_server(url, folder / "throughput-server.log") for name, url in urls.items()}
    try:
        suffix = uuid.uuid4().hex[:8]
        topic_id = f"throughput-{suffix}"
        first = next(iter(servers.values()))[1]
        with httpx.Client(base_url=first) as http:
            http.post("/topics", json={"id": topic_id}).raise_for_status()
            http.post(
                "/queues",
                json={
                    "id": f"{topic_id}-q",
                    "topic_id": topic_id,
                    "ack_deadline_seconds": 30,
                    "message_retention_seconds": 3600,
                },
            ).raise_for_status()
        results: dict[str, list[float]] = {name: [] for name in servers}
        for n in range(rounds):
            for name, (_, url) in servers.items():
                rate = one_round(url, topic_id, seconds)
                results[name].append(rate)
                print(f"round {n + 1}, {name}: {rate:.0f} publishes/s", flush=True)
        for name, rates in results.items():
            print(
                f"{name}: median {statistics.median(rates):.0f} publishes/s over {rounds} rounds of {seconds:.0f} s,"
                f" {CLIENTS} clients"
            )
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
