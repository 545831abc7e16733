"""Rolling-origin folds: the cutoffs a backtest refits at, and each fold's train and test rows.

One definition for the model comparison (`forecasting.backtest`) and the weekly batch's
backtest of its last folds (`forecasting.accuracy.recent_folds`), so that both score the same
windows of a history.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Fold:
    """Fit on `train` (days through `cutoff`), score on `test` (the `horizon` days after)."""

    cutoff: pd.Timestamp
    end: pd.Timestamp
    train: pd.DataFrame
    test: pd.DataFrame


def fold_cutoffs(last: pd.Timestamp, folds: int, horizon: int,
                 step: int | None = None) -> list[pd.Timestamp]:
    """`folds` cutoffs `step` days apart (default `horizon`), oldest first, the last one
    `horizon` days before `last` so that its test window ends with the history."""
    step = step or horizon
    return [last - pd.Timedelta(days=horizon + step * (folds - 1 - k)) for k in range(folds)]


def rolling_folds(history: pd.DataFrame, folds: int, horizon: int, step: int | None = None,
                  newest_first: bool = False) -> Iterator[Fold]:
    """The folds of `history` (`ds` column); a fold with no day before its cutoff, and every
    older one, is left out."""
    cutoffs = fold_cutoffs(pd.Timestamp(history["ds"].max()), folds, horizon, step)
    first = history["ds"].min()
    usable = [c for c in cutoffs if c >= first]
    for cutoff in reversed(usable) if newest_first else usable:
        end = cutoff + pd.Timedelta(days=horizon)
        yield Fold(cutoff, end, history.loc[history["ds"] <= cutoff],
                   history.loc[(history["ds"] > cutoff) & (history["ds"] <= end)])
