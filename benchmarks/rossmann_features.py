"""Rossmann data as long frames with its known-future exogenous columns (benchmark helper).

Every column here is known in advance for the forecast days (the opening plan, the promo plan,
the holiday calendar, store master data) or is a per-store aggregate of a training window that
the caller passes (`customers_until`), so the direct model may use them as future exogenous.
Days missing from the file (180 stores lack 2014-07-01 ... 2014-12-31) are filled as closed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec")
_CAP = 14  # days; "a closure/holiday is more than two weeks away" is one state
_HOLIDAY_KIND = {"0": 0, "a": 1, "b": 2, "c": 3}


def load(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(frame, customers): `unique_id, ds, y, store_open, promo, state_holiday,
    school_holiday` on the full store x day grid, and the raw `unique_id, ds, customers`."""
    raw = pd.read_csv(path, dtype={"StateHoliday": str}, parse_dates=["Date"])
    frame = pd.DataFrame({
        "unique_id": raw["Store"].astype(str), "ds": raw["Date"], "y": raw["Sales"].astype(float),
        "store_open": raw["Open"], "promo": raw["Promo"],
        "state_holiday": raw["StateHoliday"].map(_HOLIDAY_KIND),
        "school_holiday": raw["SchoolHoliday"].astype(int),
    })
    customers = pd.DataFrame({"unique_id": frame["unique_id"], "ds": frame["ds"],
                              "customers": raw["Customers"].astype(float),
                              "y": frame["y"]})
    days = pd.date_range(frame["ds"].min(), frame["ds"].max(), freq="D")
    full = pd.MultiIndex.from_product([frame["unique_id"].unique(), days],
                                      names=["unique_id", "ds"]).to_frame(index=False)
    full = full.merge(frame, on=["unique_id", "ds"], how="left")
    flags = ["store_open", "promo", "state_holiday", "school_holiday"]
    full = full.fillna({"y": 0.0, **dict.fromkeys(flags, 0)}).astype(dict.fromkeys(flags, int))
    return full.sort_values(["unique_id", "ds"]).reset_index(drop=True), customers


def run_length(flag: np.ndarray, ids: np.ndarray, reverse: bool = False) -> np.ndarray:
    """Days since (or, reversed, until) `flag` was last true within each id, capped at _CAP.

    Rows must be sorted by id then day. Vectorised: the distance to the last hit is the row
    number minus the row number of the last hit (a running maximum), reset at each id."""
    order = slice(None, None, -1) if reverse else slice(None)
    hit, key = np.asarray(flag, bool)[order], np.asarray(ids)[order]
    n = len(hit)
    position = np.arange(n)
    starts = np.r_[True, key[1:] != key[:-1]]
    start_of_group = np.maximum.accumulate(np.where(starts, position, 0))
    last_hit = np.maximum.accumulate(np.where(hit, position, -1))
    distance = np.where(last_hit >= start_of_group, position - last_hit, _CAP)
    return np.minimum(distance, _CAP)[order]


def enrich(frame: pd.DataFrame, stores_path: Path) -> pd.DataFrame:
    """Add the known-future columns: distances to/from closures, holidays and promo runs,
    day of the promo run, and store master data (type, assortment, competition, Promo2)."""
    out = frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    ids = out["unique_id"].to_numpy()
    closed = out["store_open"].to_numpy() == 0
    state = out["state_holiday"].to_numpy() > 0
    school = out["school_holiday"].to_numpy() > 0
    promo = out["promo"].to_numpy() > 0
    for name, flag in (("closed", closed), ("state_holiday", state),
                       ("school_holiday", school), ("promo", promo)):
        out[f"days_since_{name}"] = run_length(flag, ids)
        out[f"days_to_{name}"] = run_length(flag, ids, reverse=True)
    out["promo_day"] = run_length(~promo, ids)
    stores = pd.read_csv(stores_path, dtype={"Store": str})
    stores["store_type"] = stores["StoreType"].map({"a": 0, "b": 1, "c": 2, "d": 3})
    stores["assortment"] = stores["Assortment"].map({"a": 0, "b": 1, "c": 2})
    stores["competition_distance"] = np.log1p(stores["CompetitionDistance"].fillna(1e5))
    out = out.merge(stores.rename(columns={"Store": "unique_id"}), on="unique_id", how="left")
    months = out["ds"].dt.year * 12 + out["ds"].dt.month
    opened = (out["CompetitionOpenSinceYear"] * 12 + out["CompetitionOpenSinceMonth"])
    out["competition_months"] = (months - opened).clip(-12, 48).fillna(48)
    out["competition_open"] = (out["CompetitionDistance"].notna()
                               & (out["competition_months"] >= 0)).astype(int)
    promo2_since = (pd.to_datetime(out["Promo2SinceYear"].fillna(2100).astype(int).astype(str)
                                   + "-01-01")
                    + pd.to_timedelta((out["Promo2SinceWeek"].fillna(1) - 1) * 7, unit="D"))
    promo2_active = (out["Promo2"] == 1) & (out["ds"] >= promo2_since)
    out["promo2_weeks"] = np.where(
        promo2_active, ((out["ds"] - promo2_since).dt.days // 7).clip(upper=150), -1)
    month = np.array(MONTHS)[out["ds"].dt.month.to_numpy() - 1]
    in_interval = np.array([m in str(i).split(",") for m, i in
                            zip(month, out["PromoInterval"], strict=True)])
    out["promo2_month"] = (promo2_active & in_interval).astype(int)
    keep = [c for c in out.columns if c not in stores.columns or c in
            ("store_type", "assortment", "competition_distance")]
    return out[[c for c in keep if c != "Store"]]


def add_customer_aggregates(
    frame: pd.DataFrame, customers: pd.DataFrame, until: pd.Timestamp
) -> pd.DataFrame:
    """Per-store means of the days up to `until` only (Customers is not known in the future):
    log customers per open day and log sales per customer."""
    seen = customers.loc[(customers["ds"] <= until) & (customers["customers"] > 0)
                         & (customers["y"] > 0)]
    per_store = seen.groupby("unique_id").agg(
        log_customers=("customers", lambda c: float(np.log(c).mean())),
        spend=("y", "sum"), visits=("customers", "sum"))
    per_store["log_spend_per_customer"] = np.log(per_store["spend"] / per_store["visits"])
    table = per_store[["log_customers", "log_spend_per_customer"]].reset_index()
    out = frame.merge(table, on="unique_id", how="left")
    return out.fillna({"log_customers": table["log_customers"].mean(),
                       "log_spend_per_customer": table["log_spend_per_customer"].mean()})
