"""Demand over a horizon of open days, as a distribution a planner can take quantiles of.

Per-day quantiles do not add up, so the summed demand is modelled directly: a negative binomial
whose variance-to-mean ratio ``dispersion`` is the same every day. Such negative binomials are
closed under independent sums (NB(r1, p) + NB(r2, p) = NB(r1 + r2, p) with p = 1/dispersion),
so the horizon demand is exactly NB with mean = the sum of the daily means and the same ratio;
``dispersion <= 1`` means Poisson.

The kernels walk the probability mass function upwards in log space
(log f(k+1) = log f(k) + log((k + r) / (k + 1)) + log(1 - p); Poisson: + log(mu / (k + 1))),
which stays exact for large means and is far cheaper than scipy's regularised beta per point
when a planner needs P(D >= k) for every unit of every shelf. Public functions are thin numpy
wrappers; the kernels are numba-compiled.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

POISSON_TOLERANCE = 1e-6
TAIL = 1e-12


@numba.njit(cache=True, inline="always")
def _start(mean: float, dispersion: float) -> tuple[float, float, float, bool]:
    """(log f(0), log(1 - p), r, is_poisson) of the horizon demand."""
    if dispersion <= 1.0 + POISSON_TOLERANCE:
        return -mean, 0.0, 0.0, True
    p = 1.0 / dispersion
    r = mean / (dispersion - 1.0)
    return r * math.log(p), math.log(1.0 - p), r, False


@numba.njit(cache=True, inline="always")
def _next_log_pmf(
    log_f: float, k: int, mean: float, log_q: float, r: float, poisson: bool
) -> float:
    if poisson:
        return log_f + math.log(mean / (k + 1.0))
    return log_f + math.log((k + r) / (k + 1.0)) + log_q


@numba.njit(cache=True)
def _quantile_kernel(mean: np.ndarray, dispersion: np.ndarray, level: np.ndarray) -> np.ndarray:
    out = np.zeros(mean.size, dtype=np.int64)
    for i in range(mean.size):
        if mean[i] <= 0.0 or level[i] <= 0.0:
            continue
        target = min(level[i], 1.0 - 1e-9)
        log_f, log_q, r, poisson = _start(mean[i], dispersion[i])
        cdf = math.exp(log_f)
        k = 0
        while cdf < target:
            log_f = _next_log_pmf(log_f, k, mean[i], log_q, r, poisson)
            k += 1
            cdf += math.exp(log_f)
            if k > 100 * mean[i] + 1000:  # numerical floor: the tail is exhausted
                break
        out[i] = k
    return out


@numba.njit(cache=True)
def _survival_runs(
    mean: np.ndarray, dispersion: np.ndarray, first: np.ndarray, count: np.ndarray
) -> np.ndarray:
    """P(D >= first_i + t) for t = 0..count_i - 1, all rows concatenated."""
    out = np.zeros(count.sum(), dtype=np.float64)
    pos = 0
    for i in range(mean.size):
        n = count[i]
        if n == 0:
            continue
        if mean[i] <= 0.0:
            for t in range(n):
                out[pos + t] = 1.0 if first[i] + t <= 0 else 0.0
            pos += n
            continue
        for t in range(min(n, max(-first[i] + 1, 0))):
            out[pos + t] = 1.0  # P(D >= k) = 1 for k <= 0
        log_f, log_q, r, poisson = _start(mean[i], dispersion[i])
        below = 0.0  # P(D < k) while k walks up
        k = 0
        last = first[i] + n - 1
        while k <= last:
            if k >= first[i]:
                out[pos + k - first[i]] = max(1.0 - below, 0.0)
            below += math.exp(log_f)
            if 1.0 - below < TAIL:
                break
            log_f = _next_log_pmf(log_f, k, mean[i], log_q, r, poisson)
            k += 1
        pos += n
    return out


@numba.njit(cache=True)
def _expected_sales_kernel(
    mean: np.ndarray, dispersion: np.ndarray, stock: np.ndarray
) -> np.ndarray:
    out = np.zeros(mean.size, dtype=np.float64)
    for i in range(mean.size):
        if mean[i] <= 0.0 or stock[i] <= 0:
            continue
        log_f, log_q, r, poisson = _start(mean[i], dispersion[i])
        below = 0.0
        total = 0.0
        for k in range(stock[i]):  # E[min(D, s)] = sum_{k=0..s-1} P(D > k)
            below += math.exp(log_f)
            above = 1.0 - below
            if above < TAIL:
                break
            total += above
            log_f = _next_log_pmf(log_f, k, mean[i], log_q, r, poisson)
        out[i] = total
    return out


def _arrays(*values: ArrayLike) -> list[np.ndarray]:
    return [np.ascontiguousarray(v) for v in np.broadcast_arrays(*values)]


def demand_quantile(mean: ArrayLike, dispersion: ArrayLike, level: ArrayLike) -> NDArray[np.int64]:
    """Smallest integer q with P(D <= q) >= level: the units that cover demand at that level."""
    m, d, lv = _arrays(mean, dispersion, level)
    shape = m.shape
    out = _quantile_kernel(
        m.ravel().astype(np.float64), d.ravel().astype(np.float64), lv.ravel().astype(np.float64)
    )
    return out.reshape(shape)


def survival_runs(
    mean: ArrayLike, dispersion: ArrayLike, first: ArrayLike, count: ArrayLike
) -> NDArray[np.float64]:
    """P(D >= first + t), t = 0..count-1, per row, concatenated (the marginal value of each unit
    of a run of shelf units, as a share of the margin)."""
    m, d, f, c = _arrays(mean, dispersion, first, count)
    return _survival_runs(
        m.ravel().astype(np.float64),
        d.ravel().astype(np.float64),
        f.ravel().astype(np.int64),
        np.maximum(c.ravel(), 0).astype(np.int64),
    )


def probability_at_least(mean: ArrayLike, dispersion: ArrayLike, units: ArrayLike) -> NDArray:
    """P(D >= units): the chance the `units`-th unit on the shelf is sold within the horizon."""
    m, d, k = _arrays(mean, dispersion, units)
    return survival_runs(m, d, k, np.ones(m.shape, np.int64)).reshape(m.shape)


def expected_sales(mean: ArrayLike, dispersion: ArrayLike, stock: ArrayLike) -> NDArray:
    """E[min(D, s)] = sum_{k=1..s} P(D >= k): the expected units sold from a shelf of s units."""
    m, d, s = _arrays(mean, dispersion, stock)
    shape = m.shape
    out = _expected_sales_kernel(
        m.ravel().astype(np.float64),
        d.ravel().astype(np.float64),
        np.maximum(s.ravel(), 0).astype(np.int64),
    )
    return out.reshape(shape)
