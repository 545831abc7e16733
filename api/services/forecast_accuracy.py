"""Score a stored weekly forecast run on the sales recorded after its as-of day.

The adapter between the database and `forecasting.accuracy`: it finds the run (by default the
newest succeeded forecast run, `omni batch weekly`'s or the planner console's), reads its
forecast rows and the sales of the days since, and lets the core score them. Days are scored
through the last day with any recorded sales: the chain's feed is daily, so a later day with no
row anywhere is not known yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from api.db.history import sales_history
from api.db.runs import batch_runs, read_forecasts
from api.db.tables import Sale
from api.services.errors import Conflict, NotFound
from forecasting.accuracy import RealisedAccuracy, realised_accuracy

# `omni batch weekly` records "forecast_weekly", the planner console's batch button "forecast"
FORECAST_RUN_KINDS = ("forecast_weekly", "forecast")


@dataclass(frozen=True)
class ScoredRun:
    """A weekly run and its realised accuracy; `accuracy` is None while no day after `as_of`
    has recorded sales (`through` is then the last such day, or None without any sales)."""

    run_id: str
    model: str | None
    as_of: date
    horizon_days: int
    mlflow_run_id: str | None
    through: date | None
    accuracy: RealisedAccuracy | None


def score_forecast_run(conn: Connection, run_id: str | None = None) -> ScoredRun:
    """Score run `run_id` (default: the newest succeeded forecast run). NotFound for an
    unknown id or one of another kind of batch; Conflict for a run that did not succeed."""
    key = run_id or _latest_forecast_run(conn)
    if key is None:
        raise NotFound("forecast run", "latest")
    run = conn.execute(select(batch_runs).where(batch_runs.c.run_id == key)).mappings().first()
    if run is None or run["kind"] not in FORECAST_RUN_KINDS:
        raise NotFound("forecast run", key)
    if run["status"] != "succeeded":
        raise Conflict("run_not_succeeded",
                       f"run {key!r} is {run['status']}, not succeeded: it has no complete "
                       "forecast to score")
    params: dict[str, Any] = dict(run["params"] or {})
    as_of = date.fromisoformat(str(params["as_of"]))
    horizon = int(params.get("horizon_days", 0))
    last_sale = conn.execute(select(func.max(Sale.date))).scalar()
    through = None if last_sale is None else min(last_sale, as_of + timedelta(days=horizon))
    scored = ScoredRun(key, run["model"], as_of, horizon, run["mlflow_run_id"], through, None)
    if through is None or through <= as_of:
        return scored
    forecast = read_forecasts(conn, key, start=as_of + timedelta(days=1), end=through)
    sales = sales_history(conn, through, days=(through - as_of).days)
    country = str(params.get("country", "PL"))
    accuracy = realised_accuracy(forecast, sales, through, country)  # type: ignore[arg-type]
    return ScoredRun(key, run["model"], as_of, horizon, run["mlflow_run_id"], through, accuracy)


def _latest_forecast_run(conn: Connection) -> str | None:
    return conn.execute(
        select(batch_runs.c.run_id)
        .where(batch_runs.c.kind.in_(FORECAST_RUN_KINDS) & (batch_runs.c.status == "succeeded"))
        .order_by(batch_runs.c.started_at.desc(), batch_runs.c.run_id.desc())
        .limit(1)
    ).scalar()
