"""How a stored forecast did once its days were sold: realised accuracy, by channel and series.

A backtest scores a model on the past it was fitted around; planners also need the forecast
they actually used, scored on what happened next (a drift of the chain the backtest could not
see shows here first). Only days that tell the truth about demand are scored:
- days after the forecast's origin through the last day with recorded sales (`through`); a
  series without a sales row on such a day sold nothing;
- not a sold-out day (`stockout = 1`): it sold what the shelf held, a lower bound on demand,
  and would charge the forecast with the stock-out;
- not a day the store was closed, for walk-in series (0 forecast, 0 sold: a free hit that
  would flatter every metric).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from forecasting.calendar import Country
from forecasting.closed_days import ONLINE, WALK_IN, channel_of, closed_mask
from forecasting.folds import rolling_folds
from forecasting.quantiles import QUANTILE_COLUMNS
from forecasting.series_ids import series_parts

ALL = "all"
SEGMENTS = (ALL, WALK_IN, ONLINE)
# which days of each channel are scored, as plots and pages title them
SCORED_DAYS = {WALK_IN: "walk-in (open days, sold-out days left out)",
               ONLINE: "online (sold-out days left out)"}


@dataclass(frozen=True)
class RealisedAccuracy:
    """`summary`: one row per segment (all, store, online) with the series and days scored,
    actual and forecast units, bias % (forecast over actual, minus 1), WAPE (absolute errors
    over actual units), MAE per day and the coverage of each quantile (share of days sold at or
    below it: a calibrated q90 covers 0.90). `by_series`: per series, the days scored, actual
    and forecast units, error (forecast - actual) and absolute error, largest first.
    `daily`: per day and channel, actual and forecast units of the scored rows (for a plot).
    `excluded`: days left out as sold out / walk-in closed, and the series that sold on the
    scored days without being in the forecast (launched after its as-of) with their units."""

    summary: pd.DataFrame
    by_series: pd.DataFrame
    daily: pd.DataFrame
    first_day: date | None
    last_day: date | None
    excluded: dict[str, int]

    @property
    def scored_days(self) -> int:
        return int(self.summary["days"].get(ALL, 0))

    @property
    def by_store(self) -> pd.DataFrame:
        """Per store (node) over its series and channels: series, units sold and forecast,
        bias % and WAPE, the stores furthest off in total first (a store whose demand moved,
        by a local event or a competitor, shows as a bias every one of its series shares)."""
        node = series_parts(self.by_series.index, only=("node",))["node"]
        per = self.by_series.groupby(node.to_numpy()).agg(
            series=("days", "size"), actual_units=("actual_units", "sum"),
            forecast_units=("forecast_units", "sum"), abs_error=("abs_error", "sum"))
        sold = per["actual_units"].where(per["actual_units"] > 0)
        per["bias_pct"] = 100 * (per["forecast_units"] / sold - 1)
        per["wape"] = per["abs_error"] / sold
        per.index.name = "node_id"
        order = per["bias_pct"].abs().fillna(np.inf).sort_values(ascending=False, kind="stable")
        return per.drop(columns="abs_error").loc[order.index]


def realised_accuracy(
    forecast: pd.DataFrame, sales: pd.DataFrame, through: date, country: Country = "PL",
) -> RealisedAccuracy:
    """Score `forecast` (`unique_id, ds, yhat` [+ q50...q99]) on `sales` (`unique_id, ds, y`
    [+ `stockout` 0/1]) over the forecast's days up to `through` (the last day whose sales are
    all recorded). Days of `sales` outside the forecast's days are ignored; sales of series it
    does not hold are counted in `excluded`, not scored."""
    rows = forecast.loc[pd.to_datetime(forecast["ds"]) <= pd.Timestamp(through)].copy()
    rows["ds"] = pd.to_datetime(rows["ds"])
    observed = sales.assign(ds=pd.to_datetime(sales["ds"]))
    if "stockout" not in observed.columns:
        observed = observed.assign(stockout=0)
    observed = observed.groupby(["unique_id", "ds"], as_index=False).agg(
        y=("y", "sum"), stockout=("stockout", "max"))
    rows = rows.merge(observed, on=["unique_id", "ds"], how="left")
    rows["y"] = rows["y"].fillna(0.0).astype(float)
    sold_out = rows["stockout"].fillna(0).to_numpy() == 1
    channel = channel_of(rows["unique_id"])
    closed = closed_mask(rows[["unique_id", "ds"]], country, channel)
    window = observed["ds"].between(rows["ds"].min(), pd.Timestamp(through))
    unforecast = observed.loc[window & ~observed["unique_id"].isin(rows["unique_id"].unique())
                              & (observed["y"] > 0)]
    excluded = {"sold_out_days": int((sold_out & ~closed).sum()), "closed_days": int(closed.sum()),
                "unforecast_series": int(unforecast["unique_id"].nunique()),
                "unforecast_units": int(round(float(unforecast["y"].sum())))}
    keep = ~(sold_out | closed)
    scored = rows.loc[keep].assign(channel=channel[keep])
    # a run stores NULL for quantiles its model did not give: no coverage to report for those
    quantiles = [c for c in QUANTILE_COLUMNS
                 if c in scored.columns and scored[c].notna().any()]
    summary = pd.DataFrame(
        [_segment_row(scored if name == ALL else scored.loc[scored["channel"] == name],
                      quantiles) for name in SEGMENTS],
        index=pd.Index(SEGMENTS, name="segment"))
    first = scored["ds"].min() if len(scored) else None
    last = scored["ds"].max() if len(scored) else None
    daily = scored.groupby(["ds", "channel"], as_index=False).agg(
        actual_units=("y", "sum"), forecast_units=("yhat", "sum"))
    return RealisedAccuracy(summary, _by_series(scored), daily,
                            None if first is None else first.date(),
                            None if last is None else last.date(), excluded)


def _segment_row(rows: pd.DataFrame, quantiles: list[str]) -> dict[str, float]:
    actual, predicted = rows["y"].to_numpy(float), rows["yhat"].to_numpy(float)
    errors = np.abs(predicted - actual)
    total = float(actual.sum())
    row: dict[str, float] = {
        "series": float(rows["unique_id"].nunique()),
        "days": float(len(rows)),
        "actual_units": total,
        "forecast_units": float(predicted.sum()),
        "bias_pct": 100 * (float(predicted.sum()) / total - 1) if total > 0 else np.nan,
        "wape": float(errors.sum()) / total if total > 0 else np.nan,
        "mae": float(errors.mean()) if len(rows) else np.nan,
    }
    for column in quantiles:
        bound = rows[column].to_numpy(float)
        known = ~np.isnan(bound)
        row[f"coverage_{column}"] = (float(np.mean(actual[known] <= bound[known]))
                                     if known.any() else np.nan)
    return row


def _by_series(scored: pd.DataFrame) -> pd.DataFrame:
    per = scored.assign(abs_error=(scored["yhat"] - scored["y"]).abs()).groupby("unique_id").agg(
        days=("ds", "size"), actual_units=("y", "sum"), forecast_units=("yhat", "sum"),
        abs_error=("abs_error", "sum"))
    per.insert(3, "error", per["forecast_units"] - per["actual_units"])
    return per.sort_values(["abs_error", "actual_units"], ascending=False)


def seasonal_naive_on(grid: pd.DataFrame, last_week: pd.DataFrame) -> pd.DataFrame:
    """The baseline a forecast must beat to add value: each day of `grid` (`unique_id, ds`, a
    stored forecast's rows) gets what the series sold on the same weekday of `last_week`
    (`unique_id, ds, y`, the 7 days up to the forecast's origin; a missing row sold 0)."""
    weekday_sales = (last_week.assign(dow=pd.to_datetime(last_week["ds"]).dt.dayofweek)
                     .groupby(["unique_id", "dow"])["y"].sum().rename("yhat"))
    rows = grid[["unique_id", "ds"]].assign(dow=pd.to_datetime(grid["ds"]).dt.dayofweek)
    rows = rows.join(weekday_sales, on=["unique_id", "dow"])
    return rows.assign(yhat=rows["yhat"].fillna(0.0).astype(float)).drop(columns="dow")


def value_added(model: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """Per segment, the baseline's WAPE on the same days and the forecast value added: how
    much lower the model's WAPE is, in % of the baseline's (negative: the baseline did better)."""
    naive = baseline["wape"].rename("naive_wape")
    added = (100 * (1 - model["wape"] / naive.where(naive > 0))).rename("value_added_pct")
    return pd.concat([naive, added], axis=1)


def recent_folds(
    fit_and_forecast: Callable[[pd.DataFrame, int], pd.DataFrame], recorded: pd.DataFrame,
    folds: int, days: int = 28, country: Country = "PL",
) -> list[RealisedAccuracy]:
    """Backtest folds scored as realised accuracy: the forecast a run would have made `days`,
    2 x `days`, ... before the end of `recorded` (`unique_id, ds, y` [+ `stockout`]), each
    fitted by `fit_and_forecast(history, horizon)` on the days before its cutoff and scored on
    the `days` after it, most recent fold first. Folds that would start before any history
    are left out."""
    results = []
    for fold in rolling_folds(recorded, folds, days, newest_first=True):
        forecast = fit_and_forecast(fold.train.reset_index(drop=True), days)
        results.append(realised_accuracy(forecast, fold.test, fold.end.date(), country))
    return results
