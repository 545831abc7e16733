"""Where each series sits in a long frame sorted by `unique_id` then `ds` (validated histories are).

At 100k series x 2 years a long frame has 73M rows: a pandas groupby over its string ids costs
seconds and a copy costs gigabytes. With the row range of every series known, cutting each
series' last days, its recent window or a sample of whole series is index arithmetic, and only
the rows actually needed are ever copied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class SeriesIndex:
    """Series `i` is rows `starts[i]:ends[i]` of the frame; ids in frame order."""

    ids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    ds_ns: np.ndarray  # the frame's ds as int64 nanoseconds (a view, not a copy)

    @classmethod
    def of(cls, frame: pd.DataFrame) -> SeriesIndex:
        """Index a frame whose rows are grouped by `unique_id` and sorted by `ds` within."""
        ids = frame["unique_id"].to_numpy()
        ds_ns = np.ascontiguousarray(frame["ds"].to_numpy("datetime64[ns]")).view(np.int64)
        if len(ids) == 0:
            empty = np.zeros(0, np.int64)
            return cls(ids[:0], empty, empty, ds_ns)
        breaks = np.flatnonzero(ids[1:] != ids[:-1]) + 1
        starts = np.concatenate([[0], breaks]).astype(np.int64)
        ends = np.concatenate([breaks, [len(ids)]]).astype(np.int64)
        first_ids = ids[starts]
        if len(pd.unique(first_ids)) != len(starts):
            raise ValueError("frame is not grouped by unique_id (sort it by unique_id, ds)")
        return cls(first_ids, starts, ends, ds_ns)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def lengths(self) -> np.ndarray:
        return self.ends - self.starts

    @property
    def last_ds(self) -> np.ndarray:
        """Last day of each series (datetime64[ns])."""
        return self.ds_ns[self.ends - 1].view("datetime64[ns]")

    def first_after(self, threshold_ns: np.ndarray | int, lo: np.ndarray | None = None,
                    hi: np.ndarray | None = None) -> np.ndarray:
        """Per series, the first row in `lo:hi` (default: the series) with ds > threshold."""
        lo = self.starts if lo is None else lo
        hi = self.ends if hi is None else hi
        thresholds = np.broadcast_to(np.asarray(threshold_ns, np.int64), lo.shape)
        return _first_after(self.ds_ns, lo.astype(np.int64), hi.astype(np.int64),
                            np.ascontiguousarray(thresholds))

    def cut_last_days(self, days: int) -> np.ndarray:
        """Per series, the first row of its last `days` days (== ends when days <= 0)."""
        return self.first_after(self.ds_ns[self.ends - 1] - days * DAY_NS)

    def future_grid(self, horizon: int) -> pd.DataFrame:
        """`unique_id, ds` of the `horizon` days after each series' last day, id then day."""
        steps = np.arange(1, horizon + 1, dtype=np.int64) * DAY_NS
        days = (self.ds_ns[self.ends - 1][:, None] + steps[None, :]).ravel()
        return pd.DataFrame({"unique_id": np.repeat(self.ids, horizon),
                             "ds": days.view("datetime64[ns]")})


def row_positions(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The row numbers of the ranges lo[i]:hi[i], concatenated (for DataFrame.take)."""
    counts = np.maximum(np.asarray(hi, np.int64) - np.asarray(lo, np.int64), 0)
    if counts.sum() == 0:
        return np.zeros(0, np.int64)
    skipped = np.cumsum(counts) - counts
    return np.repeat(np.asarray(lo, np.int64) - skipped, counts) + np.arange(counts.sum())


@numba.njit(cache=True)  # type: ignore[misc]
def _first_after(
    values: np.ndarray, lo: np.ndarray, hi: np.ndarray, thresholds: np.ndarray
) -> np.ndarray:
    """Binary search in each sorted range lo[i]:hi[i] for the first value > thresholds[i]."""
    out = np.empty(len(lo), np.int64)
    for i in range(len(lo)):
        left, right, bound = lo[i], hi[i], thresholds[i]
        while left < right:
            middle = (left + right) // 2
            if values[middle] > bound:
                right = middle
            else:
                left = middle + 1
        out[i] = left
    return out
