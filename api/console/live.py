"""Live figures from the service's own Prometheus registry (read in-process, aggregated across
workers in multiprocess mode) and from the orders table.

Percentiles come from the latency histogram's cumulative buckets, interpolated linearly inside
the bucket where the rank falls (what PromQL's histogram_quantile does), so they are as coarse as
the buckets.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY, CollectorRegistry, Metric
from prometheus_client import multiprocess as _multiprocess
from sqlalchemy import Connection, func, select

from api.db.tables import Order
from api.metrics import MULTIPROC_ENV

ALLOCATE_ROUTE = "/v1/allocations"
REQUEST_METRIC = "omni_http_request_seconds"
DECISION_METRIC = "omni_allocation_decisions"


@dataclass(frozen=True)
class LiveFigures:
    orders_per_minute: tuple[tuple[str, int], ...]
    orders_last_hour: int
    requests: int
    latency_ms: dict[str, float | None]
    decisions: dict[str, float]
    window_minutes: int

    @property
    def fallback_rate(self) -> float | None:
        solved = sum(self.decisions.get(s, 0.0) for s in ("optimal", "feasible", "fallback"))
        return self.decisions.get("fallback", 0.0) / solved if solved else None

    @property
    def busiest_minute(self) -> int:
        return max((n for _, n in self.orders_per_minute), default=0)


def _metrics() -> Iterable[Metric]:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry.collect()
    return REGISTRY.collect()


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """The q-quantile from cumulative (upper bound, count) buckets, +Inf last."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower
            inside = count - below
            return lower + (upper - lower) * ((rank - below) / inside if inside else 0.0)
        lower, below = upper, count
    return lower


def read_registry() -> tuple[list[tuple[float, float]], dict[str, float]]:
    """Allocation request latency buckets (seconds, summed over status codes) and decisions."""
    buckets: dict[float, float] = {}
    decisions: dict[str, float] = {}
    for metric in _metrics():
        for sample in metric.samples:
            if sample.name == f"{REQUEST_METRIC}_bucket":
                labels = sample.labels
                if labels.get("route") == ALLOCATE_ROUTE and labels.get("method") == "POST":
                    upper = float(labels["le"])
                    buckets[upper] = buckets.get(upper, 0.0) + sample.value
            elif sample.name == f"{DECISION_METRIC}_total":
                status = sample.labels.get("status", "?")
                decisions[status] = decisions.get(status, 0.0) + sample.value
    return sorted(buckets.items()), decisions


def live_figures(
    conn: Connection, now: datetime | None = None, window_minutes: int = 30
) -> LiveFigures:
    now = now or datetime.now(UTC)
    since = now - timedelta(minutes=window_minutes)
    per_minute: dict[str, int] = {}
    for (created,) in conn.execute(select(Order.created_at).where(Order.created_at >= since)):
        key = created.astimezone(UTC).strftime("%H:%M")
        per_minute[key] = per_minute.get(key, 0) + 1
    minutes = [(since + timedelta(minutes=k + 1)).strftime("%H:%M") for k in range(window_minutes)]
    last_hour = conn.execute(
        select(func.count()).select_from(Order).where(Order.created_at >= now - timedelta(hours=1))
    ).scalar_one()
    buckets, decisions = read_registry()
    latency = {
        f"p{int(q * 100)}": (None if (v := histogram_quantile(q, buckets)) is None else v * 1000)
        for q in (0.5, 0.9, 0.99)
    }
    return LiveFigures(
        orders_per_minute=tuple((m, per_minute.get(m, 0)) for m in minutes),
        orders_last_hour=int(last_hour),
        requests=int(buckets[-1][1]) if buckets else 0,
        latency_ms=latency,
        decisions=decisions,
        window_minutes=window_minutes,
    )
