"""Rossmann accuracy: 1,115 stores' daily sales, the last 6 weeks of the file as the test.

Test: 2015-05-09 ... 2015-06-19 (42 days); training: everything before. Validation fold: the
42 days before the test (2015-03-28 ... 2015-05-08), trained on everything before it; every
choice (the number of trees by early stopping, the model settings below) was made on it, never
on the test, so ours' validation RMSPE is slightly optimistic. Score: RMSPE over open days with
sales > 0.

Rows: the seasonal naive (last week), the store x weekday x promo median of the training
period, the production model (`lgbm`: recursive, Tweedie, Open/Promo/holidays as exogenous)
and ours (`lgbm_exog`: a direct global LightGBM on log1p(sales) of open days with the Rossmann
known-future columns of benchmarks/rossmann_features.py). The models' validation RMSPE is their
own calibration holdout, which is exactly the validation fold (calibration_days = 42).
Target: RMSPE <= 0.12.

Run: nice -n 10 .venv/bin/python benchmarks/forecast_rossmann.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rossmann_features import add_customer_aggregates, enrich, load  # noqa: E402

from data.public import shared_data_dir  # noqa: E402
from forecasting.estimator import Forecaster  # noqa: E402
from forecasting.quantiles import QUANTILE_COLUMNS  # noqa: E402
from forecasting.registry import make_model  # noqa: E402

HORIZON = 42
TARGET = 0.12
BASIC = ["unique_id", "ds", "y", "store_open", "promo", "state_holiday", "school_holiday"]
# Chosen on the validation fold (RMSPE there, single seed 0.0946): 1/y row weights were worse
# (0.0973); 3 seeds gained 0.001 (0.0936) for 3x the time; a relative correction factor fitted
# on the first 3 weeks of the fold made the last 3 worse (0.0876 -> 0.0916 with 3 seeds), so
# there is none.
DIRECT = {"learning_rate": 0.1, "n_estimators": 2000, "encode_by": ("promo",),
          "drop_zero_days": True, "correction": "none", "calibration_days": HORIZON,
          "num_threads": 2}


def rmspe(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(np.mean(((actual - predicted) / actual) ** 2)))


def scored_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[(frame["store_open"] == 1) & (frame["y"] > 0)]


def seasonal_naive(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    last_week = train.loc[train["ds"] > train["ds"].max() - pd.Timedelta(days=7)]
    lookup = last_week.assign(dow=last_week["ds"].dt.dayofweek)[["unique_id", "dow", "y"]]
    rows = test.assign(dow=test["ds"].dt.dayofweek)[["unique_id", "dow"]]
    return rows.merge(lookup, on=["unique_id", "dow"], how="left")["y"].fillna(0.0).to_numpy()


def weekday_promo_median(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    open_train = scored_rows(train)
    median = (open_train.assign(dow=open_train["ds"].dt.dayofweek)
              .groupby(["unique_id", "dow", "promo"])["y"].median().rename("m").reset_index())
    rows = test.assign(dow=test["ds"].dt.dayofweek)[["unique_id", "dow", "promo"]]
    return rows.merge(median, on=["unique_id", "dow", "promo"], how="left")["m"] \
        .fillna(0.0).to_numpy()


def run_baseline(
    rule: Callable[[pd.DataFrame, pd.DataFrame], np.ndarray], train: pd.DataFrame,
    test: pd.DataFrame, val_cut: pd.Timestamp,
) -> dict[str, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    fold_train, fold_test = train.loc[train["ds"] <= val_cut], train.loc[train["ds"] > val_cut]
    fold = scored_rows(fold_test.assign(yhat=rule(fold_train, fold_test)))
    scored = scored_rows(test.assign(yhat=rule(train, test)))
    return {"validation RMSPE": rmspe(fold["y"].to_numpy(), fold["yhat"].to_numpy()),
            "RMSPE": rmspe(scored["y"].to_numpy(), scored["yhat"].to_numpy()),
            "wall s": time.perf_counter() - start, "CPU s": time.process_time() - cpu}


def run_model(
    model: Forecaster, train: pd.DataFrame, test: pd.DataFrame
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Fit (its holdout of the last 42 days is the validation fold) and forecast the test."""
    start, cpu = time.perf_counter(), time.process_time()
    forecast = model.fit(train).predict(HORIZON, test.drop(columns="y"))
    wall, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    holdout = model.holdout_.drop(columns="store_open", errors="ignore")
    fold = scored_rows(holdout.merge(train[["unique_id", "ds", "store_open"]],
                                     on=["unique_id", "ds"]))
    scored = test[["unique_id", "ds", "y", "store_open"]].merge(forecast, on=["unique_id", "ds"])
    open_days = scored_rows(scored)
    row = {"validation RMSPE": rmspe(fold["y"].to_numpy(), fold["yhat"].to_numpy()),
           "RMSPE": rmspe(open_days["y"].to_numpy(), open_days["yhat"].to_numpy()),
           "wall s": wall, "CPU s": cpu_s}
    return row, scored


