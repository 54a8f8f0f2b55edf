"""HTTP level: the bench's own asyncio load client against `fastqueue server` subprocesses.

The client is a lean HTTP/1.1 one of its own (HttpConnection below: asyncio streams, keep-alive, one
connection per concurrent client): client, server and PostgreSQL share the machine's cores, and a
general-purpose client (httpx) spent more CPU per request than the gateway it was measuring.

Every published id and every received id is recorded: the checks count ids lost (published with a 201
but never stored / never received) and ids delivered twice (leases are 600 s, longer than any run, so
any second delivery of an id within a run is a double delivery within a lease).
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from urllib.parse import urlsplit

from fastqueue.settings import Settings

from bench.common import ATTRIBUTES, PAYLOAD, ROOT, Target, prefill, queue_depth, reset_tables, stored_ids, vacuum_store

MAX_REQUESTS_PER_CLIENT = 2_000_000  # every loop is bounded in count as well as in time
DRAIN_SECONDS = 15
REQUEST_TIMEOUT_SECONDS = 30.0
SQS_CONTENT_TYPE = b"application/x-amz-json-1.0"
SQS_QUEUE_URL = "http://127.0.0.1/000000000000/bench-http-consume"  # the queue is its last path segment


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
        env.update(
            {
                "FASTQUEUE_DATABASE_URL": database_url,
                "FASTQUEUE_SERVER_HOST": "127.0.0.1",
                "FASTQUEUE_SERVER_PORT": str(self.port),
                "FASTQUEUE_SERVER_NUM_WORKERS": str(workers),
                "FASTQUEUE_LOG_LEVEL": "warning",
            }
        )
        env.pop("FASTQUEUE_AUTH_TOKENS", None)
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from fastqueue.commands.cli import main; sys.exit(main(['server']))"],
            # stderr to a file, not a pipe: a server logging more than a pipe holds would block on it
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's processes: the `fastqueue server` process
        and, with several workers, the worker processes uvicorn started (all in the server's own session
        and process group). From /proc/<pid>/stat (utime + stime), in clock ticks of 1/SC_CLK_TCK s."""
        return process_group_cpu_seconds(self.process.pid)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"fastqueue server exited: {self.log.read().decode(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(self.base_url + "/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except (
                OSError,
                urllib.error.URLError,
            ):  # refused while starting; HTTPError (500) while the database is away
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
        self.log.close()

    def __enter__(self) -> "Server":
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_group_cpu_seconds(pgid: int) -> float:
    """utime + stime of every live process in process group pgid, in seconds (Linux /proc)."""
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # gone meanwhile
            continue
        # the command name (field 2) is in parentheses and may hold spaces: the fields after it
        fields = stat[stat.rindex(b")") + 2 :].split()
        if int(fields[2]) == pgid:  # field 5, pgrp
            ticks += int(fields[11]) + int(fields[12])  # fields 14 and 15, utime and stime
    return ticks / _CLOCK_TICKS


WARM_UP_REQUESTS = 5  # per client, before the CPU window opens
WARM_UP_PATH = "/queues/bench-warm-up-no-such-queue/messages"  # one SQL call each, answered 404


async def _warm_up(base_url: str, concurrency: int) -> None:
    """`concurrency` clients each send a few requests at once (a consume of a queue that does not exist:
    one SQL call, a 404), so that each worker's pool has grown to what the load will use (it starts with
    FASTQUEUE_DATABASE_POOL_MIN_SIZE connections) before the CPU is counted: opening connections is not
    what a request costs, and with more workers more of them would be opened in the window."""
    connections = await _connect_all(base_url, concurrency)
    try:

        async def client(connection: HttpConnection) -> None:
            for _ in range(WARM_UP_REQUESTS):
                await connection.get(WARM_UP_PATH)

        await asyncio.gather(*(client(connection) for connection in connections))
    finally:
        await _close_all(connections)


class CpuWindow:
    """The server's CPU seconds over a measured window: `with CpuWindow(server, clients) as cpu: ...;
    cpu.seconds`, after a warm-up of `clients` concurrent clients (_warm_up)."""

    def __init__(self, server: "Server", clients: int) -> None:
        self.server = server
        self.clients = clients
        self.seconds = 0.0

    def __enter__(self) -> "CpuWindow":
        asyncio.run(_warm_up(self.server.base_url, self.clients))
        self._start = self.server.cpu_seconds()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = self.server.cpu_seconds() - self._start


