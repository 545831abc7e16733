from __future__ import annotations

import pandas as pd
import pytest

from allocation.costs import distance_band
from allocation.model import Location, network_from_frames


def _frames() -> dict[str, pd.DataFrame]:
    nodes = pd.DataFrame({
        "node_id": ["DC-X", "S001"], "kind": ["dc", "store"], "name": ["DC", "Mall"],
        "city": ["Stryków", "Łódź"], "lat": [51.9, 51.76], "lon": [19.6, 19.46],
        "format": ["dc", "mall"], "opens_at_hour": [0, 9], "closes_at_hour": [24, 21],
        "pick_cost_pln": [1.1, 6.0], "pick_capacity_per_day": [60000, 200],
        "replenishment_days": [14, 3],
    })
    skus = pd.DataFrame({
        "sku": ["F1"], "name": ["Tee"], "weight_kg": [0.3], "price_pln": [39.99],
        "unit_cost_pln": [15.0],
    })
    parcel_rates = pd.DataFrame({
        "method": ["home_delivery"] * 4,
        "max_weight_kg": [1.0, 5.0, 1.0, 5.0],
        "max_distance_km": [50.0, 50.0, 500.0, 500.0],
        "price_pln": [13.99, 15.79, 14.79, 16.59],
        "transit_hours": [24, 24, 36, 36],
    })
    transfer_rates = pd.DataFrame({
        "lane": ["dc_to_store", "store_to_store"], "fixed_cost_pln": [25.0, 60.0],
        "cost_per_unit_pln": [0.4, 1.2], "cost_per_km_pln": [0.35, 1.1],
        "lead_time_hours": [24, 48],
    })
    lockers = pd.DataFrame({"locker_id": ["L1"], "city": ["Łódź"], "lat": [51.77], "lon": [19.45]})
    areas = pd.DataFrame(
        {"postcode_prefix": ["90"], "city": ["Łódź"], "lat": [51.76], "lon": [19.46]}
    )
    demand = pd.DataFrame({"node_id": ["S001"], "sku": ["F1"], "walkin_units_per_day": [0.8]})
    return {
        "nodes": nodes, "skus": skus, "parcel_rates": parcel_rates,
        "transfer_rates": transfer_rates, "lockers": lockers, "postcode_areas": areas,
        "demand_rates": demand,
    }


def test_network_from_the_chain_frames_keeps_nodes_tariffs_and_lookups() -> None:
    network = network_from_frames(**_frames())
    assert [n.node_id for n in network.nodes] == ["DC-X", "S001"]
    store = network.node("S001")
    assert (store.kind, store.opens_at_hour, store.closes_at_hour) == ("store", 9, 21)
    assert network.skus["F1"].margin_pln == pytest.approx(24.99)
    assert network.transfer_rates["store_to_store"].lead_time_hours == 48
    assert network.locate_postcode("90-001") == Location(51.76, 19.46)
    assert network.locate_locker("L1") == Location(51.77, 19.45)
    assert network.walkin_units_per_day[("S001", "F1")] == 0.8
    band = distance_band(network, "home_delivery", 120.0)
    assert band.max_distance_km == 500.0
    assert band.bands == ((1000, 1479), (5000, 1659))
    assert band.transit_hours == 36


def test_missing_optional_columns_take_defaults() -> None:
    frames = _frames()
    nodes = frames["nodes"].drop(columns=["opens_at_hour", "closes_at_hour", "name"])
    network = network_from_frames(
        nodes, frames["skus"], frames["parcel_rates"], frames["transfer_rates"]
    )
    assert (network.node("S001").opens_at_hour, network.node("S001").closes_at_hour) == (0, 24)
    assert network.lockers == {}
