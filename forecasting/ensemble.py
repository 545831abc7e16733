"""An ensemble of forecasters: the (weighted) mean of its members, or per series the member (or
the mean) that did best on the holdout of the last `calibration_days` days.

Averaging a global model (LightGBM) with a per-series statistical model (ETS) removes much of
each one's error at the aggregate levels; per-series choice is optional and only as good as a
28-day holdout is at telling series apart, so the benchmark decides whether to use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from forecasting.calendar import Country
from forecasting.estimator import Forecaster
from forecasting.quantiles import Dispersion, fit_dispersion

MEAN = "mean"


class EnsembleForecaster(Forecaster):
    """Combines member forecasts: the mean, weighted by `weights` (one per member, any positive
    scale) when given; `choose_per_series` picks per series by holdout MSE."""

    name = "ensemble"

    def __init__(
        self,
        members: Sequence[Forecaster],
        country: Country = "none",
        calibration_days: int = 28,
        choose_per_series: bool = False,
        weights: Sequence[float] | None = None,
    ) -> None:
        super().__init__(country, calibration_days)
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two members")
        if weights is not None and (len(weights) != len(members)
                                    or any(not np.isfinite(w) or w < 0 for w in weights)
                                    or sum(weights) <= 0):
            raise ValueError("weights: one non-negative number per member, not all zero")
        self.members = list(members)
        self.weights = None if weights is None else [float(w) for w in weights]
        self.choose_per_series = choose_per_series

    def fit(self, history: pd.DataFrame, censored_column: str | None = None
            ) -> EnsembleForecaster:
        clean = self._learnable(history, censored_column)
        holdouts = []
        for member in self.members:
            member.exog_ = self.exog_
            member.calibration_days = self.calibration_days
            holdouts.append(self._observed(member._holdout(clean)))
        self.choice_ = self._choose(holdouts)
        self.holdout_ = self._combine(holdouts, self.choice_)
        self.dispersion_ = (fit_dispersion(self.holdout_) if not self.holdout_.empty
                            else Dispersion.poisson())
        self.state_ = [member._fit_point(clean) for member in self.members]
        return self

    def _fit_point(self, history: pd.DataFrame) -> Any:
        return [member._fit_point(history) for member in self.members]

    def _predict_point(
        self, state: Any, history: pd.DataFrame, horizon: int, grid: pd.DataFrame
    ) -> pd.DataFrame:
        points = [m._predict_point(s, history, horizon, grid)
                  for m, s in zip(self.members, state, strict=True)]
        return self._combine(points, getattr(self, "choice_", None))

    def _choose(self, holdouts: list[pd.DataFrame]) -> pd.Series | None:
        """Per series: index of the member with the lowest holdout MSE, or -1 for the mean."""
        if not self.choose_per_series or any(h.empty for h in holdouts):
            return None
        combined = self._combine(holdouts, None)
        errors = {-1: _mse(combined)}
        for k, holdout in enumerate(holdouts):
            errors[k] = _mse(holdout)
        table = pd.DataFrame(errors)
        return table.idxmin(axis=1).astype(int)

    def _combine(self, points: list[pd.DataFrame], choice: pd.Series | None) -> pd.DataFrame:
        base = points[0].drop(columns="yhat")
        stacked = np.column_stack([
            base[["unique_id", "ds"]].merge(p[["unique_id", "ds", "yhat"]],
                                            on=["unique_id", "ds"], how="left")["yhat"]
            .to_numpy(float) for p in points])
        yhat = _weighted_mean(stacked, self.weights)
        if choice is not None:
            picked = base["unique_id"].map(choice).fillna(-1).to_numpy(int)
            for k in range(len(points)):
                rows = picked == k
                yhat[rows] = stacked[rows, k]
        out = base.copy()
        out["yhat"] = yhat
        return out


def _weighted_mean(stacked: np.ndarray, weights: list[float] | None) -> np.ndarray:
    """Row-wise mean of the member columns, ignoring a member that has no value for a row."""
    w = np.ones(stacked.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    present = np.isfinite(stacked)
    total = (np.where(present, stacked, 0.0) * w).sum(axis=1)
    weight = (present * w).sum(axis=1)
    return np.where(weight > 0, total / np.where(weight > 0, weight, 1.0), np.nan)


def _mse(holdout: pd.DataFrame) -> pd.Series:
    squared = (holdout["y"].to_numpy(float) - holdout["yhat"].to_numpy(float)) ** 2
    return pd.Series(squared).groupby(holdout["unique_id"].to_numpy()).mean()
