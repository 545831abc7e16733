"""A global LightGBM model over all series (mlforecast): the approach that won M5.

Features: recursive lags of demand, rolling and same-weekday rolling means, the retail calendar
(holidays, store_open, trading Sundays, peaks, days-to-peak), the channel of the series, and
every exogenous column of the history (price, promo...). Tweedie objective: retail demand is a
non-negative count with many zeros. To bound time and memory on 100k series, training uses the
last `train_days` days of at most `max_train_rows` rows (a seeded sample of whole series);
forecasts are still made for every series from its own recent history.

A day's features read up to `feature_reach` days before it (the 28-day lag's 28-day rolling
mean: 55), and only days with all of them train the model. A series younger than that (a SKU
launched weeks ago) would be forecast with its missing features read as 0, i.e. as no demand,
so it is forecast at the mean of its open days instead. A history in which no series is old
enough to train on is refused with the number of days it needs.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from mlforecast import MLForecast
from mlforecast.lag_transforms import RollingMean, SeasonalRollingMean
from mlforecast.target_transforms import GlobalSklearnTransformer
from sklearn.preprocessing import FunctionTransformer

from forecasting.calendar import Country
from forecasting.closed_days import closed_mask
from forecasting.distributed import dask_client, map_series_on_ray
from forecasting.errors import ForecastInputError
from forecasting.estimator import Forecaster
from forecasting.features import CHANNEL_CODE, add_calendar, add_channel_code, learns_yearly
from forecasting.registry import Engine
from forecasting.series_index import DAY_NS, SeriesIndex, row_positions

DEFAULT_LAGS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 14, 21, 28)
# Rolling means of lagged demand, by lag: (window, season) with season 1 for consecutive days;
# (4, 7) is the mean of the same weekday over the last 4 weeks.
ROLLING_MEANS: dict[int, tuple[tuple[int, int], ...]] = {
    1: ((7, 1), (28, 1), (4, 7)),
    7: ((7, 1), (28, 1)),
    28: ((28, 1),),
}
# LightGBM bags 80% of the rows: of a single row it keeps none and refuses to train.
_MIN_TRAINING_ROWS = 2


@dataclass(frozen=True)
class FittedPipeline:
    """A fitted mlforecast pipeline and whether it was given the yearly calendar columns
    (only when its training window spans two years: `features.learns_yearly`)."""

    mlf: MLForecast
    yearly: bool


class LGBMForecaster(Forecaster):
    """Global gradient boosting with a Tweedie objective (name `lgbm`)."""

    name = "lgbm"

    def __init__(
        self,
        country: Country = "none",
        calibration_days: int = 28,
        lags: tuple[int, ...] = DEFAULT_LAGS,
        n_estimators: int = 400,
        learning_rate: float = 0.05,
        num_leaves: int = 63,
        min_child_samples: int = 20,
        feature_fraction: float = 0.8,
        bagging_fraction: float = 0.8,
        bagging_freq: int = 1,
        objective: str = "tweedie",
        tweedie_variance_power: float = 1.2,
        train_days: int | None = 730,
        max_train_rows: int = 2_000_000,
        num_threads: int = 2,
        seed: int = 0,
        engine: Engine = "local",
        log_target: bool = False,
    ) -> None:
        super().__init__(country, calibration_days)
        self.lags = lags
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.bagging_freq = bagging_freq
        self.objective = objective
        self.tweedie_variance_power = tweedie_variance_power
        self.train_days = train_days
        self.max_train_rows = max_train_rows
        self.num_threads = num_threads
        self.seed = seed
        self.engine = engine
        self.log_target = log_target

    def _regressor(self) -> lgb.LGBMRegressor:
        params: dict[str, Any] = {
            "objective": self.objective,
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": self.bagging_freq,
            "n_jobs": self.num_threads,
            "random_state": self.seed,
            "verbosity": -1,
        }
        if self.objective == "tweedie":
            params["tweedie_variance_power"] = self.tweedie_variance_power
        return lgb.LGBMRegressor(**params)

    def _pipeline(self) -> MLForecast:
        return MLForecast(
            models={"lgbm": self._regressor()},
            freq="D",
            lags=list(self.lags),
            lag_transforms={
                lag: [RollingMean(window_size=window) if season == 1 else
                      SeasonalRollingMean(season_length=season, window_size=window)
                      for window, season in means]
                for lag, means in ROLLING_MEANS.items()},
            num_threads=self.num_threads,
            target_transforms=[_log1p()] if self.log_target else None,
        )

    @property
    def feature_reach(self) -> int:
        """How many days before a day its features read: a series needs that many days before
        a day can train the model, and before its first forecast day has every feature."""
        rolling = [lag + season * (window - 1)
                   for lag, means in ROLLING_MEANS.items() for window, season in means]
        return max([*self.lags, *rolling])

    @property
    def min_history_days(self) -> int:
        """Days of one series the model needs to be trained at all."""
        return self.feature_reach + _MIN_TRAINING_ROWS

    def _trainable(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
        """Of a daily training frame: the series old enough to give a day with every feature
        (younger ones give none, and mlforecast would warn that it dropped them), how many such
        days they give, and the longest series' days."""
        days = rows["unique_id"].value_counts()
        old = days[days > self.feature_reach]
        if len(old) < len(days):
            rows = rows.loc[rows["unique_id"].isin(old.index)]
        longest = int(days.max()) if len(days) else 0
        return rows, int((old - self.feature_reach).sum()), longest

    def _calendar(self, frame: pd.DataFrame, yearly: bool) -> pd.DataFrame:
        return add_calendar(frame, self.country, yearly=yearly, day_of_month=True)

    def _features(self, frame: pd.DataFrame, yearly: bool) -> pd.DataFrame:
        return add_channel_code(self._calendar(frame, yearly))

    def _window(self) -> int:
        """Rows of each series' recent history the recursive features need (longest lag plus
        the longest rolling window, at least `feature_reach`, and a week to spare)."""
        return max(max(self.lags) + 28, self.feature_reach) + 7

    def _training_positions(
        self, index: SeriesIndex, end: np.ndarray, usable: np.ndarray | None = None
    ) -> np.ndarray:
        """Rows that train the model: each usable series' rows before `end` in the last
        `train_days` days, from a seeded sample of whole series when those exceed
        `max_train_rows` (series stay whole so their lags and rolling means are intact)."""
        chosen = np.ones(len(index), bool) if usable is None else usable.copy()
        lo = index.starts
        if self.train_days is not None and chosen.any():
            last = int(index.ds_ns[end[chosen] - 1].max())
            lo = index.first_after(last - self.train_days * DAY_NS, index.starts, end)
        counts = np.where(chosen, end - lo, 0)
        total = int(counts.sum())
        if total > self.max_train_rows:
            with_rows = np.flatnonzero(counts > 0)
            keep = int(len(with_rows) * self.max_train_rows / total)
            picked = np.random.default_rng(self.seed).choice(with_rows, size=max(keep, 1),
                                                             replace=False)
            chosen = np.zeros(len(index), bool)
            chosen[picked] = True
        return row_positions(lo[chosen], end[chosen])

    def _fit_rows(self, rows: pd.DataFrame) -> FittedPipeline:
        rows, trainable, longest = self._trainable(rows)
        if trainable < _MIN_TRAINING_ROWS:
            window = (f" (its training window, train_days, is {self.train_days} days)"
                      if self.train_days is not None and self.train_days < self.min_history_days
                      else "")
            raise ForecastInputError(
                f"history too short for {self.name}: it learns only from days that follow "
                f"{self.feature_reach} days of their series (its longest lag and rolling mean), "
                f"so at least one series needs {self.min_history_days} days"
                f"{window}; the longest has {longest}. Use a statistical model (seasonal_naive, "
                "auto_ets) for shorter histories")
        if not float(rows["y"].sum()) > 0:
            raise ForecastInputError(
                f"every y {self.name} would learn from is 0: a Tweedie model has no demand to "
                "learn the shape of. Forecast these series with a statistical model "
                "(seasonal_naive, croston), which forecasts them at 0")
        return self._fit_trainable(rows)

    def _fit_trainable(self, rows: pd.DataFrame) -> FittedPipeline:
        """Fit on rows `_trainable` has kept and found enough."""
        mlf = self._pipeline()
        yearly = learns_yearly(rows["ds"])
        mlf.fit(self._features(rows.reset_index(drop=True), yearly),
                static_features=[CHANNEL_CODE], dropna=True, keep_last_n=self._window())
        return FittedPipeline(mlf, yearly)

    def _fit_point(self, history: pd.DataFrame) -> FittedPipeline:
        index = SeriesIndex.of(history)
        return self._fit_rows(history.take(self._training_positions(index, index.ends)))

    def _holdout_means(
        self, history: pd.DataFrame, index: SeriesIndex, cut: np.ndarray, usable: np.ndarray,
        future: pd.DataFrame | None,
    ) -> pd.DataFrame:
        """The holdout model needs only its training rows and each series' recent window
        before the cut, so the history before the cut is never copied whole. Too few rows to
        train it on: no holdout, as when no series is long enough for one."""
        train = history.take(self._training_positions(index, cut, usable))
        train, trainable, _ = self._trainable(train)
        if trainable < _MIN_TRAINING_ROWS or not float(train["y"].sum()) > 0:
            return pd.DataFrame(columns=["unique_id", "ds", "yhat"])
        state = self._fit_trainable(train)
        lo = np.maximum(index.starts, cut - self._window())
        recent = history.take(row_positions(lo[usable], cut[usable])).reset_index(drop=True)
        return self._mean(state, recent, self.calibration_days, future)

    def _predict_point(
        self, state: Any, history: pd.DataFrame, horizon: int, grid: pd.DataFrame
    ) -> pd.DataFrame:
        fitted: FittedPipeline = state
        mlf = fitted.mlf
        index = SeriesIndex.of(history)
        young = index.ends - index.starts < self.feature_reach
        if young.any():
            fallback = self._young_series_means(history, index, young, grid)
            if young.all():
                return fallback
            history = history.take(row_positions(index.starts[~young], index.ends[~young]))
            history = history.reset_index(drop=True)
            grid = grid.loc[~grid["unique_id"].isin(index.ids[young])].reset_index(drop=True)
            point = self._predict_point(state, history, horizon, grid)
            return pd.concat([point, fallback], ignore_index=True)
        lo = np.maximum(index.starts, index.ends - self._window())
        recent = history.take(row_positions(lo, index.ends)).reset_index(drop=True)
        # mlforecast orders features by new_df's columns
        new_df = self._features(recent, fitted.yearly)
        x_df = self._calendar(grid, fitted.yearly)
        if self.engine == "dask":
            out = _predict_on_dask(mlf, horizon, new_df, x_df)
        elif self.engine == "ray":
            out = map_series_on_ray(_predict_series, new_df, mlf, horizon, x_df)
        else:
            with _young_series_expected():
                out = mlf.predict(h=horizon, new_df=new_df, X_df=x_df)
        return out.rename(columns={"lgbm": "yhat"})[["unique_id", "ds", "yhat"]]

    def _young_series_means(
        self, history: pd.DataFrame, index: SeriesIndex, young: np.ndarray, grid: pd.DataFrame
    ) -> pd.DataFrame:
        """The grid days of the `young` series at the mean of each one's open days so far.
        The model never saw a missing feature in training and reads one as 0, i.e. no demand:
        on the demo chain (4 stores x 6 SKUs), walk-in series selling 0.5-1.9 a day, cut to
        their last 3-28 days, were forecast at 0.07-0.22 a day (at 42 days 0.28-0.76; from 56
        days on as from their whole history)."""
        rows = history.take(row_positions(index.starts[young], index.ends[young]))
        open_rows = rows.loc[~closed_mask(rows, self.country)]
        means = open_rows.groupby("unique_id", sort=False)["y"].mean()
        days = grid.loc[grid["unique_id"].isin(index.ids[young]), ["unique_id", "ds"]]
        yhat = days["unique_id"].map(means).fillna(0.0).to_numpy(float)
        return days.assign(yhat=yhat).reset_index(drop=True)


