"""Rolling-origin backtests: refit at each cutoff, forecast the next `horizon` days, score.

Metrics (utilsforecast.losses, averaged over series): RMSSE (scale: one-step naive, as in M5),
MASE (scale: weekly seasonal naive), bias (mean forecast minus actual), pinball loss of each
quantile column, and the coverage of each quantile: the share of actuals at or below it (a
calibrated q90 covers 0.90).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from utilsforecast.losses import bias, mase, quantile_loss, rmsse

from forecasting.daily_grid import fill_missing_days
from forecasting.estimator import Forecaster
from forecasting.folds import rolling_folds
from forecasting.quantiles import QUANTILE_COLUMNS, QUANTILE_LEVELS
from forecasting.validation import exog_columns, validate_history, validate_horizon


@dataclass(frozen=True)
class BacktestResult:
    """`forecasts`: fold, cutoff, unique_id, ds, y, yhat, q50...; `metrics`: fold, cutoff,
    metric, value (one row per fold and metric)."""

    forecasts: pd.DataFrame
    metrics: pd.DataFrame

    def summary(self) -> pd.Series:
        """Each metric averaged over the folds."""
        return self.metrics.groupby("metric", sort=False)["value"].mean()


def backtest(
    model_factory: Callable[[], Forecaster],
    history: pd.DataFrame,
    horizon: int,
    folds: int = 3,
    step: int | None = None,
) -> BacktestResult:
    """Fit a fresh model at each of `folds` cutoffs `step` days apart (default: `horizon`), the
    last ending with the history, and score its forecasts of the following `horizon` days."""
    validate_horizon(horizon)
    clean, _ = fill_missing_days(validate_history(history))
    frames, scores = [], []
    for fold, window in enumerate(rolling_folds(clean, folds, horizon, step)):
        cutoff, train, test = window.cutoff, window.train, window.test
        complete = test.groupby("unique_id")["ds"].transform("size") == horizon
        test = test.loc[complete & test["unique_id"].isin(train["unique_id"].unique())]
        train = train.loc[train["unique_id"].isin(test["unique_id"].unique())]
        future = test.drop(columns="y") if exog_columns(clean) else None
        model = model_factory().fit(train)
        forecast = model.predict(horizon, future)
        scored = forecast.merge(test[["unique_id", "ds", "y"]], on=["unique_id", "ds"])
        scored.insert(0, "cutoff", cutoff)
        scored.insert(0, "fold", fold)
        frames.append(scored)
        scores.append(score(scored.drop(columns="fold"), train).assign(fold=fold, cutoff=cutoff))
    metrics = pd.concat(scores, ignore_index=True)[["fold", "cutoff", "metric", "value"]]
    return BacktestResult(pd.concat(frames, ignore_index=True), metrics)


def score(forecast: pd.DataFrame, train: pd.DataFrame) -> pd.DataFrame:
    """Metrics of one forecast `[cutoff,] unique_id, ds, y, yhat, q50...` against its training
    history: rows `metric, value`."""
    df = forecast.drop(columns=["cutoff"], errors="ignore")
    rows: list[tuple[str, float]] = [
        ("rmsse", _mean(rmsse(df, ["yhat"], seasonality=1, train_df=train[["unique_id", "ds",
                                                                            "y"]]))),
        ("mase", _mean(mase(df, ["yhat"], seasonality=7, train_df=train[["unique_id", "ds",
                                                                          "y"]]))),
        ("bias", _mean(bias(df, ["yhat"]))),
    ]
    for q, column in zip(QUANTILE_LEVELS, QUANTILE_COLUMNS, strict=True):
        if column in df.columns:
            loss = quantile_loss(df, {column: column}, q=q)
            rows.append((f"pinball_{column}", _mean(loss, column)))
            rows.append((f"coverage_{column}", float(np.mean(df["y"] <= df[column]))))
    return pd.DataFrame(rows, columns=["metric", "value"])


def _mean(table: pd.DataFrame, column: str = "yhat") -> float:
    values = table[column].to_numpy(float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else float("nan")
