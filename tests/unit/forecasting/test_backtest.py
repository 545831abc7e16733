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


def test_folds_share_one_definition_of_their_windows() -> None:
    """The model comparison and the weekly batch's backtest score the same windows."""
    from forecasting.folds import rolling_folds

    days = pd.date_range("2026-01-01", periods=70, freq="D")
    history = pd.DataFrame({"unique_id": "a", "ds": days, "y": 1.0})

    folds = list(rolling_folds(history, folds=4, horizon=28))

    assert [f.cutoff.date().isoformat() for f in folds] == [  # 2 start before the history
        "2026-01-14", "2026-02-11"]
    assert len(folds[0].train) == 14 and len(folds[0].test) == 28
    assert folds[0].end == days[41]
    newest = list(rolling_folds(history, folds=2, horizon=7, step=14, newest_first=True))
    assert [f.cutoff for f in newest] == [days[62], days[48]]
