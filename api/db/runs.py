"""Batch runs, their forecasts, and the walk-in demand rates the allocator reads.

A forecast batch: `start_batch_run` → `write_forecasts` → `use_forecast_for_demand_rates` →
`finish_batch_run`, each in the caller's transaction. Forecast rows are bulk-written
(api/db/bulk.py) because a run over the chain is hundreds of thousands of rows.

A run that works outside the transaction that started it (the console's background batch)
keeps its row alive with `heartbeat` (see `keep_alive`); `reap_abandoned_runs` marks failed the
runs whose heartbeat went quiet, so a process that died does not leave a run `running` for ever.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, cast

import pandas as pd
from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, text, update

from api.db.bulk import write_frame
from api.db.tables import BatchRun, DemandRate, Forecast
from forecasting.calendar import open_days_between
from forecasting.series_ids import series_parts

RunStatus = Literal["running", "succeeded", "failed"]
QUANTILES = ("q50", "q80", "q90", "q95", "q99")
HEARTBEAT_EVERY = timedelta(seconds=30)
# Several missed beats, so a busy database or a long GC pause does not kill a live run.
ABANDONED_AFTER = timedelta(minutes=5)
FORECAST_COLUMNS = (
    "run_id", "unique_id", "ds", "node_id", "channel", "sku", "yhat", *QUANTILES, "dispersion"
)

batch_runs = cast(Table, BatchRun.__table__)
forecasts = cast(Table, Forecast.__table__)
demand_rates = cast(Table, DemandRate.__table__)


def new_run_id(kind: str, now: datetime | None = None) -> str:
    """`<kind>-<UTC timestamp>-<random>`: sortable by time, unique across workers."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{kind}-{at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def start_batch_run(
    conn: Connection,
    kind: str,
    params: dict[str, Any],
    model: str | None = None,
    data_version: str | None = None,
    run_id: str | None = None,
    now: datetime | None = None,
) -> str:
    """Record a run as running; returns its id."""
    at = now or datetime.now(UTC)
    run_id = run_id or new_run_id(kind, at)
    conn.execute(
        insert(batch_runs).values(
            run_id=run_id, kind=kind, started_at=at, heartbeat_at=at, status="running",
            model=model, data_version=data_version, params=params,
        )
    )
    return run_id


class RunInProgress(RuntimeError):
    """A run of the same family is alive (its heartbeat is fresh): starting another would only
    halve the speed of both, and the later one's forecasts would silently replace the other's."""

    def __init__(self, run_id: str, started_at: datetime) -> None:
        self.run_id = run_id
        self.started_at = started_at
        super().__init__(f"run {run_id} is still running (started "
                         f"{started_at:%Y-%m-%d %H:%M} UTC): wait for it to finish")


# Any fixed number: PostgreSQL's transaction-scoped lock that serialises "is one running? no:
# start one" across processes. SQLite needs none: its writers queue (BEGIN IMMEDIATE).
_EXCLUSIVE_RUN_LOCK = 7_311_204


