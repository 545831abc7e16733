"""Stored forecast runs as the API and the CLI read them back: which run is meant (an id or the
newest succeeded one), and its forecast rows for a store, a SKU or both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, select

from api.db.runs import batch_runs, forecasts, latest_run_id, read_forecasts
from api.db.tables import Node, Sku
from api.services.errors import Conflict, InvalidCommand, NotFound
from forecasting.closed_days import ONLINE, WALK_IN

# `omni batch weekly` records "forecast_weekly", the planner console's batch button "forecast"
FORECAST_RUN_KINDS = ("forecast_weekly", "forecast")
LATEST = "latest"  # what the CLI and the API accept for the newest succeeded run
CHANNELS = (WALK_IN, ONLINE)


@dataclass(frozen=True)
class ForecastRun:
    """A succeeded forecast run: what it forecast from, and where it logged."""

    run_id: str
    kind: str
    model: str | None
    as_of: date
    horizon_days: int
    mlflow_run_id: str | None
    params: dict[str, Any]


def resolve_forecast_run(conn: Connection, run_id: str | None = None) -> ForecastRun:
    """Run `run_id`, or the newest succeeded forecast run when None or `latest`. NotFound for
    an unknown id or one of another kind of batch; Conflict for a run that did not succeed."""
    key = (run_id if run_id not in (None, LATEST)
           else latest_run_id(conn, FORECAST_RUN_KINDS))
    if key is None:
        raise NotFound("forecast run", LATEST)
    run = conn.execute(select(batch_runs).where(batch_runs.c.run_id == key)).mappings().first()
    if run is None or run["kind"] not in FORECAST_RUN_KINDS:
        raise NotFound("forecast run", key)
    if run["status"] != "succeeded":
        raise Conflict("run-not-succeeded",
                       f"run {key!r} is {run['status']}, not succeeded: it has no complete "
                       "forecast")
    params: dict[str, Any] = dict(run["params"] or {})
    as_of = date.fromisoformat(str(params["as_of"]))
    horizon = params.get("horizon_days")
    if horizon is None:  # a run recorded before runs kept their horizon: its rows tell it
        last = conn.execute(select(func.max(forecasts.c.ds))
                            .where(forecasts.c.run_id == key)).scalar()
        horizon = 0 if last is None else (last - as_of).days
    return ForecastRun(key, run["kind"], run["model"], as_of, int(horizon),
                       run["mlflow_run_id"], params)


def forecast_slice(
    conn: Connection, run: ForecastRun, node_id: str | None, sku: str | None,
    channel: str | None = None, start: date | None = None, end: date | None = None,
) -> pd.DataFrame:
    """The run's rows for a store and/or a SKU (one of them at least, so a read stays the
    size of a store's or a SKU's forecast), optionally one channel and a date range."""
    if node_id is None and sku is None:
        raise InvalidCommand("node_id", "give node_id, sku or both: a whole run is read with "
                             "the CLI or from the database")
    if start is not None and end is not None and start > end:
        raise InvalidCommand("start", f"start {start} is after end {end}")
    if channel is not None and channel not in CHANNELS:
        raise InvalidCommand("channel", f"channel must be one of {', '.join(CHANNELS)}")
    if node_id is not None and conn.execute(
            select(Node.node_id).where(Node.node_id == node_id)).first() is None:
        raise NotFound("node", node_id, "node_id")
    if sku is not None and conn.execute(select(Sku.sku).where(Sku.sku == sku)).first() is None:
        raise NotFound("sku", sku, "sku")
    rows = read_forecasts(conn, run.run_id, None if node_id is None else [node_id],
                          None if sku is None else [sku], start, end)
    return rows if channel is None else rows.loc[rows["channel"] == channel]
