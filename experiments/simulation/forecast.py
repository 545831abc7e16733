"""The chain's demand forecast as the replay knows it on each day, the same for every policy.

The production model (`forecasting.registry.PRODUCTION_MODEL`, LightGBM with its fitted
negative-binomial dispersion) is fitted once on the sales history up to the chain's as-of date,
as the weekly batch does. Every `refresh_days` (a week) the fitted model forecasts again from
the demand seen so far: new lags, no refit (a global model is refitted monthly in practice;
cheap local models, used in tests, are simply refitted). The
forecast issued on day i uses demand up to day i - 1 only, so nothing decided on day d reads a
day after d - 1. Demand seen so far is the chain's demand (`future_sales`), not the sales a
policy managed to make: the POS and the e-shop log what customers asked for, and the forecast
stays identical for every policy. The history's sold-out days (`stockout` = 1) are fitted as
estimated demand, as the weekly batch fits them (forecasting.censoring).

Arrays are indexed by season day (0 = the day after as-of) and reach `EXTRA_DAYS` past the
season, so a review near the end still sees its whole protection period.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import forecasting
from data.demo_chain import DemoChain, chain_fingerprint
from experiments.simulation.season import Season
from forecasting.censoring import restore_censored_demand
from forecasting.registry import PRODUCTION_MODEL, make_model

EXTRA_DAYS = 21  # forecast days past the season's end (longest store cycle + DC protection)
RECENT_DAYS = 70  # history the re-forecast needs: the longest lag window (28 + 28 + 7) and some
CHANNELS = ("store", "online")
# Global models whose predict builds its lags from the history it is given: re-run weekly
# without a refit. Local (statsforecast) models keep their fitted history: refitted weekly.
REPREDICTED = frozenset({"lgbm"})


@dataclass(frozen=True)
class SeasonForecast:
    """`mean[c][issue, day, store, sku]`: daily mean of channel c (0 walk-in, 1 online) as
    forecast on `issue_days[issue]`; `phi[c][store, sku]`: NB dispersion of a day
    (variance = mean + phi x mean^2); `level_shock`: variance of the shared error of a series'
    days (forecasting.quantiles)."""

    model: str
    issue_days: tuple[int, ...]
    walkin: np.ndarray
    online: np.ndarray
    phi_walkin: np.ndarray
    phi_online: np.ndarray
    level_shock: float

    def issue_of(self, day: int) -> int:
        """The newest forecast issued on or before season day `day`."""
        return int(np.searchsorted(np.asarray(self.issue_days), day, side="right") - 1)


def sum_dispersion(mean_days: np.ndarray, mean_sq_days: np.ndarray, phi: np.ndarray,
                   level_shock: float) -> np.ndarray:
    """Variance-to-mean ratio of demand summed over days (allocation.planning.demand's
    `dispersion`): var = sum(mu) + phi sum(mu^2) + psi sum(mu)^2."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = 1.0 + (phi * mean_sq_days + level_shock * mean_days**2) / mean_days
    return np.where(mean_days > 0, ratio, 1.0)


def forecast_season(chain: DemoChain, season: Season, model: str = PRODUCTION_MODEL, *,
                    refresh_days: int = 7, cache_dir: Path | None = None,
                    **params: Any) -> SeasonForecast:
    """Fit `model` on the history to as-of and forecast weekly through the season (see the
    module docstring). With `cache_dir`, a forecast of the same chain, season length, model
    and parameters is read back instead of recomputed (the fit is the slow part)."""
    key = None
    if cache_dir is not None:
        spec = {"chain": chain_fingerprint(chain), "days": len(season.days), "model": model,
                "refresh": refresh_days, "params": params, "stores": season.stores,
                "skus": season.skus, "code": _forecasting_code(), "v": 2}
        key = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()
        cached = _read(cache_dir / f"{key[:24]}.npz", model)
        if cached is not None:
            return cached
    demand, first_day, ids = _dense_demand(chain, season)
    start = (pd.Timestamp(chain.as_of) - first_day).days + 1  # index of season day 0
    fitted = make_model(model, country="PL", **params).fit(_history(demand, ids, first_day,
                                                                    start, start))
    n_days = len(season.days)
    horizon = n_days + EXTRA_DAYS
    shape = (len(season.stores), len(season.skus))
    issues = tuple(range(0, n_days, refresh_days))
    mean = np.zeros((2, len(issues), horizon, *shape))
    for i, day in enumerate(issues):
        end = start + day  # demand known: days before season day `day`
        if model in REPREDICTED:
            forecaster = copy.copy(fitted)  # the weekly run: same model, the newest lags
            forecaster.history_ = _history(demand, ids, first_day, end, min(end, RECENT_DAYS))
        else:
            forecaster = (fitted if day == 0 else make_model(model, country="PL", **params)
                          .fit(_history(demand, ids, first_day, end, end)))
        frame = forecaster.predict(horizon - day)
        mean[:, i, day:] = _to_array(frame, ids, first_day + pd.Timedelta(days=end),
                                     horizon - day, shape)
    phi = fitted.dispersion_.for_ids(ids).reshape(2, *shape)
    out = SeasonForecast(model, issues, mean[0], mean[1], phi[0], phi[1],
                         float(fitted.dispersion_.level_shock))
    if cache_dir is not None and key is not None:
        _write(cache_dir / f"{key[:24]}.npz", out)
    return out


