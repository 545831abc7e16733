from __future__ import annotations

import pandas as pd

from forecasting.backtest import backtest
from forecasting.registry import make_model


def test_rolling_origin_backtest_scores_each_fold(history: pd.DataFrame) -> None:
    result = backtest(lambda: make_model("seasonal_naive", country="PL"), history,
                      horizon=7, folds=3)

    assert result.forecasts["fold"].nunique() == 3
    assert result.forecasts.groupby("fold")["ds"].min().is_monotonic_increasing
    assert (result.forecasts.groupby("fold")["cutoff"].first()
            < result.forecasts.groupby("fold")["ds"].min()).all()
    summary = result.summary()
    for metric in ("rmsse", "mase", "bias", "pinball_q90", "coverage_q90"):
        assert metric in summary.index
    assert 0.0 <= summary["coverage_q50"] <= summary["coverage_q99"] <= 1.0
    assert summary["rmsse"] > 0
