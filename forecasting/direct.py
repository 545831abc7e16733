"""A direct global LightGBM for series whose future is mostly explained by known-future columns.

Where the recursive model (`lgbm`) feeds its own forecasts back as lags, this one predicts
every day of the horizon straight from what is known about that day: the series (categorical),
the calendar, the exogenous columns of the future frame (opening, promo, holidays...), and
per-series aggregates of the training window (mean log demand overall, by weekday, by each
`encode_by` column, and over the last `recent_days`). No lag of the target is used, so an error
on day 1 does not compound to day 42: the approach that won Rossmann-style store-sales
competitions. (`lgbm_direct` in direct_lgbm.py is the other direct model: origin x horizon rows
with lag features, for series whose own recent history carries the signal, as in M5.)

Training rows are the open days (`store_open` != 0 when the column exists; closed days are
forecast 0 by the shared closed-day rule) and, with `drop_zero_days`, days with demand > 0 only.
The target is log1p(y), so the L2 loss is close to a relative error. The number of trees is
chosen by early stopping on the calibration holdout (the last `calibration_days` of the
history, which the shared flow refits without anyway), and an optional multiplicative
correction minimising the squared relative error is fitted on the same holdout. Nothing is
learned from the future frame but its exogenous columns.

Daily quantiles are the forecast times quantiles of the holdout's actual-to-forecast ratios
(open days). Store sales run in the hundreds or thousands, where count noise is nothing beside
the model's relative error, and a log-target forecast sits below the arithmetic mean, so
negative-binomial quantiles centred on it under-cover (q50 covered 36 % of Rossmann test days).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd

from forecasting.calendar import Country
from forecasting.closed_days import STORE_OPEN
from forecasting.estimator import Forecaster
from forecasting.features import add_calendar
from forecasting.quantiles import QUANTILE_COLUMNS, QUANTILE_LEVELS
from forecasting.series_index import SeriesIndex, row_positions
from forecasting.validation import ForecastInputError

Correction = Literal["none", "relative", "relative_per_series"]
SERIES_CODE = "series_code"
_SHRINK_ROWS = 20.0  # pseudo-rows of the global factor in each series' correction


@dataclass(frozen=True)
class KnownFutureState:
    """What a fit learned: the boosters, the series codes and the per-series aggregates."""

    boosters: tuple[lgb.Booster, ...]
    series: pd.Index
    encodings: dict[str, pd.Series]
    features: tuple[str, ...]


class KnownFutureLGBMForecaster(Forecaster):
    """Direct global LightGBM on log1p(y) with known-future exogenous columns (`lgbm_exog`)."""

    name = "lgbm_exog"

    def __init__(
        self,
        country: Country = "none",
        calibration_days: int = 42,
        n_estimators: int = 3000,
        learning_rate: float = 0.05,
        num_leaves: int = 63,
        min_child_samples: int = 20,
        feature_fraction: float = 0.7,
        bagging_fraction: float = 0.9,
        early_stopping_rounds: int = 200,
        seeds: tuple[int, ...] = (0,),
        encode_by: tuple[str, ...] = (),
        recent_days: int = 91,
        drop_zero_days: bool = False,
        train_days: int | None = None,
        correction: Correction = "none",
        relative_weight: bool = False,
        num_threads: int = 2,
    ) -> None:
        super().__init__(country, calibration_days)
        if not seeds:
            raise ValueError("seeds: at least one seed is needed")
        if correction not in ("none", "relative", "relative_per_series"):
            raise ValueError(f"correction must be none, relative or relative_per_series, "
                             f"got {correction!r}")
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.early_stopping_rounds = early_stopping_rounds
        self.seeds = tuple(seeds)
        self.encode_by = tuple(encode_by)
        self.recent_days = recent_days
        self.drop_zero_days = drop_zero_days
        self.train_days = train_days
        self.correction = correction
        self.relative_weight = relative_weight
        self.num_threads = num_threads
        # Learned on the holdout (see _holdout); these defaults mean "not learned".
        self.best_rounds_: int | None = None
        self.factor_ = 1.0
        self.series_factor_ = pd.Series(dtype=float)
        self.ratio_quantiles_: np.ndarray | None = None  # per QUANTILE_LEVELS, from the holdout

    # --- the point model --------------------------------------------------------------------
    def _fit_point(
        self, history: pd.DataFrame, valid: pd.DataFrame | None = None
    ) -> KnownFutureState:
        """Fit on `history`; with `valid`, stop early on it and remember the best tree count
        (`best_rounds_`), which a later fit without `valid` then uses."""
        rows = self._training_rows(history)
        if rows.empty:
            raise ForecastInputError("no training day with demand left (all closed or zero)")
        missing = [c for c in self.encode_by if c not in rows.columns]
        if missing:
            raise ForecastInputError(f"encode_by column(s) {', '.join(missing)} not in the "
                                     f"history", column=missing[0])
        series = pd.Index(np.sort(rows["unique_id"].unique()))
        encodings = self._encodings(rows)
        design = self._design(rows, series, encodings)
        features = tuple(design.columns)
        target = np.log1p(rows["y"].to_numpy(float))
        train_set = lgb.Dataset(design, target, weight=self._weights(rows),
                                categorical_feature=[SERIES_CODE], free_raw_data=False)
        eval_sets: list[lgb.Dataset] = []
        if valid is not None:
            valid_rows = self._training_rows(valid)
            valid_rows = valid_rows.loc[valid_rows["unique_id"].isin(series)]
            if not valid_rows.empty:
                eval_sets.append(lgb.Dataset(
                    self._design(valid_rows, series, encodings)[list(features)],
                    np.log1p(valid_rows["y"].to_numpy(float)),
                    weight=self._weights(valid_rows), reference=train_set))
        rounds = self.n_estimators if valid is not None or self.best_rounds_ is None else (
            self.best_rounds_)
        boosters, best = [], []
        for seed in self.seeds:
            callbacks: list[Callable[..., Any]] = []
            if eval_sets:
                callbacks.append(lgb.early_stopping(self.early_stopping_rounds, verbose=False))
            booster = lgb.train(self._params(seed), train_set, num_boost_round=rounds,
                                valid_sets=eval_sets, callbacks=callbacks)
            best.append(booster.best_iteration or rounds)
            boosters.append(booster)
        if eval_sets:
            # The full history has `calibration_days` more days than the holdout fit: a few
            # more trees than the holdout's best suit it.
            self.best_rounds_ = max(1, round(float(np.mean(best)) * 1.05))
        return KnownFutureState(tuple(boosters), series, encodings, features)

    def _predict_point(
        self, state: Any, history: pd.DataFrame, horizon: int, grid: pd.DataFrame
    ) -> pd.DataFrame:
        fitted: KnownFutureState = state
        design = self._design(grid, fitted.series, fitted.encodings)[list(fitted.features)]
        log_mean = np.mean([b.predict(design, num_iteration=b.best_iteration or None)
                            for b in fitted.boosters], axis=0)
        out = grid[["unique_id", "ds"]].copy()
        out["yhat"] = np.expm1(log_mean) * self._factor(out["unique_id"])
        return out

    def _holdout(self, history: pd.DataFrame) -> pd.DataFrame:
        """The last `calibration_days` serve three jobs: early stopping (tree count), the
        multiplicative correction and the spread of the quantiles (ratio quantiles here, the
        shared dispersion for summed-horizon quantiles)."""
        self.factor_ = 1.0
        self.series_factor_ = pd.Series(dtype=float)
        self.ratio_quantiles_ = None
        self.best_rounds_ = None
        holdout = super()._holdout(history)
        if holdout.empty:
            return holdout
        self._fit_correction(holdout)
        holdout["yhat"] = holdout["yhat"].to_numpy() * self._factor(holdout["unique_id"])
        self.ratio_quantiles_ = _ratio_quantiles(holdout)
        return holdout

    def _daily_quantiles(self, mean: pd.DataFrame) -> pd.DataFrame:
        """Forecast x the holdout's ratio quantiles; count quantiles when no holdout was
        fitted (calibration_days=0, or too short a history)."""
        if self.ratio_quantiles_ is None:
            return super()._daily_quantiles(mean)
        out = mean.copy()
        yhat = mean["yhat"].to_numpy(float)
        for column, ratio in zip(QUANTILE_COLUMNS, self.ratio_quantiles_, strict=True):
            out[column] = yhat * ratio
        return out

    def _holdout_means(
        self, history: pd.DataFrame, index: SeriesIndex, cut: np.ndarray, usable: np.ndarray,
        future: pd.DataFrame | None,
    ) -> pd.DataFrame:
        """As the shared flow, but the holdout days also stop the boosting early."""
        train = history.take(row_positions(index.starts[usable], cut[usable]))
        train = train.reset_index(drop=True)
        test = history.take(row_positions(cut[usable], index.ends[usable]))
        state = self._fit_point(train, valid=test.reset_index(drop=True))
        return self._mean(state, train, self.calibration_days, future)

    # --- pieces -----------------------------------------------------------------------------
    def _params(self, seed: int) -> dict[str, Any]:
        return {
            "objective": "regression",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1,
            "cat_smooth": 10.0,
            "num_threads": self.num_threads,
            "seed": seed,
            "deterministic": True,
            "verbosity": -1,
        }

    def _training_rows(self, history: pd.DataFrame) -> pd.DataFrame:
        rows = history
        if STORE_OPEN in rows.columns:
            rows = rows.loc[rows[STORE_OPEN].to_numpy() != 0]
        if self.drop_zero_days:
            rows = rows.loc[rows["y"].to_numpy() > 0]
        if self.train_days is not None and not rows.empty:
            last = rows["ds"].max()
            rows = rows.loc[rows["ds"] > last - pd.Timedelta(days=self.train_days)]
        return rows.reset_index(drop=True)

    def _weights(self, rows: pd.DataFrame) -> np.ndarray | None:
        """With `relative_weight`, a row weighs 1 / y (renormalised): small days count more,
        as they do in a percentage error."""
        if not self.relative_weight:
            return None
        weight = 1.0 / np.clip(rows["y"].to_numpy(float), 1.0, None)
        return np.asarray(weight / weight.mean())

    def _encodings(self, rows: pd.DataFrame) -> dict[str, pd.Series]:
        """Per-series means of log demand on the training rows (the future never enters)."""
        frame = pd.DataFrame({"unique_id": rows["unique_id"].to_numpy(),
                              "log_y": np.log1p(rows["y"].to_numpy(float)),
                              "dow": rows["ds"].dt.dayofweek.to_numpy()})
        level = frame.groupby("unique_id")["log_y"].mean()
        out = {"series_level": level,
               "series_spread": frame.groupby("unique_id")["log_y"].std().fillna(0.0)}
        recent = rows["ds"].to_numpy() > rows["ds"].max() - pd.Timedelta(days=self.recent_days)
        out["series_recent"] = frame.loc[recent].groupby("unique_id")["log_y"].mean() - level
        out["series_dow"] = frame.groupby(["unique_id", "dow"])["log_y"].mean()
        for column in self.encode_by:
            frame[column] = rows[column].to_numpy()
            out[f"series_{column}"] = frame.groupby(["unique_id", column])["log_y"].mean()
        return out

    def _design(
        self, frame: pd.DataFrame, series: pd.Index, encodings: dict[str, pd.Series]
    ) -> pd.DataFrame:
        """Feature matrix: series code, calendar, exogenous columns, per-series aggregates
        (weekday and `encode_by` means as offsets from the series level)."""
        with_calendar = add_calendar(frame, self.country)
        ds = with_calendar["ds"].dt
        design = with_calendar.drop(columns=[c for c in ("unique_id", "ds", "y")
                                             if c in with_calendar.columns])
        ids = frame["unique_id"].to_numpy()
        codes = pd.Categorical(ids, categories=series).codes.astype(float)
        design[SERIES_CODE] = np.where(codes < 0, np.nan, codes)
        design["day_of_month"] = ds.day.to_numpy()
        design["week_of_year"] = ds.isocalendar().week.to_numpy(dtype=np.int64)
        design["year"] = ds.year.to_numpy()
        by_id = pd.Series(ids)
        level = by_id.map(encodings["series_level"]).to_numpy(float)
        design["series_level"] = level
        design["series_spread"] = by_id.map(encodings["series_spread"]).to_numpy(float)
        design["series_recent"] = by_id.map(encodings["series_recent"]).to_numpy(float)
        keys = pd.MultiIndex.from_arrays([ids, ds.dayofweek.to_numpy()])
        design["series_dow"] = encodings["series_dow"].reindex(keys).to_numpy(float) - level
        for column in self.encode_by:
            keys = pd.MultiIndex.from_arrays([ids, frame[column].to_numpy()])
            name = f"series_{column}"
            design[name] = encodings[name].reindex(keys).to_numpy(float) - level
        return design.astype(float)

    def _fit_correction(self, holdout: pd.DataFrame) -> None:
        """Factor c minimising sum(((y - c * yhat) / y)^2) over holdout days with demand; per
        series, shrunk towards the global factor by `_SHRINK_ROWS` pseudo-rows."""
        if self.correction == "none":
            return
        rows = holdout.loc[(holdout["y"] > 0) & (holdout["yhat"] > 0)]
        if rows.empty:
            return
        ratio = rows["yhat"].to_numpy(float) / rows["y"].to_numpy(float)
        sums = pd.DataFrame({"unique_id": rows["unique_id"].to_numpy(), "r": ratio,
                             "r2": ratio**2}).groupby("unique_id")[["r", "r2"]].sum()
        self.factor_ = float(sums["r"].sum() / sums["r2"].sum())
        if self.correction == "relative_per_series":
            # _SHRINK_ROWS pseudo-rows whose ratio 1 / factor_ alone would give factor_
            k, f = _SHRINK_ROWS, self.factor_
            self.series_factor_ = (sums["r"] + k / f) / (sums["r2"] + k / f**2)

    def _factor(self, ids: pd.Series) -> np.ndarray:
        if self.series_factor_.empty:
            return np.full(len(ids), self.factor_)
        return pd.Series(ids.to_numpy()).map(self.series_factor_).fillna(
            self.factor_).to_numpy(float)


def _ratio_quantiles(holdout: pd.DataFrame) -> np.ndarray | None:
    """Quantiles (at QUANTILE_LEVELS, non-decreasing) of y / yhat over holdout days with a
    forecast; None when there are too few days to read a 99th percentile from."""
    rows = holdout.loc[holdout["yhat"].to_numpy(float) > 0]
    if len(rows) < 100:
        return None
    ratio = rows["y"].to_numpy(float) / rows["yhat"].to_numpy(float)
    return np.maximum.accumulate(np.quantile(ratio, QUANTILE_LEVELS))
