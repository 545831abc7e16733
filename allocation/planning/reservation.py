"""Safety stock: units each store keeps back for walk-in customers; the rest is promisable online.

The protection horizon runs from the day after ``as_of`` until the next replenishment arrives
(the store's ``replenishment_days`` = review period + lead time) and counts walk-in demand only
on days the store is open (a non-trading Sunday or a public holiday adds nothing). Two policies:

* ``service_level``: keep the quantile of horizon walk-in demand at a level chosen per category.
* ``critical_ratio`` (newsvendor): a unit promised online now earns the online margin net of
  fulfilment cost; kept on the shelf it earns the walk-in margin if a walk-in customer would buy
  it. Keep unit k while P(D >= k) * walkin_margin > online_margin_net, i.e. keep the quantile of
  horizon demand at the critical ratio 1 - online_margin_net / walkin_margin.

Before a peak the horizon demand already carries the forecast's peak uplift; ``peak_multiplier``
adds protection on top when the horizon touches a peak window. Never more than on hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd

from allocation.planning.demand import demand_quantile
from allocation.planning.errors import PlanningInputError, require_columns, require_non_negative
from allocation.planning.horizon_sum import sum_days
from forecasting.calendar import PEAK_NAMES, Country, is_store_open, peak_window

PolicyKind = Literal["critical_ratio", "service_level"]
STOCK_COLUMNS = ("store", "sku", "on_hand", "replenishment_days")
MARGIN_COLUMNS = ("walkin_margin_pln", "online_margin_pln")


@dataclass(frozen=True)
class ReservationPolicy:
    """How a store's safety stock is set; see the module docstring for the two kinds."""

    kind: PolicyKind = "critical_ratio"
    service_level_by_category: Mapping[str, float] = field(default_factory=dict)
    default_service_level: float = 0.90
    peak_multiplier: float = 1.0
    default_dispersion: float = 1.5
    country: Country = "PL"

    def __post_init__(self) -> None:
        if self.kind not in ("critical_ratio", "service_level"):
            raise PlanningInputError("policy.kind", f"unknown policy {self.kind!r}")
        levels = [self.default_service_level, *self.service_level_by_category.values()]
        if any(not 0.0 <= lv < 1.0 for lv in levels):
            raise PlanningInputError("policy.service_level", "levels must lie in [0, 1)")
        if self.peak_multiplier < 1.0:
            raise PlanningInputError("policy.peak_multiplier", "must be >= 1 (extra protection)")


def protection_horizon(as_of: date, replenishment_days: int, country: Country = "PL") -> list[date]:
    """Open days from the day after `as_of` until replenishment arrives (inclusive)."""
    days = (as_of + timedelta(days=k) for k in range(1, int(replenishment_days) + 1))
    return [d for d in days if is_store_open(d, country)]


def touches_peak(as_of: date, replenishment_days: int) -> bool:
    """True when the protection horizon overlaps a Back-to-School, Black Week or Christmas."""
    end = as_of + timedelta(days=int(replenishment_days))
    windows = [peak_window(n, y) for y in {as_of.year, end.year} for n in PEAK_NAMES]
    return any(w.start <= end and as_of < w.end for w in windows)


