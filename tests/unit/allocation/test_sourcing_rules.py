from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from allocation_network import KRAKOW, WARSAW, WEDNESDAY

from allocation.errors import InvalidOrder, NoFeasiblePlan, OutOfStock, UnknownReference
from allocation.model import Availability, Location, Network, Order, OrderLine
from allocation.sourcing import source_order


def _order(*lines: tuple[str, str, int], **kw: object) -> Order:
    args: dict[str, object] = {"destination": KRAKOW, "placed_at": WEDNESDAY}
    args.update(kw)
    fulfilment = args.pop("fulfilment", "home_delivery")
    return Order(
        "o-1",
        fulfilment,  # type: ignore[arg-type]
        tuple(OrderLine(i, s, q) for i, s, q in lines),
        **args,  # type: ignore[arg-type]
    )


def test_a_single_line_ships_from_the_cheapest_node(network: Network) -> None:
    stock = [Availability("DC", "TEE", 10), Availability("S-GDA", "TEE", 10)]
    # a deadline far from the default 50 ms: run first in its process, the call pays the
    # solver's cold start, which is not what this test is about
    decision = source_order(_order(("1", "TEE", 1)), network, stock, deadline_ms=2_000)
    assert decision.status == "optimal"
    assert [(ln.node_id, ln.method) for ln in decision.lines] == [("DC", "home_delivery")]
    assert decision.explanation.runner_up is not None
    assert decision.explanation.runner_up.assignments == (("1", "S-GDA", 1),)
    assert decision.explanation.runner_up_delta_pln is not None
    assert decision.explanation.runner_up_delta_pln > 0


def test_store_stock_goes_out_as_ship_from_store(network: Network) -> None:
    stock = [Availability("S-KRK", "JEANS", 3)]
    decision = source_order(_order(("1", "JEANS", 1)), network, stock)
    assert decision.lines[0].node_id == "S-KRK"
    assert decision.lines[0].method == "ship_from_store"


def test_fast_path_and_cp_sat_agree_on_the_cost(network: Network) -> None:
    stock = [
        Availability("DC", "TEE", 5),
        Availability("S-KRK", "TEE", 5, 4.0),
        Availability("S-KRK", "JEANS", 1, 9.0),
        Availability("S-WAW", "JEANS", 4, 1.0),
        Availability("DC", "TV", 2),
    ]
    order = _order(("1", "TEE", 2), ("2", "JEANS", 1), ("3", "TV", 1))
    fast = source_order(order, network, stock)
    exact = source_order(order, network, stock, solver="cpsat", deadline_ms=5_000)
    assert fast.status == exact.status == "optimal"
    assert fast.total_cost_pln == exact.total_cost_pln


def test_a_closed_sunday_moves_the_click_and_collect_promise_to_monday(network: Network) -> None:
    saturday_evening = datetime(2026, 11, 21, 19, 0, tzinfo=WARSAW)  # Sunday 22nd: no trading
    order = _order(
        ("1", "TEE", 1), fulfilment="click_and_collect", pickup_store_id="S-KRK",
        destination=None, placed_at=saturday_evening,
    )
    decision = source_order(order, network, [Availability("S-KRK", "TEE", 2)])
    promised = decision.lines[0].promised_at.astimezone(WARSAW)
    assert promised.date() == datetime(2026, 11, 23).date()  # Monday
    assert promised.hour == 12  # opens at 10, two hours to pick


def test_click_and_collect_is_handed_over_only_at_the_chosen_store(network: Network) -> None:
    stock = [Availability("S-WAW", "JEANS", 5), Availability("DC", "TEE", 5)]
    order = _order(
        ("1", "JEANS", 1), ("2", "TEE", 1), fulfilment="click_and_collect",
        pickup_store_id="S-GDA", destination=None,
    )
    decision = source_order(order, network, stock)
    assert {ln.method for ln in decision.lines} == {"click_and_collect"}
    assert decision.costs.transfer_pln > 0  # both units travel to Gdańsk
    assert {p.node_id for p in decision.parcels} == {"S-WAW", "DC"}
    assert all(ln.promised_at > WEDNESDAY + timedelta(hours=24) for ln in decision.lines)


