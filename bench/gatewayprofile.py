"""The gateway's own cost per request, without the network or a load client: `python -m bench.gatewayprofile
DATABASE_URL` drives the ASGI app in this process (its lifespan, pool and listener as `fastqueue server`
runs them) with publish, consume 10 + batch ack, and consume-with-acks requests, one at a time, and
prints per request: the Python function calls cProfile counts, and the process's CPU time
(time.process_time, which includes the psycopg/libpq work and this module's ASGI driver but not
uvicorn's HTTP parsing). Deterministic where the bench's 16-client figures are noisy on a shared
machine; `--top N` prints the N functions with the most own CPU time (cProfile timed by the process's CPU
clock, so that time the process spends descheduled, say in a socket write that wakes PostgreSQL on a busy
machine, is not blamed on the function it happened in). The database must be migrated with the
bench's fixtures (python -m bench creates fastqueue_bench so)."""

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg

from bench.common import ATTRIBUTES, PAYLOAD, prefill, reset_tables

QUEUE = "bench-http-consume"
PUBLISH_BODY = json.dumps({"data": PAYLOAD, "attributes": ATTRIBUTES}, separators=(",", ":")).encode()


async def call(app: Any, method: str, path: str, body: bytes = b"", query: bytes = b"") -> tuple[int, bytes]:
    """One request through the ASGI app, as uvicorn would hand it over."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def publish(app: Any) -> int:
    status, _ = await call(app, "POST", "/topics/bench-http/messages", PUBLISH_BODY)
    assert status == 201, status
    return 1


async def consume_ack(app: Any) -> int:
    status, body = await call(app, "GET", f"/queues/{QUEUE}/messages", query=b"limit=10")
    assert status == 200, status
    ids = [m["id"] for m in json.loads(body)["data"]]
    status, _ = await call(app, "POST", "/messages/ack", json.dumps({"ids": ids}).encode())
    assert status == 200, status
    return 2


def consume_with_acks() -> Callable[[Any], Awaitable[int]]:
    previous: list[str] = []

    async def cycle(app: Any) -> int:
        nonlocal previous
        status, body = await call(
            app, "POST", f"/queues/{QUEUE}/messages/consume", json.dumps({"limit": 10, "ack_ids": previous}).encode()
        )
        assert status == 200, status
        previous = [m["id"] for m in json.loads(body)["data"]]
        return 1

    return cycle


async def measure(database_url: str, requests: int, top: int, only: list[str] | None = None) -> None:
    os.environ["FASTQUEUE_DATABASE_URL"] = database_url
    os.environ.setdefault("FASTQUEUE_LOG_LEVEL", "warning")
    from fastqueue.gateway.main import create_app  # reads the settings when imported

    with psycopg.connect(database_url, autocommit=True) as conn:
        reset_tables(conn)
        prefill(conn, QUEUE, requests * 25 + 1000)
    app = create_app()
    async with app.router.lifespan_context(app):
        cases = (("publish", publish), ("consume+ack", consume_ack), ("consume-with-acks", consume_with_acks()))
        for name, case in cases:
            if only and name not in only:
                continue
            for _ in range(50):  # warm: the pool's connections, prepared statements, caches
                await case(app)
            done = 0
            started = time.process_time()
            while done < requests:
                done += await case(app)
            cpu = time.process_time() - started
            profile = cProfile.Profile(time.process_time)
            profiled = 0
            profile.enable()
            while profiled < requests:
                profiled += await case(app)
            profile.disable()
            stats = pstats.Stats(profile)
            print(
                f"{name:18} {cpu / done * 1e6:7.0f} µs CPU/request (unprofiled)"
                f"  {stats.total_calls / profiled:6.0f} function calls/request (cProfile)"
            )
            if top:
                stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    summary = (__doc__ or "").split("\n\n")[0]
    parser = argparse.ArgumentParser(prog="python -m bench.gatewayprofile", description=summary)
    parser.add_argument("database_url")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument(
        "--cases", help="comma-separated, of publish, consume+ack, consume-with-acks (default all three)", default=""
    )
    args = parser.parse_args()
    import uvloop

    uvloop.run(measure(args.database_url, args.requests, args.top, [c for c in args.cases.split(",") if c]))


if __name__ == "__main__":
    main()