def cpu_us_per_request(cpu: CpuWindow, requests: int) -> float | None:
    return cpu.seconds / requests * 1e6 if requests else None


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class HttpError(Exception):
    """An answer this client does not handle (chunked, no Content-Length, malformed), or a lost connection."""


class Response:
    __slots__ = ("status_code", "content")

    def __init__(self, status_code: int, content: bytes):
        self.status_code = status_code
        self.content = content

    def json(self):
        return json.loads(self.content)


class HttpConnection:
    """One HTTP/1.1 keep-alive connection, one request at a time: the request written in one piece, the
    answer read as status line, headers and a Content-Length body. The server is ours (uvicorn), so
    chunked or length-less bodies are refused rather than parsed. Reconnects when the server closes."""

    def __init__(self, base_url: str):
        url = urlsplit(base_url)
        self.host, self.port = url.hostname, url.port or 80
        self.host_header = f"Host: {url.netloc}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        # asyncio sets TCP_NODELAY on TCP connections: each request leaves in one segment at once.
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
            self.reader = self.writer = None

    async def get(self, path: str) -> Response:
        return await self.request(b"GET", path)

    async def post(self, path: str, body: bytes) -> Response:
        return await self.request(b"POST", path, body)

    async def sqs(self, action: str, params: dict) -> Response:
        """An SQS JSON-protocol call (the server's open mode: unsigned)."""
        headers = b"X-Amz-Target: AmazonSQS.%b\r\n" % action.encode()
        return await self.request(b"POST", "/", _dumps(params), SQS_CONTENT_TYPE, headers)

    async def request(
        self,
        method: bytes,
        path: str,
        body: bytes | None = None,
        content_type: bytes = b"application/json",
        headers: bytes = b"",
    ) -> Response:
        request = method + b" " + path.encode() + b" HTTP/1.1\r\n" + self.host_header + headers
        if body is None:
            request += b"\r\n"
        else:
            request += b"Content-Type: %b\r\nContent-Length: %d\r\n\r\n%b" % (content_type, len(body), body)
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                if self.writer is None:
                    await self._connect()
                self.writer.write(request)
                response, keep_alive = await self._read_response(method)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError) as exc:
            await self.close()  # whatever was half read or half written is lost with it
            raise HttpError(f"{method.decode()} {path}: no answer ({exc!r})") from exc
        except HttpError:
            await self.close()
            raise
        if not keep_alive:
            await self.close()
        return response

    async def _read_response(self, method: bytes) -> tuple[Response, bool]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        if not version.startswith(b"HTTP/1."):
            raise HttpError(f"not an HTTP/1.x status line: {lines[0]!r}")
        status = int(rest[:3])
        length = None
        keep_alive = version == b"HTTP/1.1"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise HttpError(
                    f"Transfer-Encoding {value.strip().decode()!r} answered: this client reads"
                    " Content-Length bodies only"
                )
            elif name == b"connection":
                keep_alive = value.strip().lower() != b"close"
        if length is None:
            if status == 204 or status == 304 or status < 200 or method == b"HEAD":
                return Response(status, b""), keep_alive
            raise HttpError(f"status {status} without a Content-Length: this client reads Content-Length bodies only")
        body = await self.reader.readexactly(length) if length else b""
        return Response(status, body), keep_alive


def _dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# Every publisher of the publish case sends this same body: encoded once.
_BODY = _dumps({"data": PAYLOAD, "attributes": ATTRIBUTES})


async def _connect_all(base_url: str, count: int) -> list[HttpConnection]:
    """One keep-alive connection per concurrent client, opened before the clock starts."""
    connections = [HttpConnection(base_url) for _ in range(count)]
    try:
        await asyncio.gather(*(c._connect() for c in connections))
    except BaseException:
        await _close_all(connections)
        raise
    return connections


async def _close_all(connections: list[HttpConnection]) -> None:
    await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)


