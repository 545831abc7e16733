from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

from allocation.model import Availability, Order, OrderLine, network_from_frames
from allocation.promise import WARSAW, scheduled_arrival
from allocation.sourcing import source_order


def _network(epoch: date | None, with_lane: bool = True) -> object:
    nodes = pd.DataFrame({
        "node_id": ["DC-X", "S001"], "kind": ["dc", "store"], "lat": [51.9, 51.76],
        "lon": [19.6, 19.46], "opens_at_hour": [0, 9], "closes_at_hour": [24, 21],
        "pick_cost_pln": [1.1, 6.0], "pick_capacity_per_day": [60000, 200],
        "replenishment_days": [14, 3], "home_dc": [None, "DC-X"],
        "delivery_epoch": [None, epoch],
    })
    skus = pd.DataFrame({"sku": ["F1"], "weight_kg": [0.3], "price_pln": [39.99],
                         "unit_cost_pln": [15.0]})
    parcel_rates = pd.DataFrame({
        "method": ["home_delivery"], "max_weight_kg": [5.0], "max_distance_km": [500.0],
        "price_pln": [15.0], "transit_hours": [24],
    })
    lanes = ["dc_to_store", "store_to_store"] + (["replenishment"] if with_lane else [])
    n = len(lanes)
    transfer_rates = pd.DataFrame({
        "lane": lanes, "fixed_cost_pln": [25.0, 60.0, 2.0][:n],
        "cost_per_unit_pln": [0.4, 1.2, 0.4][:n], "cost_per_km_pln": [0.35, 1.1, 0.0][:n],
        "lead_time_hours": [24, 48, 10][:n],
    })
    return network_from_frames(nodes, skus, parcel_rates, transfer_rates)


def _order(placed: datetime) -> Order:
    return Order("o1", "click_and_collect", (OrderLine("l1", "F1", 1),), placed,
                 pickup_store_id="S001", promise_by=placed + timedelta(days=2, hours=12))


PLACED = datetime(2026, 11, 24, 10, tzinfo=WARSAW)  # a Tuesday
DC_ONLY = [Availability("DC-X", "F1", 5)]


def test_scheduled_arrival_is_the_next_delivery_day_whose_truck_leaves_after_picking() -> None:
    store = _network(date(2026, 11, 25)).node("S001")  # type: ignore[attr-defined]
    arrives = scheduled_arrival(store, PLACED + timedelta(hours=4), 10.0)
    assert arrives == datetime(2026, 11, 25, 9, tzinfo=WARSAW)
    late = scheduled_arrival(store, datetime(2026, 11, 24, 23, 30, tzinfo=WARSAW), 10.0)
    assert late == datetime(2026, 11, 28, 9, tzinfo=WARSAW)  # next run three days later


def test_click_and_collect_rides_the_truck_when_it_arrives_in_time() -> None:
    decision = source_order(_order(PLACED), _network(date(2026, 11, 25)), DC_ONLY)  # type: ignore[arg-type]
    assert decision.costs.transfer_pln == 2.4
    assert decision.lines[0].promised_at == datetime(2026, 11, 25, 9, tzinfo=WARSAW)


def test_a_late_truck_loses_to_the_dedicated_run() -> None:
    # next delivery on Friday: after the promise, so the dearer on-time run wins
    decision = source_order(_order(PLACED), _network(date(2026, 11, 27)), DC_ONLY)  # type: ignore[arg-type]
    assert decision.costs.transfer_pln > 25.0
    assert decision.lines[0].promised_at <= _order(PLACED).promise_by  # type: ignore[operator]


def test_without_a_schedule_or_the_lane_the_dedicated_run_is_used() -> None:
    for network in (_network(None), _network(date(2026, 11, 25), with_lane=False)):
        decision = source_order(_order(PLACED), network, DC_ONLY)  # type: ignore[arg-type]
        assert decision.costs.transfer_pln > 25.0
