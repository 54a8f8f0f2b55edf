"""Prometheus metrics: HTTP requests counted and timed by the middleware here, queue depths read from
SQL (fastqueue.queue_depths()) and the store's rotation (fastqueue.store_overview) at every scrape.

With more than one server process (FASTQUEUE_SERVER_NUM_WORKERS > 1) `fastqueue server` sets
PROMETHEUS_MULTIPROC_DIR before the workers start; every process then writes its counters there and
a scrape, whichever process answers it, adds them up (prometheus_client multiprocess mode).
"""

import os
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..push.metrics import PushCollector

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "unmatched"

# The *_created series (when each label set first appeared) double every scrape and help no dashboard.
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUESTS = Counter(
    "fastqueue_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "fastqueue_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status code.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


class MetricsMiddleware:
    """Counts and times every HTTP request under its route template (/queues/{queue_id}, not the raw
    path, so that ids do not multiply the series)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record_status)
        finally:
            # The router stores the matched route in the scope it shares with this middleware.
            route = scope.get("route")
            key = (scope["method"], getattr(route, "path", UNMATCHED_ROUTE), status)
            series = _SERIES.get(key)
            if series is None:
                series = _SERIES[key] = _series(*key)
            series[0].inc()
            series[1].observe(time.perf_counter() - start)


# Each label set's counter and histogram, looked up once: labels() checks and locks on every call.
_SERIES: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def _series(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    labels = (method, route, str(status))
    return REQUESTS.labels(*labels), LATENCY.labels(*labels)


class _QueueDepths(Collector):
    def __init__(self, rows: Iterable[dict[str, Any]] | None) -> None:
        self.rows = rows

    def collect(self) -> Iterable[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "fastqueue_database_up", "1 when this scrape could read the queue depths from the database, else 0."
        )
        up.add_metric([], 0 if self.rows is None else 1)
        yield up
        if self.rows is None:
            return
        available = GaugeMetricFamily(
            "fastqueue_queue_available_messages",
            "Messages a consumer could lease now, per queue (num_undelivered_messages of the queue's stats).",
            labels=["queue_id"],
        )
        total = GaugeMetricFamily(
            "fastqueue_queue_messages",
            "Messages stored per queue: available, leased, delayed, and expired ones not yet cleaned up.",
            labels=["queue_id"],
        )
        for row in self.rows:
            available.add_metric([row["queue_id"]], row["available_messages"])
            total.add_metric([row["queue_id"]], row["total_messages"])
        yield available
        yield total


class _StoreRotation(Collector):
    def __init__(self, row: dict[str, Any] | None) -> None:
        self.row = row

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        if self.row is None:
            return
        if self.row["seconds_since_rotation"] is not None:
            since = GaugeMetricFamily(
                "fastqueue_store_seconds_since_rotation",
                "Seconds since the message store last rotated (fastqueue.rotate_store); absent until it first has.",
            )
            since.add_metric([], self.row["seconds_since_rotation"])
            yield since
        rotations = CounterMetricFamily(
            "fastqueue_store_rotations", "Rotations of the message store since it was created."
        )
        rotations.add_metric([], self.row["rotations"])
        yield rotations
        skips = CounterMetricFamily(
            "fastqueue_store_rotation_skips",
            "Rotation attempts that did not rotate (idle, backlog, busy, lock not available) since the store was created.",
        )
        skips.add_metric([], self.row["skips"])
        yield skips


def exposition(
    queue_depths: Iterable[dict[str, Any]] | None,
    store_rotation: dict[str, Any] | None = None,
    push_rows: Iterable[dict[str, Any]] = (),
) -> tuple[bytes, str]:
    """The /metrics body and its content type; queue_depths (store_rotation) is None when the database
    did not answer. push_rows: fastqueue.push_metrics()'s rows (app/push/metrics.py)."""
    if os.environ.get(MULTIPROCESS_ENV):
        requests_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests_registry)  # type: ignore[no-untyped-call]
    else:
        requests_registry = REGISTRY
    depths_registry = CollectorRegistry(auto_describe=False)
    depths_registry.register(_QueueDepths(queue_depths))
    depths_registry.register(_StoreRotation(store_rotation))
    depths_registry.register(PushCollector(push_rows))
    return generate_latest(requests_registry) + generate_latest(depths_registry), CONTENT_TYPE_LATEST