def _forecasting_code() -> str:
    """A digest of the forecasting package's source: a changed model is not read from cache."""
    digest = hashlib.sha256()
    for path in sorted(Path(forecasting.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _dense_demand(chain: DemoChain, season: Season) -> tuple[np.ndarray, pd.Timestamp,
                                                               np.ndarray]:
    """[series, day] units from the first history day to the season's end, sold-out history
    days restored; series ids `store|channel|sku` ordered channel, store, sku."""
    rows = pd.concat([chain.sales, chain.future_sales], ignore_index=True)
    first_day = pd.Timestamp(rows["date"].min())
    last = pd.Timestamp(season.days[-1])
    rows = rows.loc[rows["date"] <= last]
    n_days = (last - first_day).days + 1
    stores, skus = pd.Index(season.stores), pd.Index(season.skus)
    c = pd.Index(CHANNELS).get_indexer(pd.Index(rows["channel"].astype(str)))
    s = stores.get_indexer(pd.Index(rows["node_id"].astype(str)))
    k = skus.get_indexer(pd.Index(rows["sku"].astype(str)))
    d = (rows["date"] - first_day).dt.days.to_numpy()
    ok = (c >= 0) & (s >= 0) & (k >= 0)
    cube = np.zeros((2, len(stores), len(skus), n_days))
    np.add.at(cube, (c[ok], s[ok], k[ok], d[ok]), rows["units"].to_numpy(float)[ok])
    sold_out = np.zeros(cube.shape, dtype=bool)
    if "stockout" in rows.columns:
        flagged = ok & (rows["stockout"].to_numpy() == 1)
        sold_out[c[flagged], s[flagged], k[flagged], d[flagged]] = True
    ids = np.array([f"{st}|{ch}|{sk}" for ch in CHANNELS for st in stores for sk in skus])
    n_history = (pd.Timestamp(chain.as_of) - first_day).days + 1
    demand = _restore_sold_out(cube.reshape(len(ids), n_days),
                               sold_out.reshape(len(ids), n_days), ids, first_day, n_history)
    return demand, first_day, ids


def _restore_sold_out(demand: np.ndarray, sold_out: np.ndarray, ids: np.ndarray,
                      first_day: pd.Timestamp, n_history: int) -> np.ndarray:
    """`demand` with its flagged days among the first `n_history` replaced by estimated
    demand, over the history only (each series from its first sale, as the weekly batch reads
    it), so no estimate looks past as-of."""
    if not sold_out[:, :n_history].any():
        return demand
    seen = np.cumsum(demand[:, :n_history], axis=1) > 0
    series, day = np.nonzero(seen)
    history = pd.DataFrame({"unique_id": ids[series],
                            "ds": first_day + pd.to_timedelta(day, unit="D"),
                            "y": demand[series, day],
                            "stockout": sold_out[series, day].astype(np.int8)})
    restored = restore_censored_demand(history, "stockout", "PL").history
    out = demand.copy()
    out[series, day] = restored["y"].to_numpy(float)
    return out


def _history(demand: np.ndarray, ids: np.ndarray, first_day: pd.Timestamp, end: int,
             days: int) -> pd.DataFrame:
    """Long `unique_id, ds, y` of the `days` days before day index `end`, each series from its
    first sale on (as the weekly batch reads it)."""
    part = demand[:, end - days:end]
    seen = np.cumsum(demand[:, :end], axis=1)[:, end - days:end] > 0
    series, offset = np.nonzero(seen)
    dates = first_day + pd.to_timedelta(end - days + offset, unit="D")
    return pd.DataFrame({"unique_id": ids[series], "ds": dates, "y": part[series, offset]})


def _to_array(frame: pd.DataFrame, ids: np.ndarray, first: pd.Timestamp, days: int,
              shape: tuple[int, int]) -> np.ndarray:
    """[channel, day, store, sku] of a forecast frame starting on `first` (missing: 0)."""
    out = np.zeros((len(ids), days))
    row = pd.Index(ids).get_indexer(pd.Index(frame["unique_id"].astype(str)))
    col = (pd.to_datetime(frame["ds"]) - first).dt.days.to_numpy()
    ok = (row >= 0) & (col >= 0) & (col < days)
    out[row[ok], col[ok]] = frame["yhat"].to_numpy(float)[ok]
    return np.moveaxis(out.reshape(2, *shape, days), -1, 1)


def _read(path: Path, model: str) -> SeasonForecast | None:
    if not path.is_file():
        return None
    with np.load(path) as z:
        return SeasonForecast(model, tuple(int(i) for i in z["issues"]), z["walkin"],
                              z["online"], z["phi_walkin"], z["phi_online"],
                              float(z["level_shock"]))


def _write(path: Path, fc: SeasonForecast) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, issues=np.asarray(fc.issue_days), walkin=fc.walkin,
                        online=fc.online, phi_walkin=fc.phi_walkin, phi_online=fc.phi_online,
                        level_shock=np.asarray(fc.level_shock))
    tmp.replace(path)
