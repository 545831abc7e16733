"""What sold-out days recorded as demand cost a forecast, and how much restoring them wins back.

Real demand with a known truth: the 204 real M5 item-store series (`../shared/data/m5`), in the
M5 benchmark's four windows (three 28-day validation folds with unit-sales weights, then train
through d_1913 and forecast d_1914 ... d_1941 with the official weights; the same scorer).
Into each window's training history go stock-outs the data did not have: a seeded third of the
series each lose one spell of 7-28 days inside their last 91 days of history (a third of the
spells run up to the forecast origin, the case that hurts most); inside a spell the shelf is
empty, so the recorded sales are 0 and the day is flagged.

Each model is fitted three times on the same series:
- `clean`: the true history (no stock-out): the reference;
- `as recorded`: the censored history, the zeros taken as demand (what a service without
  stock flags does);
- `restored`: the censored history through `forecasting.censoring` (what the weekly batch and
  `omni forecast --censored-column` do).
Printed per model and window: mean WRMSSE of the three levels and the forecast total over the
actual total (bias); then, over the four windows, how much of the damage restoring recovers.

Run: nice -n 10 .venv/bin/python benchmarks/forecast_censoring.py [--models lgbm auto_ets]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from forecast_m5 import (  # noqa: E402
    FOLDS,
    HORIZON,
    MEAN,
    TRAIN_END,
    load,
    split,
    unit_weights,
    wrmsse_table,
)

from data.public import shared_data_dir  # noqa: E402
from forecasting.censoring import restore_censored_demand  # noqa: E402
from forecasting.registry import PRODUCTION_MODEL, make_model  # noqa: E402

SEED = 7
SHARE_OF_SERIES = 1 / 3
SPELL_DAYS = (7, 28)
RECENT_DAYS = 91
AT_ORIGIN_SHARE = 1 / 3
FLAG = "stockout"


def inject_stock_outs(train: pd.DataFrame, seed: int = SEED) -> tuple[pd.DataFrame, int]:
    """`train` with a `stockout` column and y = 0 inside the injected spells; the number of
    censored days. One spell for a seeded share of the series, inside its last RECENT_DAYS."""
    rng = np.random.default_rng(seed)
    frame = train.assign(**{FLAG: 0}).reset_index(drop=True)
    ids = frame["unique_id"].unique()
    hit = rng.choice(ids, size=int(len(ids) * SHARE_OF_SERIES), replace=False)
    origin = frame["ds"].max()
    for uid in hit:
        days = int(rng.integers(SPELL_DAYS[0], SPELL_DAYS[1] + 1))
        if rng.random() < AT_ORIGIN_SHARE:
            end = origin
        else:
            end = origin - pd.Timedelta(days=int(rng.integers(days, RECENT_DAYS)))
        spell = ((frame["unique_id"] == uid) & (frame["ds"] > end - pd.Timedelta(days=days))
                 & (frame["ds"] <= end))
        frame.loc[spell, FLAG] = 1
        frame.loc[spell, "y"] = 0.0
    return frame, int(frame[FLAG].sum())


def forecast(name: str, history: pd.DataFrame, future: pd.DataFrame) -> pd.DataFrame:
    """The point forecast of `name` (no quantile calibration: only the mean is scored)."""
    model = make_model(name, country="US", calibration_days=0).fit(history)
    return model.predict(HORIZON, future)[["unique_id", "ds", "yhat"]]


def score_window(
    history: pd.DataFrame, origin: pd.Timestamp, weights: pd.Series, models: list[str]
) -> list[dict[str, object]]:
    """One row per model x history variant: mean WRMSSE of 3 levels and forecast/actual units."""
    train, test = split(history, origin)
    future = test.drop(columns="y")
    censored, days = inject_stock_outs(train)
    restored = restore_censored_demand(censored, FLAG, "US")
    hidden = float(train["y"].sum() - censored["y"].sum())
    flagged = censored[FLAG].to_numpy() == 1
    truth = train["y"].to_numpy(float)[flagged]
    error = np.abs(restored.history["y"].to_numpy(float)[flagged] - truth).mean()
    print(f"window to {origin.date()}: {censored.loc[flagged, 'unique_id'].nunique()}"
          f" of {train['unique_id'].nunique()} series, {days} sold-out days hiding "
          f"{hidden:,.0f} units of demand; restored estimate of them: "
          f"{restored.added_units:,.0f} units; mean absolute error per sold-out day "
          f"{error:.3f} units (the recorded zeros: {truth.mean():.3f})", flush=True)
    histories = {"clean": train, "as recorded": censored.drop(columns=FLAG),
                 "restored": restored.history}
    rows: list[dict[str, object]] = []
    for name in models:
        scored = test[["unique_id", "ds", "y"]].copy()
        for label, frame in histories.items():
            predicted = forecast(name, frame, future).rename(columns={"yhat": label})
            scored = scored.merge(predicted, on=["unique_id", "ds"])
        table = wrmsse_table(train, scored, weights, list(histories))
        for label in histories:
            rows.append({"window": str(origin.date()), "model": name, "history": label,
                         "mean WRMSSE (3 levels)": table.loc[MEAN, label],
                         "forecast / actual units": scored[label].sum() / scored["y"].sum()})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=[PRODUCTION_MODEL, "auto_ets"])
    args = parser.parse_args(argv)
    m5 = shared_data_dir() / "m5"
    if not (m5 / "sales_long_204series_20150101_20160522.parquet").exists():
        print(f"SKIPPED: M5 data not found at {m5} (set OMNI_SHARED_DATA)")
        return 0
    history, official = load(m5)
    start = time.perf_counter()
    rows = []
    for k in range(FOLDS, -1, -1):
        origin = TRAIN_END - pd.Timedelta(days=HORIZON * k)
        weights = official if k == 0 else unit_weights(split(history, origin)[0])
        rows += score_window(history, origin, weights, args.models)
    result = (pd.DataFrame(rows).sort_values(["model", "window"], kind="stable")
              .set_index(["model", "window", "history"]))
    print("\nM5, 204 real series; stock-outs injected into each window's training history "
          f"only (the last window, {TRAIN_END.date()}, is the M5 test)")
    print(result.round(4).to_string())
    wrmsse = result["mean WRMSSE (3 levels)"].unstack("history").groupby("model").mean()
    print("\nmean over the four windows:")
    for name in args.models:
        clean, recorded, fixed = wrmsse.loc[name, ["clean", "as recorded", "restored"]]
        recovered = (recorded - fixed) / (recorded - clean)
        print(f"{name}: stock-outs taken as demand cost {recorded / clean - 1:+.1%} WRMSSE; "
              f"restored {fixed / clean - 1:+.1%} ({recovered:.0%} of the damage recovered)")
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
