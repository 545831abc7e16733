"""Demand quantiles from the mean forecast: a negative-binomial count model per series.

Daily demand of series i on day t is modelled as NB with mean mu_t and variance
mu_t + phi_i * mu_t**2 (phi_i = 0 is Poisson). phi_i is fitted on out-of-sample residuals of a
holdout (method of moments, winsorised across series, shrunk towards the pooled value so short
or sparse series borrow strength). Per-day quantiles are NB quantiles. Per-day quantiles do not
add up, so the quantile of demand *summed* over k open days comes from sample paths that share a
level shock G ~ Gamma(mean 1, variance psi) per path: forecast errors of neighbouring days are
correlated, and psi is fitted on the holdout window totals so the spread of sums is calibrated too.

Given G, the k days are Gamma-Poisson draws, so their sum is Poisson with rate
G * sum_t mu_t * Gamma_t; that weighted sum of Gammas (mean sum mu_t, variance
phi * sum mu_t**2) is drawn as one Gamma with the same two moments, exact when the daily means
are equal. A path then costs three draws instead of 2k + 1, which is what lets 100k series run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd
from scipy import stats

from forecasting.series_index import SeriesIndex, row_positions

QUANTILE_LEVELS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99)
QUANTILE_COLUMNS: tuple[str, ...] = tuple(f"q{round(q * 100)}" for q in QUANTILE_LEVELS)
_SHRINK_DAYS = 28.0  # pseudo-observations of the pooled dispersion in each series' estimate
_RAW_PHI_CAP_QUANTILE = 0.95  # per-series raw dispersions are winsorised at this quantile
_POISSON_PHI = 1e-8  # below this dispersion a series is Poisson
_WALK_MAX_MEAN = 2000.0  # above this daily mean, quantiles come from scipy


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
    # A holdout whose demand jumps far from a tiny mean (a stock-out ending, a relisted item)
    # is a level change, not noise, yet scores phi in the hundreds: NB quantiles with q50 = 0
    # and q99 thirty times the mean. Winsorising across series keeps such a series among the
    # noisiest without letting one regime change set its quantiles.
    raw = raw.clip(upper=float(raw.quantile(_RAW_PHI_CAP_QUANTILE)))
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
    """Quantiles (rows x levels) of NB(mean, phi); Poisson where phi is ~0; 0 where mean is 0.

    The smallest k with P(X <= k) >= level, by summing the pmf upwards (one pass serves every
    level); very large means (a long walk, or a pmf at 0 that underflows) go to scipy.
    """
    mean = np.asarray(mean, dtype=float).ravel()
    mean = np.ascontiguousarray(np.where(mean > 0, mean, 0.0))  # NaN counts as no demand
    phi = np.ascontiguousarray(np.broadcast_to(np.asarray(phi, dtype=float), mean.shape))
    order = np.argsort(np.asarray(levels, dtype=float))
    sorted_levels = np.asarray(levels, dtype=float)[order]
    walked = np.zeros((mean.size, len(order)))
    done = _walk_quantiles(mean, phi, sorted_levels, walked)
    out = np.empty_like(walked)
    out[:, order] = walked
    if not done.all():
        out[~done] = _scipy_quantiles(mean[~done], phi[~done], levels)
    return out


def _scipy_quantiles(mean: np.ndarray, phi: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    out = np.zeros((mean.size, len(levels)))
    poisson = phi < _POISSON_PHI
    size = 1.0 / phi[~poisson]
    for j, q in enumerate(levels):
        out[poisson, j] = stats.poisson.ppf(q, mean[poisson])
        out[~poisson, j] = stats.nbinom.ppf(q, size, size / (size + mean[~poisson]))
    return out


@numba.njit(cache=True)  # type: ignore[misc]
def _walk_quantiles(
    mean: np.ndarray, phi: np.ndarray, levels: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """Fill out[i] with the quantiles at ascending `levels`; False where it left a row to
    scipy (huge or NaN mean, pmf at 0 below 1e-304, or rounding kept the cdf under a level)."""
    done = np.ones(mean.size, np.bool_)
    for i in range(mean.size):
        m = mean[i]
        if m <= 0.0:
            continue  # out is zero already
        if not (m < _WALK_MAX_MEAN and np.isfinite(phi[i])):
            done[i] = False  # long walk (or NaN): scipy's search is quicker
            continue
        poisson = phi[i] < _POISSON_PHI
        size = 0.0 if poisson else 1.0 / phi[i]
        log_pmf0 = -m if poisson else size * np.log(size / (size + m))
        if log_pmf0 < -700.0:
            done[i] = False
            continue
        pmf = np.exp(log_pmf0)
        cdf, k, j = pmf, 0, 0
        while j < levels.size:
            if cdf >= levels[j]:
                out[i, j] = k
                j += 1
                continue
            # pmf(k + 1) / pmf(k): m / (k + 1) for Poisson, (k + size) / (k + 1) * m / (size + m)
            pmf *= m / (k + 1) if poisson else (k + size) / (k + 1) * (m / (size + m))
            k += 1
            cdf += pmf
            if pmf == 0.0 and k > m:
                done[i] = False
                break
    return done


def daily_quantiles(forecast: pd.DataFrame, dispersion: Dispersion) -> pd.DataFrame:
    """Add the q50 ... q99 columns to a frame `unique_id, ds, yhat` (monotone, non-negative)."""
    phi = dispersion.for_ids(forecast["unique_id"])
    values = nb_quantiles(forecast["yhat"].to_numpy(float), phi, QUANTILE_LEVELS)
    values = np.maximum.accumulate(values, axis=1)
    out = forecast.copy()
    for j, column in enumerate(QUANTILE_COLUMNS):
        out[column] = values[:, j]
    return out


def variance_to_mean(forecast: pd.DataFrame, dispersion: Dispersion) -> np.ndarray:
    """Per row of `unique_id, yhat`: the variance-to-mean ratio 1 + phi_i * yhat of that day's
    NB demand (1 on days without demand). A planner that sums days as negative binomials (as
    allocation.planning does) needs only this number per day to carry the fitted spread."""
    phi = dispersion.for_ids(forecast["unique_id"])
    mean = np.clip(np.nan_to_num(forecast["yhat"].to_numpy(float)), 0.0, None)
    return 1.0 + phi * mean


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
    frame = _by_series_and_day(forecast)
    if "store_open" in frame.columns:
        frame = frame.loc[frame["store_open"].to_numpy() != 0]
    index = SeriesIndex.of(frame)
    ends = index.ends if open_days is None else np.minimum(index.ends, index.starts + open_days)
    means = frame["yhat"].to_numpy(float)[row_positions(index.starts, ends)].clip(min=0.0)
    counts = ends - index.starts
    starts = np.concatenate([[0], np.cumsum(counts)])
    total = np.add.reduceat(means, starts[:-1]) if len(means) else np.zeros(0)
    squares = np.add.reduceat(means**2, starts[:-1]) if len(means) else np.zeros(0)
    phi = dispersion.for_ids(index.ids)
    rng = np.random.default_rng(seed)
    result = np.zeros((len(index), len(levels)))
    for lo in range(0, len(index), chunk_series):
        hi = min(lo + chunk_series, len(index))
        result[lo:hi] = _sum_quantiles(total[lo:hi], squares[lo:hi], phi[lo:hi],
                                       dispersion.level_shock, levels, n_paths, rng)
    out = pd.DataFrame({"unique_id": index.ids, "open_days": counts, "mean": total})
    result = np.maximum.accumulate(np.maximum(result, 0.0), axis=1)
    for j, q in enumerate(levels):
        out[f"q{round(q * 100)}"] = result[:, j]
    return out


def _by_series_and_day(forecast: pd.DataFrame) -> pd.DataFrame:
    """The forecast grouped by series with days ascending (a forecast usually is already)."""
    try:
        index = SeriesIndex.of(forecast)
    except ValueError:
        return forecast.sort_values(["unique_id", "ds"], kind="stable")
    step = np.diff(index.ds_ns)
    same_series = np.ones(len(forecast), bool)
    same_series[index.starts] = False
    if (step[same_series[1:]] > 0).all():
        return forecast
    return forecast.sort_values(["unique_id", "ds"], kind="stable")


def _sum_quantiles(
    total: np.ndarray,
    squares: np.ndarray,
    phi: np.ndarray,
    psi: float,
    levels: Sequence[float],
    n_paths: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Sample-path quantiles of sums for a chunk of series: per path a level shock G, the
    Gamma-mixed total rate (moment-matched, see the module doc) and one Poisson draw."""
    shape = (n_paths, len(total))
    shock = rng.gamma(1.0 / psi, psi, size=shape) if psi > 1e-9 else np.ones(shape)
    rate = np.broadcast_to(total, shape).copy()
    mixed = (phi > _POISSON_PHI) & (total > 0)
    if mixed.any():
        # sum_t mu_t Gamma_t: mean total, variance phi * squares -> Gamma(k, theta)
        theta = phi[mixed] * squares[mixed] / total[mixed]
        rate[:, mixed] = rng.gamma(total[mixed] / theta, theta, size=(n_paths, int(mixed.sum())))
    draws = rng.poisson(rate * shock)
    return np.quantile(draws, levels, axis=0).T