def test_click_and_collect_from_the_chosen_stores_own_shelf_pays_no_transfer(
    network: Network,
) -> None:
    stock = [Availability("S-GDA", "JEANS", 5), Availability("DC", "JEANS", 5)]
    order = _order(
        ("1", "JEANS", 1), fulfilment="click_and_collect", pickup_store_id="S-GDA",
        destination=None,
    )
    decision = source_order(order, network, stock)
    assert decision.lines[0].node_id == "S-GDA"
    assert decision.costs.transfer_pln == 0


def test_max_parcels_is_respected_even_when_splitting_is_cheaper(network: Network) -> None:
    stock = [
        Availability("S-KRK", "TEE", 5),
        Availability("S-KRK", "JEANS", 5),
        Availability("DC", "TEE", 5),
        Availability("S-GDA", "JEANS", 5),
    ]
    order = _order(("1", "TEE", 1), ("2", "JEANS", 1), max_parcels=1)
    decision = source_order(order, network, stock)
    assert len(decision.parcels) == 1
    assert {ln.node_id for ln in decision.lines} == {"S-KRK"}


def test_out_of_stock_names_the_short_lines(network: Network) -> None:
    stock = [Availability("DC", "TEE", 5), Availability("S-KRK", "JEANS", 1)]
    order = _order(("1", "TEE", 1), ("2", "JEANS", 3))
    with pytest.raises(OutOfStock) as raised:
        source_order(order, network, stock)
    assert [(s.line_id, s.qty, s.available) for s in raised.value.short_lines] == [("2", 3, 1)]


def test_allow_partial_serves_what_it_can_and_marks_the_rest_unfulfilled(
    network: Network,
) -> None:
    stock = [Availability("DC", "TEE", 5)]
    order = _order(("1", "TEE", 1), ("2", "JEANS", 1), allow_partial=True)
    decision = source_order(order, network, stock)
    assert [ln.line_id for ln in decision.lines] == ["1"]
    assert [(u.line_id, u.available) for u in decision.unfulfilled] == [("2", 0)]


def test_a_line_no_node_holds_whole_is_split_over_nodes(network: Network) -> None:
    stock = [Availability("DC", "TEE", 2), Availability("S-KRK", "TEE", 2)]
    decision = source_order(_order(("1", "TEE", 3)), network, stock)
    assert decision.status in ("optimal", "feasible")
    assert sum(ln.qty for ln in decision.lines) == 3
    assert len({ln.node_id for ln in decision.lines}) == 2


def test_a_store_without_pick_capacity_left_is_passed_over(network: Network) -> None:
    stock = [Availability("S-KRK", "JEANS", 5), Availability("S-WAW", "JEANS", 5)]
    decision = source_order(
        _order(("1", "JEANS", 1)), network, stock, remaining_capacity={"S-KRK": 0}
    )
    assert decision.lines[0].node_id == "S-WAW"


def test_lateness_against_the_requested_promise_is_charged(network: Network) -> None:
    stock = [Availability("S-GDA", "TEE", 5)]
    order = _order(("1", "TEE", 1), promise_by=WEDNESDAY + timedelta(hours=6))
    decision = source_order(order, network, stock)
    assert decision.costs.lateness_pln > 0


def test_unknown_sku_and_store_are_reported_with_the_field(network: Network) -> None:
    with pytest.raises(UnknownReference) as sku:
        source_order(_order(("1", "NOPE", 1)), network, [])
    assert sku.value.field == "/lines/0/sku"
    order = _order(("1", "TEE", 1), fulfilment="click_and_collect", pickup_store_id="DC")
    with pytest.raises(UnknownReference) as store:
        source_order(order, network, [])
    assert store.value.field == "/pickup_store_id"


def test_home_delivery_without_destination_is_invalid(network: Network) -> None:
    with pytest.raises(InvalidOrder):
        source_order(_order(("1", "TEE", 1), destination=None), network, [])


def test_greedy_fallback_is_labelled(network: Network) -> None:
    stock = [Availability("DC", "TEE", 5)]
    decision = source_order(_order(("1", "TEE", 1)), network, stock, solver="greedy")
    assert decision.status == "fallback"
    assert decision.lines[0].node_id == "DC"


