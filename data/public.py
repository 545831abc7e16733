"""Loaders of the public retail data in ``../shared/data`` (Rossmann, M5, Favorita).

Used only by benchmarks and by tests marked ``shared_data`` to measure the demand shapes that
``data.calibration`` writes down as constants; the demo-chain generator never reads these files,
so the project works without them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """The ``shared/data`` folder beside the project root, or ``$OMNI_SHARED_DATA``."""
    override = os.environ.get("OMNI_SHARED_DATA")
    return Path(override) if override else PROJECT_ROOT.parent / "shared" / "data"


def has_shared_data() -> bool:
    return (shared_data_dir() / "rossmann").is_dir() and (shared_data_dir() / "m5").is_dir()


def load_rossmann_train(path: Path | None = None) -> pd.DataFrame:
    """Rossmann daily store sales (Store, DayOfWeek 1=Mon, Date, Sales, Open, Promo, ...)."""
    path = path or shared_data_dir() / "rossmann" / "train_until_2015-06-19.csv"
    frame = pd.read_csv(
        path,
        dtype={"StateHoliday": str, "SchoolHoliday": str},
        parse_dates=["Date"],
    )
    return frame


def load_m5_level1(path: Path | None = None) -> pd.DataFrame:
    """M5 (Walmart) chain total daily unit sales 2011-01-29 .. 2016-04-24 (date, sales)."""
    path = path or shared_data_dir() / "m5" / "level1_total_daily_sales_d1_d1913.csv"
    return pd.read_csv(path, usecols=["date", "sales"], parse_dates=["date"])


def load_m5_item_store(path: Path | None = None) -> pd.DataFrame:
    """All 30,490 M5 item-store series for 28 days, long (id, cat_id, d, sales)."""
    path = path or shared_data_dir() / "m5" / "sales_level12_d1914_d1941.csv"
    wide = pd.read_csv(path)
    days = [c for c in wide.columns if c.startswith("d_")]
    return wide.melt(id_vars=["id", "cat_id"], value_vars=days, var_name="d", value_name="sales")


def load_m5_204_series(path: Path | None = None) -> pd.DataFrame:
    """204 real M5 item-store series, daily 2015-01-01 .. 2016-05-22 (id, cat_id, date, sales)."""
    path = path or shared_data_dir() / "m5" / "sales_long_204series_20150101_20160522.csv.gz"
    return pd.read_csv(path, usecols=["id", "cat_id", "date", "sales"], parse_dates=["date"])


def load_favorita_transactions(path: Path | None = None) -> pd.DataFrame:
    """Favorita daily receipt counts per store (date, store_nbr, transactions)."""
    path = path or shared_data_dir() / "favorita" / "transactions.csv"
    return pd.read_csv(path, parse_dates=["date"])
