"""Replenishment in the replay: forecast-driven order-up-to, the same rule for every policy.

Stores: store s reviews on the days d with (d + s) % cycle == 0 (cycle = its
`replenishment_days`) and its truck arrives the next morning, so this delivery must last until
the next one lands, cycle + 1 days from today. The order-up-to level is the
`SERVICE_LEVEL` quantile of the forecast walk-in demand over those days (the chain's forecast
known today, negative-binomial sum: allocation.planning.demand) plus the units online orders
took from the store over the last `PICK_WINDOW_DAYS` scaled to the same days (what a
replenishment system sees leaving the store besides the tills). Order = level - on hand - in
transit, as far as the home DC has the units.

DCs order from suppliers every `DC_REVIEW_DAYS` days (lead `DC_LEAD_DAYS`) on the echelon: the
DC plus its stores (on hand and in transit) up to the quantile of its stores' forecast walk-in
demand until the supplier's next delivery plus one store cycle (stores draw a cycle ahead), and
their catchments' online demand until that delivery. A peak in the forecast is pre-built as the
forecast sees it, the way a plan-driven chain does.

`SERVICE_LEVEL` is the cycle service level of retail replenishment targets (95%), fixed before
any replay and not tuned: the rule is the chain's, not a policy's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocation.planning.demand import demand_quantile
from experiments.simulation.forecast import SeasonForecast, sum_dispersion

SERVICE_LEVEL = 0.95
DC_REVIEW_DAYS = 7
DC_LEAD_DAYS = 3
PICK_WINDOW_DAYS = 14


@dataclass(frozen=True)
class Topology:
    """Where stores sit in the node arrays and how they are supplied."""

    store_rows: np.ndarray  # node row of each store
    home_row: np.ndarray  # node row of each store's home DC
    dc_rows: np.ndarray
    cycle: np.ndarray  # review period + lead time per store (days)


def reviews_on(cycle: np.ndarray, d: int) -> np.ndarray:
    """[store] True where store s reviews on day d, (d + s) % cycle == 0 (its truck lands on
    d + 1): the one place the schedule is written."""
    return (d + np.arange(len(cycle))) % cycle == 0


def store_orders(t: Topology, fc: SeasonForecast, d: int, on_hand: np.ndarray,
                 in_transit: np.ndarray, picked_rate: np.ndarray) -> np.ndarray:
    """Units each node receives tomorrow from today's store reviews (taken off the DCs now)."""
    reviewing = np.flatnonzero(reviews_on(t.cycle, d))
    delivery = np.zeros_like(on_hand)
    if reviewing.size == 0:
        return delivery
    last = d + t.cycle  # the next delivery lands on d + cycle + 1
    level = _quantile(fc.walkin[fc.issue_of(d)], fc.phi_walkin, fc.level_shock, d, last)
    level = level + np.ceil(picked_rate * (t.cycle + 1)[:, None]).astype(np.int64)
    for s in reviewing:
        row, dc = t.store_rows[s], t.home_row[s]
        need = np.maximum(level[s] - on_hand[row] - in_transit[row], 0)
        qty = np.minimum(need, on_hand[dc])
        on_hand[dc] -= qty
        delivery[row] += qty
    return delivery


def dc_orders(t: Topology, fc: SeasonForecast, d: int, on_hand: np.ndarray,
              in_transit: np.ndarray) -> np.ndarray | None:
    """Supplier deliveries (arriving in `DC_LEAD_DAYS`) of a DC review day, else None."""
    if d % DC_REVIEW_DAYS:
        return None
    issue = fc.issue_of(d)
    until = d + DC_REVIEW_DAYS + DC_LEAD_DAYS - 1  # the next supplier delivery lands after it
    walkin = _sums(fc.walkin[issue], d, until + t.cycle)
    online = _sums(fc.online[issue], d, np.full(len(t.cycle), until))
    supply = np.zeros_like(on_hand)
    position = on_hand + in_transit
    for dc in t.dc_rows:
        mine = t.home_row == dc
        mean = sum(part[0][mine].sum(axis=0) for part in (walkin, online))
        var = sum((part[0] + fc_phi * part[1] + fc.level_shock * part[0] ** 2)[mine].sum(axis=0)
                  for part, fc_phi in ((walkin, fc.phi_walkin), (online, fc.phi_online)))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(mean > 0, var / mean, 1.0)
        level = demand_quantile(mean, ratio, SERVICE_LEVEL)
        echelon = position[dc] + position[t.store_rows[mine]].sum(axis=0)
        supply[dc] = np.maximum(level - echelon, 0)
    return supply


def _sums(daily: np.ndarray, first: int, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """([store, sku] sum of means, sum of squared means) over days first..last per store."""
    stop = np.minimum(last + 1, daily.shape[0])
    cum = np.concatenate([np.zeros((1, *daily.shape[1:])), np.cumsum(daily, axis=0)])
    cum_sq = np.concatenate([np.zeros((1, *daily.shape[1:])), np.cumsum(daily**2, axis=0)])
    rows = np.arange(daily.shape[1])
    return cum[stop, rows] - cum[first, rows], cum_sq[stop, rows] - cum_sq[first, rows]


def _quantile(daily: np.ndarray, phi: np.ndarray, psi: float, first: int,
              last: np.ndarray) -> np.ndarray:
    """[store, sku] SERVICE_LEVEL quantile of demand over days first..last (per store)."""
    mean, mean_sq = _sums(daily, first, last)
    ratio = sum_dispersion(mean, mean_sq, phi, psi)
    return np.asarray(demand_quantile(mean, ratio, SERVICE_LEVEL), np.int64)
