"""The datasets a forecast comparison runs on, as long frames `unique_id, ds, y [, exog]`.

- `demo`: the demo chain's store x channel x SKU daily series (a small chain; zero days filled),
  as recorded: sold-out walk-in days keep the units they sold and their `stockout` flag is
  dropped (not known ahead, so no regressor; the comparison scores forecasts of recorded sales,
  as on M5, whose stock-outs are not flagged at all);
- `m5`: the 204 real M5 item-store series in `../shared/data/m5` (horizon 28), with the
  official level-12 weights for the weighted RMSSE;
- `rossmann`: store-level daily sales of the Rossmann stores with `promo` and `open` as known
  future exogenous columns (horizon 42; RMSPE on open days with sales).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from data.public import shared_data_dir
from forecasting.series_ids import series_id

DATASETS: tuple[str, ...] = ("demo", "m5", "rossmann")
Country = str


class DatasetUnavailable(FileNotFoundError):
    """The public data files a dataset needs are not on this machine."""


@dataclass(frozen=True)
class Dataset:
    """`weights`: unique_id -> weight (M5 WRMSSE), `groups`: unique_id -> aggregate (store).
    `small` and `max_series` say how it was cut down, so the runs on it can say so too."""

    name: str
    history: pd.DataFrame
    horizon: int
    country: Country
    primary_metric: str
    weights: pd.Series | None = None
    groups: pd.Series | None = None
    notes: dict[str, str] = field(default_factory=dict)
    small: bool = False
    max_series: int | None = None


def load_dataset(name: str, *, small: bool = False, max_series: int | None = None,
                 data_dir: Path | None = None) -> Dataset:
    """The named dataset; `small` keeps it quick (tests, notebooks), `max_series` caps it."""
    if name == "demo":
        loaded = _demo(small, max_series)
    elif name == "m5":
        loaded = _m5(data_dir or shared_data_dir(), small, max_series)
    elif name == "rossmann":
        loaded = _rossmann(data_dir or shared_data_dir(), small, max_series)
    else:
        raise ValueError(f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)}")
    return replace(loaded, small=small, max_series=max_series)


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DatasetUnavailable(
            f"{path} is missing: the public datasets live in ../shared/data beside the project "
            "(or set OMNI_SHARED_DATA); `--dataset demo` needs no files")
    return path


def _demo(small: bool, max_series: int | None) -> Dataset:
    from data.demo_chain import generate_chain

    chain = generate_chain(n_stores=3 if small else 10, n_skus=4 if small else 20,
                           history_days=200 if small else 600, future_days=0)
    sales = chain.sales
    frame = pd.DataFrame({
        "unique_id": series_id(sales["node_id"], sales["channel"], sales["sku"]),
        "ds": sales["date"], "y": sales["units"].astype(float)})
    frame = _fill_zero_days(frame.groupby(["unique_id", "ds"], as_index=False).agg(y=("y", "sum")))
    frame = _cap_series(frame, max_series)
    return Dataset("demo", frame, horizon=14 if small else 28, country="PL",
                   primary_metric="rmsse")


def _m5(root: Path, small: bool, max_series: int | None) -> Dataset:
    path = _require(root / "m5" / "sales_long_204series_20150101_20160522.csv.gz")
    raw = pd.read_csv(path, usecols=["id", "store_id", "date", "sales"], parse_dates=["date"])
    # Train through d_1913 (2016-04-24), as the M5 validation split; later days stay unseen.
    raw = raw.loc[raw["date"] <= pd.Timestamp("2016-04-24")]
    frame = _cap_series(raw.rename(columns={"id": "unique_id", "date": "ds", "sales": "y"})[
        ["unique_id", "ds", "y"]], 12 if small else max_series)
    if small:
        frame = frame.loc[frame["ds"] > frame["ds"].max() - pd.Timedelta(days=180)]
    weights = _m5_weights(root, raw[["id", "store_id"]].drop_duplicates())
    ids = frame["unique_id"].unique()
    stores = raw.drop_duplicates("id").set_index("id")["store_id"]
    return Dataset("m5", frame.reset_index(drop=True), horizon=28, country="US",
                   primary_metric="wrmsse", weights=weights.reindex(ids).fillna(0.0),
                   groups=stores.reindex(ids))


def _m5_weights(root: Path, ids: pd.DataFrame) -> pd.Series:
    """Official level-12 weights of the series, renormalised to sum to 1 over them."""
    table = pd.read_csv(_require(root / "m5" / "weights_evaluation.csv"))
    table = table.loc[table["Level_id"] == "Level12"]
    key = table["Agg_Level_1"] + "_" + table["Agg_Level_2"] + "_evaluation"
    weights = pd.Series(table["weight"].to_numpy(float), index=key)
    out = weights.reindex(ids["id"]).fillna(0.0)
    total = out.sum()
    return out / total if total > 0 else out


def _rossmann(root: Path, small: bool, max_series: int | None) -> Dataset:
    raw = pd.read_csv(_require(root / "rossmann" / "train_until_2015-06-19.csv"),
                      usecols=["Store", "Date", "Sales", "Open", "Promo"], parse_dates=["Date"])
    frame = pd.DataFrame({"unique_id": "store_" + raw["Store"].astype(str).str.zfill(4),
                          "ds": raw["Date"], "y": raw["Sales"].astype(float),
                          "promo": raw["Promo"].astype(float),
                          "open": raw["Open"].astype(float)})
    frame = _cap_series(frame.sort_values(["unique_id", "ds"]), 10 if small else max_series)
    if small:
        frame = frame.loc[frame["ds"] > frame["ds"].max() - pd.Timedelta(days=240)]
    # Rossmann omits some closed days of refurbished stores: keep series with a full calendar.
    days = frame.groupby("unique_id")["ds"].transform("size")
    frame = frame.loc[days == days.max()]
    return Dataset("rossmann", frame.reset_index(drop=True), horizon=42, country="DE",
                   primary_metric="rmspe")


def _fill_zero_days(frame: pd.DataFrame) -> pd.DataFrame:
    """Every series on every day from its first sale to the last day (zeros where no sale)."""
    last = frame["ds"].max()
    parts = []
    for uid, group in frame.groupby("unique_id", sort=True):
        days = pd.date_range(group["ds"].min(), last, freq="D")
        y = group.set_index("ds")["y"].reindex(days, fill_value=0.0)
        parts.append(pd.DataFrame({"unique_id": uid, "ds": days, "y": y.to_numpy(float)}))
    return pd.concat(parts, ignore_index=True)


def _cap_series(frame: pd.DataFrame, max_series: int | None) -> pd.DataFrame:
    """The first `max_series` series by id (deterministic), or all of them."""
    if max_series is None:
        return frame
    keep = np.sort(frame["unique_id"].unique())[:max_series]
    return frame.loc[frame["unique_id"].isin(keep)].reset_index(drop=True)
