"""Known-future features joined onto long frames: the retail calendar of a country and the
channel of the series (walk-in, online, other) as a static feature."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.calendar import Country, calendar_features
from forecasting.closed_days import ONLINE, WALK_IN, channel_of

CHANNEL_CODE = "channel_code"
DAY_OF_MONTH = "day_of_month"
# Position in the year: smooth yearly seasonality. The named peaks (Back-to-School, Black Week,
# Christmas, days to them) are separate columns and always kept.
YEARLY_COLUMNS: tuple[str, ...] = ("month", "day_of_year", "year_sin", "year_cos")
YEARLY_MIN_DAYS = 730  # two yearly cycles: with less, each day of the year is seen about once


def learns_yearly(ds: pd.Series) -> bool:
    """Whether a training window is long enough to learn the position in the year from.

    With one cycle a tree can only memorise last year's noise for each date. On the M5 item-
    store series (16 months of history), without these columns and with the day of the month,
    the recursive LightGBM scored better on each of the three validation folds of
    benchmarks/forecast_m5.py."""
    if ds.empty:
        return False
    span = (pd.Timestamp(ds.max()) - pd.Timestamp(ds.min())).days + 1
    return span >= YEARLY_MIN_DAYS


def add_calendar(
    frame: pd.DataFrame, country: Country, *, yearly: bool = True, day_of_month: bool = False
) -> pd.DataFrame:
    """`frame` plus the calendar features of its days; a column the frame already has (for
    example an explicit `store_open`) wins over the calendar's. `yearly=False` leaves out the
    YEARLY_COLUMNS; `day_of_month` adds the day of the month (pay days, benefit days)."""
    days = pd.DatetimeIndex(frame["ds"].unique())
    feats = calendar_features(days, country)
    if not yearly:
        feats = feats.drop(columns=list(YEARLY_COLUMNS))
    if day_of_month:
        feats[DAY_OF_MONTH] = days.day.astype(np.int8)
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
