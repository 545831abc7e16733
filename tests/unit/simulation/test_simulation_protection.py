"""Policy (d) in the replay prices store stock and reserves it exactly as production does."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from allocation.model import network_from_frames
from allocation.planning.reservation import plan_reservations
from api.services.opportunity import opportunity_costs_pln
from api.services.planning import ONLINE_FULFILMENT_PLN
from experiments.simulation.forecast import SeasonForecast
from experiments.simulation.protection import Protection

DAYS = tuple(date(2026, 12, 1) + timedelta(days=k) for k in range(14))  # trading Sundays too
STORES, SKUS = ("S1", "S2"), ("A", "B")
CYCLE = np.array([3, 4])
MARGIN = np.array([120.0, 5.0])


def _forecast() -> SeasonForecast:
    rng = np.random.default_rng(1)
    walkin = rng.uniform(0.2, 3.0, (2, 30, 2, 2))
    walkin[:, 5] *= 3  # a peak day inside the first horizon
    return SeasonForecast("test", (0, 7), walkin, walkin * 0.5, np.full((2, 2), 0.3),
                          np.full((2, 2), 0.3), 0.05)


def _protection() -> Protection:
    return Protection(_forecast(), DAYS, STORES, SKUS, np.array([1, 2]), CYCLE, MARGIN)


def test_opportunity_cost_is_the_production_services_figure() -> None:
    p = _protection()
    on_hand = np.array([[50, 50], [2, 7], [9, 0]])  # a DC, then the two stores
    for d in (0, 3, 9):
        rates = p.rates(d)
        mine = p.opportunity(d, on_hand, rates)
        nodes = pd.DataFrame([
            {"node_id": n, "kind": k, "lat": 52.0, "lon": 21.0, "pick_cost_pln": 2.0,
             "pick_capacity_per_day": 100, "replenishment_days": r}
            for n, k, r in [("DC", "dc", 14), ("S1", "store", 3), ("S2", "store", 4)]])
        skus = pd.DataFrame({"sku": SKUS, "weight_kg": [1.0, 0.5], "price_pln": [200.0, 50.0],
                             "unit_cost_pln": [80.0, 45.0]})
        demand = pd.DataFrame([{"node_id": s, "sku": k, "walkin_units_per_day": rates[i, j]}
                               for i, s in enumerate(STORES) for j, k in enumerate(SKUS)])
        parcels = pd.DataFrame({"method": ["home_delivery"], "max_weight_kg": [30.0],
                                "max_distance_km": [1000.0], "price_pln": [15.0],
                                "transit_hours": [24.0]})
        lanes = pd.DataFrame({"lane": ["dc_to_store"], "fixed_cost_pln": [10.0],
                              "cost_per_unit_pln": [0.5], "cost_per_km_pln": [0.01],
                              "lead_time_hours": [48.0]})
        network = network_from_frames(nodes, skus, parcels, lanes, demand_rates=demand)
        rows = [(n, k, int(on_hand[i, j])) for i, n in enumerate(("DC", "S1", "S2"))
                for j, k in enumerate(SKUS)]
        theirs = opportunity_costs_pln(network, rows, DAYS[d])
        np.testing.assert_allclose(mine.reshape(-1), theirs, atol=0.005)
    assert mine[1, 0] > 0 and mine[0].sum() == 0  # store stock costs, DC stock does not


def test_the_rate_is_the_forecasts_mean_per_open_day_over_four_weeks() -> None:
    p = _protection()
    fc = _forecast()
    opened = p.open[7:7 + 28]
    np.testing.assert_allclose(p.rates(9), fc.walkin[1, 7:35][opened].mean(axis=0))


def test_safety_stock_is_productions_reservation_plan_from_the_days_forecast() -> None:
    p = _protection()
    on_hand = np.array([[50, 50], [8, 7], [9, 3]])
    d = 2
    safety = p.safety(d, on_hand)
    fc = _forecast()
    frame = pd.DataFrame([
        {"store": s, "sku": k, "date": DAYS[d] + timedelta(days=t), "mean": fc.walkin[0, d + t,
                                                                                    i, j]}
        for t in range(4) for i, s in enumerate(STORES) for j, k in enumerate(SKUS)])
    stock = pd.DataFrame([
        {"store": s, "sku": k, "on_hand": on_hand[1 + i, j], "replenishment_days": CYCLE[i],
         "walkin_margin_pln": MARGIN[j], "online_margin_pln": MARGIN[j],
         "fulfilment_cost_pln": ONLINE_FULFILMENT_PLN}
        for i, s in enumerate(STORES) for j, k in enumerate(SKUS)])
    plan = plan_reservations(stock, DAYS[d] - timedelta(days=1), frame)
    assert safety[1:].reshape(-1).tolist() == plan["safety_stock"].tolist()
    assert safety[0].sum() == 0
    # the thin-margin SKU (online net of fulfilment < 0 is impossible here: 5 < 12) keeps all
    assert (safety[1:, 1] == on_hand[1:, 1]).all()


def test_refresh_reprices_only_the_flagged_stores_and_matches_a_full_pricing() -> None:
    p = _protection()
    rates = p.rates(2)
    before = np.array([[50, 50], [2, 7], [9, 3]])
    priced = p.opportunity(2, before, rates)
    after = before.copy()
    after[1, 0] -= 1  # an order took from S1
    after[2, 1] -= 3  # S2's shelf moved too, but S2 is not flagged

    p.refresh(2, after, rates, priced, np.array([True, False]))

    full = p.opportunity(2, after, rates)
    np.testing.assert_array_equal(priced[1], full[1])
    np.testing.assert_array_equal(priced[2], p.opportunity(2, before, rates)[2])
    assert priced[1, 0] != p.opportunity(2, before, rates)[1, 0]
