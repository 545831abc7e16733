"""Time and peak memory of the production model (`lgbm`) on synthetic daily series.

For each size (10k, 30k, 100k series by default) a fresh subprocess generates 2 years of daily
store x channel x SKU history (negative-binomial demand with weekly and yearly shape, walk-in
zero on Polish closed days), fits the model and forecasts 56 days with quantiles; it reports
wall time of fit+predict, series per second, total CPU seconds of the process (on a shared,
busy machine wall time overstates; CPU seconds / 2 bounds the wall time on 2 idle cores) and its
peak resident memory (getrusage maxrss, which includes the data). Then the quantiles of demand
summed over 14 open days are timed.
Target: 100k series in <= 10 minutes and <= 8 GB on the 2-core machine.

Run: nice -n 10 .venv/bin/python benchmarks/forecast_scale.py [SIZES...]
"""

from __future__ import annotations

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


def synthetic_history(n_series: int, seed: int = 0) -> pd.DataFrame:
    from forecasting.calendar import calendar_features

    rng = np.random.default_rng(seed)
    days = pd.date_range("2023-01-01", periods=HISTORY_DAYS, freq="D")
    calendar = calendar_features(days, "PL")
    open_flag = calendar["store_open"].to_numpy(np.float32)
    shape = ((1 + 0.25 * np.sin(2 * np.pi * np.arange(HISTORY_DAYS) / 7))
             * (1 + 0.3 * calendar["year_cos"].to_numpy())).astype(np.float32)
    level = rng.gamma(0.8, 2.5, n_series).astype(np.float32)
    walk_in = np.arange(n_series) % 2 == 0
    ids = np.array([f"S{i // 200:04d}|{'store' if w else 'online'}|K{i % 200:05d}"
                    for i, w in zip(range(n_series), walk_in, strict=True)], dtype=object)
    means = level[:, None] * shape[None, :]
    means[walk_in] *= open_flag[None, :]
    y = rng.negative_binomial(2, 2 / (2 + means)).astype(np.float32)
    return pd.DataFrame({
        "unique_id": pd.Categorical(np.repeat(ids, HISTORY_DAYS)),
        "ds": np.tile(days.to_numpy(), n_series),
        "y": y.ravel(),
    })


def child(n_series: int) -> None:
    from forecasting.registry import make_model

    start = time.perf_counter()
    history = synthetic_history(n_series)
    generated = time.perf_counter() - start
    start = time.perf_counter()
    model = make_model("lgbm", country="PL")
    model.fit(history)
    fitted = time.perf_counter() - start
    forecast = model.predict(HORIZON)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    model.horizon_demand_quantiles(forecast, open_days=14, n_paths=1000)
    summed = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"series": n_series, "rows": len(history), "generate_s": generated,
                      "fit_s": fitted, "fit_predict_s": seconds, "sum_quantiles_s": summed,
                      "cpu_s": usage.ru_utime + usage.ru_stime,
                      "peak_rss_gb": usage.ru_maxrss / 1024**2, "forecast_rows": len(forecast)}))


def main(sizes: list[int]) -> int:
    print(f"production model lgbm; {HISTORY_DAYS} days of history, {HORIZON}-day horizon; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    rows = []
    for n in sizes:
        done = subprocess.run([sys.executable, __file__, "--child", str(n)], cwd=ROOT,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{n} series: FAILED\n{done.stderr[-2000:]}")
            break
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["series_per_s"] = n / result["fit_predict_s"]
        result["load_avg"] = os.getloadavg()[0]
        rows.append(result)
        print(pd.DataFrame([result]).round(2).to_string(index=False), flush=True)
    if rows:
        table = pd.DataFrame(rows).set_index("series")
        print("\nsummary")
        print(table[["rows", "fit_s", "fit_predict_s", "series_per_s", "sum_quantiles_s",
                     "cpu_s", "peak_rss_gb", "load_avg"]].round(2).to_string())
        big = table.iloc[-1]
        per_100k = big["fit_predict_s"] * 100_000 / big.name
        print(f"largest run scaled to 100k series: {per_100k / 60:.1f} min "
              f"(target <= 10 min), peak {big['peak_rss_gb']:.2f} GB (target <= 8 GB)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
    else:
        raise SystemExit(main([int(a) for a in sys.argv[1:]] or list(DEFAULT_SIZES)))
