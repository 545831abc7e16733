"""The same forecast on the three engines: local, a local Dask cluster, a local Ray runtime.

For each model (AutoETS, fitted per series; `lgbm`, trained once and forecast recursively per
series) it times fit + predict with quantiles of synthetic 2-year daily series (the
scale benchmark's generator) on each engine, the cluster's start-up apart, and checks that
every engine wrote the local engine's forecast. Ratios are against local in the same run. On
2 cores the distributed engines can at best halve the per-series work; they are there for
larger machines and clusters, and this shows what they cost where they cannot help.

Run: nice -n 10 .venv/bin/python benchmarks/forecast_engines.py [--ets-series 400]
     [--lgbm-series 10000]
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

from forecast_scale import synthetic_history  # noqa: E402

from api.cli_forecast import EngineOption, engine_runtime  # noqa: E402
from forecasting.registry import make_model  # noqa: E402

HORIZON = 56
ENGINES = ("local", "dask", "ray")


def run(name: str, history: pd.DataFrame) -> pd.DataFrame:
    """Seconds of start-up and of fit + predict per engine, and the largest difference of any
    forecast column from the local engine's."""
    rows, local = [], None
    for engine in ENGINES:
        start = time.perf_counter()
        with engine_runtime(EngineOption(engine)):  # what `omni forecast --engine` starts
            started = time.perf_counter() - start
            begin = time.perf_counter()
            model = make_model(name, country="PL", engine=engine)  # type: ignore[arg-type]
            forecast = model.fit(history).predict(HORIZON)
            seconds = time.perf_counter() - begin
        forecast = forecast.sort_values(["unique_id", "ds"]).reset_index(drop=True)
        local = forecast if local is None else local
        numeric = forecast.select_dtypes("number").columns
        diff = float(np.abs(forecast[numeric].to_numpy() - local[numeric].to_numpy()).max())
        rows.append({"engine": engine, "start-up s": started, "fit+predict s": seconds,
                     "x local": seconds / rows[0]["fit+predict s"] if rows else 1.0,
                     "max |diff| vs local": diff})
        print(f"{name} on {engine}: {seconds:.1f} s (+{started:.1f} s start-up)", flush=True)
    return pd.DataFrame(rows).set_index("engine")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ets-series", type=int, default=400)
    parser.add_argument("--lgbm-series", type=int, default=10_000)
    args = parser.parse_args(argv)
    for name, count in (("auto_ets", args.ets_series), ("lgbm", args.lgbm_series)):
        history = synthetic_history(count)
        table = run(name, history)
        print(f"\n{name}: {count} series x {history['ds'].nunique()} days, {HORIZON}-day "
              "forecast with quantiles")
        print(table.round(3).to_string(), "\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
