from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from scipy.stats import poisson

from allocation.model import Location, Network, Node, Sku
from allocation.opportunity import (
    exceedance_from_quantiles,
    horizon_open_days,
    lost_margin_for_units_pln,
    lost_margin_pln,
    lost_margins_pln,
    store_opportunity_cost_pln,
)


def test_lost_margin_is_margin_times_the_chance_walk_in_demand_reaches_the_shelf() -> None:
    assert lost_margin_pln(100.0, 2, 1.5) == pytest.approx(100.0 * poisson.sf(1, 1.5))


def test_the_vectorised_rule_matches_the_scalar_one() -> None:
    margins = np.array([50.0, 80.0, 10.0, 30.0])
    shelves = np.array([1, 3, 0, 2])
    means = np.array([2.0, 0.0, 1.0, 1.5])
    assert lost_margins_pln(margins, shelves, means).tolist() == pytest.approx(
        [lost_margin_pln(m, int(s), d) for m, s, d in zip(margins, shelves, means, strict=True)]
    )


def test_the_last_unit_on_the_shelf_costs_the_most() -> None:
    costs = [lost_margin_pln(50.0, n, 2.0) for n in range(1, 6)]
    assert costs == sorted(costs, reverse=True)
    assert lost_margin_pln(50.0, 1, 0.0) == 0.0


def test_taking_several_units_costs_each_marginal_unit() -> None:
    assert lost_margin_for_units_pln(50.0, 3, 2, 1.0) == pytest.approx(
        lost_margin_pln(50.0, 3, 1.0) + lost_margin_pln(50.0, 2, 1.0)
    )


def test_exceedance_reads_between_forecast_quantiles() -> None:
    levels, values = [0.1, 0.5, 0.9], [1.0, 3.0, 7.0]
    assert exceedance_from_quantiles(levels, values, 3.0) == pytest.approx(0.5)
    assert exceedance_from_quantiles(levels, values, 5.0) == pytest.approx(0.3)
    assert exceedance_from_quantiles(levels, values, 50.0) == pytest.approx(0.1)


def test_the_horizon_counts_only_open_store_days() -> None:
    # 2026-11-08 is a Sunday; the 11th is Independence Day, the 15th a non-trading Sunday.
    assert horizon_open_days(date(2026, 11, 8), 7) == 5


def test_a_dc_has_no_opportunity_cost_and_a_busy_store_has_one() -> None:
    network = Network(
        nodes=(
            Node("DC", "dc", Location(52.0, 19.0), 1.0, 1000),
            Node("S", "store", Location(52.2, 21.0), 6.0, 100, 10, 20, 3),
        ),
        skus={"X": Sku("X", 1.0, 100.0, 40.0)},
        parcel_rates=(),
        transfer_rates={},
        walkin_units_per_day={("S", "X"): 1.0},
    )
    assert store_opportunity_cost_pln(network, "DC", "X", 1, date(2026, 11, 18)) == 0.0
    cost = store_opportunity_cost_pln(network, "S", "X", 1, date(2026, 11, 18))
    assert 0.0 < cost <= 60.0
