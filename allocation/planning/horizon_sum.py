"""Daily forecast rows summed over a horizon: the mean, and the variance-to-mean ratio of the sum.

With independent days the variance of the sum is the sum of the daily variances, mean_d *
ratio_d, so the ratio of the sum is the mean-weighted average of the daily ratios. Both
planners (safety stock and rebalancing) sum daily forecasts this way; they differ only in what
a day without a stored ratio means (see `sum_days`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MEAN = "mean"
RATIO = "dispersion"


def sum_days(days: pd.DataFrame, keys: list[str], default_ratio: float | None) -> pd.DataFrame:
    """Per `keys`: `mean` (summed) and `dispersion` (the ratio of the sum).

    A day whose `dispersion` is missing (NaN, or no such column: an older forecast run) counts
    with `default_ratio`; with `default_ratio=None` it carries no weight in the ratio, and a
    group with no known ratio gets NaN so that the caller's default applies later. A group
    whose mean is 0 gets `default_ratio` (NaN when None)."""
    ratio = (days[RATIO].astype(float) if RATIO in days.columns
             else pd.Series(np.nan, index=days.index))
    if default_ratio is not None:
        ratio = ratio.fillna(default_ratio)
    mean = days[MEAN].astype(float)
    frame = pd.DataFrame({
        **{k: days[k] for k in keys},
        MEAN: mean,
        "_known": mean.where(ratio.notna(), 0.0),
        "_weighted": (mean * ratio).fillna(0.0),
    })
    summed = frame.groupby(keys, sort=False)[[MEAN, "_known", "_weighted"]].sum()
    fallback = np.nan if default_ratio is None else default_ratio
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_of_sum = np.where(summed["_known"] > 0, summed["_weighted"] / summed["_known"],
                                fallback)
    return pd.DataFrame({MEAN: summed[MEAN], RATIO: ratio_of_sum},
                        index=summed.index).reset_index()
