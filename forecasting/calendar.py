"""The retail calendar: public holidays, the Polish Sunday trading ban and the sales peaks.

One module shared by the demo-chain generator, the forecasts and the allocator, so that
"the store is closed that day" means the same thing everywhere: a store cannot sell to walk-in
customers, pick an online order or hand over a click-and-collect parcel on a day it is closed.

Polish trading Sundays follow the Act of 10 January 2018 on restricting trade on Sundays
(as amended, including the 2024 amendment that made 24 December a public holiday from 2025):
trade is allowed only on the last Sunday of January, April, June and August, on Palm Sunday
(the Sunday before Easter), and on the Sundays before Christmas: the two Sundays preceding
25 December through 2024, the three Sundays preceding 24 December from 2025. A public holiday
that falls on such a Sunday stays closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd
from dateutil.easter import easter

from forecasting.vocabulary import PEAK_NAMES, Country, PeakName


@dataclass(frozen=True)
class PeakWindow:
    """A sales peak: first and last day, both inclusive."""

    name: PeakName
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@lru_cache(maxsize=64)
def _holiday_table(country: str, year: int) -> dict[date, str]:
    if country == "none":
        return {}
    return dict(holidays.country_holidays(country, years=year))


def public_holidays(year: int, country: Country = "PL") -> dict[date, str]:
    """Public holidays of `country` in `year` (the `holidays` package; Wigilia from 2025)."""
    return _holiday_table(country, year)


def is_public_holiday(day: date, country: Country = "PL") -> bool:
    return day in _holiday_table(country, day.year)


def _last_sunday(year: int, month: int) -> date:
    first_of_next = date(year + (month == 12), month % 12 + 1, 1)
    last_day = first_of_next - timedelta(days=1)
    return last_day - timedelta(days=(last_day.weekday() - 6) % 7)


def _christmas_trading_sundays(year: int) -> list[date]:
    """Sundays before Christmas on which trade is allowed (two through 2024, three from 2025)."""
    if year <= 2024:
        # The two Sundays preceding 25 December (24 December itself may be one of them).
        anchor, count = date(year, 12, 25), 2
    else:
        # From 2025 Wigilia is a holiday: the three Sundays preceding 24 December.
        anchor, count = date(year, 12, 24), 3
    previous_sunday = anchor - timedelta(days=(anchor.weekday() + 1) % 7 or 7)
    return [previous_sunday - timedelta(weeks=k) for k in range(count)]


@lru_cache(maxsize=64)
def trading_sundays(year: int) -> tuple[date, ...]:
    """Sundays on which Polish shops may open in `year` (holidays removed), sorted."""
    candidates = {_last_sunday(year, month) for month in (1, 4, 6, 8)}
    candidates.add(easter(year) - timedelta(days=7))  # Palm Sunday
    candidates.update(_christmas_trading_sundays(year))
    return tuple(sorted(day for day in candidates if not is_public_holiday(day, "PL")))


def is_trading_sunday(day: date) -> bool:
    return day.weekday() == 6 and day in trading_sundays(day.year)


def is_store_open(day: date, country: Country = "PL") -> bool:
    """True when a store may trade on `day`: not a public holiday, and in Poland not a
    Sunday under the trading ban. Online sales go on every day regardless."""
    if is_public_holiday(day, country):
        return False
    if country == "PL" and day.weekday() == 6:
        return is_trading_sunday(day)
    return True


def open_days_between(start: date, end: date, country: Country = "PL") -> list[date]:
    """Days in [start, end] on which stores are open (protection horizons count only these)."""
    return [
        start + timedelta(days=k)
        for k in range((end - start).days + 1)
        if is_store_open(start + timedelta(days=k), country)
    ]


def black_friday(year: int) -> date:
    """The day after US Thanksgiving (the fourth Thursday of November)."""
    first = date(year, 11, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(weeks=3, days=1)


def peak_window(name: PeakName, year: int) -> PeakWindow:
    """The calendar window of a named peak in `year`.

    back_to_school: 15 August to 15 September; black_week: the Monday before Black Friday
    through Cyber Monday; christmas: the run-up from 1 to 24 December.
    """
    if name == "back_to_school":
        return PeakWindow(name, date(year, 8, 15), date(year, 9, 15))
    if name == "black_week":
        friday = black_friday(year)
        return PeakWindow(name, friday - timedelta(days=4), friday + timedelta(days=3))
    if name == "christmas":
        return PeakWindow(name, date(year, 12, 1), date(year, 12, 24))
    raise ValueError(f"unknown peak {name!r}: expected one of {', '.join(PEAK_NAMES)}")


def next_peak(after: date) -> PeakWindow:
    """The first peak that has not started yet on `after`."""
    windows = [peak_window(n, y) for y in (after.year, after.year + 1) for n in PEAK_NAMES]
    return min((w for w in windows if w.start > after), key=lambda w: w.start)


def calendar_features(dates: pd.DatetimeIndex | pd.Series, country: Country = "PL") -> pd.DataFrame:
    """Known-future calendar features for daily forecasting, one row per date.

    Columns: dow, month, day_of_year, is_holiday, store_open, is_trading_sunday,
    in_back_to_school, in_black_week, in_christmas, days_to_black_friday,
    days_to_christmas, year_sin, year_cos.
    """
    index = pd.DatetimeIndex(pd.to_datetime(dates))
    unique = index.unique()
    days = [ts.date() for ts in unique]
    feats = pd.DataFrame(index=unique)
    feats["dow"] = unique.dayofweek.astype(np.int8)
    feats["month"] = unique.month.astype(np.int8)
    feats["day_of_year"] = unique.dayofyear.astype(np.int16)
    feats["is_holiday"] = np.array([is_public_holiday(d, country) for d in days], dtype=np.int8)
    feats["store_open"] = np.array([is_store_open(d, country) for d in days], dtype=np.int8)
    feats["is_trading_sunday"] = np.array(
        [country == "PL" and is_trading_sunday(d) for d in days], dtype=np.int8
    )
    for name in PEAK_NAMES:
        feats[f"in_{name}"] = np.array([d in peak_window(name, d.year) for d in days], np.int8)
    feats["days_to_black_friday"] = np.array(
        [_days_to_next(d, black_friday) for d in days], dtype=np.int16
    )
    feats["days_to_christmas"] = np.array(
        [_days_to_next(d, lambda y: date(y, 12, 25)) for d in days], dtype=np.int16
    )
    angle = 2 * np.pi * unique.dayofyear.to_numpy() / 365.25
    feats["year_sin"] = np.sin(angle)
    feats["year_cos"] = np.cos(angle)
    return feats.loc[index].reset_index(drop=True)


def _days_to_next(day: date, anchor_of_year: object) -> int:
    """Days until the next occurrence of a yearly anchor, capped at 60 (far is far)."""
    assert callable(anchor_of_year)
    anchor: date = anchor_of_year(day.year)
    if anchor < day:
        anchor = anchor_of_year(day.year + 1)
    return min((anchor - day).days, 60)
