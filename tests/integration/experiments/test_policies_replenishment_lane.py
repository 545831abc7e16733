"""The scheduled-truck lane in the policy simulator: known to the network, open to every policy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from data.demo_chain import DemoChain, generate_chain
from experiments.simulation import build_season
from experiments.simulation.engine import _Chain
from experiments.simulation.policies import POLICIES, StockView


@pytest.fixture(scope="module")
def chain() -> DemoChain:
    return generate_chain(n_stores=4, n_skus=5, history_days=60, future_days=7)


def test_every_store_knows_its_delivery_days_as_the_replay_runs_them(chain: DemoChain) -> None:
    season = build_season(chain, weeks=1, seed=0)
    c = _Chain(chain, season)
    assert "replenishment" in c.network.transfer_rates
    for s, store_id in enumerate(season.stores):
        store = c.network.node(store_id)
        cycle = store.replenishment_days
        assert store.delivery_epoch is not None and store.home_dc
        # _replenish: store s reviews on day d when (d + s) % cycle == 0; the truck lands d + 1
        review = next(d for d in range(cycle) if (d + s) % cycle == 0)
        arrival = season.days[0] + timedelta(days=review + 1)
        assert (arrival - store.delivery_epoch).days % cycle == 0


@pytest.mark.parametrize("policy", ["dc_first", "optimizer", "optimizer_reserved"])
def test_click_and_collect_from_the_home_dc_can_ride_the_truck_under_any_policy(
        chain: DemoChain, policy: str) -> None:
    season = build_season(chain, weeks=1, seed=0)
    c = _Chain(chain, season)
    on_hand = c.initial.copy()
    on_hand[c.store_rows] = 0  # empty shelves: click-and-collect must come from a DC
    view = StockView(c.network, season.skus, on_hand, on_hand * 0, on_hand * 0.0, {}, c.is_dc)
    by_truck = 0
    for day in season.orders:
        for sim in day:
            if sim.order.fulfilment != "click_and_collect":
                continue
            for decision in POLICIES[policy](sim.order, view):
                cash = decision.costs.transfer_pln
                rate = c.network.transfer_rates["replenishment"]
                units = sum(line.qty for line in decision.lines)
                by_truck += cash == pytest.approx(rate.fixed_cost_pln
                                                  + rate.cost_per_unit_pln * units)
    assert by_truck > 0