def test_destination_far_from_every_store_still_gets_a_plan(network: Network) -> None:
    order = _order(("1", "TEE", 1), destination=Location(49.3, 22.5))
    decision = source_order(order, network, [Availability("S-GDA", "TEE", 1)])
    assert decision.lines[0].node_id == "S-GDA"


def test_past_the_deadline_the_greedy_plan_comes_back_as_fallback(network: Network) -> None:
    stock = [Availability("DC", "TEE", 5), Availability("S-KRK", "JEANS", 5)]
    order = _order(("1", "TEE", 1), ("2", "JEANS", 1))
    decision = source_order(order, network, stock, solver="cpsat", deadline_ms=0.0)
    assert decision.status == "fallback"
    assert decision.explanation.greedy is not None
    assert decision.explanation.greedy_delta_pln == 0.0


def test_postcodes_and_lockers_resolve_to_locations(network: Network) -> None:
    assert network.locate_postcode("31-000") is None  # this network has no postcode areas
    assert network.locate_locker("nope") is None


def test_a_parcel_due_on_sunday_is_promised_for_monday(network: Network) -> None:
    saturday_noon = datetime(2026, 11, 21, 12, 0, tzinfo=WARSAW)
    order = _order(("1", "TEE", 1), placed_at=saturday_noon)
    decision = source_order(order, network, [Availability("DC", "TEE", 3)])
    promised = decision.lines[0].promised_at.astimezone(WARSAW)
    assert promised.weekday() == 0  # Monday 23 November, not Sunday


def test_a_line_scattered_one_unit_per_node_is_still_served(network: Network) -> None:
    stock = [Availability(n.node_id, "TEE", 1) for n in network.nodes]
    decision = source_order(
        _order(("1", "TEE", 4)), network, stock, candidates_per_line=1, deadline_ms=5_000
    )
    assert decision.status in ("optimal", "feasible")
    assert sum(ln.qty for ln in decision.lines) == 4


def test_allow_partial_leaves_out_lines_that_would_break_max_parcels(network: Network) -> None:
    stock = [Availability("DC", "TEE", 5), Availability("S-GDA", "JEANS", 5)]
    partial = _order(("1", "TEE", 1), ("2", "JEANS", 1), max_parcels=1, allow_partial=True)
    decision = source_order(partial, network, stock, deadline_ms=5_000)
    assert len(decision.parcels) == 1
    assert len(decision.lines) == 1
    assert len(decision.unfulfilled) == 1
    strict = _order(("1", "TEE", 1), ("2", "JEANS", 1), max_parcels=1)
    with pytest.raises(OutOfStock):
        source_order(strict, network, stock, deadline_ms=5_000)


def test_a_split_line_also_gets_a_runner_up_on_other_nodes(network: Network) -> None:
    stock = [Availability(n, "TEE", 2) for n in ("DC", "S-KRK", "S-WAW")]
    decision = source_order(_order(("1", "TEE", 3)), network, stock, deadline_ms=5_000)
    runner_up = decision.explanation.runner_up
    assert runner_up is not None
    chosen = {(ln.line_id, ln.node_id) for ln in decision.lines}
    assert {(line_id, node_id) for line_id, node_id, _ in runner_up.assignments} != chosen
    assert decision.explanation.runner_up_delta_pln is not None
    assert decision.explanation.runner_up_delta_pln >= 0


def test_a_destination_beyond_the_tariffs_reach_is_refused(network: Network) -> None:
    """Warsaw with latitude and longitude swapped lies in Somalia: no domestic parcel gets there."""
    swapped = _order(("1", "TEE", 1), destination=Location(21.0122, 52.2297))
    with pytest.raises(InvalidOrder) as far:
        source_order(swapped, network, [Availability("DC", "TEE", 5)])
    assert far.value.field == "/destination"
    assert "swapped" in far.value.detail
    inside = _order(("1", "TEE", 1), destination=Location(52.2297, 21.0122))
    assert source_order(inside, network, [Availability("DC", "TEE", 5)]).status == "optimal"


def test_a_promise_before_the_order_was_placed_is_refused(network: Network) -> None:
    stock = [Availability("DC", "TEE", 5)]
    past = _order(("1", "TEE", 1), promise_by=WEDNESDAY - timedelta(minutes=1))
    with pytest.raises(InvalidOrder) as early:
        source_order(past, network, stock)
    assert early.value.field == "/promise_by"
    assert source_order(_order(("1", "TEE", 1), promise_by=WEDNESDAY), network, stock).lines


