"""Demand on sold-out days: the units sold are a lower bound on it, not a measurement.

A day that ran out of stock records what the shelf held. Fitted as demand, a sold-out fortnight
teaches every model that customers lost interest when only supply did, and the forecast, the
safety stock and the next replenishment all shrink to match: the stock-out repeats itself.
Before fitting, each flagged day's units are replaced by an estimate of what the series would
have sold: its level around the gap (the mean of its unflagged, open days within `window_days`
either side, each divided by its weekday factor) times the day's weekday factor, never less
than the units it did sell. Weekday factors are pooled over every series of the same channel
(one slow mover's weekdays are noise; the chain's are not), so a restored week keeps the weekly
rhythm the recursive lags of the models learn from. A series with no usable day in reach falls
back to the level of all its usable days.

Days the store was closed (walk-in series; `closed_days.closed_mask`) are neither estimated nor
used for the level: their zero is the closed-day rule, not demand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

from forecasting.calendar import Country
from forecasting.closed_days import channel_of, closed_mask
from forecasting.series_index import DAY_NS, SeriesIndex
from forecasting.validation import check_flags

WINDOW_DAYS = 28
MIN_WEEKDAY_FACTOR = 0.05  # keeps a nearly empty weekday from blowing a level up


@dataclass(frozen=True)
class RestoredDemand:
    """The history with demand estimates on censored days, and what changed (for the run log)."""

    history: pd.DataFrame
    censored_days: int  # rows flagged and estimated (closed days excluded)
    added_units: float  # estimated demand above the units those days sold


def restore_censored_demand(
    history: pd.DataFrame, censored_column: str, country: Country,
    window_days: int = WINDOW_DAYS,
) -> RestoredDemand:
    """`history` (`unique_id, ds, y`, grouped by id and sorted by day) without `censored_column`
    (1 = the day sold out), its `y` on those days replaced by the demand estimate."""
    flags = check_flags(history[censored_column], censored_column)
    if not flags.any():
        return RestoredDemand(history.drop(columns=censored_column), 0, 0.0)
    closed = closed_mask(history[["unique_id", "ds"]], country)
    censored = (flags == 1) & ~closed
    y = history["y"].to_numpy(float)
    usable = ~censored & ~closed
    index = SeriesIndex.of(history)
    factor = weekday_factors(history, usable, index)
    restored = _restore(y, factor, index.ds_ns, index.starts, index.ends, censored, usable,
                        window_days * DAY_NS)
    out = history.drop(columns=censored_column).assign(y=restored)
    return RestoredDemand(out, int(censored.sum()), float((restored - y).sum()))


def weekday_factors(history: pd.DataFrame, usable: np.ndarray, index: SeriesIndex) -> np.ndarray:
    """Per row, how its weekday sells against its series' mean, pooled over its channel: the
    channel's units on that weekday over what its series' means predict for those rows (usable
    rows only; so a busy series missing a weekday does not skew it). Channel from
    `node|channel|sku` ids; other ids share one pool. Array sums over the series' row ranges
    and a bincount per channel x weekday: no groupby over millions of string ids."""
    y = history["y"].to_numpy(float)
    sums = np.add.reduceat(np.where(usable, y, 0.0), index.starts)
    counts = np.add.reduceat(usable.astype(np.int64), index.starts)
    means = np.divide(sums, counts, out=np.zeros(len(sums)), where=counts > 0)
    level = np.repeat(means, index.lengths)
    channel, _ = pd.factorize(channel_of(history["unique_id"]))
    cell = channel * 7 + history["ds"].dt.dayofweek.to_numpy()
    cells = (int(channel.max()) + 1) * 7
    units = np.bincount(cell[usable], weights=y[usable], minlength=cells)
    expected = np.bincount(cell[usable], weights=level[usable], minlength=cells)
    ratio = np.divide(units, expected, out=np.ones(cells), where=expected > 0)
    return np.clip(ratio[cell], MIN_WEEKDAY_FACTOR, None)


@numba.njit(cache=True)  # type: ignore[misc]
def _restore(
    y: np.ndarray, factor: np.ndarray, ds_ns: np.ndarray, starts: np.ndarray,
    ends: np.ndarray, censored: np.ndarray, usable: np.ndarray, window_ns: int,
) -> np.ndarray:
    """Per series, a sliding window over days: each censored row i gets max(y, level *
    factor[i]), the level being the mean of y / factor over the usable rows within window_ns
    of it (over all the series' usable rows when the window has none). Both window edges only
    move forward, so a series costs one pass."""
    out = y.copy()
    for s in range(len(starts)):
        lo, hi = starts[s], ends[s]
        series_sum, series_n = 0.0, 0
        for j in range(lo, hi):
            if usable[j]:
                series_sum += y[j] / factor[j]
                series_n += 1
        left, right = lo, lo
        window_sum, window_n = 0.0, 0
        for i in range(lo, hi):
            if not censored[i]:
                continue
            while right < hi and ds_ns[right] <= ds_ns[i] + window_ns:
                if usable[right]:
                    window_sum += y[right] / factor[right]
                    window_n += 1
                right += 1
            while ds_ns[left] < ds_ns[i] - window_ns:
                if usable[left]:
                    window_sum -= y[left] / factor[left]
                    window_n -= 1
                left += 1
            if window_n > 0:
                estimate = window_sum / window_n * factor[i]
            elif series_n > 0:
                estimate = series_sum / series_n * factor[i]
            else:
                estimate = y[i]
            out[i] = max(y[i], estimate)
    return out
