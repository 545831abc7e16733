"""The allocation policy simulator on a tiny demo chain, one week."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocation.errors import OutOfStock
from allocation.model import OrderLine
from data.demo_chain import DemoChain, generate_chain
from experiments.policies import RESULT_KEYS, goal_check, write_results
from experiments.simulation import (
    POLICY_NAMES,
    SeasonForecast,
    SimulationConfig,
    build_season,
    forecast_season,
    simulate,
)
from experiments.simulation.engine import _Chain, _decide, _Tally
from experiments.simulation.policies import POLICIES, StockView

CHEAP = SimulationConfig(forecast_model="seasonal_naive")  # production's LightGBM is slow


@pytest.fixture(scope="module")
def chain() -> DemoChain:
    return generate_chain(n_stores=4, n_skus=5, history_days=60, future_days=7)


@pytest.fixture(scope="module")
def forecast(chain: DemoChain) -> SeasonForecast:
    return forecast_season(chain, build_season(chain, weeks=1, seed=0), CHEAP.forecast_model)


def test_the_same_seed_gives_the_same_figures_for_every_policy(chain: DemoChain) -> None:
    first = [simulate(chain, build_season(chain, weeks=1, seed=3), p, CHEAP)
             for p in POLICY_NAMES]
    again = [simulate(chain, build_season(chain, weeks=1, seed=3), p, CHEAP)
             for p in POLICY_NAMES]
    strip = [{k: v for k, v in r.as_dict().items() if k != "seconds"} for r in first]
    assert strip == [{k: v for k, v in r.as_dict().items() if k != "seconds"} for r in again]
    assert all(r.orders > 0 and r.walkin_units > 0 for r in first)


def test_a_different_seed_draws_a_different_order_stream(chain: DemoChain) -> None:
    a, b = build_season(chain, weeks=1, seed=1), build_season(chain, weeks=1, seed=2)
    ids = lambda s: [o.order.lines for day in s.orders for o in day]  # noqa: E731
    assert ids(a) != ids(b)
    assert int(a.walkin.sum()) == int(b.walkin.sum())  # walk-in demand is the chain's truth


def test_results_json_has_one_object_per_policy_with_the_agreed_keys(
        chain: DemoChain, forecast: SeasonForecast, tmp_path: Path) -> None:
    season = build_season(chain, weeks=1, seed=0)
    results = [simulate(chain, season, p, CHEAP, forecast) for p in POLICY_NAMES]
    path = write_results(results, tmp_path / "results.json")
    loaded = json.loads(path.read_text())
    assert [row["policy"] for row in loaded] == list(POLICY_NAMES)
    for row in loaded:
        assert set(RESULT_KEYS) <= set(row)
        assert 0.0 <= row["on_time_rate"] <= 1.0
        assert row["orders"] == season.n_orders
    assert set(goal_check(results)) == {"highest_margin", "cost_plus_lost_cut_vs_best_rule",
                                        "cut_at_least_5pct", "on_time_not_lower",
                                        "cut_incl_refused_online_margin"}


@pytest.mark.parametrize("policy", ["optimizer", "optimizer_reserved"])
def test_the_optimizer_policies_never_allocate_more_than_stock(
        chain: DemoChain, policy: str) -> None:
    season = build_season(chain, weeks=1, seed=0)
    c = _Chain(chain, season)
    on_hand = c.initial.copy()
    safety = np.where(c.is_dc[:, None], 0, np.minimum(on_hand, 1))
    view = StockView(c.network, season.skus, on_hand, safety, np.zeros(on_hand.shape), {},
                     c.is_dc)
    atp = on_hand - (safety if policy == "optimizer_reserved" else 0)
    taken: dict[tuple[str, str], int] = defaultdict(int)
    decided = 0
    for sim in season.orders[0]:
        try:
            decisions = POLICIES[policy](sim.order, view)
        except OutOfStock:  # an order nobody can serve is refused, never over-allocated
            continue
        for decision in decisions:
            for line in decision.lines:
                taken[(line.node_id, line.sku)] += line.qty
                n, k = c.network.index[line.node_id], season.skus.index(line.sku)
                on_hand[n, k] -= line.qty
        decided += 1
    assert decided > 0
    for (node_id, sku), qty in taken.items():
        assert qty <= atp[c.network.index[node_id], season.skus.index(sku)]


def test_the_decomposition_adds_up_to_the_totals(chain: DemoChain,
                                                 forecast: SeasonForecast) -> None:
    season = build_season(chain, weeks=1, seed=0)
    for r in (simulate(chain, season, p, CHEAP, forecast) for p in POLICY_NAMES):
        cash = r.shipping_pln + r.picking_pln + r.transfer_pln
        assert cash == pytest.approx(r.fulfilment_cost_pln, abs=0.05)
        assert (r.walkin_lost_units_online + r.walkin_lost_units_replenishment
                + r.walkin_lost_units_dc_out) == r.walkin_lost_units
        causes = (r.walkin_lost_margin_online_pln + r.walkin_lost_margin_replenishment_pln
                  + r.walkin_lost_margin_dc_out_pln)
        assert causes == pytest.approx(r.walkin_lost_margin_pln, abs=0.05)
        assert r.cost_plus_lost_margin_pln == pytest.approx(
            r.fulfilment_cost_pln + r.walkin_lost_margin_pln, abs=0.05)
        assert r.late_orders == round(r.served * (1 - r.on_time_rate))
        assert r.lateness_pln >= 0 and (r.late_orders == 0) == (r.lateness_pln == 0)
        assert r.cost_plus_lost_incl_refused_pln == pytest.approx(
            r.cost_plus_lost_margin_pln + r.online_refused_margin_pln, abs=0.05)
        assert (r.online_refused + r.online_lines_dropped == 0) == (
            r.online_refused_margin_pln == 0)


def test_the_forecast_issued_on_a_day_reads_no_demand_from_that_day_on(
        chain: DemoChain) -> None:
    season = build_season(chain, weeks=2, seed=0)
    truth = forecast_season(chain, season, CHEAP.forecast_model)
    future = chain.future_sales
    late = future["date"] >= pd.Timestamp(season.days[7])
    doubled = replace(chain, future_sales=future.assign(
        units=np.where(late, future["units"] * 3 + 1, future["units"])))
    seen = forecast_season(doubled, season, CHEAP.forecast_model)
    assert truth.issue_days == seen.issue_days == (0, 7)
    np.testing.assert_array_equal(truth.walkin, seen.walkin)  # both issues predate day 7
    np.testing.assert_array_equal(truth.online, seen.online)
    earlier = future["date"] >= pd.Timestamp(season.days[3])
    changed = replace(chain, future_sales=future.assign(
        units=np.where(earlier, future["units"] * 3 + 1, future["units"])))
    moved = forecast_season(changed, season, CHEAP.forecast_model)
    np.testing.assert_array_equal(truth.walkin[0], moved.walkin[0])
    assert not np.array_equal(truth.walkin[1], moved.walkin[1])  # issue 7 sees days 3..6


def test_a_line_nobody_may_promise_is_left_out_and_the_rest_is_bought(
        chain: DemoChain, forecast: SeasonForecast) -> None:
    season = build_season(chain, weeks=1, seed=0)
    c = _Chain(chain, season)
    first = next(o.order for day in season.orders for o in day
                 if o.order.fulfilment == "home_delivery")
    order = replace(first, lines=(OrderLine("L1", season.skus[0], 1),
                                  OrderLine("L2", season.skus[1], 1)))
    gone = order.lines[0].sku
    on_hand = c.initial.copy()
    on_hand[:, season.skus.index(gone)] = 0  # nowhere in stock: shown out of stock online
    view = StockView(c.network, season.skus, on_hand, on_hand * 0, on_hand * 0.0, {}, c.is_dc)
    tally = _Tally()
    decisions = _decide(c, POLICIES["dc_first"], order, view, tally)
    assert decisions is not None and tally.refused == 0 and tally.lines_dropped == 1
    assert {ln.sku for d in decisions for ln in d.lines} == {ln.sku for ln in order.lines[1:]}
    assert tally.refused_margin_pln == pytest.approx(
        c.margin[season.skus.index(gone)] * order.lines[0].qty)
    on_hand[:] = 0
    assert _decide(c, POLICIES["dc_first"], order, view, tally) is None
    assert tally.refused == 1
