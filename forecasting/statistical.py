"""Per-series statistical models from statsforecast behind the common estimator.

They ignore exogenous columns (the closed-day rule still applies to their output). Fitting is
lazy: statsforecast fits and forecasts in one pass, so `_fit_point` keeps the history and
`_predict_point` runs `StatsForecast.forecast`, locally, on a Dask cluster through Fugue, or
in Ray tasks over chunks of series.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    AutoETS,
    CrostonOptimized,
    DynamicOptimizedTheta,
    Naive,
    SeasonalNaive,
)

from forecasting.calendar import Country
from forecasting.distributed import dask_client, map_series_on_ray
from forecasting.estimator import Forecaster
from forecasting.registry import Engine

SEASON = 7  # daily retail data: the weekly cycle

STAT_MODELS: dict[str, Callable[[], Any]] = {
    "seasonal_naive": lambda: SeasonalNaive(season_length=SEASON),
    "auto_ets": lambda: AutoETS(season_length=SEASON),
    "theta": lambda: DynamicOptimizedTheta(season_length=SEASON),
    "croston": lambda: CrostonOptimized(),
    "tsb": lambda: TSB(alpha_d=0.2, alpha_p=0.2),
    "adida": lambda: ADIDA(),
    "imapa": lambda: IMAPA(),
}


class StatisticalForecaster(Forecaster):
    """One statsforecast model per series, by registry name (see STAT_MODELS)."""

    def __init__(
        self,
        model: str,
        country: Country = "none",
        calibration_days: int = 28,
        n_jobs: int = 1,
        engine: Engine = "local",
    ) -> None:
        super().__init__(country, calibration_days)
        if model not in STAT_MODELS:
            raise ValueError(f"unknown statistical model {model!r}")
        self.model = model
        self.name = model
        self.n_jobs = n_jobs
        self.engine = engine

    def _fit_point(self, history: pd.DataFrame) -> pd.DataFrame:
        return history[["unique_id", "ds", "y"]]

    def _predict_point(
        self, state: Any, history: pd.DataFrame, horizon: int, grid: pd.DataFrame
    ) -> pd.DataFrame:
        sf = StatsForecast(models=[STAT_MODELS[self.model]()], freq="D", n_jobs=self.n_jobs,
                           fallback_model=Naive())
        frame: pd.DataFrame = state
        if self.engine == "dask":
            out = _forecast_on_dask(sf, frame, horizon)
        elif self.engine == "ray":
            out = map_series_on_ray(_forecast_here, frame, sf, horizon)
        else:
            out = _forecast_here(frame, sf, horizon)
        model_column = [c for c in out.columns if c not in ("unique_id", "ds")][0]
        out = out.rename(columns={model_column: "yhat"})
        out["ds"] = pd.to_datetime(out["ds"])
        return _last_value_where_missing(out[["unique_id", "ds", "yhat"]], frame)


def _last_value_where_missing(out: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """A series younger than a season has no same weekday to repeat on some days (the seasonal
    naive leaves them empty, which would be read as 0): those days get its last value."""
    missing = out["yhat"].isna().to_numpy()
    if missing.any():
        last = history.groupby("unique_id", sort=False)["y"].last()
        out.loc[missing, "yhat"] = out.loc[missing, "unique_id"].map(last).to_numpy()
    return out


def _forecast_here(frame: pd.DataFrame, sf: StatsForecast, horizon: int) -> pd.DataFrame:
    """The series of `frame` forecast in this process: the local engine's whole frame, or one
    Ray task's chunk (each series is fitted alone)."""
    with warnings.catch_warnings():  # a series shorter than a season: its gaps filled after
        warnings.filterwarnings("ignore", message=".*shorter than season_length")
        # Theta's seasonality test divides by the variance of a constant series (a SKU that
        # sold nothing, or the same every day): the test says "not seasonal", which is right.
        warnings.filterwarnings("ignore", message="invalid value encountered in divide",
                                category=RuntimeWarning, module=r"statsmodels\.tsa\.stattools")
        out: pd.DataFrame = sf.forecast(h=horizon, df=frame.reset_index(drop=True))
    return out


def _forecast_on_dask(sf: StatsForecast, frame: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """The same forecast, each partition of series fitted on a local Dask cluster (Fugue)."""
    import dask.dataframe as dd

    partitions = max(1, min(4, frame["unique_id"].nunique()))
    ddf = dd.from_pandas(frame.astype({"unique_id": str}), npartitions=partitions)
    with dask_client():
        result: Any = sf.forecast(h=horizon, df=ddf)
        computed = result.compute() if hasattr(result, "compute") else result
    frame_out: pd.DataFrame = computed
    return frame_out.sort_values(["unique_id", "ds"]).reset_index(drop=True)