def main() -> int:
    path = shared_data_dir() / "rossmann" / "train_until_2015-06-19.csv"
    if not path.exists():
        print(f"SKIPPED: Rossmann data not found at {path} (set OMNI_SHARED_DATA)")
        return 0
    start = time.perf_counter()
    frame, customers = load(path)
    cutoff = frame["ds"].max() - pd.Timedelta(days=HORIZON)
    val_cut = cutoff - pd.Timedelta(days=HORIZON)
    basic = frame[BASIC].assign(state_holiday=(frame["state_holiday"] > 0).astype(int))
    # Customers is not known in the future: only its per-store means before the validation
    # fold enter, so neither the validation nor the test days leak.
    rich = add_customer_aggregates(enrich(frame, path.parent / "store.csv"), customers, val_cut)
    prep_seconds = time.perf_counter() - start

    train, test = basic.loc[basic["ds"] <= cutoff], basic.loc[basic["ds"] > cutoff]
    rows = {
        "seasonal naive (last week)": run_baseline(seasonal_naive, train, test, val_cut),
        "store x weekday x promo median": run_baseline(weekday_promo_median, train, test,
                                                       val_cut),
    }
    rows["lgbm (production: recursive, Tweedie)"], _ = run_model(
        make_model("lgbm", country="DE", calibration_days=HORIZON), train, test)
    ours, scored = run_model(
        make_model("lgbm_exog", country="DE", **DIRECT),
        rich.loc[rich["ds"] <= cutoff], rich.loc[rich["ds"] > cutoff])
    rows["ours: lgbm_exog (direct, log target)"] = ours
    table = pd.DataFrame(rows).T

    evaluated = scored_rows(scored)
    print(f"Rossmann, {frame['unique_id'].nunique()} stores, test {test['ds'].min().date()} .. "
          f"{test['ds'].max().date()} ({HORIZON} days, {len(evaluated)} open store-days with "
          f"sales); validation {(val_cut + pd.Timedelta(days=1)).date()} .. {cutoff.date()}; "
          f"data preparation {prep_seconds:.0f} s")
    print(f"ours: {DIRECT}")
    print(table.round({"validation RMSPE": 4, "RMSPE": 4, "wall s": 0, "CPU s": 0}).to_string())
    result = float(ours["RMSPE"])
    production = float(rows["lgbm (production: recursive, Tweedie)"]["RMSPE"])
    print(f"target RMSPE <= {TARGET}: {'MET' if result <= TARGET else 'NOT MET'} "
          f"({result:.4f}); ours / production lgbm RMSPE = {result / production:.3f}")
    closed = scored.loc[scored["store_open"] == 0, ["yhat", *QUANTILE_COLUMNS]]
    print(f"closed test days forecast exactly 0: {bool((closed == 0).all().all())} "
          f"({len(closed)} store-days)")
    coverage = {c: float(np.mean(evaluated["y"] <= evaluated[c])) for c in QUANTILE_COLUMNS}
    print("ours, quantile coverage on open test days (share of actuals <= quantile): "
          + ", ".join(f"{k} {v:.3f}" for k, v in coverage.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
