"""/metrics' push series (docs/push.md), from the state the workers report to SQL
(fastqueue.push_metrics(), read by the gateway at every scrape, like the queue depths)."""

from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

PUSH_METRICS = 'select worker, queue_id, in_flight, "window", failing, outcomes, latency from fastqueue.push_metrics()'


class PushCollector(Collector):
    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self.rows = list(rows)

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "fastqueue_push_requests",
            "Push requests by queue, worker and outcome (2xx, 3xx, 4xx, 5xx, timeout, refused, error, blocked).",
            labels=["queue_id", "worker", "outcome"],
        )
        latency = HistogramMetricFamily(
            "fastqueue_push_request_duration_seconds",
            "Time from the start of a push request to its answer (or failure), by queue and worker.",
            labels=["queue_id", "worker"],
        )
        in_flight = GaugeMetricFamily(
            "fastqueue_push_in_flight", "Push requests in flight now.", labels=["queue_id", "worker"]
        )
        window = GaugeMetricFamily(
            "fastqueue_push_window",
            "The endpoint's current window of concurrent requests.",
            labels=["queue_id", "worker"],
        )
        for row in self.rows:
            labels = [row["queue_id"], row["worker"]]
            for outcome, count in sorted((row["outcomes"] or {}).items()):
                requests.add_metric([*labels, outcome], count)
            histogram = row["latency"] or {}
            buckets = [(bound, count) for bound, count in (histogram.get("buckets") or {}).items()]
            buckets.append(("+Inf", histogram.get("count", 0)))
            latency.add_metric(labels, buckets, histogram.get("sum", 0.0))
            in_flight.add_metric(labels, row["in_flight"])
            window.add_metric(labels, row["window"])
        yield requests
        yield latency
        yield in_flight
        yield window
