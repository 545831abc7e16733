"""Demand quantiles from the mean forecast: a negative-binomial count model per series.

Daily demand of series i on day t is modelled as NB with mean mu_t and variance
mu_t + phi_i * mu_t**2 (phi_i = 0 is Poisson). phi_i is fitted on out-of-sample residuals of a
holdout (method of moments, shrunk towards the pooled value so short or sparse series borrow
strength). Per-day quantiles are NB quantiles. Per-day quantiles do not add up, so the quantile
of demand *summed* over k open days comes from sample paths that share a level shock
G ~ Gamma(mean 1, variance psi) per path: forecast errors of neighbouring days are correlated,
and psi is fitted on the holdout window totals so the spread of sums is calibrated too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

QUANTILE_LEVELS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99)
QUANTILE_COLUMNS: tuple[str, ...] = tuple(f"q{round(q * 100)}" for q in QUANTILE_LEVELS)
_SHRINK_DAYS = 28.0  # pseudo-observations of the pooled dispersion in each series' estimate


@dataclass(frozen=True)
class Dispersion:
    """Fitted spread of demand around the mean forecast.

    `per_series`: phi_i by unique_id; `pooled`: phi for series not seen in the holdout;
    `level_shock`: psi, the variance of the shared multiplicative error of a sample path.
    """

    per_series: pd.Series
    pooled: float
    level_shock: float

    def for_ids(self, ids: pd.Series | np.ndarray) -> np.ndarray:
        mapped = pd.Series(np.asarray(ids)).map(self.per_series)
        return mapped.fillna(self.pooled).to_numpy(dtype=float)

    @classmethod
    def poisson(cls) -> Dispersion:
        return cls(pd.Series(dtype=float), 0.0, 0.0)


def fit_dispersion(holdout: pd.DataFrame) -> Dispersion:
    """Fit NB dispersion from a holdout frame `unique_id, ds, y, yhat` (out-of-sample means).

    Rows with yhat == 0 (closed days, dead series) carry no information and are ignored.
    """
    rows = holdout.loc[holdout["yhat"] > 0, ["unique_id", "y", "yhat"]]
    if rows.empty:
        return Dispersion.poisson()
    y = rows["y"].to_numpy(float)
    mu = rows["yhat"].to_numpy(float)
    excess = (y - mu) ** 2 - mu
    grouped = pd.DataFrame({"unique_id": rows["unique_id"].to_numpy(), "excess": excess,
                            "mu2": mu**2, "n": 1.0}).groupby("unique_id", sort=True).sum()
    pooled = float(max(grouped["excess"].sum() / max(grouped["mu2"].sum(), 1e-12), 0.0))
    raw = (grouped["excess"] / grouped["mu2"].clip(lower=1e-12)).clip(lower=0.0)
    weight = grouped["n"] / (grouped["n"] + _SHRINK_DAYS)
    per_series = weight * raw + (1 - weight) * pooled
    level_shock = _fit_level_shock(rows, per_series)
    return Dispersion(per_series.rename("phi"), pooled, level_shock)


def _fit_level_shock(rows: pd.DataFrame, phi: pd.Series) -> float:
    """psi: the share of the variance of window totals that independent days do not explain."""
    mu = rows["yhat"].to_numpy(float)
    phi_row = rows["unique_id"].map(phi).to_numpy(float)
    per_day_var = mu + phi_row * mu**2
    frame = pd.DataFrame({"unique_id": rows["unique_id"].to_numpy(), "y": rows["y"].to_numpy(),
                          "mu": mu, "var": per_day_var})
    totals = frame.groupby("unique_id", sort=False)[["y", "mu", "var"]].sum()
    excess = ((totals["y"] - totals["mu"]) ** 2 - totals["var"]).sum()
    return float(max(excess / max(float((totals["mu"] ** 2).sum()), 1e-12), 0.0))


def nb_quantiles(mean: np.ndarray, phi: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """Quantiles (rows x levels) of NB(mean, phi); Poisson where phi is ~0; 0 where mean is 0."""
    mean = np.clip(np.asarray(mean, dtype=float), 0.0, None)
    phi = np.broadcast_to(np.asarray(phi, dtype=float), mean.shape)
    out = np.zeros((mean.size, len(levels)))
    positive = mean > 0
    poisson = positive & (phi < 1e-8)
    negbin = positive & ~poisson
    for j, q in enumerate(levels):
        out[poisson, j] = stats.poisson.ppf(q, mean[poisson])
        size = 1.0 / phi[negbin]
        out[negbin, j] = stats.nbinom.ppf(q, size, size / (size + mean[negbin]))
    return out


def daily_quantiles(forecast: pd.DataFrame, dispersion: Dispersion) -> pd.DataFrame:
    """Add the q50 ... q99 columns to a frame `unique_id, ds, yhat` (monotone, non-negative)."""
    phi = dispersion.for_ids(forecast["unique_id"])
    values = nb_quantiles(forecast["yhat"].to_numpy(float), phi, QUANTILE_LEVELS)
    values = np.maximum.accumulate(values, axis=1)
    out = forecast.copy()
    for j, column in enumerate(QUANTILE_COLUMNS):
        out[column] = values[:, j]
    return out


def horizon_demand_quantiles(
    forecast: pd.DataFrame,
    dispersion: Dispersion,
    open_days: int | None = None,
    levels: Sequence[float] = QUANTILE_LEVELS,
    n_paths: int = 2000,
    seed: int = 0,
    chunk_series: int = 2000,
) -> pd.DataFrame:
    """Quantiles of demand summed over the first `open_days` open days of each series' forecast.

    `forecast`: `unique_id, ds, yhat` and optionally `store_open` (0 marks a closed day, which is
    skipped when counting open days). `open_days=None` sums the whole horizon. Returns one row per
    series: `unique_id, open_days, mean, q50 ...` (columns named after `levels`); every quantile is
    >= 0, non-decreasing in the level, and the mean is the sum of the daily means.
    """
    frame = forecast.sort_values(["unique_id", "ds"], kind="stable")
    if "store_open" in frame.columns:
        frame = frame.loc[frame["store_open"].to_numpy() != 0]
    if open_days is not None:
        frame = frame.loc[frame.groupby("unique_id", sort=False).cumcount() < open_days]
    ids, counts = np.unique(frame["unique_id"].to_numpy(), return_counts=True)
    means = frame["yhat"].to_numpy(float).clip(min=0.0)
    phi = dispersion.for_ids(ids)
    rng = np.random.default_rng(seed)
    starts = np.concatenate([[0], np.cumsum(counts)])
    result = np.zeros((len(ids), len(levels)))
    for lo in range(0, len(ids), chunk_series):
        hi = min(lo + chunk_series, len(ids))
        result[lo:hi] = _sum_quantiles(
            means, starts[lo:hi + 1], phi[lo:hi], dispersion.level_shock, levels, n_paths, rng)
    sums = np.add.reduceat(means, starts[:-1]) if len(means) else np.zeros(0)
    out = pd.DataFrame({"unique_id": ids, "open_days": counts, "mean": sums})
    result = np.maximum.accumulate(np.maximum(result, 0.0), axis=1)
    for j, q in enumerate(levels):
        out[f"q{round(q * 100)}"] = result[:, j]
    return out


def _sum_quantiles(
    means: np.ndarray,
    starts: np.ndarray,
    phi: np.ndarray,
    psi: float,
    levels: Sequence[float],
    n_paths: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Sample-path quantiles of sums for a chunk of series (Gamma-Poisson draws, vectorised)."""
    lo, hi = int(starts[0]), int(starts[-1])
    mu = means[lo:hi]
    series_of_day = np.repeat(np.arange(len(phi)), np.diff(starts))
    shock = (rng.gamma(1.0 / psi, psi, size=(n_paths, len(phi))) if psi > 1e-9
             else np.ones((n_paths, len(phi))))
    day_phi = phi[series_of_day]
    rate = mu[None, :] * shock[:, series_of_day]
    mixed = day_phi > 1e-8
    if mixed.any():
        shape = 1.0 / day_phi[mixed]
        rate[:, mixed] *= rng.gamma(shape, 1.0 / shape, size=(n_paths, int(mixed.sum())))
    draws = rng.poisson(rate)
    sums = np.add.reduceat(draws, starts[:-1] - lo, axis=1)
    return np.quantile(sums, levels, axis=0).T
