"""Score a stored weekly forecast run on the sales recorded after its as-of day.

The adapter between the database and `forecasting.accuracy`: it finds the run (the newest
succeeded weekly run by default), reads its forecast rows and the sales of the days since, and
lets the core score them. Days are scored through the last day with any recorded sales: the
chain's feed is daily, so a later day with no row anywhere is not known yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from api.db.history import sales_history
from api.db.runs import batch_runs, latest_run_id, read_forecasts
from api.db.tables import Sale
from api.services.errors import Conflict, NotFound
from forecasting.accuracy import RealisedAccuracy, realised_accuracy

WEEKLY_RUN_KIND = "forecast_weekly"


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
    """Score run `run_id` (default: the newest succeeded weekly run). NotFound for an unknown
    id or one of another kind of batch; Conflict for a run that did not succeed."""
    key = run_id or latest_run_id(conn, WEEKLY_RUN_KIND)
    if key is None:
        raise NotFound("forecast run", "latest")
    run = conn.execute(select(batch_runs).where(batch_runs.c.run_id == key)).mappings().first()
    if run is None or run["kind"] != WEEKLY_RUN_KIND:
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
