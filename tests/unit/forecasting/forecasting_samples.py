"""Small generated histories for the forecasting tests (helpers; fixtures in conftest.py):
a Polish store's walk-in and online series (walk-in sells nothing on closed days) and a
plain series with a promo regressor."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.calendar import calendar_features

START = "2025-01-01"
DAYS = 120
FAST_LGBM = {"n_estimators": 15, "num_leaves": 7, "num_threads": 1}


def make_history(days: int = DAYS, seed: int = 3, skus: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ds = pd.date_range(START, periods=days, freq="D")
    open_flag = calendar_features(ds, "PL")["store_open"].to_numpy()
    weekly = 1 + 0.3 * np.sin(2 * np.pi * np.arange(days) / 7)
    frames = []
    for store in ("S001", "S002"):
        for k in range(skus):
            level = rng.uniform(2, 8)
            walk_in = rng.poisson(level * weekly) * open_flag
            online = rng.poisson(0.5 * level * weekly * (1 + 0.5 * (1 - open_flag)))
            frames.append(pd.DataFrame({"unique_id": f"{store}|store|K{k}", "ds": ds,
                                        "y": walk_in}))
            frames.append(pd.DataFrame({"unique_id": f"{store}|online|K{k}", "ds": ds,
                                        "y": online}))
    return pd.concat(frames, ignore_index=True)


def future_of(history: pd.DataFrame, horizon: int, **columns: object) -> pd.DataFrame:
    last = history.groupby("unique_id")["ds"].max()
    rows = [pd.DataFrame({"unique_id": uid, "ds": pd.date_range(
        end + pd.Timedelta(days=1), periods=horizon, freq="D")}) for uid, end in last.items()]
    frame = pd.concat(rows, ignore_index=True)
    for name, value in columns.items():
        frame[name] = value
    return frame
