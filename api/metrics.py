"""Prometheus metrics: request latency and allocation decisions by status.

Under `omni serve --workers N` each worker is its own process, so the counters would be per
worker. `omni serve` therefore sets `PROMETHEUS_MULTIPROC_DIR` (a fresh temporary directory)
before the workers start; prometheus-client then writes samples to files there and `/metrics`
aggregates them across workers. Limits of that mode (prometheus-client's, documented there):
gauges are not used here, and the directory must be empty at start (`omni serve` makes a new one).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUEST_SECONDS = Histogram(
    "omni_http_request_seconds",
    "Time to answer an HTTP request, by route template, method and status code.",
    ["route", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0),
)
DECISIONS = Counter(
    "omni_allocation_decisions",
    "Allocation decisions by outcome: optimal, feasible, fallback (solver status), "
    "partial, out_of_stock, stale, replayed (idempotent repeat).",
    ["status"],
)
RESERVATION_RETRIES = Counter(
    "omni_reservation_retries",
    "Decisions thrown away because the stock changed before they could be reserved.",
)


def render_latest() -> tuple[bytes, str]:
    """The exposition text for `/metrics`, aggregated across workers in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
