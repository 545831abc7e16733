"""Known-future features joined onto long frames: the retail calendar of a country and the
channel of the series (walk-in, online, other) as a static feature."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.calendar import Country, calendar_features
from forecasting.closed_days import ONLINE, WALK_IN, channel_of

CHANNEL_CODE = "channel_code"


def add_calendar(frame: pd.DataFrame, country: Country) -> pd.DataFrame:
    """`frame` plus the calendar features of its days; a column the frame already has (for
    example an explicit `store_open`) wins over the calendar's."""
    days = pd.DatetimeIndex(frame["ds"].unique())
    feats = calendar_features(days, country)
    feats = feats.drop(columns=[c for c in feats.columns if c in frame.columns])
    feats["ds"] = days
    return frame.merge(feats, on="ds", how="left", sort=False)


def add_channel_code(frame: pd.DataFrame) -> pd.DataFrame:
    """Static code of the series' channel: 1 walk-in, 2 online, 0 any other id shape."""
    ids = frame["unique_id"].drop_duplicates()
    channel = channel_of(ids)
    code = np.select([channel == WALK_IN, channel == ONLINE], [1, 2], 0).astype(np.int8)
    lookup = pd.Series(code, index=ids.to_numpy())
    out = frame.copy()
    out[CHANNEL_CODE] = frame["unique_id"].map(lookup).to_numpy()
    return out