@contextmanager
def _young_series_expected() -> Iterator[None]:
    """mlforecast warns once per forecast day about a series with a feature missing: 56 lines
    in a weekly batch. Series younger than `feature_reach` no longer reach the model, so none
    is expected; this stays as a guard. Other warnings pass."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Found null values in", category=UserWarning)
        yield


def _log1p() -> GlobalSklearnTransformer:
    """Model log(1 + y): errors become relative (suits RMSPE-scored store sales); use with
    objective="regression", since the forecast is then a geometric rather than arithmetic mean."""
    return GlobalSklearnTransformer(FunctionTransformer(np.log1p, np.expm1))


def _predict_series(
    part: pd.DataFrame, mlf: MLForecast, horizon: int, x_df: pd.DataFrame
) -> pd.DataFrame:
    ids = part["unique_id"].unique()
    if len(ids) == 0:
        return pd.DataFrame({"unique_id": pd.Series(dtype=str),
                             "ds": pd.Series(dtype="datetime64[ns]"),
                             "lgbm": pd.Series(dtype=float)})
    with _young_series_expected():
        out = mlf.predict(h=horizon, new_df=part.reset_index(drop=True),
                          X_df=x_df.loc[x_df["unique_id"].isin(ids)].reset_index(drop=True))
    return out[["unique_id", "ds", "lgbm"]]


def _predict_on_dask(
    mlf: MLForecast, horizon: int, new_df: pd.DataFrame, x_df: pd.DataFrame
) -> pd.DataFrame:
    """The recursive forecast partitioned by series over Dask workers (the active
    distributed client if there is one). The model is trained once (training rows are capped);
    what grows with the number of series is this step, and each series is independent, so the
    result equals the local one."""
    import dask.dataframe as dd

    ids = new_df["unique_id"].astype(str).to_numpy()
    partitions = max(1, min(8, len(np.unique(ids))))
    indexed = new_df.assign(unique_id=ids).set_index("unique_id", drop=False)
    indexed.index.name = None
    ddf = dd.from_pandas(indexed.sort_index(kind="stable"), npartitions=partitions, sort=True)
    meta = _predict_series(new_df.iloc[:0], mlf, horizon, x_df)
    with dask_client():
        result = ddf.map_partitions(_predict_series, mlf, horizon, x_df, meta=meta).compute()
    frame: pd.DataFrame = result
    return frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)