def plan_reservations(
    stock: pd.DataFrame,
    as_of: date,
    walkin_forecast: pd.DataFrame | None = None,
    policy: ReservationPolicy | None = None,
    horizon_quantiles: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Safety stock and promisable-online units per store x SKU.

    Args:
        stock: store, sku, on_hand, replenishment_days; category (service levels per category);
            walkin_margin_pln, online_margin_pln and optionally fulfilment_cost_pln (critical
            ratio).
        as_of: the planning day; the horizon starts the day after.
        walkin_forecast: daily walk-in means: store, sku, date, mean [, dispersion (the day's
            variance-to-mean ratio; NaN or absent: the policy default)] [, level_shock (psi,
            the variance of the forecast's error shared by a series' days; absent: 0)].
        horizon_quantiles: instead of daily means, quantiles of summed horizon demand given
            directly: store, sku and columns ``q50``, ``q90``... (level in percent); levels
            between columns are interpolated linearly, above the top column it is used as is.

    Returns:
        store, sku, on_hand, safety_stock, promisable_online, policy, service_level,
        critical_ratio, horizon_open_days, horizon_demand_mean (NaN with given quantiles).
    """
    policy = policy or ReservationPolicy()
    frame = _validated_stock(stock, policy)
    open_days = np.array(
        [len(protection_horizon(as_of, n, policy.country)) for n in frame["replenishment_days"]]
    )
    horizons = frame["replenishment_days"]
    multiplier = np.array(
        [policy.peak_multiplier if touches_peak(as_of, n) else 1.0 for n in horizons]
    )
    level = _protection_level(frame, policy)
    if horizon_quantiles is not None:
        mean = np.full(len(frame), np.nan)
        safety = _interpolated_quantile(frame, horizon_quantiles, level) * multiplier
    elif walkin_forecast is not None:
        mean, dispersion = _horizon_demand(frame, walkin_forecast, as_of, policy)
        safety = demand_quantile(mean * multiplier, dispersion, level)
    else:
        raise PlanningInputError("walkin_forecast", "give daily means or horizon_quantiles")
    on_hand = frame["on_hand"].to_numpy(dtype=np.int64)
    safety_int = np.minimum(np.ceil(np.nan_to_num(safety) - 1e-9).astype(np.int64), on_hand)
    safety_int = np.maximum(safety_int, 0)
    is_cr = policy.kind == "critical_ratio"
    return pd.DataFrame(
        {
            "store": frame["store"].to_numpy(),
            "sku": frame["sku"].to_numpy(),
            "on_hand": on_hand,
            "safety_stock": safety_int,
            "promisable_online": on_hand - safety_int,
            "policy": policy.kind,
            "service_level": np.nan if is_cr else level,
            "critical_ratio": level if is_cr else np.nan,
            "horizon_open_days": open_days,
            "horizon_demand_mean": mean,
        }
    )


def _validated_stock(stock: pd.DataFrame, policy: ReservationPolicy) -> pd.DataFrame:
    require_columns(stock, STOCK_COLUMNS, "stock")
    require_non_negative(stock, "on_hand", "stock")
    require_non_negative(stock, "replenishment_days", "stock")
    if policy.kind == "critical_ratio":
        require_columns(stock, MARGIN_COLUMNS, "stock")
    return stock.reset_index(drop=True)


def _protection_level(frame: pd.DataFrame, policy: ReservationPolicy) -> np.ndarray:
    """Quantile level per row: a category's service level, or the newsvendor critical ratio."""
    if policy.kind == "service_level":
        if "category" not in frame.columns:
            return np.full(len(frame), policy.default_service_level)
        levels = frame["category"].map(dict(policy.service_level_by_category))
        return levels.fillna(policy.default_service_level).to_numpy(dtype=np.float64)
    walkin = frame["walkin_margin_pln"].to_numpy(dtype=np.float64)
    fulfilment = frame.get("fulfilment_cost_pln", pd.Series(0.0, index=frame.index))
    online_net = frame["online_margin_pln"].to_numpy(dtype=np.float64) - fulfilment.to_numpy(
        dtype=np.float64
    )
    # Keep a unit while P(D >= k) > online_net / walkin: a losing online sale (net <= 0) keeps
    # everything, a walk-in sale worth nothing keeps nothing.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(walkin > 0, 1.0 - online_net / walkin, 0.0)
    return np.clip(ratio, 0.0, 1.0 - 1e-9)


def _horizon_demand(
    frame: pd.DataFrame, forecast: pd.DataFrame, as_of: date, policy: ReservationPolicy
) -> tuple[np.ndarray, np.ndarray]:
    """Summed walk-in mean over each store's open horizon days, and its dispersion."""
    require_columns(forecast, ("store", "sku", "date", "mean"), "walkin_forecast")
    require_non_negative(forecast, "mean", "walkin_forecast")
    if "level_shock" in forecast.columns:
        require_non_negative(forecast, "level_shock", "walkin_forecast")
    days = pd.to_datetime(forecast["date"]).dt.date
    unique_days = days.unique()
    open_map = {d: is_store_open(d, policy.country) for d in unique_days}
    offset_map = {d: (d - as_of).days for d in unique_days}
    rows = forecast.assign(
        _offset=days.map(offset_map).to_numpy(), _open=days.map(open_map).to_numpy()
    )
    horizon = frame[["store", "sku", "replenishment_days"]]
    rows = rows.merge(horizon, on=["store", "sku"], how="inner")
    offset = rows["_offset"]
    inside = (offset >= 1) & (offset <= rows["replenishment_days"]) & rows["_open"]
    rows = rows.loc[inside]
    summed = sum_days(rows, ["store", "sku"], policy.default_dispersion)
    shock = rows["level_shock"].fillna(0.0) if "level_shock" in rows.columns else None
    if shock is not None:
        worst = shock.groupby([rows["store"], rows["sku"]], sort=False).max()
        summed = summed.merge(worst.rename("_shock").reset_index(), on=["store", "sku"])
    joined = frame[["store", "sku"]].merge(summed, on=["store", "sku"], how="left")
    mean = joined["mean"].fillna(0.0).to_numpy(dtype=np.float64)
    ratio = joined["dispersion"].fillna(policy.default_dispersion).to_numpy(dtype=np.float64)
    # A level shock (one multiplicative error shared by all days of a series, variance psi)
    # adds psi * mean**2 to the variance of the sum: psi * mean to its variance-to-mean ratio.
    psi = joined["_shock"].fillna(0.0).to_numpy(dtype=np.float64) if shock is not None else 0.0
    dispersion = np.where(mean > 0, ratio + psi * mean, policy.default_dispersion)
    return mean, dispersion.astype(np.float64)


def _interpolated_quantile(
    frame: pd.DataFrame, quantiles: pd.DataFrame, level: np.ndarray
) -> np.ndarray:
    """Horizon demand at `level` from given quantile columns, linear between the columns."""
    require_columns(quantiles, ("store", "sku"), "horizon_quantiles")
    cols = sorted(
        (c for c in quantiles.columns if c.startswith("q") and c[1:].isdigit()),
        key=lambda c: int(c[1:]),
    )
    if not cols:
        raise PlanningInputError("horizon_quantiles", "no quantile columns like q50, q90")
    joined = frame[["store", "sku"]].merge(quantiles, on=["store", "sku"], how="left")
    values = joined[cols].fillna(0.0).to_numpy(dtype=np.float64)
    # Quantiles must not cross: sort each row so interpolation is monotone.
    values = np.sort(values, axis=1)
    levels = np.array([int(c[1:]) / 100.0 for c in cols])
    # Below the lowest given level, interpolate from zero demand at level 0.
    levels = np.concatenate([[0.0], levels])
    values = np.concatenate([np.zeros((len(values), 1)), values], axis=1)
    idx = np.clip(np.searchsorted(levels, level, side="right") - 1, 0, len(levels) - 1)
    nxt = np.minimum(idx + 1, len(levels) - 1)
    lo_v, hi_v = values[np.arange(len(values)), idx], values[np.arange(len(values)), nxt]
    span = np.where(nxt > idx, levels[nxt] - levels[idx], 1.0)
    weight = np.where(nxt > idx, (level - levels[idx]) / span, 0.0)
    return lo_v + weight * (hi_v - lo_v)
