"""The push part of `make bench` (docs/push.md): push delivery to a no-op receiver on 127.0.0.1.

- throughput: a backlog of messages on a push queue, delivered by the worker's dispatcher
  (app/push, in this process) to a receiver that answers 204 at once: messages acked per second;
- latency: messages published one at a time at a steady rate; from the publish's commit to the
  receiver's arrival (push), and to a pull consumer's lease (pull: LISTEN, consume, ack, as the
  long-polling gateway does), p50 and p99, side by side.
"""

import asyncio
import json
import threading
import time
from typing import Any

import psycopg
from fastqueue.push import PushDelivery
from fastqueue.settings import Settings

from bench.common import Target
from bench.httpbench import percentile


class _NoOpReceiver:
    """An asyncio HTTP/1.1 server that answers 204 to every request and notes when each arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}  # message n -> time.time() of arrival
        self.count = 0
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        async with self._server:
            try:
                await self._server.serve_forever()
            except asyncio.CancelledError:
                pass

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length)
            arrived = time.time()
            self.count += 1
            n = json.loads(body)["message"]["data"].get("n")
            if n is not None:
                self.arrivals[n] = arrived
            writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    def close(self) -> None:
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)


def _delivery(url: str) -> PushDelivery:
    delivery = PushDelivery(Settings.model_validate({"database_url": url, "push_allow_private_networks": True}))
    delivery.start()
    return delivery


def _pull_latency(url: str, queue_id: str, messages: int, interval: float) -> list[float]:
    """Publish one message per interval; a consumer on another connection LISTENs and consumes."""
    latencies: list[float] = []
    done = threading.Event()

    def consumer() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("listen fastqueue_available")
            conn.execute("select fastqueue.watch_queue(%s, 'bench-pull', 600)", (queue_id,))
            ready.set()
            while len(latencies) < messages and not done.is_set():
                rows = conn.execute(
                    "select id, (data ->> 't')::float8 from fastqueue.consume(%s, 10)", (queue_id,)
                ).fetchall()
                now = time.time()
                for _id, sent in rows:
                    latencies.append(now - sent)
                if rows:
                    conn.execute("select fastqueue.ack_messages(%s::uuid[])", ([r[0] for r in rows],))
                    continue
                for _ in conn.notifies(timeout=1.0, stop_after=1):
                    pass

    ready = threading.Event()
    thread = threading.Thread(target=consumer, daemon=True)
    thread.start()
    ready.wait(10)
    with psycopg.connect(url, autocommit=True) as conn:
        for n in range(messages):
            conn.execute(
                "select fastqueue.publish('bench-pull-topic', %s::jsonb)", (json.dumps({"t": time.time(), "n": n}),)
            )
            time.sleep(interval)
    thread.join(30)
    done.set()
    return latencies


def run(target: Target, duration: float, echo: Any = print) -> dict[str, Any]:
    url = target.url
    backlog = max(500, int(duration * 400))
    latency_messages = max(50, int(duration * 40))
    receiver = _NoOpReceiver()
    endpoint = f"http://127.0.0.1:{receiver.port}/"
    with psycopg.connect(url, autocommit=True, options="-c fastqueue.push_allow_private_networks=true") as conn:
        for topic in ("bench-push-topic", "bench-pull-topic"):
            conn.execute("select fastqueue.create_topic(%s)", (topic,))
        conn.execute(
            "select fastqueue.create_queue('bench-push', 'bench-push-topic', 30, 3600, push_endpoint => %s)",
            (endpoint,),
        )
        conn.execute("select fastqueue.create_queue('bench-pull', 'bench-pull-topic', 30, 3600)")
        batch = [{"data": {"i": i}} for i in range(500)]
        for _ in range(0, backlog, 500):
            conn.execute(
                "select count(*) from fastqueue.publish_batch('bench-push-topic', %s::jsonb)", (json.dumps(batch),)
            )
        backlog = -(-backlog // 500) * 500

        echo(f"bench: push throughput, {backlog} messages to a no-op receiver ...")
        started = time.monotonic()
        delivery = _delivery(url)
        deadline = started + max(60.0, duration * 20)
        while receiver.count < backlog and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        delivered = receiver.count

        echo(f"bench: push latency, {latency_messages} messages one at a time ...")
        sent: dict[int, float] = {}
        for n in range(latency_messages):
            sent[n] = time.time()
            conn.execute("select fastqueue.publish('bench-push-topic', %s::jsonb)", (json.dumps({"n": n}),))
            time.sleep(0.02)
        wait_until = time.monotonic() + 30
        while len(receiver.arrivals) < latency_messages and time.monotonic() < wait_until:
            time.sleep(0.05)
        delivery.stop()
        delivery.join(60)
    receiver.close()
    push_latencies = [receiver.arrivals[n] - sent[n] for n in sent if n in receiver.arrivals]

    echo("bench: pull latency, the same way ...")
    pull_latencies = _pull_latency(url, "bench-pull", latency_messages, 0.02)

    def ms(values: list[float], q: float) -> float | None:
        value = percentile(values, q)
        return None if value is None else value * 1000

    return {
        "backlog": backlog,
        "delivered": delivered,
        "seconds": elapsed,
        "messages_per_second": delivered / elapsed if elapsed else None,
        "push_latency_ms": {"p50": ms(push_latencies, 50), "p99": ms(push_latencies, 99), "n": len(push_latencies)},
        "pull_latency_ms": {"p50": ms(pull_latencies, 50), "p99": ms(pull_latencies, 99), "n": len(pull_latencies)},
    }


def render(result: dict[str, Any]) -> list[str]:
    def f(value: float | None) -> str:
        return "–" if value is None else f"{value:,.1f}"

    push, pull = result["push_latency_ms"], result["pull_latency_ms"]
    return [
        "## Push delivery",
        "",
        f"Throughput to a no-op receiver on 127.0.0.1 (`fastqueue worker`'s dispatcher, default window cap 16):"
        f" {result['delivered']} of {result['backlog']} messages in {result['seconds']:.1f} s,"
        f" **{f(result['messages_per_second'])} messages/s**.",
        "",
        "Delivery latency, publish commit to arrival, messages published one at a time:",
        "",
        "| | p50 (ms) | p99 (ms) | messages |",
        "| --- | --- | --- | --- |",
        f"| push (POST arrives at the receiver) | {f(push['p50'])} | {f(push['p99'])} | {push['n']} |",
        f"| pull (LISTEN + consume, leased) | {f(pull['p50'])} | {f(pull['p99'])} | {pull['n']} |",
        "",
    ]
