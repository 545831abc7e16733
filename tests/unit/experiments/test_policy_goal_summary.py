"""The policy comparison's goal in words: which side is better and by how much, never a
negative "lower"."""

from __future__ import annotations

from experiments.policies import goal_summary
from experiments.simulation import PolicyResult


def _result(policy: str, cost_plus_lost: float, margin: float = 1000.0,
            on_time: float = 0.9) -> PolicyResult:
    return PolicyResult(policy, orders=10, served=10, cancelled=0, online_refused=0,
                        cost_per_order_pln=1.0, parcels_per_order=1.0, on_time_rate=on_time,
                        walkin_units=5, walkin_lost_units=0, walkin_lost_pln=0.0,
                        walkin_lost_margin_pln=0.0, fulfilment_cost_pln=cost_plus_lost,
                        cost_plus_lost_margin_pln=cost_plus_lost, margin_pln=margin,
                        seconds=0.0, cost_plus_lost_incl_refused_pln=cost_plus_lost)


def test_an_optimizer_that_costs_more_than_the_best_rule_is_called_worse() -> None:
    results = [_result("nearest", 13_000.0), _result("dc_first", 11_672.0),
               _result("optimizer_reserved", 12_376.0, margin=2000.0)]

    summary = goal_summary(results)

    assert "optimizer_reserved vs the best rule, dc_first" in summary
    assert "12,376 PLN vs 11,672 PLN, 6.03% higher (worse)" in summary
    assert "goal (at least 5% lower): not met" in summary
    assert "Highest margin: met" in summary and "-6.03" not in summary
    assert "lower (better)" not in summary


def test_an_optimizer_that_cuts_enough_meets_the_goal() -> None:
    results = [_result("nearest", 10_000.0), _result("dc_first", 11_000.0),
               _result("optimizer_reserved", 9_400.0, on_time=0.8)]

    summary = goal_summary(results)

    assert "9,400 PLN vs 10,000 PLN, 6.00% lower (better)" in summary
    assert "goal (at least 5% lower): met" in summary
    assert "On-time rate no lower: not met" in summary


def test_without_a_rule_based_policy_the_goal_is_not_checked() -> None:
    assert "not checked" in goal_summary([_result("optimizer_reserved", 1.0)])