def test_an_order_heavier_than_its_parcels_can_carry_is_refused_not_called_short(
    network: Network,
) -> None:
    """Three 12 kg TVs need two 31.5 kg parcels: max_parcels 1 cannot be kept from any node."""
    stock = [Availability("DC", "TV", 10)]
    heavy = _order(("1", "TV", 3), max_parcels=1)
    with pytest.raises(InvalidOrder) as refused:
        source_order(heavy, network, stock)
    assert refused.value.field == "/max_parcels"
    assert "at least 2 parcels" in refused.value.detail
    assert source_order(_order(("1", "TV", 3), max_parcels=2), network, stock).lines


def test_a_consignment_heavier_than_one_parcel_says_how_many_boxes_it_ships_in(
    network: Network,
) -> None:
    """Three 12 kg TVs from one DC are 36 kg: two boxes within the 31.5 kg band, not one
    36 kg parcel, and the price is theirs together."""
    decision = source_order(_order(("1", "TV", 3), max_parcels=2), network,
                            [Availability("DC", "TV", 10)])
    (consignment,) = decision.parcels
    assert consignment.boxes == 2 and consignment.weight_kg == pytest.approx(36.0)
    light = source_order(_order(("1", "TV", 1)), network, [Availability("DC", "TV", 10)])
    assert light.parcels[0].boxes == 1


def test_stock_spread_beyond_max_parcels_is_no_feasible_plan_with_no_short_line(
    network: Network,
) -> None:
    """Each node packs its own parcel: TEE only in Warsaw and JEANS only in Krakow cannot go
    in one parcel, though both are in stock."""
    stock = [Availability("S-WAW", "TEE", 5), Availability("S-KRK", "JEANS", 5)]
    order = _order(("1", "TEE", 1), ("2", "JEANS", 1), max_parcels=1)
    with pytest.raises(NoFeasiblePlan) as none:
        source_order(order, network, stock)
    assert none.value.short_lines == ()
    assert none.value.max_parcels == 1 and none.value.nodes_with_stock == 2
    assert isinstance(none.value, OutOfStock)  # callers that catch a shortage still catch it
    two = source_order(_order(("1", "TEE", 1), ("2", "JEANS", 1), max_parcels=2), network, stock)
    assert {ln.node_id for ln in two.lines} == {"S-WAW", "S-KRK"}


def test_without_a_solver_plan_the_fallback_keeps_max_parcels_from_one_node(
    network: Network,
) -> None:
    """The rule sends TEE from Krakow and JEANS from the DC (nearest each): two parcels. With
    one allowed and no solver answer, the fallback is the one node that holds both."""
    stock = [Availability("S-KRK", "TEE", 5), Availability("DC", "TEE", 5),
             Availability("DC", "JEANS", 5)]
    order = _order(("1", "TEE", 1), ("2", "JEANS", 1), max_parcels=1)
    no_time = {"solver": "cpsat", "deadline_ms": 0.01}  # no solver plan can come in time
    decision = source_order(order, network, stock, **no_time)  # type: ignore[arg-type]
    assert decision.status == "fallback"
    assert {ln.node_id for ln in decision.lines} == {"DC"}
    assert len(decision.parcels) == 1


def test_a_partial_order_without_a_solver_plan_serves_what_max_parcels_allows(
    network: Network,
) -> None:
    """TEE in Krakow, JEANS only in Gdansk: the rule's two parcels break max_parcels 1. The
    fallback serves one line and names the other, instead of refusing the whole order."""
    stock = [Availability("S-KRK", "TEE", 5), Availability("S-GDA", "JEANS", 5)]
    order = _order(("1", "TEE", 1), ("2", "JEANS", 1), max_parcels=1, allow_partial=True)
    no_time = {"solver": "cpsat", "deadline_ms": 0.01}  # no solver plan can come in time
    decision = source_order(order, network, stock, **no_time)  # type: ignore[arg-type]
    assert decision.status == "fallback"
    assert [ln.line_id for ln in decision.lines] == ["1"]  # Krakow is nearer the customer
    assert [u.line_id for u in decision.unfulfilled] == ["2"]
    assert len(decision.parcels) == 1
