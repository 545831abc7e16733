"""Score a stored weekly forecast run on the sales recorded after its as-of day.

The adapter between the database and `forecasting.accuracy`: it finds the run (by default the
newest succeeded forecast run, `omni batch weekly`'s or the planner console's), reads its
forecast rows and the sales of the days since, and lets the core score them. Days are scored
through the last day with any recorded sales: the chain's feed is daily, so a later day with no
row anywhere is not known yet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import Connection, func, select

from api.db.history import sales_history
from api.db.runs import read_forecasts
from api.db.tables import Sale
from api.services.forecast_runs import ForecastRun, resolve_forecast_run
from forecasting.accuracy import (
    RealisedAccuracy,
    realised_accuracy,
    seasonal_naive_on,
    value_added,
)


@dataclass(frozen=True)
class ScoredRun:
    """A forecast run and its realised accuracy; `accuracy` is None while no day after its
    as-of has recorded sales (`through` is then the last such day, or None without any
    sales)."""

    run: ForecastRun
    through: date | None
    accuracy: RealisedAccuracy | None

    @property
    def days_known(self) -> int:
        return 0 if self.through is None else max(0, (self.through - self.run.as_of).days)


def score_forecast_run(
    conn: Connection, run_id: str | None = None, through: date | None = None
) -> ScoredRun:
    """Score run `run_id` (default: the newest succeeded forecast run) through the last day
    with recorded sales, or `through` if earlier (a day whose feed is still incomplete would
    count its missing rows as zero sales); the errors of `resolve_forecast_run` for an unknown
    or unfinished run. The summary also holds the seasonal naive forecast's WAPE on the same
    days (each day = the same weekday of the week before the as-of) and the value added."""
    run = resolve_forecast_run(conn, run_id)
    last_sale = conn.execute(select(func.max(Sale.date))).scalar()
    ends = [d for d in (last_sale, through) if d is not None]
    through = (None if last_sale is None
               else min(*ends, run.as_of + timedelta(days=run.horizon_days)))
    if through is None or through <= run.as_of:
        return ScoredRun(run, through, None)
    forecast = read_forecasts(conn, run.run_id, start=run.as_of + timedelta(days=1), end=through)
    sales = sales_history(conn, through, days=(through - run.as_of).days)
    country = str(run.params.get("country", "PL"))
    model = realised_accuracy(forecast, sales, through, country)  # type: ignore[arg-type]
    naive = realised_accuracy(seasonal_naive_on(forecast, sales_history(conn, run.as_of, 7)),
                              sales, through, country)  # type: ignore[arg-type]
    summary = model.summary.join(value_added(model.summary, naive.summary))
    return ScoredRun(run, through, replace(model, summary=summary))
