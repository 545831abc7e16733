"""Transfers before a peak: units conserved, on time, worth it, and priced at the margin."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from planning_chains import nodes, positions, rates

from allocation.planning import (
    PlanningInputError,
    RebalanceSettings,
    plan_proportional_transfers,
    plan_transfers,
)
from allocation.planning.exact import solve_exact
from forecasting.calendar import peak_window

AS_OF = date(2026, 11, 10)
PEAK = peak_window("black_week", 2026)


def stock_after(pos: pd.DataFrame, transfers: pd.DataFrame) -> pd.Series:
    stock = pos.set_index(["node_id", "sku"])["on_hand"].astype(float)
    out = transfers.groupby(["from_node", "sku"])["qty"].sum()
    into = transfers.groupby(["to_node", "sku"])["qty"].sum()
    out.index.names = into.index.names = ["node_id", "sku"]
    return stock.sub(out, fill_value=0).add(into, fill_value=0)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    fixed=st.sampled_from([0.0, 80.0]),
    min_qty=st.integers(1, 3),
    n_stores=st.integers(2, 6),
)
def test_transfers_conserve_units_and_never_leave_negative_stock(
    seed: int, fixed: float, min_qty: int, n_stores: int
) -> None:
    pos = positions(n_stores, 4, seed)
    plan = plan_transfers(
        pos, nodes(n_stores), rates(fixed), PEAK, AS_OF, RebalanceSettings(min_transfer_qty=min_qty)
    )
    after = stock_after(pos, plan.transfers)
    assert after.sum() == pos["on_hand"].sum()
    assert (after >= 0).all()
    assert (plan.transfers["qty"] >= min_qty).all()
    assert plan.expected_gain_pln >= 0.0
    assert plan.status in ("optimal", "feasible")


def test_stores_keep_what_their_own_forecast_needs() -> None:
    pos = positions(5, 6, seed=3)
    plan = plan_transfers(pos, nodes(5), rates(), PEAK, AS_OF)
    after = stock_after(pos, plan.transfers)
    keep = np.minimum(pos["on_hand"], np.ceil(pos["demand_mean"] - 1e-9))
    senders = plan.transfers[["from_node", "sku"]].drop_duplicates()
    for node_id, sku in senders.itertuples(index=False):
        row = (pos["node_id"] == node_id) & (pos["sku"] == sku)
        assert after[(node_id, sku)] >= float(keep[row].iloc[0])


def test_no_transfer_arrives_after_the_peak_starts() -> None:
    plan = plan_transfers(positions(5, 6, seed=4), nodes(5), rates(), PEAK, AS_OF)
    start = datetime(2026, 11, 23, tzinfo=plan.transfers["arrive_by"].iloc[0].tzinfo)
    assert len(plan.transfers) > 0
    assert (plan.transfers["arrive_by"] <= pd.Timestamp(start)).all()
    as_of_end = pd.Timestamp(datetime(2026, 11, 10, 23, 59), tz="Europe/Warsaw")
    assert (plan.transfers["ship_by"] >= as_of_end).all()


def test_lanes_too_slow_for_the_peak_are_not_used() -> None:
    as_of = date(2026, 11, 21)  # peak starts on the 23rd; the DC lane needs 72 hours
    slow_dc = rates(dc_lead_h=72.0, store_lead_h=24.0)
    plan = plan_transfers(positions(5, 6, seed=5), nodes(5), slow_dc, PEAK, as_of)
    assert set(plan.transfers["lane"]) <= {"store_to_store"}
    assert not plan.transfers["from_node"].eq("DC").any()


def test_dc_outbound_capacity_is_respected() -> None:
    pos = positions(6, 8, seed=6, dc_stock=40)
    loose = plan_transfers(pos, nodes(6), rates(), PEAK, AS_OF)
    dc_loose = loose.transfers.loc[loose.transfers["from_node"] == "DC", "qty"].sum()
    cap = int(dc_loose // 2)
    tight = plan_transfers(
        pos, nodes(6), rates(), PEAK, AS_OF, RebalanceSettings(dc_outbound_capacity=cap)
    )
    assert dc_loose > 0
    assert tight.transfers.loc[tight.transfers["from_node"] == "DC", "qty"].sum() <= cap


def test_shadow_price_is_zero_for_plenty_and_positive_for_a_starved_store() -> None:
    pos = pd.DataFrame(
        {
            "node_id": ["DC", "S00", "S01"],
            "sku": "K1",
            "on_hand": [0, 200, 0],
            "demand_mean": [0.0, 3.0, 6.0],
            "margin_pln": 30.0,
        }
    )
    slow = rates(dc_lead_h=1000.0, store_lead_h=1000.0)  # nothing can move in time
    plan = plan_transfers(pos, nodes(2), slow, PEAK, AS_OF)
    price = plan.shadow_prices.set_index("node_id")["shadow_price_pln"]
    assert price["S00"] == pytest.approx(0.0, abs=1e-3)
    assert price["S01"] > 20.0


def test_with_per_unit_costs_only_the_flow_matches_the_exact_mip() -> None:
    pos = positions(4, 5, seed=8)
    plan = plan_transfers(pos, nodes(4), rates(), PEAK, AS_OF)
    exact = solve_exact(pos, nodes(4), rates(), PEAK, AS_OF)
    assert plan.status == "optimal"
    assert exact.status == "optimal"
    assert plan.expected_gain_pln == pytest.approx(exact.expected_gain_pln, abs=0.05)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_optimised_plan_is_worth_at_least_the_proportional_rule(seed: int) -> None:
    pos = positions(5, 5, seed)
    optimised = plan_transfers(pos, nodes(5), rates(), PEAK, AS_OF)
    baseline = plan_proportional_transfers(pos, nodes(5), rates(), PEAK, AS_OF)
    assert optimised.expected_gain_pln >= baseline.expected_gain_pln - 1e-6


def test_unknown_peak_is_refused_naming_the_field() -> None:
    with pytest.raises(PlanningInputError, match="peak"):
        plan_transfers(positions(2, 1, 0), nodes(2), rates(), "easter", AS_OF, year=2026)


@pytest.mark.parametrize("as_of", [PEAK.start, date(2030, 1, 1)])
def test_a_peak_that_has_started_is_refused_since_no_transfer_could_arrive(as_of: date) -> None:
    with pytest.raises(PlanningInputError, match="on or before the as-of day"):
        plan_transfers(positions(2, 1, 0), nodes(2), rates(), PEAK, as_of)
    plan_transfers(positions(2, 1, 0), nodes(2), rates(), PEAK, PEAK.start - timedelta(days=1))


def test_negative_stock_is_refused_naming_the_field() -> None:
    pos = positions(2, 1, 0)
    pos.loc[1, "on_hand"] = -2
    with pytest.raises(PlanningInputError, match="positions.on_hand"):
        plan_transfers(pos, nodes(2), rates(), PEAK, AS_OF)


def test_unknown_node_is_refused_naming_the_field() -> None:
    pos = positions(2, 1, 0)
    pos.loc[1, "node_id"] = "S99"
    with pytest.raises(PlanningInputError, match="positions.node_id"):
        plan_transfers(pos, nodes(2), rates(), PEAK, AS_OF)


def test_a_missed_deadline_still_answers_with_a_feasible_fallback() -> None:
    pos = positions(5, 6, seed=9)
    hurried = RebalanceSettings(deadline_s=1e-9, block_skus=1)
    plan = plan_transfers(pos, nodes(5), rates(), PEAK, AS_OF, hurried)
    assert plan.status == "fallback"
    after = stock_after(pos, plan.transfers)
    assert after.sum() == pos["on_hand"].sum()
    assert (after >= 0).all()
