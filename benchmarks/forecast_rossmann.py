"""Rossmann accuracy: 1,115 stores' daily sales, the last 6 weeks of the file as the test.

Test: 2015-05-09 ... 2015-06-19 (42 days); training: everything before. Known-future exogenous:
Open (as `store_open`, so closed days are forecast 0), Promo, StateHoliday, SchoolHoliday; the
German calendar (country DE). Days missing from the file (180 stores lack 2014-07-01 ...
2014-12-31) are filled as closed with no sales. Score: RMSPE over open test days with sales > 0,
for our production model (`lgbm`), the seasonal naive and the store x weekday x promo median of
the training period. Target: RMSPE <= 0.12.

Run: nice -n 10 .venv/bin/python benchmarks/forecast_rossmann.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.public import shared_data_dir  # noqa: E402
from forecasting.quantiles import QUANTILE_COLUMNS  # noqa: E402
from forecasting.registry import make_model  # noqa: E402

HORIZON = 42


def load(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype={"StateHoliday": str}, parse_dates=["Date"])
    frame = pd.DataFrame({
        "unique_id": raw["Store"].astype(str), "ds": raw["Date"], "y": raw["Sales"].astype(float),
        "store_open": raw["Open"], "promo": raw["Promo"],
        "state_holiday": (raw["StateHoliday"] != "0").astype(int),
        "school_holiday": raw["SchoolHoliday"].astype(int),
    })
    days = pd.date_range(frame["ds"].min(), frame["ds"].max(), freq="D")
    full = pd.MultiIndex.from_product([frame["unique_id"].unique(), days],
                                      names=["unique_id", "ds"]).to_frame(index=False)
    full = full.merge(frame, on=["unique_id", "ds"], how="left")
    return full.fillna({"y": 0.0, "store_open": 0, "promo": 0, "state_holiday": 0,
                        "school_holiday": 0}).astype({"store_open": int, "promo": int,
                                                     "state_holiday": int,
                                                     "school_holiday": int})


def rmspe(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(np.mean(((actual - predicted) / actual) ** 2)))


def main() -> int:
    path = shared_data_dir() / "rossmann" / "train_until_2015-06-19.csv"
    if not path.exists():
        print(f"SKIPPED: Rossmann data not found at {path} (set OMNI_SHARED_DATA)")
        return 0
    history = load(path)
    cutoff = history["ds"].max() - pd.Timedelta(days=HORIZON)
    train = history.loc[history["ds"] <= cutoff]
    test = history.loc[history["ds"] > cutoff]
    scored = test.copy()

    start = time.perf_counter()
    model = make_model("lgbm", country="DE")
    forecast = model.fit(train).predict(HORIZON, test.drop(columns="y"))
    seconds = time.perf_counter() - start
    scored = scored.merge(forecast, on=["unique_id", "ds"])
    log_model = make_model("lgbm", country="DE", objective="regression", log_target=True)
    log_forecast = log_model.fit(train).predict(HORIZON, test.drop(columns="y"))
    scored = scored.merge(log_forecast[["unique_id", "ds", "yhat"]].rename(
        columns={"yhat": "yhat_log"}), on=["unique_id", "ds"])

    last_week = train.loc[train["ds"] > cutoff - pd.Timedelta(days=7), ["unique_id", "ds", "y"]]
    last_week = last_week.assign(dow=last_week["ds"].dt.dayofweek).drop(columns="ds")
    scored["dow"] = scored["ds"].dt.dayofweek
    scored = scored.merge(last_week.rename(columns={"y": "seasonal_naive"}),
                          on=["unique_id", "dow"])
    open_train = train.loc[(train["store_open"] == 1) & (train["y"] > 0)]
    median = (open_train.assign(dow=open_train["ds"].dt.dayofweek)
              .groupby(["unique_id", "dow", "promo"])["y"].median().rename("median_swp"))
    scored = scored.merge(median.reset_index(), on=["unique_id", "dow", "promo"], how="left")
    scored["median_swp"] = scored["median_swp"].fillna(0.0)

    evaluated = scored.loc[(scored["store_open"] == 1) & (scored["y"] > 0)]
    actual = evaluated["y"].to_numpy()
    table = pd.DataFrame({
        "model": ["ours (lgbm, production: Tweedie)", "ours (lgbm, log target, L2)",
                  "seasonal naive (last week)", "store x weekday x promo median"],
        "RMSPE": [rmspe(actual, evaluated[c].to_numpy())
                  for c in ("yhat", "yhat_log", "seasonal_naive", "median_swp")],
    }).set_index("model")
    print(f"Rossmann, {history['unique_id'].nunique()} stores, test "
          f"{test['ds'].min().date()} .. {test['ds'].max().date()} ({HORIZON} days), "
          f"{len(evaluated)} open store-days with sales")
    print(table.round(4).to_string())
    ours = float(table.iloc[:2, 0].min())
    print(f"target RMSPE <= 0.12: {'MET' if ours <= 0.12 else 'NOT MET'} ({ours:.4f}); "
          f"fit+predict {seconds:.0f} s")
    closed = scored.loc[scored["store_open"] == 0, ["yhat", *QUANTILE_COLUMNS]]
    print(f"closed test days forecast exactly 0: {bool((closed == 0).all().all())} "
          f"({len(closed)} store-days)")
    coverage = {c: float(np.mean(evaluated["y"] <= evaluated[c])) for c in QUANTILE_COLUMNS}
    print("quantile coverage on open days (share of actuals <= quantile): "
          + ", ".join(f"{k} {v:.3f}" for k, v in coverage.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
