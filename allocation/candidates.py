"""Pruning: the few nodes worth a look for each line.

Per line, nodes with ATP are ranked by the cost of serving the line alone from them (parcel at
the line's weight and the node's distance band, or transfer, plus pick and opportunity cost;
lateness is left out so that no promise date is computed for the ~100 nodes). Kept: the `k`
cheapest nodes that cover the line alone, the `k` cheapest that cover part of it, and the
"consolidators", the nodes that cover the most lines of the order whole (one parcel for many
lines is what makes multi-line orders cheap).
"""

from __future__ import annotations

from allocation.costs import distance_band, grosze, parcel_price
from allocation.problem import Problem

DEFAULT_K = 4
CONSOLIDATORS = 3


def _rough_cost_g(problem: Problem, line_index: int, n: int, qty: int) -> int:
    """Cost of serving `qty` units of a line alone from node `n`, without lateness."""
    line = problem.lines[line_index]
    node = problem.network.nodes[n]
    cost = grosze(node.pick_cost_pln) + problem.opp_g.get((line.sku, n), 0) * qty
    distance = float(problem.distances_km[n])
    if problem.order.fulfilment == "click_and_collect":
        if n != problem.pickup_index:
            lane = "dc_to_store" if node.kind == "dc" else "store_to_store"
            rate = problem.network.transfer_rates[lane]
            cost += grosze(
                rate.fixed_cost_pln + rate.cost_per_km_pln * distance
                + rate.cost_per_unit_pln * qty
            )
    else:
        band = distance_band(problem.network, problem.order.fulfilment, distance)
        cost += parcel_price(band.bands, line.unit_weight_g * qty)[0]
    return cost


def prune(problem: Problem, k: int = DEFAULT_K) -> list[list[int]]:
    """Candidate node indices per line, cheapest first (only nodes that can serve today)."""
    ranked: list[list[tuple[int, bool, int]]] = []
    covers: dict[int, int] = {}
    for i, line in enumerate(problem.lines):
        rows = []
        for n in problem.nodes_with(line.sku):
            units = problem.atp[(line.sku, n)]
            whole = units >= line.qty
            rows.append((_rough_cost_g(problem, i, n, min(units, line.qty)), whole, n))
            if whole:
                covers[n] = covers.get(n, 0) + 1
        rows.sort()
        ranked.append([(n, whole, c) for c, whole, n in rows])
    rough = dict.fromkeys(covers, 0)
    for rows in ranked:
        for n, _, c in rows:
            if n in rough:
                rough[n] += c
    consolidators = sorted(covers, key=lambda n: (-covers[n], rough[n]))[:CONSOLIDATORS]
    out: list[list[int]] = []
    for rows in ranked:
        keep: list[int] = []
        wholes = partials = 0
        for n, whole, _ in rows:
            take = (whole and wholes < k) or (not whole and partials < k) or n in consolidators
            if take and problem.source(n) is not None:
                keep.append(n)
                wholes += whole
                partials += not whole
        out.append(keep)
    return out
