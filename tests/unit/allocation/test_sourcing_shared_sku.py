"""Several lines of one SKU draw on the same units: shortage is judged on their sum."""

from __future__ import annotations

import pytest
from allocation_network import krakow_order

from allocation.errors import NoFeasiblePlan, OutOfStock
from allocation.model import Availability, Decision, Network
from allocation.sourcing import source_order

# Five TEEs in the whole network, over two nodes; JEANS plenty at the DC.
STOCK = [
    Availability("DC", "TEE", 3),
    Availability("S-WAW", "TEE", 2),
    Availability("DC", "JEANS", 5),
]


def _served(decision: Decision) -> dict[str, int]:
    """Units per line id (a line split over nodes has several parts)."""
    served: dict[str, int] = {}
    for ln in decision.lines:
        served[ln.line_id] = served.get(ln.line_id, 0) + ln.qty
    return served


@pytest.mark.parametrize("solver", ["auto", "cpsat", "greedy"])
def test_lines_of_one_sku_asking_more_than_the_network_holds_are_out_of_stock(
    network: Network, solver: str
) -> None:
    """4 + 4 TEEs against 5: a shortage, not "no plan within max_parcels or the deadline"."""
    order = krakow_order(("1", "TEE", 4), ("2", "TEE", 4), ("3", "JEANS", 1))
    with pytest.raises(OutOfStock) as raised:
        source_order(order, network, STOCK, deadline_ms=3_000, solver=solver)
    assert not isinstance(raised.value, NoFeasiblePlan)
    assert [(s.line_id, s.sku, s.qty, s.available) for s in raised.value.short_lines] == [
        ("1", "TEE", 4, 5),
        ("2", "TEE", 4, 5),
    ]


def test_lines_of_one_sku_asking_exactly_its_units_are_served(network: Network) -> None:
    order = krakow_order(("1", "TEE", 4), ("2", "TEE", 1))
    decision = source_order(order, network, STOCK, deadline_ms=3_000)
    assert _served(decision) == {"1": 4, "2": 1}
    assert not decision.unfulfilled


@pytest.mark.parametrize(
    ("solver", "deadline_ms"),
    [("auto", 3_000.0), ("greedy", 3_000.0), ("cpsat", 0.0)],
    ids=["solved", "forced-rule", "no-time"],
)
def test_a_partial_order_keeps_the_lines_of_a_sku_its_units_cover_in_order(
    network: Network, solver: str, deadline_ms: float
) -> None:
    """Lines 1 and 3 take the five TEEs; line 2 does not fit after line 1 and is named, also
    when the rule answers (it used to find no plan for line 2 and give up on the order)."""
    order = krakow_order(
        ("1", "TEE", 4), ("2", "TEE", 4), ("3", "TEE", 1), ("4", "JEANS", 1),
        allow_partial=True,
    )
    decision = source_order(order, network, STOCK, deadline_ms=deadline_ms, solver=solver)
    assert _served(decision) == {"1": 4, "3": 1, "4": 1}
    assert [(u.line_id, u.qty, u.available) for u in decision.unfulfilled] == [("2", 4, 5)]


def test_a_partial_orders_runner_up_serves_every_line_the_decision_serves(
    network: Network,
) -> None:
    """The four TEEs must come from both nodes, the JEANS from the DC: no other plan serves
    both lines, so there is no runner-up (the re-solve's plan without the TEE line, 30 PLN
    cheaper, was reported as the next best plan costing -30.20 PLN more)."""
    order = krakow_order(("1", "TEE", 4), ("2", "JEANS", 1), allow_partial=True)
    decision = source_order(order, network, STOCK, deadline_ms=3_000)
    assert _served(decision) == {"1": 4, "2": 1}
    assert decision.explanation.runner_up is None
    assert decision.explanation.runner_up_delta_pln is None