async def _publish(base_url: str, concurrency: int, duration: float) -> dict:
    latencies: list[float] = []
    ids: list[str] = []
    errors = Counter()
    connections = await _connect_all(base_url, concurrency)
    deadline = time.monotonic() + duration

    async def publisher(client: HttpConnection) -> None:
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                return
            start = time.monotonic()
            response = await client.post("/topics/bench-http/messages", _BODY)
            latencies.append(time.monotonic() - start)
            if response.status_code != 201:
                errors[response.status_code] += 1
                continue
            ids.extend(m["id"] for m in response.json()["data"])

    try:
        started = time.monotonic()
        await asyncio.gather(*(publisher(client) for client in connections))
        elapsed = time.monotonic() - started
    finally:
        await _close_all(connections)
    return {"latencies": latencies, "ids": ids, "errors": dict(errors), "elapsed": elapsed}


async def _consume_ack(base_url: str, concurrency: int, duration: float, acks_in_consume: bool = False) -> dict:
    """Consumers leasing 10 at a time. Two requests per cycle (GET the messages, POST /messages/ack), or,
    with acks_in_consume, one: POST /queues/{id}/messages/consume carrying the previous batch's ids in
    ack_ids (a 200 means they were acked), the last batch acked by POST /messages/ack at the end."""
    latencies: list[float] = []
    received = Counter()
    acked = 0
    ack_mismatch = 0
    errors = Counter()
    ran_dry = False
    connections = await _connect_all(base_url, concurrency)
    deadline = time.monotonic() + duration

    async def ack(client: HttpConnection, batch: list[str]) -> None:
        nonlocal acked, ack_mismatch
        start = time.monotonic()
        response = await client.post("/messages/ack", _dumps({"ids": batch}))
        latencies.append(time.monotonic() - start)
        if response.status_code != 200:
            errors[response.status_code] += 1
            return
        count = response.json()["acked"]
        acked += count
        ack_mismatch += count != len(batch)

    async def consumer(client: HttpConnection) -> None:
        nonlocal acked, ran_dry
        batch: list[str] = []
        try:
            for _ in range(MAX_REQUESTS_PER_CLIENT):
                if time.monotonic() >= deadline:
                    return
                start = time.monotonic()
                if acks_in_consume:
                    response = await client.post(
                        "/queues/bench-http-consume/messages/consume", _dumps({"limit": 10, "ack_ids": batch})
                    )
                else:
                    response = await client.get("/queues/bench-http-consume/messages?limit=10")
                latencies.append(time.monotonic() - start)
                if response.status_code != 200:
                    errors[response.status_code] += 1
                    continue
                if acks_in_consume:
                    acked += len(batch)
                batch = [m["id"] for m in response.json()["data"]]
                if not batch:
                    ran_dry = True
                    return
                received.update(batch)
                if not acks_in_consume:
                    await ack(client, batch)
                    batch = []
        finally:
            if batch:
                await ack(client, batch)

    try:
        started = time.monotonic()
        await asyncio.gather(*(consumer(client) for client in connections))
        elapsed = time.monotonic() - started
    finally:
        await _close_all(connections)
    return {
        "latencies": latencies,
        "received": received,
        "acked": acked,
        "ack_mismatch": ack_mismatch,
        "errors": dict(errors),
        "elapsed": elapsed,
        "ran_dry": ran_dry,
    }


_SQS_SEND = {"QueueUrl": SQS_QUEUE_URL, "MessageBody": json.dumps(PAYLOAD, separators=(",", ":"))}


async def _sqs_send(base_url: str, concurrency: int, duration: float) -> dict:
    """SendMessage to one queue, one message per request (the SQS twin of the publish case)."""
    latencies: list[float] = []
    ids: list[str] = []
    errors = Counter()
    connections = await _connect_all(base_url, concurrency)
    deadline = time.monotonic() + duration

    async def sender(client: HttpConnection) -> None:
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                return
            start = time.monotonic()
            response = await client.sqs("SendMessage", _SQS_SEND)
            latencies.append(time.monotonic() - start)
            if response.status_code != 200:
                errors[response.status_code] += 1
                continue
            ids.append(response.json()["MessageId"])

    try:
        started = time.monotonic()
        await asyncio.gather(*(sender(client) for client in connections))
        elapsed = time.monotonic() - started
    finally:
        await _close_all(connections)
    return {"latencies": latencies, "ids": ids, "errors": dict(errors), "elapsed": elapsed}