def start_exclusive_run(
    conn: Connection,
    kinds: tuple[str, ...],
    kind: str,
    params: dict[str, Any],
    model: str | None = None,
    data_version: str | None = None,
) -> tuple[str, list[str]]:
    """Start a run of `kind` unless a run of any of `kinds` is alive: (run id, ids of the
    abandoned runs this reaped first); raises `RunInProgress`. Check and start are one step,
    so two batches started at the same moment (the console's button and `omni batch weekly`)
    cannot both pass the check."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EXCLUSIVE_RUN_LOCK})
    reaped = reap_abandoned_runs(conn)
    alive = conn.execute(
        select(batch_runs.c.run_id, batch_runs.c.started_at)
        .where(batch_runs.c.kind.in_(kinds) & (batch_runs.c.status == "running"))
        .order_by(batch_runs.c.started_at.desc()).limit(1)
    ).first()
    if alive is not None:
        started = alive.started_at
        raise RunInProgress(alive.run_id,
                            started if started.tzinfo else started.replace(tzinfo=UTC))
    run_id = start_batch_run(conn, kind, params, model=model, data_version=data_version)
    return run_id, reaped


def finish_batch_run(
    conn: Connection,
    run_id: str,
    status: RunStatus,
    mlflow_run_id: str | None = None,
    now: datetime | None = None,
    params: dict[str, Any] | None = None,
) -> None:
    """Close a run; `params`, when given, replace the ones it started with."""
    values: dict[str, Any] = {"status": status, "finished_at": now or datetime.now(UTC)}
    if mlflow_run_id is not None:
        values["mlflow_run_id"] = mlflow_run_id
    if params is not None:
        values["params"] = params
    conn.execute(update(batch_runs).where(batch_runs.c.run_id == run_id).values(**values))


def heartbeat(conn: Connection, run_id: str, now: datetime | None = None) -> bool:
    """Mark a running run alive; False when it is no longer running (finished or reaped)."""
    touched = conn.execute(
        update(batch_runs)
        .where((batch_runs.c.run_id == run_id) & (batch_runs.c.status == "running"))
        .values(heartbeat_at=now or datetime.now(UTC))
    ).rowcount
    return bool(touched)


def is_abandoned(
    status: str,
    started_at: datetime,
    heartbeat_at: datetime | None,
    now: datetime | None = None,
    after: timedelta = ABANDONED_AFTER,
) -> bool:
    """A `running` run whose last sign of life (heartbeat, else start) is older than `after`."""
    last = heartbeat_at or started_at
    return status == "running" and last < (now or datetime.now(UTC)) - after


def reap_abandoned_runs(
    conn: Connection, now: datetime | None = None, after: timedelta = ABANDONED_AFTER
) -> list[str]:
    """Mark failed every running run whose heartbeat went quiet; returns their ids."""
    at = now or datetime.now(UTC)
    running = conn.execute(
        select(batch_runs.c.run_id, batch_runs.c.started_at, batch_runs.c.heartbeat_at,
               batch_runs.c.params)
        .where(batch_runs.c.status == "running")
    ).all()
    reaped = []
    for run_id, started_at, beat_at, params in running:
        if not is_abandoned("running", started_at, beat_at, at, after):
            continue
        last = beat_at or started_at
        note = {**(params or {}), "error": f"abandoned: no heartbeat since {last.isoformat()}"}
        conn.execute(
            update(batch_runs)
            .where((batch_runs.c.run_id == run_id) & (batch_runs.c.status == "running"))
            .values(status="failed", finished_at=at, params=note)
        )
        reaped.append(run_id)
    return reaped


@contextmanager
def keep_alive(
    engine: Engine, run_id: str, every: timedelta = HEARTBEAT_EVERY
) -> Iterator[None]:
    """Beat for `run_id` on a daemon thread while the block runs (each beat its own
    transaction), so other processes can tell a live run from one whose process died."""
    stop = threading.Event()

    def beat_until_stopped() -> None:
        while not stop.wait(every.total_seconds()):
            try:
                with engine.begin() as conn:
                    if not heartbeat(conn, run_id):
                        return
            except Exception:  # a missed beat is retried; the run itself decides its fate
                continue

    beater = threading.Thread(target=beat_until_stopped, name=f"heartbeat-{run_id}",
                              daemon=True)
    beater.start()
    try:
        yield
    finally:
        stop.set()
        beater.join(timeout=every.total_seconds())


def latest_run_id(
    conn: Connection, kind: str | tuple[str, ...], status: RunStatus = "succeeded"
) -> str | None:
    """The most recently started run of `kind` (or of any of several kinds) with `status`."""
    kinds = (kind,) if isinstance(kind, str) else kind
    return conn.execute(
        select(batch_runs.c.run_id)
        .where(batch_runs.c.kind.in_(kinds) & (batch_runs.c.status == status))
        .order_by(batch_runs.c.started_at.desc(), batch_runs.c.run_id.desc())
        .limit(1)
    ).scalar()


def write_forecasts(conn: Connection, run_id: str, frame: pd.DataFrame) -> int:
    """Store a forecast frame: `unique_id` ("node|channel|sku"), `ds`, `yhat` and any of the
    quantile columns q50…q99 and `dispersion` (the day's variance-to-mean ratio); missing ones
    stay NULL. Replaces rows of the same run."""
    parts = series_parts(frame["unique_id"], strict=True)
    rows = pd.DataFrame(
        {
            "run_id": run_id,
            "unique_id": frame["unique_id"].to_numpy(),
            "ds": pd.to_datetime(frame["ds"]).to_numpy(),
            "node_id": parts["node"].to_numpy(),
            "channel": parts["channel"].to_numpy(),
            "sku": parts["sku"].to_numpy(),
            "yhat": frame["yhat"].to_numpy(dtype=float),
        }
    )
    for column in (*QUANTILES, "dispersion"):
        rows[column] = (frame[column].to_numpy(dtype=float) if column in frame.columns
                        else float("nan"))
    conn.execute(delete(forecasts).where(forecasts.c.run_id == run_id))
    return sum(write_frame(conn, "forecasts", rows.loc[:, list(FORECAST_COLUMNS)]))


def read_forecasts(
    conn: Connection,
    run_id: str,
    node_ids: Iterable[str] | None = None,
    skus: Iterable[str] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Forecast rows of a run (columns as FORECAST_COLUMNS, `ds` as datetime64), sorted."""
    query = select(*(forecasts.c[c] for c in FORECAST_COLUMNS)).where(
        forecasts.c.run_id == run_id
    )
    if node_ids is not None:
        query = query.where(forecasts.c.node_id.in_(sorted(set(node_ids))))
    if skus is not None:
        query = query.where(forecasts.c.sku.in_(sorted(set(skus))))
    if start is not None:
        query = query.where(forecasts.c.ds >= start)
    if end is not None:
        query = query.where(forecasts.c.ds <= end)
    rows = conn.execute(query.order_by(forecasts.c.unique_id, forecasts.c.ds)).all()
    frame = pd.DataFrame(rows, columns=list(FORECAST_COLUMNS))
    frame["ds"] = pd.to_datetime(frame["ds"])
    return frame


def use_forecast_for_demand_rates(
    conn: Connection, run_id: str, start: date, end: date, now: datetime | None = None
) -> int:
    """Replace demand_rates with the forecast's mean walk-in units per open day over
    [start, end] (store channel; closed days left out, as in the recent-sales rate).
    Returns rows written; with no forecast rows in the window nothing changes."""
    open_days = open_days_between(start, end)
    means = conn.execute(
        select(forecasts.c.node_id, forecasts.c.sku, func.avg(forecasts.c.yhat))
        .where(
            (forecasts.c.run_id == run_id)
            & (forecasts.c.channel == "store")
            & (forecasts.c.ds.in_(open_days))
        )
        .group_by(forecasts.c.node_id, forecasts.c.sku)
    ).all()
    if not means:
        return 0
    at = now or datetime.now(UTC)
    conn.execute(delete(demand_rates))
    conn.execute(
        insert(demand_rates),
        [
            {"node_id": n, "sku": s, "walkin_units_per_day": max(float(m), 0.0),
             "source": "forecast", "updated_at": at}
            for n, s, m in means
        ],
    )
    return len(means)
