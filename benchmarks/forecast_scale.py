"""Time and peak memory of the production model (`lgbm`) on synthetic daily series.

For each size (10k, 30k, 100k series by default) a fresh subprocess generates 2 years of daily
store x channel x SKU history plus 56 held-out days (negative-binomial demand with weekly and
yearly shape, walk-in zero on Polish closed days), fits the model on the 2 years and forecasts
the 56 days with quantiles. It reports, for fit+predict: wall seconds, CPU seconds of the process
(all threads; on a shared, busy machine wall time overstates, and CPU seconds / 2 bounds the wall
time on 2 idle cores when the work is parallel), peak resident memory of the process (getrusage
maxrss, which includes the generated data) and series per second; then the time of the quantiles
of demand summed over 14 open days, and the accuracy on the held-out days (WAPE, and the share
of actuals at or below q50 / q90 / q99), so a faster path cannot hide a worse forecast.
The growth ratio is the time per series at the largest size over that at the smallest (<= 1:
cost grows no faster than linearly).
Target: 100k series in <= 10 minutes and <= 8 GB on the 2-core machine.

Run: nice -n 10 .venv/bin/python benchmarks/forecast_scale.py [--sizes 10000,30000,100000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HISTORY_DAYS = 730
HORIZON = 56
DEFAULT_SIZES = (10_000, 30_000, 100_000)
TARGET_SECONDS, TARGET_GB = 600.0, 8.0


def synthetic_history(n_series: int, seed: int = 0, days: int = HISTORY_DAYS) -> pd.DataFrame:
    """`unique_id` (categorical), `ds`, `y` (float32) for `days` days from 2023-01-01."""
    from forecasting.calendar import calendar_features

    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-01", periods=days, freq="D")
    calendar = calendar_features(dates, "PL")
    open_flag = calendar["store_open"].to_numpy(np.float32)
    shape = ((1 + 0.25 * np.sin(2 * np.pi * np.arange(days) / 7))
             * (1 + 0.3 * calendar["year_cos"].to_numpy())).astype(np.float32)
    level = rng.gamma(0.8, 2.5, n_series).astype(np.float32)
    walk_in = np.arange(n_series) % 2 == 0
    ids = [f"S{i // 200:04d}|{'store' if w else 'online'}|K{i % 200:05d}"
           for i, w in zip(range(n_series), walk_in, strict=True)]
    means = level[:, None] * shape[None, :]
    means[walk_in] *= open_flag[None, :]
    y = rng.negative_binomial(2, 2 / (2 + means)).astype(np.float32)
    del means
    codes = np.repeat(np.arange(n_series, dtype=np.int32), days)
    return pd.DataFrame({
        "unique_id": pd.Categorical.from_codes(codes, categories=ids),
        "ds": np.tile(dates.to_numpy(), n_series),
        "y": y.ravel(),
    })


def _split(frame: pd.DataFrame, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history, held out): the last `days` days of every series are held out."""
    last = frame["ds"].max()
    held = (frame["ds"] > last - pd.Timedelta(days=days)).to_numpy()
    return frame.loc[~held].reset_index(drop=True), frame.loc[held].reset_index(drop=True)


def _accuracy(forecast: pd.DataFrame, actual: pd.DataFrame) -> dict[str, float]:
    """WAPE of the mean and coverage of three quantiles; both frames put in id, day order."""
    ids = actual["unique_id"].astype("category").cat
    rank = np.argsort(np.argsort(ids.categories.to_numpy().astype(str)))  # string order
    actual = actual.take(np.lexsort((actual["ds"].to_numpy(), rank[ids.codes.to_numpy()])))
    forecast = forecast.sort_values(["unique_id", "ds"])
    if not (np.array_equal(forecast["unique_id"].to_numpy(),
                           actual["unique_id"].astype(str).to_numpy())
            and np.array_equal(forecast["ds"].to_numpy(), actual["ds"].to_numpy())):
        raise RuntimeError("the forecast does not cover exactly the held-out days")
    y = actual["y"].to_numpy(float)
    out = {"wape": float(np.abs(forecast["yhat"].to_numpy() - y).sum() / y.sum())}
    for column in ("q50", "q90", "q99"):
        out[f"cover_{column}"] = float(np.mean(y <= forecast[column].to_numpy()))
    return out


