"""Measurements of demand shapes on the public data (Rossmann, M5, Favorita).

Each function takes a loaded frame (data.public) and returns the figure that
``data.calibration`` records; ``benchmarks/calibrate_demand.py`` prints them all, and a
``shared_data`` test checks the recorded constants still match.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from forecasting.calendar import black_friday


def rossmann_normalised(train: pd.DataFrame) -> pd.DataFrame:
    """Open, non-holiday store days with sales divided by the store's mean open-day sales."""
    open_days = train[(train["Open"] == 1) & (train["Sales"] > 0)].copy()
    open_days["rel"] = open_days["Sales"] / open_days.groupby("Store")["Sales"].transform("mean")
    return open_days


def weekday_profile_store(norm: pd.DataFrame) -> np.ndarray:
    """Mean relative sales Mon..Sat on regular days (no holiday, no promo), Mon..Sat mean = 1."""
    regular = norm[(norm["StateHoliday"] == "0") & (norm["Promo"] == 0)]
    by_dow = regular.groupby("DayOfWeek")["rel"].mean().reindex(range(1, 7))
    return (by_dow / by_dow.mean()).to_numpy()


def promo_uplift(norm: pd.DataFrame) -> float:
    """Promo / no-promo mean relative sales, weekday by weekday (Mon..Fri), averaged."""
    weekdays = norm[(norm["DayOfWeek"] <= 5) & (norm["StateHoliday"] == "0")]
    by = weekdays.groupby(["DayOfWeek", "Promo"])["rel"].mean().unstack()
    return float((by[1] / by[0]).mean())


def christmas_runup(norm: pd.DataFrame) -> dict[str, float]:
    """Mean relative sales by week before 24 Dec against the 1 Oct .. 20 Nov baseline."""
    out: dict[str, float] = {}
    ratios: dict[int, list[float]] = {k: [] for k in range(4)}
    for year in (2013, 2014):
        baseline = norm[(norm["Date"] >= f"{year}-10-01") & (norm["Date"] <= f"{year}-11-20")]
        base = baseline["rel"].mean()
        for week in range(4):
            end = pd.Timestamp(year, 12, 23) - pd.Timedelta(days=7 * week)
            window = norm[(norm["Date"] > end - pd.Timedelta(days=7)) & (norm["Date"] <= end)]
            ratios[week].append(window["rel"].mean() / base)
    for week in range(4):
        out[f"week_{week + 1}_before_24dec"] = float(np.mean(ratios[week]))
    return out


def pre_closure_uplift(train: pd.DataFrame, norm: pd.DataFrame) -> float:
    """Sales on the open day before a closed public holiday / that store's same-weekday mean."""
    closed_holidays = train[(train["Open"] == 0) & (train["StateHoliday"].isin(["a", "b", "c"]))]
    before = closed_holidays[["Store", "Date"]].copy()
    before["Date"] = before["Date"] - pd.Timedelta(days=1)
    regular = norm[(norm["StateHoliday"] == "0") & (norm["Promo"] == 0)]
    dow_mean = regular.groupby(["Store", "DayOfWeek"])["rel"].mean().rename("dow_mean")
    eve = norm.merge(before, on=["Store", "Date"]).join(dow_mean, on=["Store", "DayOfWeek"])
    eve = eve[eve["Promo"] == 0]
    return float((eve["rel"] / eve["dow_mean"]).median())


def m5_detrended(level1: pd.DataFrame) -> pd.DataFrame:
    """Level-1 sales divided by its centred 365-day mean (Christmas closures removed)."""
    frame = level1.copy()
    frame = frame[~((frame["date"].dt.month == 12) & (frame["date"].dt.day == 25))]
    trend = frame["sales"].rolling(365, center=True, min_periods=200).mean()
    frame["rel"] = frame["sales"] / trend
    return frame


def weekday_profile_online(level1: pd.DataFrame) -> np.ndarray:
    """M5 chain-total mean relative sales Mon..Sun, mean = 1 (a 7-day-open chain)."""
    frame = m5_detrended(level1)
    by = frame.groupby(frame["date"].dt.dayofweek)["rel"].mean()
    return (by / by.mean()).to_numpy()


def month_profile(level1: pd.DataFrame) -> np.ndarray:
    """M5 chain-total mean detrended sales by month, mean = 1."""
    frame = m5_detrended(level1).dropna()
    by = frame.groupby(frame["date"].dt.month)["rel"].mean()
    return (by / by.mean()).to_numpy()


def black_week_profile(daily: pd.DataFrame, value: str) -> dict[str, float]:
    """Sales on Black Friday-4 .. Cyber Monday over the same weekday mean of the 3 weeks before."""
    series = daily.set_index("date")[value]
    series.index = pd.DatetimeIndex(series.index)
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "cyber_mon"]
    ratios: dict[str, list[float]] = {d: [] for d in days}
    for year in sorted(set(pd.DatetimeIndex(series.index).year)):
        friday = black_friday(year)
        if pd.Timestamp(friday + timedelta(days=3)) > series.index.max():
            continue
        if pd.Timestamp(friday - timedelta(days=25)) < series.index.min():
            continue
        for k, name in enumerate(days):
            day = friday + timedelta(days=k - 4)
            refs = [pd.Timestamp(day - timedelta(weeks=w)) for w in (2, 3, 4)]
            ref = float(series.reindex(refs).mean())
            ratios[name].append(float(series.get(pd.Timestamp(day), np.nan)) / ref)
    return {d: float(np.nanmean(v)) for d, v in ratios.items()}


def back_to_school(series204: pd.DataFrame) -> dict[str, float]:
    """M5 204-series 2015, per category: mean 15 Aug .. 15 Sep over mean 15 Jun .. 31 Jul."""
    frame = series204
    out: dict[str, float] = {}
    for cat, grp in frame.groupby("cat_id"):
        total = grp.groupby("date")["sales"].sum()
        peak = total[date(2015, 8, 15) : date(2015, 9, 15)].mean()  # type: ignore[misc]
        base = total[date(2015, 6, 15) : date(2015, 7, 31)].mean()  # type: ignore[misc]
        out[str(cat)] = float(peak / base)
    return out


def intermittency(item_store: pd.DataFrame) -> dict[str, float]:
    """Share of zero days and negative-binomial size k = m^2 / (v - m) over 28 days."""
    item_store = item_store.assign(zero=(item_store["sales"] == 0).astype(float))
    stats = item_store.groupby("id").agg(
        mean=("sales", "mean"), var=("sales", "var"), zero_share=("zero", "mean"))
    slow = stats[(stats["mean"] > 0) & (stats["mean"] < 1.0)]
    over = slow[slow["var"] > slow["mean"]]
    k = over["mean"] ** 2 / (over["var"] - over["mean"])
    return {
        "share_of_series_mean_below_1": float((stats["mean"] < 1.0).mean()),
        "zero_share_median_slow": float(slow["zero_share"].median()),
        "nb_size_median_slow": float(k.median()),
        "zero_share_median_all": float(stats["zero_share"].median()),
    }
