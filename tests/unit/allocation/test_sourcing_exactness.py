"""The fast paths claim exactness; check them against brute force on the demo-like network."""

from __future__ import annotations

import itertools
import random

from allocation_network import KRAKOW, WEDNESDAY

from allocation.model import Availability, Location, Network, Order, OrderLine
from allocation.problem import build_problem
from allocation.sourcing import DEFAULT_WEIGHTS, source_order


def _brute_force_total(network: Network, order: Order, stock: list[Availability]) -> float:
    problem = build_problem(order, network, stock, None, DEFAULT_WEIGHTS)
    options = [
        [n for n in range(len(network.nodes)) if problem.atp.get((ln.sku, n), 0) >= ln.qty]
        for ln in problem.lines
    ]
    best = min(
        ev.total_g
        for combo in itertools.product(*options)
        if (ev := problem.evaluate([(i, n, ln.qty) for i, (n, ln) in
                                    enumerate(zip(combo, problem.lines, strict=True))])).feasible
    )
    return best / 100.0


def test_single_and_multi_line_fast_paths_match_brute_force(network: Network) -> None:
    rng = random.Random(4)
    for trial in range(30):
        stock = [
            Availability(node.node_id, sku, rng.randint(0, 3), rng.choice([0.0, 2.0, 9.0]))
            for node in network.nodes
            for sku in network.skus
        ]
        lines = tuple(
            OrderLine(str(i), sku, rng.randint(1, 2))
            for i, sku in enumerate(rng.sample(sorted(network.skus), rng.randint(1, 3)))
        )
        destination = Location(rng.uniform(49.5, 54.5), rng.uniform(14.5, 23.5))
        order = Order(f"o{trial}", "home_delivery", lines, WEDNESDAY, destination=destination)
        problem = build_problem(order, network, stock, None, DEFAULT_WEIGHTS)
        if any(
            not any(problem.atp.get((ln.sku, n), 0) >= ln.qty for n in range(4))
            for ln in problem.lines
        ):
            continue  # a line must be split: not the whole-line fast path
        decision = source_order(order, network, stock)
        assert decision.status == "optimal"
        assert decision.total_cost_pln == _brute_force_total(network, order, stock)


def test_the_runner_up_uses_another_node_for_some_line(network: Network) -> None:
    stock = [Availability(n.node_id, sku, 5) for n in network.nodes for sku in ("TEE", "JEANS")]
    order = Order(
        "o", "home_delivery", (OrderLine("1", "TEE", 1), OrderLine("2", "JEANS", 1)),
        WEDNESDAY, destination=KRAKOW,
    )
    decision = source_order(order, network, stock)
    runner_up = decision.explanation.runner_up
    assert runner_up is not None
    chosen = {(ln.line_id, ln.node_id) for ln in decision.lines}
    assert {(line_id, node_id) for line_id, node_id, _ in runner_up.assignments} != chosen
    assert decision.explanation.runner_up_delta_pln is not None
    assert decision.explanation.runner_up_delta_pln >= 0
    assert decision.explanation.greedy is not None