def child(n_series: int) -> None:
    from forecasting.registry import PRODUCTION_MODEL, make_model

    start = time.perf_counter()
    history, held_out = _split(synthetic_history(n_series, days=HISTORY_DAYS + HORIZON), HORIZON)
    generated = time.perf_counter() - start
    model = make_model(PRODUCTION_MODEL, country="PL")
    start, cpu_start = time.perf_counter(), time.process_time()
    model.fit(history)
    fitted = time.perf_counter() - start
    forecast = model.predict(HORIZON)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    start = time.perf_counter()
    model.horizon_demand_quantiles(forecast, open_days=14, n_paths=1000)
    summed = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "series": n_series, "rows": len(history), "generate_s": generated, "fit_s": fitted,
        "wall_s": seconds, "cpu_s": cpu, "peak_rss_gb": usage.ru_maxrss / 1024**2,
        "sum_quantiles_s": summed, "forecast_rows": len(forecast),
        **_accuracy(forecast, held_out)}))


def main(sizes: list[int]) -> int:
    print(f"production model lgbm: {HISTORY_DAYS} days of history, {HORIZON}-day horizon, "
          f"quantiles q50-q99; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
          "at start", flush=True)
    rows = []
    for n in sizes:
        done = subprocess.run([sys.executable, __file__, "--child", str(n)], cwd=ROOT,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{n} series: FAILED\n{done.stderr[-2000:]}")
            break
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["series_per_s"] = n / result["wall_s"]
        result["load_avg"] = os.getloadavg()[0]
        rows.append(result)
        print(f"{n} series: fit+predict {result['wall_s']:.1f} s wall, {result['cpu_s']:.1f} s "
              f"CPU, peak {result['peak_rss_gb']:.2f} GB", flush=True)
    if not rows:
        return 1
    table = pd.DataFrame(rows).set_index("series")
    print("\nfit+predict (wall_s, cpu_s); peak RSS of the whole process; sum_quantiles_s: "
          "quantiles of 14-open-day sums, timed apart")
    print(table[["rows", "fit_s", "wall_s", "cpu_s", "peak_rss_gb", "series_per_s",
                 "sum_quantiles_s", "load_avg"]].round(2).to_string())
    print("\naccuracy on the 56 held-out days (WAPE; share of actuals <= quantile)")
    print(table[["wape", "cover_q50", "cover_q90", "cover_q99"]].round(3).to_string())
    small, big = table.iloc[0], table.iloc[-1]
    if len(table) > 1:
        growth = (big["wall_s"] / big.name) / (small["wall_s"] / small.name)
        growth_cpu = (big["cpu_s"] / big.name) / (small["cpu_s"] / small.name)
        print(f"\ngrowth ratio (time per series at {big.name} / at {small.name}): wall "
              f"{growth:.2f}, CPU {growth_cpu:.2f} (<= 1.00: no worse than linear)")
    scaled = big["wall_s"] * 100_000 / big.name
    verdict = ("MET" if big.name >= 100_000 and big["wall_s"] <= TARGET_SECONDS
               and big["peak_rss_gb"] <= TARGET_GB else "NOT MET" if big.name >= 100_000
               else "not measured at 100k")
    print(f"largest run ({big.name} series) scaled to 100k: {scaled / 60:.1f} min wall, "
          f"{big['cpu_s'] * 100_000 / big.name / 60:.1f} min CPU; peak {big['peak_rss_gb']:.2f} "
          f"GB (target <= {TARGET_SECONDS / 60:.0f} min and <= {TARGET_GB:.0f} GB at 100k: "
          f"{verdict})")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                            help="comma-separated numbers of series")
        parser.add_argument("sizes_positional", nargs="*", type=int, help=argparse.SUPPRESS)
        args = parser.parse_args()
        chosen = args.sizes_positional or [int(s) for s in args.sizes.split(",") if s.strip()]
        raise SystemExit(main(chosen))
