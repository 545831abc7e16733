"""A direct multi-horizon global LightGBM (name `lgbm_direct`): no recursion, pooled scaled data.

The recursive model (`lgbm`) feeds its own forecasts back as lags, so errors accumulate over a
28- or 56-day horizon. Here each training row is (series, origin day t, horizon h): features use
only what is known at t (recent means, same-weekday means, last year around the target day,
intermittency) plus what is known about the target day t + h (calendar, exogenous columns), and
the target is demand on t + h. One model serves each 4-week block of horizons (h is a feature;
on M5 validation folds a single model for 1-56 was worse on days 1-28 than one for 1-28).
Demand and the level features are divided by the series' recent mean, so fast and slow movers
share one model (the lesson of the M5 winners); rows are weighted by that scale so the loss
still cares about units. Rows of one series overlap heavily, so trees are small (7 leaves, 600
rows a leaf: better than 63 leaves on the folds). Several seeds are averaged. Training origins
step back from the last day in whole weeks, so they share the forecast origin's weekday.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from forecasting.calendar import Country, calendar_features
from forecasting.estimator import Forecaster
from forecasting.features import (
    CHANNEL_CODE,
    YEARLY_COLUMNS,
    YEARLY_MIN_DAYS,
    add_channel_code,
    learns_yearly,
)
from forecasting.validation import ForecastInputError

SCALE_DAYS = 112  # window of the per-series scale (recent mean demand)
_MIN_ORIGIN_DAYS = 28  # an origin needs this much history of its series


@dataclass(frozen=True)
class _Panel:
    """History as dense arrays: values (series x days, NaN outside a series' life), their running
    sums and counts (window means in O(1)), the last day with a sale, and exogenous values for the
    same days plus the forecast days."""

    ids: np.ndarray
    start: pd.Timestamp
    values: np.ndarray
    csum: np.ndarray
    ccount: np.ndarray
    last_sale: np.ndarray
    exog: dict[str, np.ndarray]
    channel: np.ndarray

    @property
    def last(self) -> int:
        return self.values.shape[1] - 1


@dataclass(frozen=True)
class DirectState:
    """Seeded boosters per block of horizons, and whether they saw the yearly calendar."""

    blocks: list[list[lgb.Booster]]
    yearly: bool


class DirectLGBMForecaster(Forecaster):
    """Global direct LightGBM over scaled series (see module doc)."""

    name = "lgbm_direct"

    def __init__(
        self,
        country: Country = "none",
        calibration_days: int = 28,
        max_horizon: int = 56,
        block_days: int = 28,
        origin_step: int = 7,
        n_estimators: int = 500,
        learning_rate: float = 0.03,
        num_leaves: int = 7,
        min_child_samples: int = 600,
        feature_fraction: float = 0.8,
        bagging_fraction: float = 0.8,
        bagging_freq: int = 1,
        lambda_l2: float = 1.0,
        objective: str = "tweedie",
        tweedie_variance_power: float = 1.1,
        seeds: tuple[int, ...] = (0, 1, 2),
        train_days: int | None = 730,
        max_train_rows: int = 3_000_000,
        num_threads: int = 2,
        weight_power: float = 1.0,
    ) -> None:
        super().__init__(country, calibration_days)
        if min(max_horizon, block_days, origin_step) <= 0 or not seeds:
            raise ValueError("max_horizon, block_days and origin_step must be positive, "
                             "seeds non-empty")
        self.max_horizon = max_horizon
        self.block_days = block_days
        self.origin_step = origin_step
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.bagging_freq = bagging_freq
        self.lambda_l2 = lambda_l2
        self.objective = objective
        self.tweedie_variance_power = tweedie_variance_power
        self.seeds = seeds
        self.train_days = train_days
        self.max_train_rows = max_train_rows
        self.num_threads = num_threads
        self.weight_power = weight_power

    # --- estimator hooks ---------------------------------------------------------------------
    def _fit_point(self, history: pd.DataFrame) -> DirectState:
        """One set of seeded boosters per block of `block_days` horizons."""
        panel = self._panel(history, None, 0)
        yearly = learns_yearly(history["ds"]) and (
            self.train_days is None or self.train_days >= YEARLY_MIN_DAYS)
        origins = self._origins(panel)
        if origins.size == 0:
            raise ForecastInputError(
                f"lgbm_direct needs more than {_MIN_ORIGIN_DAYS + 1} days of history")
        rows = self._sample_series(panel, len(origins))
        blocks = []
        for first in range(1, self.max_horizon + 1, self.block_days):
            last = min(first + self.block_days - 1, self.max_horizon)
            blocks.append(self._fit_block(panel, rows, origins, range(first, last + 1), yearly))
        return DirectState(blocks, yearly)

    def _fit_block(
        self, panel: _Panel, rows: np.ndarray, origins: np.ndarray, horizons: range,
        yearly: bool,
    ) -> list[lgb.Booster]:
        x, y, w = [], [], []
        for h in horizons:
            usable = origins[origins + h <= panel.last]
            if usable.size == 0:
                continue
            feats, scale = self._features(panel, rows, usable, h, yearly)
            target = panel.values[np.ix_(rows, usable + h)].ravel() / scale
            keep = np.isfinite(target) & np.isfinite(scale)
            x.append(feats[keep])
            y.append(target[keep])
            w.append(scale[keep] ** self.weight_power)
        if not x:
            raise ForecastInputError(
                f"lgbm_direct: history too short to learn horizons {horizons.start}-"
                f"{horizons.stop - 1} (lower max_horizon)")
        data = lgb.Dataset(np.vstack(x), np.concatenate(y), weight=np.concatenate(w),
                           free_raw_data=False)
        return [lgb.train(self._params(seed), data, self.n_estimators) for seed in self.seeds]

    def _predict_point(
        self, state: Any, history: pd.DataFrame, horizon: int, grid: pd.DataFrame
    ) -> pd.DataFrame:
        if horizon > self.max_horizon:
            raise ForecastInputError(
                f"lgbm_direct was trained for horizons up to {self.max_horizon} days; "
                f"got {horizon} (raise max_horizon)", source="horizon")
        fitted: DirectState = state
        panel = self._panel(history, grid, horizon)
        rows = np.arange(len(panel.ids))
        origin = np.array([panel.last])
        frames = []
        for h in range(1, horizon + 1):
            feats, scale = self._features(panel, rows, origin, h, fitted.yearly)
            boosters = fitted.blocks[(h - 1) // self.block_days]
            pred = np.mean([b.predict(feats, num_threads=self.num_threads) for b in boosters],
                           axis=0)
            frames.append(pd.DataFrame({
                "unique_id": panel.ids,
                "ds": panel.start + pd.Timedelta(days=panel.last + h),
                "yhat": np.clip(pred, 0.0, None) * np.nan_to_num(scale, nan=0.0)}))
        return pd.concat(frames, ignore_index=True)

    # --- training design ---------------------------------------------------------------------
    def _params(self, seed: int) -> dict[str, Any]:
        params: dict[str, Any] = {
            "objective": self.objective, "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves, "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": self.feature_fraction, "bagging_fraction": self.bagging_fraction,
            "bagging_freq": self.bagging_freq, "lambda_l2": self.lambda_l2,
            "num_threads": self.num_threads, "seed": seed, "verbosity": -1,
        }
        if self.objective == "tweedie":
            params["tweedie_variance_power"] = self.tweedie_variance_power
        return params

    def _origins(self, panel: _Panel) -> np.ndarray:
        """Training origins: whole weeks (origin_step days) back from the last day."""
        first = _MIN_ORIGIN_DAYS
        if self.train_days is not None:
            first = max(first, panel.last - self.train_days)
        return np.arange(panel.last - self.origin_step, first - 1, -self.origin_step)

    def _sample_series(self, panel: _Panel, n_origins: int) -> np.ndarray:
        """All series, or a seeded sample of them when rows would exceed max_train_rows."""
        n = len(panel.ids)
        per_series = max(n_origins * self.max_horizon, 1)
        keep = min(n, max(1, self.max_train_rows // per_series))
        if keep == n:
            return np.arange(n)
        return np.sort(np.random.default_rng(self.seeds[0]).choice(n, keep, replace=False))

    def _panel(self, history: pd.DataFrame, grid: pd.DataFrame | None, horizon: int) -> _Panel:
        start = history["ds"].min()
        last = int((history["ds"].max() - start).days)
        ids, codes = np.unique(history["unique_id"].to_numpy(), return_inverse=True)
        day = (history["ds"] - start).dt.days.to_numpy()
        values = np.full((len(ids), last + 1), np.nan, dtype=np.float32)
        values[codes, day] = history["y"].to_numpy(np.float32)
        exog: dict[str, np.ndarray] = {}
        for column in self.exog_:
            matrix = np.full((len(ids), last + 1 + horizon), np.nan, dtype=np.float32)
            matrix[codes, day] = history[column].to_numpy(np.float32)
            if grid is not None and column in grid.columns:
                g_codes = pd.Index(ids).get_indexer(grid["unique_id"].to_numpy())
                g_day = (grid["ds"] - start).dt.days.to_numpy()
                ok = (g_codes >= 0) & (g_day <= last + horizon)
                matrix[g_codes[ok], g_day[ok]] = grid[column].to_numpy(np.float32)[ok]
            exog[column] = matrix
        channel = add_channel_code(pd.DataFrame({"unique_id": ids}))[CHANNEL_CODE].to_numpy()
        filled = np.nan_to_num(values)
        zero = np.zeros((len(ids), 1))
        csum = np.concatenate([zero, np.cumsum(filled, axis=1, dtype=np.float64)], axis=1)
        ccount = np.concatenate([zero, np.cumsum(np.isfinite(values), axis=1)], axis=1)
        sold = np.where(filled > 0, np.arange(last + 1, dtype=np.int32)[None, :], -1)
        last_sale = np.maximum.accumulate(sold, axis=1)
        return _Panel(ids, start, values, csum, ccount, last_sale, exog,
                      channel.astype(np.float32))

    def _features(
        self, panel: _Panel, rows: np.ndarray, origins: np.ndarray, h: int, yearly: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Features (len(rows) * len(origins) x k, series-major) and the scale of each row."""
        every = len(rows) == len(panel.ids)  # prediction: no copies of the big arrays

        def pick(array: np.ndarray) -> np.ndarray:
            return array if every else array[rows]

        values, csum, ccnt = pick(panel.values), pick(panel.csum), pick(panel.ccount)

        def mean(end: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
            hi = np.clip(end + 1, 0, csum.shape[1] - 1)  # before the first day: empty window
            lo = np.clip(hi - width, 0, None)
            total = csum[:, hi] - csum[:, lo]
            count = ccnt[:, hi] - ccnt[:, lo]
            return np.where(count > 0, total / np.maximum(count, 1), np.nan), count

        level, count = mean(origins, SCALE_DAYS)
        scale = np.where(count > 0, np.maximum(np.nan_to_num(level), 1.0 / 28), np.nan)
        cols: list[np.ndarray] = [np.log1p(np.nan_to_num(level)), np.minimum(count, SCALE_DAYS)]
        for width in (7, 14, 28, 56):
            cols.append(mean(origins, width)[0] / scale)
        target_day = origins + h
        # the same weekday as the target day, at or before the origin: last 1, 4 and 8 weeks
        back = target_day - 7 * -(-h // 7)
        same_wd = [np.where(back - 7 * k >= 0, values[:, np.clip(back - 7 * k, 0, None)], np.nan)
                   for k in range(8)]
        stacked = np.stack(same_wd)
        for weeks in (1, 4, 8):
            cols.append(_nanmean(stacked[:weeks]) / scale)
        cols.append(values[:, origins] / scale)
        recent = values[:, np.clip(origins[None, :] - np.arange(28)[:, None], 0, None)]
        seen = np.isfinite(recent).sum(axis=1)
        cols.append(np.where(seen > 0, (recent == 0).sum(axis=1) / np.maximum(seen, 1), np.nan))
        last_sale = pick(panel.last_sale)[:, origins]
        cols.append(np.where(last_sale >= 0, np.minimum(origins[None, :] - last_sale, 365), 365))
        # last year: around the target day, and the level at the origin (growth to target)
        ly_day, ly_count = mean(target_day - 364 + 3, 7)
        ly_origin, _ = mean(origins - 364, 28)
        ly_day = np.where((target_day - 364 - 3 >= 0) & (ly_count > 0), ly_day, np.nan)
        cols.append(ly_day / scale)
        cols.append(ly_day / np.maximum(ly_origin, 1.0 / 28))
        for column in self.exog_:
            matrix = pick(panel.exog[column])
            cols.append(matrix[:, np.clip(target_day, 0, matrix.shape[1] - 1)])
        cols.append(np.broadcast_to(panel.channel[rows, None], level.shape))
        cols.append(np.full(level.shape, h, dtype=float))
        table = np.column_stack([np.asarray(c, dtype=np.float32).ravel() for c in cols])
        cal = _calendar(panel.start + pd.to_timedelta(target_day, unit="D"), self.country,
                        yearly)
        cal_rows = np.tile(cal, (len(rows), 1))
        return np.hstack([table, cal_rows]), scale.ravel()


def _nanmean(stack: np.ndarray) -> np.ndarray:
    count = np.isfinite(stack).sum(axis=0)
    total = np.nansum(stack, axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _calendar(days: pd.DatetimeIndex, country: Country, yearly: bool) -> np.ndarray:
    """Target-day calendar: weekday, day of month, the retail calendar features, and the
    position in the year only when `yearly` (see `features.learns_yearly`)."""
    feats = calendar_features(days, country).drop(columns=["ds"], errors="ignore")
    if not yearly:
        feats = feats.drop(columns=list(YEARLY_COLUMNS))
    extra = np.column_stack([days.dayofweek, days.day])
    numeric = feats.select_dtypes("number").to_numpy(np.float32)
    return np.hstack([extra.astype(np.float32), numeric])
