"""Score a stored weekly forecast run on the sales recorded after its as-of day.

The adapter between the database and `forecasting.accuracy`: it finds the run (by default the
newest succeeded forecast run, `omni batch weekly`'s or the planner console's), reads its
forecast rows and the sales of the days since, and lets the core score them. Days are scored
through the last day whose sales have arrived (`api.services.sales_completeness`): a day some
stores have not reported yet would count their missing rows as no sales. `summary_table` is
the one layout of the figures that the CLI prints and the console shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection

from api.db.history import sales_days, sales_history
from api.db.runs import read_forecasts
from api.services.errors import InvalidCommand
from api.services.forecast_runs import ForecastRun, resolve_forecast_run
from api.services.sales_completeness import ArrivedSales, arrived_sales
from forecasting.accuracy import (
    ALL,
    RealisedAccuracy,
    realised_accuracy,
    seasonal_naive_on,
    value_added,
)
from forecasting.closed_days import ONLINE, WALK_IN

SEGMENT_LABELS = {ALL: "all", WALK_IN: "walk-in", ONLINE: "online"}
SUMMARY_ROWS = (("series", "series", "{:,.0f}"), ("days", "series-days scored", "{:,.0f}"),
                ("actual_units", "units sold", "{:,.0f}"),
                ("forecast_units", "units forecast", "{:,.0f}"),
                ("bias_pct", "bias %", "{:+.1f}"), ("wape", "WAPE", "{:.3f}"),
                ("mae", "MAE per day", "{:.2f}"),
                ("naive_wape", "WAPE of seasonal naive", "{:.3f}"),
                ("value_added_pct", "value added % (WAPE)", "{:+.1f}"))


@dataclass(frozen=True)
class ScoredRun:
    """A forecast run and its realised accuracy; `accuracy` is None while no day after its
    as-of has recorded sales (`through` is then the last such day, or None without any
    sales)."""

    run: ForecastRun
    through: date | None
    accuracy: RealisedAccuracy | None
    held_back: ArrivedSales | None = None  # recent days left out as not yet fully arrived

    @property
    def days_known(self) -> int:
        return 0 if self.through is None else max(0, (self.through - self.run.as_of).days)


def score_forecast_run(
    conn: Connection, run_id: str | None = None, through: date | None = None
) -> ScoredRun:
    """Score run `run_id` (default: the newest succeeded forecast run) through the last day
    whose sales have arrived (`api.services.sales_completeness`; the days held back within the
    run's horizon are in `held_back`), or `through` if given and earlier (a day whose feed is
    still incomplete would count its missing rows as zero sales); the errors of
    `resolve_forecast_run` for an unknown or unfinished run; `InvalidCommand` for a `through`
    not after the run's as-of day. The summary also holds the
    seasonal naive forecast's WAPE on the same days (each day = the same weekday of the week
    before the as-of) and the value added."""
    run = resolve_forecast_run(conn, run_id)
    if through is not None and through <= run.as_of:
        raise InvalidCommand("through", f"through {through} is not after the run's as-of day "
                             f"{run.as_of}: its first forecast day is "
                             f"{run.as_of + timedelta(days=1)}")
    recorded_days = sales_days(conn)
    if recorded_days is None:
        return ScoredRun(run, None, None)
    last_sale = recorded_days[1]
    country = str(run.params.get("country", "PL"))
    horizon_end = run.as_of + timedelta(days=run.horizon_days)
    held_back = None
    if through is None:  # days still arriving would count their missing rows as no sales
        arrived = arrived_sales(conn, last_sale, country)  # type: ignore[arg-type]
        last_sale = arrived.through
        held_back = arrived if arrived.short and arrived.through < horizon_end else None
    end = min(last_sale, horizon_end)
    end = end if through is None else min(end, through)
    if end <= run.as_of:
        return ScoredRun(run, end, None, held_back)
    forecast = read_forecasts(conn, run.run_id, start=run.as_of + timedelta(days=1), end=end)
    # one read: the week up to the as-of (the naive baseline) and the days scored after it
    recorded = sales_history(conn, end, days=(end - run.as_of).days + 7)
    before = recorded["ds"] <= pd.Timestamp(run.as_of)
    sales, last_week = recorded.loc[~before], recorded.loc[before]
    model = realised_accuracy(forecast, sales, end, country)  # type: ignore[arg-type]
    naive = realised_accuracy(seasonal_naive_on(forecast, last_week),
                              sales, end, country)  # type: ignore[arg-type]
    summary = model.summary.join(value_added(model.summary, naive.summary))
    return ScoredRun(run, end, replace(model, summary=summary), held_back)


def summary_table(summary: pd.DataFrame) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The realised-accuracy summary laid out once for every reader: the labels of the
    segments with days scored, and per figure (then per stored quantile's coverage) its label
    and the formatted value of each of those segments."""
    figures: dict[str, dict[str, float]] = {
        str(segment): {str(k): float(v) for k, v in row.items()}
        for segment, row in summary.iterrows()}
    segments = [s for s in SEGMENT_LABELS if figures.get(s, {}).get("days", 0) > 0]
    rows = [(label, [shown(fmt, figures[s][column]) for s in segments])
            for column, label, fmt in SUMMARY_ROWS]
    rows += [(f"share sold ≤ {column.removeprefix('coverage_')}",
              [shown("{:.3f}", figures[s][column]) for s in segments])
             for column in map(str, summary.columns) if column.startswith("coverage_")]
    return [SEGMENT_LABELS[s] for s in segments], rows


def shown(fmt: str, value: float) -> str:
    """A figure formatted, or `n/a` where there is none (no units sold: no WAPE, no bias %)."""
    return fmt.format(value) if math.isfinite(value) else "n/a"
