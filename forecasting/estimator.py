"""The estimator every forecasting model follows (sklearn style, over long frames).

`fit(history)` learns from `unique_id, ds, y` plus numeric exogenous columns and returns self;
`predict(horizon, future)` returns `unique_id, ds, yhat, q50, q80, q90, q95, q99`. Subclasses
only supply a point forecast (`_fit_point`, `_predict_point`); the shared flow adds the
closed-day rule and the quantiles, whose dispersion is fitted on a holdout of the last
`calibration_days` days (the point model refitted without them), so intervals are out-of-sample.
`fit(history, censored_column)` fits sold-out days as estimated demand (`forecasting.censoring`);
the holdout then leaves those days out, as they are not observations.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import pandas as pd

from forecasting.calendar import Country
from forecasting.censoring import restore_censored_demand
from forecasting.closed_days import closed_mask
from forecasting.daily_grid import fill_missing_days
from forecasting.quantiles import (
    QUANTILE_COLUMNS,
    Dispersion,
    daily_quantiles,
    fit_dispersion,
    horizon_demand_quantiles,
    variance_to_mean,
)
from forecasting.series_index import SeriesIndex, row_positions
from forecasting.validation import (
    exog_columns,
    validate_future,
    validate_history,
    validate_horizon,
)

FORECAST_COLUMNS: tuple[str, ...] = ("unique_id", "ds", "yhat", *QUANTILE_COLUMNS)
_MIN_TRAIN_DAYS = 56  # a series needs this much history before the holdout to be calibrated


class Forecaster(ABC):
    """Base of all models. Learned state ends in `_` (history_, exog_, dispersion_, holdout_,
    estimated_days_, filled_days_)."""

    name = "forecaster"

    def __init__(self, country: Country = "none", calibration_days: int = 28) -> None:
        self.country = country
        self.calibration_days = calibration_days

    # --- what a model supplies --------------------------------------------------------------
    @abstractmethod
    def _fit_point(self, history: pd.DataFrame) -> Any:
        """Learn the mean model from a validated history; return its state."""

    @abstractmethod
    def _predict_point(
        self, state: Any, history: pd.DataFrame, horizon: int, grid: pd.DataFrame
    ) -> pd.DataFrame:
        """Mean forecast `unique_id, ds, yhat` for every row of `grid` (the future days of every
        series of `history`, with the exogenous columns when the history has any)."""

    # --- the shared flow --------------------------------------------------------------------
    def fit(self, history: pd.DataFrame, censored_column: str | None = None) -> Forecaster:
        """Learn from `history`; `censored_column` names a 0/1 column (1 = the day sold out)
        whose days are fitted as estimated demand (`forecasting.censoring`), not as recorded."""
        clean = self._learnable(history, censored_column)
        self.holdout_ = self._observed(self._holdout(clean))
        self.dispersion_ = (fit_dispersion(self.holdout_) if not self.holdout_.empty
                            else Dispersion.poisson())
        self.state_ = self._fit_point(clean)
        return self

    def _learnable(self, history: pd.DataFrame, censored_column: str | None) -> pd.DataFrame:
        """The validated history, missing days added (`forecasting.daily_grid`), sold-out days
        restored; sets `exog_`, `history_` and, for the run log, the days added
        (`filled_days_`) and what the restore changed (`censored_days_`,
        `censored_added_units_`)."""
        clean = validate_history(history, censored_column=censored_column)
        clean, self.filled_days_ = fill_missing_days(clean, censored_column)
        self.censored_days_, self.censored_added_units_ = 0, 0.0
        self.estimated_days_ = clean.iloc[:0][["unique_id", "ds"]]
        if censored_column is not None:
            restored = restore_censored_demand(clean, censored_column, self.country)
            clean = restored.history
            self.censored_days_ = restored.censored_days
            self.censored_added_units_ = restored.added_units
            self.estimated_days_ = clean.loc[restored.estimated, ["unique_id", "ds"]]
        self.exog_ = exog_columns(clean)
        self.history_ = clean
        return clean

    def _observed(self, holdout: pd.DataFrame) -> pd.DataFrame:
        """`holdout` without the days whose y is an estimate (`estimated_days_`): the spread
        of demand is learnt from what customers did, not from the restore's smooth level."""
        if self.estimated_days_.empty or holdout.empty:
            return holdout
        marked = holdout[["unique_id", "ds"]].merge(
            self.estimated_days_.assign(estimated=True), on=["unique_id", "ds"], how="left")
        return holdout.loc[marked["estimated"].isna().to_numpy()].reset_index(drop=True)

    def predict(self, horizon: int, future: pd.DataFrame | None = None) -> pd.DataFrame:
        validate_horizon(horizon)
        future_clean = validate_future(future, self.history_, horizon)
        mean = self._mean(self.state_, self.history_, horizon, future_clean)
        return self._daily_quantiles(mean)[list(FORECAST_COLUMNS)]

    def _daily_quantiles(self, mean: pd.DataFrame) -> pd.DataFrame:
        """The q50 ... q99 columns around the mean: negative-binomial counts with the holdout's
        dispersion. A model whose errors are not count noise may override this."""
        return daily_quantiles(mean, self.dispersion_)

    def horizon_demand_quantiles(
        self, forecast: pd.DataFrame, open_days: int | None = None, **kwargs: Any
    ) -> pd.DataFrame:
        """Quantiles of demand summed over `open_days` open days (see forecasting.quantiles);
        days the closed-day rule zeroes are not counted as open."""
        if "store_open" not in forecast.columns:
            forecast = forecast.assign(
                store_open=(~closed_mask(forecast, self.country)).astype(np.int8))
        return horizon_demand_quantiles(forecast, self.dispersion_, open_days, **kwargs)

    def variance_to_mean(self, forecast: pd.DataFrame) -> np.ndarray:
        """Per forecast row, the variance-to-mean ratio of the day's demand under the fitted
        dispersion: what the weekly batch stores for the planners' safety stock."""
        return variance_to_mean(forecast, self.dispersion_)

    def _mean(
        self, state: Any, history: pd.DataFrame, horizon: int, future: pd.DataFrame | None
    ) -> pd.DataFrame:
        """Point forecast on the full future grid (`future`, else the `horizon` days after each
        series), non-negative, closed days exactly 0. The grid is built once, here."""
        grid = future if future is not None else SeriesIndex.of(history).future_grid(horizon)
        point = self._predict_point(state, history, horizon, grid)
        mean = _on_grid(grid, point)
        yhat = mean["yhat"].to_numpy(float)
        yhat = np.where(np.isfinite(yhat), np.clip(yhat, 0.0, None), 0.0)
        yhat[closed_mask(mean, self.country)] = 0.0
        out = mean[["unique_id", "ds"]].copy()
        out["yhat"] = yhat
        if "store_open" in mean.columns:
            out["store_open"] = mean["store_open"].to_numpy()
        return out

    def _holdout(self, history: pd.DataFrame) -> pd.DataFrame:
        """Out-of-sample means on each series' last `calibration_days` days (model refitted on
        the rest); empty when no series is long enough."""
        days = self.calibration_days
        empty = pd.DataFrame(columns=["unique_id", "ds", "y", "yhat"])
        if days <= 0:
            return empty
        index = SeriesIndex.of(history)
        cut = index.cut_last_days(days)
        # A series is calibrated when it has `days` test days and enough history before them.
        usable = (cut - index.starts >= _MIN_TRAIN_DAYS) & (index.ends - cut == days)
        if not usable.any():
            return empty
        test = history.take(row_positions(cut[usable], index.ends[usable]))
        test = test.reset_index(drop=True)
        future = test.drop(columns="y") if self.exog_ else None
        mean = self._holdout_means(history, index, cut, usable, future)
        return test[["unique_id", "ds", "y"]].merge(mean, on=["unique_id", "ds"])

    def _holdout_means(
        self, history: pd.DataFrame, index: SeriesIndex, cut: np.ndarray, usable: np.ndarray,
        future: pd.DataFrame | None,
    ) -> pd.DataFrame:
        """Means for rows `cut:end` of the usable series from a model fitted on the rows
        before `cut`. Models that need only part of that history may override this to avoid
        copying all of it."""
        train = history.take(row_positions(index.starts[usable], cut[usable]))
        train = train.reset_index(drop=True)
        state = self._fit_point(train)
        return self._mean(state, train, self.calibration_days, future)


def _on_grid(grid: pd.DataFrame, point: pd.DataFrame) -> pd.DataFrame:
    """`grid` with the point forecast's yhat (NaN where it has none). Models usually return
    the grid's own row order, which is then used as is instead of a 10^7-row join."""
    if len(point) == len(grid):
        same_ids = np.array_equal(point["unique_id"].to_numpy(), grid["unique_id"].to_numpy())
        if same_ids and np.array_equal(point["ds"].to_numpy("datetime64[ns]"),
                                       grid["ds"].to_numpy("datetime64[ns]")):
            return grid.assign(yhat=point["yhat"].to_numpy())
    return grid.merge(point[["unique_id", "ds", "yhat"]], on=["unique_id", "ds"], how="left")

