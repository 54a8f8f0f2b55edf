"""HTTP level: the bench's own asyncio + httpx load client against `fastqueue server` subprocesses.

Every published id and every received id is recorded: the checks count ids lost (published with a 201
but never stored / never received) and ids delivered twice (leases are 600 s, longer than any run, so
any second delivery of an id within a run is a double delivery within a lease).
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter

import httpx

from bench.common import ATTRIBUTES, PAYLOAD, ROOT, Target, prefill, queue_depth, reset_tables

MAX_REQUESTS_PER_CLIENT = 2_000_000  # every loop is bounded in count as well as in time
DRAIN_SECONDS = 15


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`fastqueue server` on a free loopback port with N workers; stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, database_url: str, workers: int):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update({
            "FASTQUEUE_DATABASE_URL": database_url,
            "FASTQUEUE_SERVER_HOST": "127.0.0.1",
            "FASTQUEUE_SERVER_PORT": str(self.port),
            "FASTQUEUE_SERVER_NUM_WORKERS": str(workers),
            "FASTQUEUE_LOG_LEVEL": "warning",
        })
        env.pop("FASTQUEUE_AUTH_TOKENS", None)
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main(['server']))"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"fastqueue server exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(self.base_url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("fastqueue server did not become healthy in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def __enter__(self) -> "Server":
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _client(base_url: str, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=httpx.Timeout(30.0))


_BODY = {"data": PAYLOAD, "attributes": ATTRIBUTES}


async def _publish(base_url: str, concurrency: int, duration: float) -> dict:
    latencies: list[float] = []
    ids: list[str] = []
    errors = Counter()
    async with _client(base_url, concurrency) as client:
        deadline = time.monotonic() + duration

        async def publisher() -> None:
            for _ in range(MAX_REQUESTS_PER_CLIENT):
                if time.monotonic() >= deadline:
                    return
                start = time.monotonic()
                response = await client.post("/topics/bench-http/messages", json=_BODY)
                latencies.append(time.monotonic() - start)
                if response.status_code != 201:
                    errors[response.status_code] += 1
                    continue
                ids.extend(m["id"] for m in response.json()["data"])

        started = time.monotonic()
        await asyncio.gather(*(publisher() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    return {"latencies": latencies, "ids": ids, "errors": dict(errors), "elapsed": elapsed}


async def _consume_ack(base_url: str, concurrency: int, duration: float) -> dict:
    latencies: list[float] = []
    received = Counter()
    acked = 0
    ack_mismatch = 0
    errors = Counter()
    ran_dry = False
    async with _client(base_url, concurrency) as client:
        deadline = time.monotonic() + duration

        async def consumer() -> None:
            nonlocal acked, ack_mismatch, ran_dry
            for _ in range(MAX_REQUESTS_PER_CLIENT):
                if time.monotonic() >= deadline:
                    return
                start = time.monotonic()
                response = await client.get("/queues/bench-http-consume/messages", params={"limit": 10})
                latencies.append(time.monotonic() - start)
                if response.status_code != 200:
                    errors[response.status_code] += 1
                    continue
                batch = [m["id"] for m in response.json()["data"]]
                if not batch:
                    ran_dry = True
                    return
                received.update(batch)
                start = time.monotonic()
                response = await client.post("/messages/ack", json={"ids": batch})
                latencies.append(time.monotonic() - start)
                if response.status_code != 200:
                    errors[response.status_code] += 1
                    continue
                acked += response.json()["acked"]
                ack_mismatch += response.json()["acked"] != len(batch)

        started = time.monotonic()
        await asyncio.gather(*(consumer() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    return {"latencies": latencies, "received": received, "acked": acked, "ack_mismatch": ack_mismatch,
            "errors": dict(errors), "elapsed": elapsed, "ran_dry": ran_dry}


async def _end_to_end(base_url: str, concurrency: int, duration: float) -> dict:
    publishers = max(1, concurrency // 2)
    consumers = max(1, concurrency - publishers)
    published: set[str] = set()
    received = Counter()
    delivery_latencies: list[float] = []
    request_latencies: list[float] = []
    errors = Counter()
    acked = 0
    async with _client(base_url, concurrency) as client:
        deadline = time.monotonic() + duration
        publishing_done = asyncio.Event()

        async def publisher() -> None:
            for _ in range(MAX_REQUESTS_PER_CLIENT):
                if time.monotonic() >= deadline:
                    return
                body = {"data": {**PAYLOAD, "sent_at": time.time()}, "attributes": ATTRIBUTES}
                start = time.monotonic()
                response = await client.post("/topics/bench-e2e/messages", json=body)
                request_latencies.append(time.monotonic() - start)
                if response.status_code != 201:
                    errors[response.status_code] += 1
                    continue
                published.update(m["id"] for m in response.json()["data"])

        async def consumer() -> None:
            nonlocal acked
            drain_deadline = deadline + DRAIN_SECONDS
            for _ in range(MAX_REQUESTS_PER_CLIENT):
                if time.monotonic() >= drain_deadline:
                    return
                if publishing_done.is_set() and set(received) >= published:
                    return
                start = time.monotonic()
                response = await client.get("/queues/bench-e2e-q/messages", params={"limit": 10, "wait_seconds": 1})
                request_latencies.append(time.monotonic() - start)
                if response.status_code != 200:
                    errors[response.status_code] += 1
                    continue
                arrived = time.time()
                batch = response.json()["data"]
                if not batch:
                    continue
                for message in batch:
                    received[message["id"]] += 1
                    delivery_latencies.append(arrived - message["data"]["sent_at"])
                start = time.monotonic()
                response = await client.post("/messages/ack", json={"ids": [m["id"] for m in batch]})
                request_latencies.append(time.monotonic() - start)
                if response.status_code != 200:
                    errors[response.status_code] += 1
                    continue
                acked += response.json()["acked"]

        async def publishers_then_flag() -> None:
            await asyncio.gather(*(publisher() for _ in range(publishers)))
            publishing_done.set()

        started = time.monotonic()
        await asyncio.gather(publishers_then_flag(), *(consumer() for _ in range(consumers)))
        elapsed = time.monotonic() - started
    return {"published": published, "received": received, "delivery_latencies": delivery_latencies,
            "latencies": request_latencies, "errors": dict(errors), "elapsed": elapsed, "acked": acked,
            "publishers": publishers, "consumers": consumers}


def _ms(value: float | None) -> float | None:
    return None if value is None else value * 1000


def run(target: Target, clients_list: list[int], workers_list: list[int], duration: float, echo=print) -> dict:
    rows = []
    consume_guess = 4_000.0
    for workers in workers_list:
        for clients in clients_list:
            with target.connect() as conn:
                # publish
                reset_tables(conn)
                with Server(target.url, workers) as server:
                    echo(f"bench http: publish, {clients} clients, {workers} worker(s), {duration:.0f} s")
                    result = asyncio.run(_publish(server.base_url, clients, duration))
                stored = conn.execute("select count(*) from fastqueue.messages where id = any(%s::uuid[])",
                                      (result["ids"],)).fetchone()[0]
                n = len(result["latencies"])
                rows.append({
                    "case": "publish", "clients": clients, "workers": workers, "requests": n,
                    "requests_per_second": n / result["elapsed"],
                    "messages_per_second": len(result["ids"]) / result["elapsed"],
                    "p50_ms": _ms(percentile(result["latencies"], 50)), "p99_ms": _ms(percentile(result["latencies"], 99)),
                    "lost": len(set(result["ids"])) - stored, "duplicates": len(result["ids"]) - len(set(result["ids"])),
                    "errors": result["errors"], "checked": len(result["ids"]),
                })

                # consume + ack (limit=10, batch ack)
                reset_tables(conn)
                prefilled = int(consume_guess * duration * 2) + 5_000
                prefill(conn, "bench-http-consume", prefilled)
                conn.execute("vacuum analyze fastqueue.messages")
                with Server(target.url, workers) as server:
                    echo(f"bench http: consume+ack, {clients} clients, {workers} worker(s), {duration:.0f} s"
                         f" (queue prefilled with {prefilled:,})")
                    result = asyncio.run(_consume_ack(server.base_url, clients, duration))
                remaining = queue_depth(conn, "bench-http-consume")
                unique = len(result["received"])
                duplicates = sum(c - 1 for c in result["received"].values())
                n = len(result["latencies"])
                consume_guess = max(consume_guess, result["acked"] / result["elapsed"])
                rows.append({
                    "case": "consume+ack", "clients": clients, "workers": workers, "requests": n,
                    "requests_per_second": n / result["elapsed"],
                    "messages_per_second": result["acked"] / result["elapsed"],
                    "p50_ms": _ms(percentile(result["latencies"], 50)), "p99_ms": _ms(percentile(result["latencies"], 99)),
                    # every prefilled message is either received (and acked: deleted) or still in the queue
                    "lost": prefilled - unique - remaining, "duplicates": duplicates, "errors": result["errors"],
                    "checked": unique, "ack_mismatch": result["ack_mismatch"], "ran_dry": result["ran_dry"],
                })

                # end to end
                reset_tables(conn)
                with Server(target.url, workers) as server:
                    echo(f"bench http: end to end, {clients} clients, {workers} worker(s), {duration:.0f} s")
                    result = asyncio.run(_end_to_end(server.base_url, clients, duration))
                received = result["received"]
                n = len(result["latencies"])
                rows.append({
                    "case": "end-to-end", "clients": clients, "workers": workers, "requests": n,
                    "requests_per_second": n / result["elapsed"],
                    "messages_per_second": len(received) / result["elapsed"],
                    "p50_ms": _ms(percentile(result["latencies"], 50)), "p99_ms": _ms(percentile(result["latencies"], 99)),
                    "delivery_p50_ms": _ms(percentile(result["delivery_latencies"], 50)),
                    "delivery_p99_ms": _ms(percentile(result["delivery_latencies"], 99)),
                    "lost": len(result["published"] - set(received)),
                    "duplicates": sum(c - 1 for c in received.values()),
                    "unexpected": len(set(received) - result["published"]),
                    "errors": result["errors"], "checked": len(result["published"]),
                    "split": f"{result['publishers']} publishers + {result['consumers']} consumers",
                })
                reset_tables(conn)
    return {"rows": rows, "duration": duration}
