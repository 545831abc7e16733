"""Policy (d)'s walk-in protection, computed as production computes it, from the forecast
known on the day.

* Reservation plan: `allocation.planning.reservation.plan_reservations` with production's
  default policy (critical ratio: keep unit k while P(D >= k) x walk-in margin beats the online
  margin net of `api.services.planning.ONLINE_FULFILMENT_PLN`), fed the daily walk-in means
  of the newest weekly forecast, as `omni plan reservations` reads them; run every morning
  (as-of = yesterday). ATP = on hand - safety stock.
* Opportunity cost: `allocation.opportunity.lost_margins_pln` (margin x P(D >= units on the
  shelf), Poisson) with D's mean = the walk-in rate x open days from tomorrow to
  `replenishment_days` ahead (`allocation.opportunity.horizon_open_days`), the rate being the
  forecast's mean walk-in units per open day over the 28 days after its issue, as the weekly
  batch writes `demand_rates` (api.db.runs.use_forecast_for_demand_rates).

Not replayed: the rebalancing plan's shadow prices during a peak (production charges the max
of them and the rule above when `omni plan rebalance` has run); the replay has no such plan.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from allocation.opportunity import horizon_open_days, lost_margins_pln
from allocation.planning.reservation import ReservationPolicy, plan_reservations
from experiments.simulation.forecast import SeasonForecast
from forecasting.calendar import is_store_open

RATE_DAYS = 28  # the weekly batch's demand-rate window (days after the forecast's as-of)


class Protection:
    """Safety stock and per-unit opportunity cost of store stock, node x SKU arrays."""

    def __init__(self, fc: SeasonForecast, days: tuple[date, ...], stores: tuple[str, ...],
                 skus: tuple[str, ...], store_rows: np.ndarray, cycle: np.ndarray,
                 margin: np.ndarray, policy: ReservationPolicy | None = None) -> None:
        from api.services.planning import ONLINE_FULFILMENT_PLN  # production's figure

        self.fc, self.days, self.store_rows, self.cycle = fc, days, store_rows, cycle
        self.margin = margin
        self.policy = policy or ReservationPolicy()
        self.stores, self.skus = stores, skus
        n_days = fc.walkin.shape[1]
        self.open = np.array([is_store_open(days[0] + timedelta(days=k)) for k in range(n_days)])
        # [day, store] open days until the next delivery: fixed by the calendar, so computed
        # once here rather than on every order `opportunity` is re-run for.
        self.horizon = np.array([[horizon_open_days(day, int(n)) for n in cycle] for day in days],
                                float).reshape(len(days), len(cycle))
        grid = pd.MultiIndex.from_product([stores, skus], names=["store", "sku"]).to_frame(
            index=False)
        self.stock = grid.assign(
            replenishment_days=np.repeat(cycle, len(skus)),
            walkin_margin_pln=np.tile(margin, len(stores)),
            online_margin_pln=np.tile(margin, len(stores)),
            fulfilment_cost_pln=ONLINE_FULFILMENT_PLN,
        )

    def rates(self, d: int) -> np.ndarray:
        """[store, sku] walk-in units per open day of the forecast in force on day d."""
        issue = self.fc.issue_of(d)
        first = self.fc.issue_days[issue]
        window = slice(first, min(first + RATE_DAYS, self.fc.walkin.shape[1]))
        opened = self.open[window]
        daily = self.fc.walkin[issue, window][opened]
        return daily.mean(axis=0) if len(daily) else np.zeros(self.fc.walkin.shape[2:])

    def safety(self, d: int, on_hand: np.ndarray) -> np.ndarray:
        """Safety stock per node x SKU planned this morning (stores only)."""
        shelf = on_hand[self.store_rows]
        issue = self.fc.issue_of(d)
        days = int(self.cycle.max())
        horizon = self.fc.walkin[issue, d:d + days]  # as-of + 1 .. as-of + cycle
        n_stores, n_skus = shelf.shape
        forecast = pd.DataFrame({
            "store": np.tile(np.repeat(self.stores, n_skus), len(horizon)),
            "sku": np.tile(np.tile(self.skus, n_stores), len(horizon)),
            "date": np.repeat([self.days[0] + timedelta(days=d + k)
                               for k in range(len(horizon))], n_stores * n_skus),
            "mean": horizon.reshape(-1),
        })
        plan = plan_reservations(self.stock.assign(on_hand=shelf.reshape(-1)),
                                 self.days[d] - timedelta(days=1), forecast, self.policy)
        out = np.zeros_like(on_hand)
        out[self.store_rows] = plan["safety_stock"].to_numpy(np.int64).reshape(shelf.shape)
        return out

    def opportunity(self, d: int, on_hand: np.ndarray, rates: np.ndarray) -> np.ndarray:
        """Per-unit opportunity cost (PLN) of taking a unit from each store row today."""
        out = np.zeros(on_hand.shape)
        self.refresh(d, on_hand, rates, out, np.ones(len(self.store_rows), bool))
        return out

    def refresh(self, d: int, on_hand: np.ndarray, rates: np.ndarray, out: np.ndarray,
                stores: np.ndarray) -> None:
        """Recompute `out` (from `opportunity`) for the stores flagged in `stores` only: a
        row's cost depends on its own shelf alone, so an order moves only its stores' rows."""
        positions = np.flatnonzero(stores)
        if positions.size == 0:
            return
        rows = self.store_rows[positions]
        mean = rates[positions] * self.horizon[d][positions, None]
        out[rows] = np.round(lost_margins_pln(self.margin[None, :], on_hand[rows], mean), 2)
