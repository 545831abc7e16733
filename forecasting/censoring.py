"""Demand on sold-out days: the units sold are a lower bound on it, not a measurement.

A day that ran out of stock records what the shelf held. Fitted as demand, a sold-out fortnight
teaches every model that customers lost interest when only supply did, and the forecast, the
safety stock and the next replenishment all shrink to match: the stock-out repeats itself.
Before fitting, each flagged day's units are replaced by an estimate of what the series would
have sold: its level around the gap (the mean of the `neighbour_days` unflagged, open days of
the series nearest to it, either side, each divided by its weekday factor) times the day's
weekday factor, never less than the units it did sell. Nearest days rather than a fixed
window: a month sold out up to the forecast origin would otherwise leave its last days a level
from the one or two days before the spell. Weekday factors are pooled over every series of
the same channel (one slow mover's weekdays are noise; the chain's are not), so a restored week
keeps the weekly rhythm the recursive lags of the models learn from. A series with no usable
day keeps what it sold.

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
from forecasting.series_index import SeriesIndex
from forecasting.validation import check_flags

NEIGHBOUR_DAYS = 28  # usable days that set a sold-out day's level: four weeks of evidence
MIN_WEEKDAY_FACTOR = 0.05  # keeps a nearly empty weekday from blowing a level up


@dataclass(frozen=True)
class RestoredDemand:
    """The history with demand estimates on censored days, and what changed (for the run log)."""

    history: pd.DataFrame
    censored_days: int  # rows flagged and estimated (closed days excluded)
    added_units: float  # estimated demand above the units those days sold
    estimated: np.ndarray  # per row of `history`: True where y is the estimate, not a record


def restore_censored_demand(
    history: pd.DataFrame, censored_column: str, country: Country,
    neighbour_days: int = NEIGHBOUR_DAYS,
) -> RestoredDemand:
    """`history` (`unique_id, ds, y`, grouped by id and sorted by day) without `censored_column`
    (1 = the day sold out), its `y` on those days replaced by the demand estimate."""
    flags = check_flags(history[censored_column], censored_column)
    if not flags.any():
        return RestoredDemand(history.drop(columns=censored_column), 0, 0.0,
                              np.zeros(len(history), bool))
    channel = channel_of(history["unique_id"])
    closed = closed_mask(history[["unique_id", "ds"]], country, channel)
    censored = (flags == 1) & ~closed
    y = history["y"].to_numpy(float)
    usable = ~censored & ~closed
    index = SeriesIndex.of(history)
    factor = weekday_factors(history, usable, index, channel)
    restored = _restore(y, factor, index.ds_ns, index.starts, index.ends, censored, usable,
                        neighbour_days)
    out = history.drop(columns=censored_column).assign(y=restored)
    return RestoredDemand(out, int(censored.sum()), float((restored - y).sum()), censored)


def weekday_factors(
    history: pd.DataFrame, usable: np.ndarray, index: SeriesIndex,
    channel: np.ndarray | None = None,
) -> np.ndarray:
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
    if channel is None:
        channel = channel_of(history["unique_id"])
    pool, _ = pd.factorize(channel)
    cell = pool * 7 + history["ds"].dt.dayofweek.to_numpy()
    cells = (int(pool.max()) + 1) * 7
    units = np.bincount(cell[usable], weights=y[usable], minlength=cells)
    expected = np.bincount(cell[usable], weights=level[usable], minlength=cells)
    ratio = np.divide(units, expected, out=np.ones(cells), where=expected > 0)
    return np.clip(ratio[cell], MIN_WEEKDAY_FACTOR, None)


@numba.njit(cache=True)  # type: ignore[misc]
def _restore(
    y: np.ndarray, factor: np.ndarray, ds_ns: np.ndarray, starts: np.ndarray,
    ends: np.ndarray, censored: np.ndarray, usable: np.ndarray, neighbours: int,
) -> np.ndarray:
    """Per series, each censored row i gets max(y, level * factor[i]), the level being the mean
    of y / factor over the `neighbours` usable rows of the series nearest to i in time (taken
    outwards from i, the nearer side first; fewer when the series has fewer). The nearest usable
    row on each side is looked up, not searched, so a long spell costs no more per day."""
    out = y.copy()
    before = np.empty(len(y), np.int64)  # last usable row at or before each row, else -1
    after = np.empty(len(y), np.int64)  # first usable row at or after each row, else len(y)
    for s in range(len(starts)):
        lo, hi = starts[s], ends[s]
        last = -1
        for j in range(lo, hi):
            if usable[j]:
                last = j
            before[j] = last
        nxt = len(y)
        for j in range(hi - 1, lo - 1, -1):
            if usable[j]:
                nxt = j
            after[j] = nxt
        for i in range(lo, hi):
            if not censored[i]:
                continue
            left = before[i - 1] if i > lo else -1
            right = after[i + 1] if i + 1 < hi else len(y)
            total, n = 0.0, 0
            while n < neighbours and (left >= lo or right < hi):
                nearer_left = left >= lo and ds_ns[i] - ds_ns[left] <= ds_ns[right] - ds_ns[i]
                if right >= hi or nearer_left:
                    total += y[left] / factor[left]
                    left = before[left - 1] if left > lo else -1
                else:
                    total += y[right] / factor[right]
                    right = after[right + 1] if right + 1 < hi else len(y)
                n += 1
            if n > 0:
                out[i] = max(y[i], total / n * factor[i])
    return out
