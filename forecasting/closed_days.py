"""The closed-day rule: walk-in demand is exactly 0 on days the store is closed.

A forecast row is zeroed (mean and every quantile) when
- the series is walk-in, i.e. its id is `node|channel|sku` with channel `store`, and the store is
  closed that day: the future frame's `store_open` column is 0 or, without that column, the
  retail calendar of the chosen country says closed (holiday, Polish non-trading Sunday); or
- the series is not online (any id that is not `node|online|sku`) and the future frame has an
  explicit `store_open` column equal to 0 (for example Rossmann's `Open`).
Online series are never zeroed: they keep selling when stores close, and the model learns the
demand that shifts to them from the `store_open` calendar feature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.calendar import Country, calendar_features
from forecasting.series_ids import series_parts

WALK_IN, ONLINE = "store", "online"
STORE_OPEN = "store_open"


def channel_of(unique_ids: pd.Series | np.ndarray | list[str]) -> np.ndarray:
    """The channel part of `node|channel|sku` ids, '' for ids of another shape."""
    return series_parts(unique_ids, only=("channel",))["channel"].to_numpy(dtype=object)


def closed_mask(
    rows: pd.DataFrame, country: Country, channel: np.ndarray | None = None
) -> np.ndarray:
    """True for rows (`unique_id, ds` [+ store_open]) whose forecast must be exactly 0.
    `channel` is `channel_of(rows["unique_id"])` when the caller already has it."""
    if channel is None:
        channel = channel_of(rows["unique_id"])
    walk_in = channel == WALK_IN
    if STORE_OPEN in rows.columns:
        explicit_closed = rows[STORE_OPEN].to_numpy() == 0
        return explicit_closed & (channel != ONLINE)
    if not walk_in.any():
        return np.zeros(len(rows), dtype=bool)
    codes, days = pd.factorize(rows["ds"])  # the calendar of each distinct day, once
    open_flag = calendar_features(pd.DatetimeIndex(days), country)[STORE_OPEN].to_numpy()
    return walk_in & (open_flag[codes] == 0)
