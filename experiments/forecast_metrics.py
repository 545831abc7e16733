"""Metrics a comparison adds to the backtest's own (RMSSE, MASE, bias, pinball, coverage).

- `wrmsse`: the M5 weighted RMSSE, averaged over three levels: series (level 12 weights), the
  groups' sums (stores; weight = summed series weights) and the total. RMSSE's scale is the
  mean squared one-day change of the training history from each series' first sale.
- `rmspe`: root mean squared percentage error over days with sales (the Rossmann metric).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def rmspe(forecasts: pd.DataFrame) -> float:
    """Over rows with y > 0 (closed days and days without sales are not scored)."""
    scored = forecasts.loc[forecasts["y"] > 0]
    if scored.empty:
        return float("nan")
    ratio = (scored["y"] - scored["yhat"]) / scored["y"]
    return float(np.sqrt(np.mean(np.square(ratio))))


def _rmsse_by_series(forecasts: pd.DataFrame, train: pd.DataFrame) -> pd.Series:
    err = (forecasts["y"] - forecasts["yhat"]).pow(2).groupby(forecasts["unique_id"]).mean()
    scale = train.groupby("unique_id")["y"].apply(_scale)
    ratio = pd.Series(np.sqrt(err / scale.reindex(err.index)), index=err.index)
    return ratio.replace([np.inf, -np.inf], np.nan)


def _scale(y: pd.Series) -> float:
    values = y.to_numpy(float)
    started = np.flatnonzero(values != 0)
    if started.size == 0:
        return float("nan")
    diffs = np.diff(values[started[0]:])
    return float(np.mean(diffs ** 2)) if diffs.size else float("nan")


def wrmsse(forecasts: pd.DataFrame, train: pd.DataFrame, weights: pd.Series,
           groups: pd.Series | None = None) -> dict[str, float]:
    """`wrmsse` (the mean of the levels) and each level's `wrmsse_series`, `wrmsse_group`,
    `wrmsse_total`, for one fold's `unique_id, ds, y, yhat` and its training history."""
    levels: dict[str, float] = {}
    levels["wrmsse_series"] = _weighted(_rmsse_by_series(forecasts, train), weights)
    if groups is not None:
        g_fc = _aggregate(forecasts, groups, ["y", "yhat"])
        g_tr = _aggregate(train, groups, ["y"])
        g_w = weights.groupby(groups.reindex(weights.index)).sum()
        levels["wrmsse_group"] = _weighted(_rmsse_by_series(g_fc, g_tr), g_w)
    total = {"unique_id": "total"}
    t_fc = forecasts.groupby("ds", as_index=False)[["y", "yhat"]].sum().assign(**total)
    t_tr = train.groupby("ds", as_index=False)[["y"]].sum().assign(**total)
    levels["wrmsse_total"] = float(_rmsse_by_series(t_fc, t_tr).iloc[0])
    levels["wrmsse"] = float(np.nanmean(list(levels.values())))
    return levels


def _aggregate(frame: pd.DataFrame, groups: pd.Series, columns: list[str]) -> pd.DataFrame:
    keyed = frame.assign(unique_id=frame["unique_id"].map(groups))
    return keyed.groupby(["unique_id", "ds"], as_index=False)[columns].sum()


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    w = weights.reindex(values.index).fillna(0.0)
    ok = values.notna() & (w > 0)
    if not ok.any():
        return float("nan")
    return float((values[ok] * w[ok]).sum() / w[ok].sum())