async def _sqs_receive_delete(base_url: str, concurrency: int, duration: float) -> dict:
    """ReceiveMessage (10 at a time) then DeleteMessageBatch with their receipt handles: the SQS twin of
    consume+ack (two requests per cycle)."""
    latencies: list[float] = []
    received = Counter()
    acked = 0
    ack_mismatch = 0
    errors = Counter()
    ran_dry = False
    connections = await _connect_all(base_url, concurrency)
    deadline = time.monotonic() + duration

    async def consumer(client: HttpConnection) -> None:
        nonlocal acked, ack_mismatch, ran_dry
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                return
            start = time.monotonic()
            response = await client.sqs("ReceiveMessage", {"QueueUrl": SQS_QUEUE_URL, "MaxNumberOfMessages": 10})
            latencies.append(time.monotonic() - start)
            if response.status_code != 200:
                errors[response.status_code] += 1
                continue
            messages = response.json().get("Messages", [])
            if not messages:
                ran_dry = True
                return
            received.update(m["MessageId"] for m in messages)
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
            start = time.monotonic()
            response = await client.sqs("DeleteMessageBatch", {"QueueUrl": SQS_QUEUE_URL, "Entries": entries})
            latencies.append(time.monotonic() - start)
            if response.status_code != 200:
                errors[response.status_code] += 1
                continue
            deleted = len(response.json()["Successful"])
            acked += deleted
            ack_mismatch += deleted != len(entries)

    try:
        started = time.monotonic()
        await asyncio.gather(*(consumer(client) for client in connections))
        elapsed = time.monotonic() - started
    finally:
        await _close_all(connections)
    return {
        "latencies": latencies,
        "received": received,
        "acked": acked,
        "ack_mismatch": ack_mismatch,
        "errors": dict(errors),
        "elapsed": elapsed,
        "ran_dry": ran_dry,
    }


