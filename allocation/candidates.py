"""Pruning: the few nodes worth a look for each line.

Per line, nodes with ATP are ranked by the cost of serving the line alone from them (parcel at
the line's weight and the node's distance band, or transfer, plus pick and opportunity cost;
lateness is left out so that no promise date is computed for the ~100 nodes, which also makes
this "rough" cost a lower bound of the true one). Kept: the `k` cheapest nodes that cover the
line alone, the `k` cheapest that cover part of it (more while they hold too few units
together to serve the line), and the "consolidators", the nodes that
cover the most lines of the order whole (one parcel for many lines is what makes multi-line
orders cheap). Ranking is vectorised over all nodes; only the kept nodes become `Source`s.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from allocation.costs import grosze, parcel_price, tariff
from allocation.model import Network
from allocation.problem import Problem

DEFAULT_K = 4
CONSOLIDATORS = 3


@dataclass(frozen=True, slots=True)
class NodeArrays:
    pick_g: np.ndarray
    is_dc: np.ndarray


@lru_cache(maxsize=8)
def node_arrays(network: Network) -> NodeArrays:
    return NodeArrays(
        pick_g=np.array([grosze(n.pick_cost_pln) for n in network.nodes], dtype=np.int64),
        is_dc=np.array([n.kind == "dc" for n in network.nodes], dtype=bool),
    )


def rough_costs(problem: Problem, line_index: int, qty: int) -> np.ndarray:
    """Grosze to serve `qty` units of a line alone from each node, without lateness."""
    line = problem.lines[line_index]
    arrays = node_arrays(problem.network)
    cost = arrays.pick_g + problem.opp_by_sku[line.sku] * qty
    distance = problem.distances_km
    if problem.order.fulfilment == "click_and_collect":
        dc = problem.network.transfer_rates["dc_to_store"]
        st = problem.network.transfer_rates["store_to_store"]
        fixed = np.where(arrays.is_dc, dc.fixed_cost_pln, st.fixed_cost_pln)
        per_km = np.where(arrays.is_dc, dc.cost_per_km_pln, st.cost_per_km_pln)
        per_unit = np.where(arrays.is_dc, dc.cost_per_unit_pln, st.cost_per_unit_pln)
        transfer = np.rint((fixed + per_km * distance + per_unit * qty) * 100.0).astype(np.int64)
        truck = problem.network.transfer_rates.get("replenishment")
        if problem.pickup_index is not None:
            transfer[problem.pickup_index] = 0
            home = problem.network.index.get(problem.network.nodes[problem.pickup_index].home_dc)
            if truck is not None and home is not None:  # a lower bound: the lane may not run
                by_truck = (truck.fixed_cost_pln + truck.cost_per_km_pln * distance[home]
                            + truck.cost_per_unit_pln * qty)
                transfer[home] = min(int(transfer[home]), int(round(by_truck * 100.0)))
        return cost + transfer
    table = tariff(problem.network, problem.order.fulfilment)
    maxes = np.array([band.max_distance_km for band in table])
    band = np.minimum(np.searchsorted(maxes, distance, side="left"), len(table) - 1)
    prices = np.array([parcel_price(b.bands, line.unit_weight_g * qty)[0] for b in table])
    return cost + prices[band]


def prune(problem: Problem, k: int = DEFAULT_K) -> list[list[int]]:
    """Candidate node indices per line, cheapest first (only nodes that can serve today)."""
    size = len(problem.network.nodes)
    covers = np.zeros(size, dtype=np.int64)
    rough_sum = np.zeros(size, dtype=np.int64)
    per_line = []
    for i, line in enumerate(problem.lines):
        atp = problem.atp_by_sku[line.sku]
        cost = rough_costs(problem, i, line.qty)
        whole = atp >= line.qty
        covers += whole
        rough_sum += np.where(whole, cost, 0)
        per_line.append((cost, whole, atp > 0))
    holders = np.flatnonzero(covers > 0)
    ranked = holders[np.lexsort((rough_sum[holders], -covers[holders]))]
    consolidators = [int(n) for n in ranked[:CONSOLIDATORS]]
    out: list[list[int]] = []
    for line, (cost, whole, held) in zip(problem.lines, per_line, strict=True):
        atp = problem.atp_by_sku[line.sku]
        keep: list[int] = []
        for mask in (whole, held & ~whole):
            nodes = np.flatnonzero(mask)
            taken = units = 0
            for n in nodes[np.argsort(cost[nodes], kind="stable")].tolist():
                # Partial holders: k of them, and more while together they hold too little.
                if taken >= k and (mask is whole or units >= line.qty):
                    break
                if problem.source(n) is not None:
                    keep.append(n)
                    taken += 1
                    units += int(atp[n])
        for n in consolidators:
            if whole[n] and n not in keep and problem.source(n) is not None:
                keep.append(n)
        out.append(keep)
    return out
