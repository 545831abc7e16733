"""The explanation's text claims only what the status proves: "cheapest" for an optimum, the
best found for a feasible plan, and for a fallback which rule made the plan and why."""

from __future__ import annotations

import pytest
from allocation_network import krakow_order

import allocation.sourcing as sourcing
from allocation.cpsat import CpSatResult
from allocation.model import Availability, Network
from allocation.sourcing import source_order

NO_TIME = {"solver": "cpsat", "deadline_ms": 0.0}  # no solver plan can come in time


def test_a_fallback_says_it_is_the_rules_plan_for_want_of_a_solver_plan(
    network: Network,
) -> None:
    """It said "cheapest plan among 0 candidate nodes; nearest-node-with-stock would cost
    0.00 PLN more" of the rule's own plan."""
    stock = [Availability("DC", "TEE", 5), Availability("S-KRK", "JEANS", 5)]
    decision = source_order(krakow_order(("1", "TEE", 1), ("2", "JEANS", 1)), network, stock,
                            **NO_TIME)  # type: ignore[arg-type]
    assert decision.status == "fallback"
    text = decision.explanation.text
    assert text.startswith(
        "the nearest-node rule's plan: no solver plan was found within the deadline"
    )
    assert "cheapest" not in text and "nearest-node-with-stock" not in text
    assert decision.explanation.greedy_delta_pln == 0.0  # the fields stay as they were


def test_a_fallback_from_the_fewest_nodes_says_the_rule_broke_the_limits(
    network: Network,
) -> None:
    """TEE nearest in Krakow, JEANS at the DC: the rule's two parcels break max_parcels 1."""
    stock = [Availability("S-KRK", "TEE", 5), Availability("DC", "TEE", 5),
             Availability("DC", "JEANS", 5)]
    order = krakow_order(("1", "TEE", 1), ("2", "JEANS", 1), max_parcels=1)
    decision = source_order(order, network, stock, **NO_TIME)  # type: ignore[arg-type]
    assert decision.status == "fallback"
    text = decision.explanation.text
    assert text.startswith("the plan from the fewest nodes holding the lines")
    assert "the nearest-node rule breaks max_parcels or pick capacity" in text
    assert "cheapest" not in text
    assert text.endswith("and break a constraint")


def test_the_rule_asked_for_is_named_as_asked(network: Network) -> None:
    stock = [Availability("DC", "TEE", 5)]
    decision = source_order(krakow_order(("1", "TEE", 1)), network, stock, solver="greedy")
    assert decision.explanation.text == "the nearest-node rule's plan, as asked (solver greedy)"


def test_a_feasible_plan_is_the_best_found_not_the_cheapest(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CP-SAT stopped by its time limit with a plan: nothing proves no plan is cheaper."""
    solve = sourcing.solve_cpsat

    def cut_short(*args: object, **kwargs: object) -> CpSatResult:
        result = solve(*args, **kwargs)  # type: ignore[arg-type]
        return CpSatResult("feasible", result.parts) if result.parts else result

    monkeypatch.setattr(sourcing, "solve_cpsat", cut_short)
    stock = [Availability("DC", "TEE", 5), Availability("S-KRK", "JEANS", 5),
             Availability("S-WAW", "JEANS", 5)]
    order = krakow_order(("1", "TEE", 1), ("2", "JEANS", 1))
    decision = source_order(order, network, stock, solver="cpsat", deadline_ms=5_000)
    assert decision.status == "feasible"
    assert decision.explanation.text.startswith(
        "best plan found within the deadline among 3 candidate nodes"
    )
    assert "cheapest" not in decision.explanation.text


def test_an_optimum_is_still_the_cheapest(network: Network) -> None:
    stock = [Availability("DC", "TEE", 10), Availability("S-GDA", "TEE", 10)]
    decision = source_order(krakow_order(("1", "TEE", 1)), network, stock)
    assert decision.status == "optimal"
    assert decision.explanation.text.startswith("cheapest plan among ")
    assert "; the next best plan costs " in decision.explanation.text
