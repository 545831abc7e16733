"""The API's vectorised opportunity cost agrees with the core's per-row rule."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from allocation.model import network_from_frames
from allocation.opportunity import store_opportunity_cost_pln
from api.services.opportunity import opportunity_costs_pln

AS_OF = date(2026, 12, 10)  # Christmas run-up: trading Sundays inside the horizon


def _network() -> object:
    nodes = pd.DataFrame([
        {"node_id": n, "kind": k, "lat": 52.0, "lon": 21.0, "pick_cost_pln": 2.0,
         "pick_capacity_per_day": 100, "replenishment_days": d}
        for n, k, d in [("DC", "dc", 7), ("S1", "store", 7), ("S2", "store", 3)]
    ])
    skus = pd.DataFrame({"sku": ["A", "B"], "weight_kg": [1.0, 0.5],
                         "price_pln": [200.0, 50.0], "unit_cost_pln": [80.0, 45.0]})
    rates = pd.DataFrame({"method": ["home_delivery"], "max_weight_kg": [30.0],
                          "max_distance_km": [1000.0], "price_pln": [15.0],
                          "transit_hours": [24.0]})
    transfers = pd.DataFrame({"lane": ["dc_to_store"], "fixed_cost_pln": [10.0],
                              "cost_per_unit_pln": [0.5], "cost_per_km_pln": [0.01],
                              "lead_time_hours": [48.0]})
    demand = pd.DataFrame({"node_id": ["S1", "S1", "S2", "DC"], "sku": ["A", "B", "A", "A"],
                           "walkin_units_per_day": [1.5, 0.2, 4.0, 9.0]})
    return network_from_frames(nodes, skus, rates, transfers, demand_rates=demand)


@pytest.mark.parametrize("on_shelf", [1, 2, 5, 12, 40])
def test_vectorised_cost_equals_the_core_rule_row_by_row(on_shelf: int) -> None:
    network = _network()
    rows = [("DC", "A", on_shelf), ("S1", "A", on_shelf), ("S1", "B", on_shelf),
            ("S2", "A", on_shelf), ("S2", "B", on_shelf)]
    ours = opportunity_costs_pln(network, rows, AS_OF)  # type: ignore[arg-type]
    core = [store_opportunity_cost_pln(network, n, s, shelf, AS_OF)  # type: ignore[arg-type]
            for n, s, shelf in rows]
    assert ours == pytest.approx(core, abs=0.005)
    assert ours[0] == 0.0 and ours[4] == 0.0  # a DC; a store without walk-in demand


def test_an_empty_shelf_costs_nothing() -> None:
    assert opportunity_costs_pln(_network(), [("S1", "A", 0)], AS_OF) == [0.0]  # type: ignore[arg-type]