async def _end_to_end(base_url: str, concurrency: int, duration: float) -> dict:
    publishers = max(1, concurrency // 2)
    consumers = max(1, concurrency - publishers)
    published: set[str] = set()
    received = Counter()
    delivery_latencies: list[float] = []
    request_latencies: list[float] = []
    errors = Counter()
    acked = 0
    connections = await _connect_all(base_url, publishers + consumers)
    deadline = time.monotonic() + duration
    publishing_done = asyncio.Event()

    async def publisher(client: HttpConnection) -> None:
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                return
            body = {"data": {**PAYLOAD, "sent_at": time.time()}, "attributes": ATTRIBUTES}
            start = time.monotonic()
            response = await client.post("/topics/bench-e2e/messages", _dumps(body))
            request_latencies.append(time.monotonic() - start)
            if response.status_code != 201:
                errors[response.status_code] += 1
                continue
            published.update(m["id"] for m in response.json()["data"])

    async def consumer(client: HttpConnection) -> None:
        nonlocal acked
        drain_deadline = deadline + DRAIN_SECONDS
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= drain_deadline:
                return
            if publishing_done.is_set() and set(received) >= published:
                return
            start = time.monotonic()
            response = await client.get("/queues/bench-e2e-q/messages?limit=10&wait_seconds=1")
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
            response = await client.post("/messages/ack", _dumps({"ids": [m["id"] for m in batch]}))
            request_latencies.append(time.monotonic() - start)
            if response.status_code != 200:
                errors[response.status_code] += 1
                continue
            acked += response.json()["acked"]

    async def publishers_then_flag() -> None:
        await asyncio.gather(*(publisher(client) for client in connections[:publishers]))
        publishing_done.set()

    try:
        started = time.monotonic()
        await asyncio.gather(publishers_then_flag(), *(consumer(client) for client in connections[publishers:]))
        elapsed = time.monotonic() - started
    finally:
        await _close_all(connections)
    return {
        "published": published,
        "received": received,
        "delivery_latencies": delivery_latencies,
        "latencies": request_latencies,
        "errors": dict(errors),
        "elapsed": elapsed,
        "acked": acked,
        "publishers": publishers,
        "consumers": consumers,
    }


IDLE_CLIENTS = 1_000
IDLE_QUEUE = "bench-idle-q"


def statements_run(conn) -> int:
    """Statements the bench database has run so far (pg_stat_statements' calls, this query included)."""
    return conn.execute(
        "select coalesce(sum(calls), 0)::bigint from pg_stat_statements"
        " where dbid = (select oid from pg_database where datname = current_database())"
    ).fetchone()[0]


async def _idle_long_polls(
    base_url: str, clients: int, wait_seconds: int, warmup: float, window: float, measure
) -> dict:
    """`clients` connections each long polling an empty queue (GET ...?wait_seconds=N, again as soon as
    one answers), the idle consumers of a quiet system. After `warmup` seconds, measure() is called at
    the start and at the end of a `window`-second measurement; then every poll is abandoned (the
    connections closed). The first polls start spread over wait_seconds, as idle consumers are. Counts
    the polls answered in the window and any message received (none may be)."""
    answered = 0
    received = 0
    errors = Counter()
    connections = await _connect_all(base_url, clients)
    path = f"/queues/{IDLE_QUEUE}/messages?limit=10&wait_seconds={wait_seconds}"
    measuring = False

    async def poller(client: HttpConnection, start_after: float) -> None:
        nonlocal answered, received
        await asyncio.sleep(start_after)
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            response = await client.get(path)
            if response.status_code != 200:
                errors[response.status_code] += 1
                await asyncio.sleep(1)
                continue
            received += len(response.json()["data"])
            answered += measuring

    ramp = float(wait_seconds)
    tasks = [asyncio.create_task(poller(client, n * ramp / clients)) for n, client in enumerate(connections)]
    try:
        await asyncio.sleep(warmup)
        failed = [t for t in tasks if t.done()]
        if failed:
            failed[0].result()  # raises what stopped it
        before = measure()
        measuring = True
        started = time.monotonic()
        await asyncio.sleep(window)
        elapsed = time.monotonic() - started
        measuring = False
        after = measure()
        failed = [t for t in tasks if t.done()]
        if failed:
            failed[0].result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await _close_all(connections)
    return {
        "answered": answered,
        "received": received,
        "errors": dict(errors),
        "elapsed": elapsed,
        "before": before,
        "after": after,
    }


def run_idle(target: Target, duration: float, clients: int = IDLE_CLIENTS, echo=print) -> dict:
    """issue 17's long-polling case: what `clients` idle long-polling consumers cost, one worker: the server's
    CPU as a share of one core and the database's statements per second (pg_stat_statements: the
    gateway's consumes, watches and re-checks, and the bench's two reads of the counter)."""
    wait_seconds = 20 if duration >= 5 else 2
    window = max(duration, 1.5 * wait_seconds)
    with target.connect() as conn:
        reset_tables(conn)
        with Server(target.url, 1) as server:
            echo(
                f"bench http: {clients} idle long-polling clients (wait_seconds={wait_seconds}), 1 worker,"
                f" {window:.0f} s measured"
            )

            def measure() -> tuple[float, int]:
                return server.cpu_seconds(), statements_run(conn)

            result = asyncio.run(
                _idle_long_polls(server.base_url, clients, wait_seconds, wait_seconds + 3.0, window, measure)
            )
        (cpu0, statements0), (cpu1, statements1) = result["before"], result["after"]
        elapsed = result["elapsed"]
        reset_tables(conn)
    return {
        "case": "long-poll-idle",
        "clients": clients,
        "workers": 1,
        "wait_seconds": wait_seconds,
        "window_seconds": elapsed,
        "server_cpu_percent_of_core": (cpu1 - cpu0) / elapsed * 100,
        # the bench's first read of the counter is counted in the second
        "database_statements_per_second": (statements1 - statements0 - 1) / elapsed,
        "polls_answered": result["answered"],
        "messages_received": result["received"],
        "errors": result["errors"],
    }


def _ms(value: float | None) -> float | None:
    return None if value is None else value * 1000


# The HTTP cases in the order they run (--http-cases picks some); long-poll-idle runs once, with 1 worker.
CASES = (
    "publish",
    "consume+ack",
    "consume-with-acks",
    "sqs-send",
    "sqs-receive+delete",
    "end-to-end",
    "long-poll-idle",
)


def _row(case: str, clients: int, workers: int, cpu: CpuWindow, result: dict, messages: int, checks: dict) -> dict:
    """A case's row: rates, CPU and latencies from the load client's result, then the case's checks."""
    n = len(result["latencies"])
    return {
        "case": case,
        "clients": clients,
        "workers": workers,
        "requests": n,
        "cpu_us_per_request": cpu_us_per_request(cpu, n),
        "requests_per_second": n / result["elapsed"],
        "messages_per_second": messages / result["elapsed"],
        "p50_ms": _ms(percentile(result["latencies"], 50)),
        "p99_ms": _ms(percentile(result["latencies"], 99)),
        "errors": result["errors"],
        **checks,
    }


def _published_checks(ids: list[str], stored: int) -> dict:
    """Every id a publish was answered with is stored, once."""
    return {"lost": len(set(ids)) - stored, "duplicates": len(ids) - len(set(ids)), "checked": len(ids)}


def _consumed_checks(result: dict, prefilled: int, remaining: int) -> dict:
    """Every prefilled message was received once (and acked: deleted) or is still in the queue."""
    unique = len(result["received"])
    return {
        "lost": prefilled - unique - remaining,
        "duplicates": sum(c - 1 for c in result["received"].values()),
        "checked": unique,
        "ack_mismatch": result["ack_mismatch"],
        "ran_dry": result["ran_dry"],
    }


def run(
    target: Target,
    clients_list: list[int],
    workers_list: list[int],
    duration: float,
    echo=print,
    cases: list[str] | None = None,
) -> dict:
    unknown = sorted(set(cases or ()) - set(CASES))
    if unknown:
        raise ValueError(f"unknown HTTP case(s) {', '.join(unknown)}: the cases are {', '.join(CASES)}")

    def wanted(case: str) -> bool:
        return cases is None or case in cases

    rows = []
    consume_guess = 4_000.0
    for workers in workers_list:
        for clients in clients_list:
            # The consume cases' prefill (enough not to run dry, from the fastest consume so far), and the
            # SQS cases' duration: set here, since --http-cases may run any of them alone.
            prefilled = int(consume_guess * duration * 2) + 5_000
            sqs_duration = max(1.0, duration / 2)
            with target.connect() as conn:
                if wanted("publish"):
                    # publish
                    reset_tables(conn)
                    with Server(target.url, workers) as server:
                        echo(f"bench http: publish, {clients} clients, {workers} worker(s), {duration:.0f} s")
                        with CpuWindow(server, clients) as cpu:
                            result = asyncio.run(_publish(server.base_url, clients, duration))
                    stored = stored_ids(conn, result["ids"])
                    checks = _published_checks(result["ids"], stored)
                    rows.append(_row("publish", clients, workers, cpu, result, len(result["ids"]), checks))

                if wanted("consume+ack"):
                    # consume + ack (limit=10, batch ack)
                    reset_tables(conn)
                    prefill(conn, "bench-http-consume", prefilled)
                    vacuum_store(conn)
                    with Server(target.url, workers) as server:
                        echo(
                            f"bench http: consume+ack, {clients} clients, {workers} worker(s), {duration:.0f} s"
                            f" (queue prefilled with {prefilled:,})"
                        )
                        with CpuWindow(server, clients) as cpu:
                            result = asyncio.run(_consume_ack(server.base_url, clients, duration))
                    remaining = queue_depth(conn, "bench-http-consume")
                    consume_guess = max(consume_guess, result["acked"] / result["elapsed"])
                    checks = _consumed_checks(result, prefilled, remaining)
                    rows.append(_row("consume+ack", clients, workers, cpu, result, result["acked"], checks))

                if wanted("consume-with-acks"):
                    # consume with acks (limit=10, each request acking the previous batch)
                    reset_tables(conn)
                    prefill(conn, "bench-http-consume", prefilled)
                    vacuum_store(conn)
                    with Server(target.url, workers) as server:
                        echo(
                            f"bench http: consume with acks, {clients} clients, {workers} worker(s), {duration:.0f} s"
                            f" (queue prefilled with {prefilled:,})"
                        )
                        with CpuWindow(server, clients) as cpu:
                            result = asyncio.run(_consume_ack(server.base_url, clients, duration, acks_in_consume=True))
                    remaining = queue_depth(conn, "bench-http-consume")
                    checks = _consumed_checks(result, prefilled, remaining)
                    rows.append(_row("consume-with-acks", clients, workers, cpu, result, result["acked"], checks))

                if wanted("sqs-send"):
                    # SQS: SendMessage (the publish case's twin, to one queue), short
                    reset_tables(conn)
                    with Server(target.url, workers) as server:
                        echo(
                            f"bench http: SQS SendMessage, {clients} clients, {workers} worker(s), {sqs_duration:.0f} s"
                        )
                        with CpuWindow(server, clients) as cpu:
                            result = asyncio.run(_sqs_send(server.base_url, clients, sqs_duration))
                    stored = stored_ids(conn, result["ids"])
                    checks = _published_checks(result["ids"], stored)
                    rows.append(_row("sqs-send", clients, workers, cpu, result, len(result["ids"]), checks))

                if wanted("sqs-receive+delete"):
                    # SQS: ReceiveMessage + DeleteMessageBatch (the consume+ack case's twin), short
                    reset_tables(conn)
                    prefilled_sqs = int(consume_guess * sqs_duration * 2) + 5_000
                    prefill(conn, "bench-http-consume", prefilled_sqs)
                    conn.execute("vacuum analyze fastqueue.messages")
                    with Server(target.url, workers) as server:
                        echo(
                            f"bench http: SQS ReceiveMessage+DeleteMessageBatch, {clients} clients, {workers} worker(s),"
                            f" {sqs_duration:.0f} s (queue prefilled with {prefilled_sqs:,})"
                        )
                        with CpuWindow(server, clients) as cpu:
                            result = asyncio.run(_sqs_receive_delete(server.base_url, clients, sqs_duration))
                    remaining = queue_depth(conn, "bench-http-consume")
                    checks = _consumed_checks(result, prefilled_sqs, remaining)
                    rows.append(_row("sqs-receive+delete", clients, workers, cpu, result, result["acked"], checks))

                if wanted("end-to-end"):
                    # end to end
                    reset_tables(conn)
                    with Server(target.url, workers) as server:
                        echo(f"bench http: end to end, {clients} clients, {workers} worker(s), {duration:.0f} s")
                        with CpuWindow(server, clients) as cpu:
                            result = asyncio.run(_end_to_end(server.base_url, clients, duration))
                    received = result["received"]
                    n = len(result["latencies"])
                    rows.append(
                        {
                            "case": "end-to-end",
                            "clients": clients,
                            "workers": workers,
                            "requests": n,
                            "cpu_us_per_request": cpu_us_per_request(cpu, n),
                            "requests_per_second": n / result["elapsed"],
                            "messages_per_second": len(received) / result["elapsed"],
                            "p50_ms": _ms(percentile(result["latencies"], 50)),
                            "p99_ms": _ms(percentile(result["latencies"], 99)),
                            "delivery_p50_ms": _ms(percentile(result["delivery_latencies"], 50)),
                            "delivery_p99_ms": _ms(percentile(result["delivery_latencies"], 99)),
                            "lost": len(result["published"] - set(received)),
                            "duplicates": sum(c - 1 for c in received.values()),
                            "unexpected": len(set(received) - result["published"]),
                            "errors": result["errors"],
                            "checked": len(result["published"]),
                            "split": f"{result['publishers']} publishers + {result['consumers']} consumers",
                        }
                    )
                reset_tables(conn)
    pool_max_size = os.environ.get("FASTQUEUE_DATABASE_POOL_MAX_SIZE") or str(
        Settings.model_fields["database_pool_max_size"].default
    )
    idle = run_idle(target, duration, echo=echo) if 1 in workers_list and wanted("long-poll-idle") else None
    return {"rows": rows, "idle": idle, "duration": duration, "pool_max_size": pool_max_size}
