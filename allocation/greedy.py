"""The rule of thumb we compare against: each line from the nearest node that has it.

A line goes whole to the nearest node holding its full quantity; when no node does, units come
from the nearest nodes with stock in turn. For click-and-collect the chosen store is nearest
(0 km). Pick capacity is respected; max parcels is not (the rule does not look at it), so the
caller checks the plan's feasibility before falling back to it.

`few_nodes_plan` is the fallback for when it breaks them: as few nodes as the lines allow.
"""

from __future__ import annotations

import time
from math import inf

import numpy as np

from allocation.costs import Part
from allocation.problem import Evaluation, Problem, heaviest_parcel_g


def greedy_plan(problem: Problem) -> list[Part] | None:
    """The nearest-node plan, or None when the order's stock cannot be reached this way."""
    order = np.argsort(problem.distances_km, kind="stable")
    taken: dict[tuple[str, int], int] = {}
    lines_at: dict[int, int] = {}
    parts: list[Part] = []

    def left(sku: str, n: int) -> int:
        return problem.atp.get((sku, n), 0) - taken.get((sku, n), 0)

    def usable(n: int) -> bool:
        src = problem.source(n)
        return src is not None and lines_at.get(n, 0) < src.capacity

    for i, line in enumerate(problem.lines):
        atp = problem.atp_by_sku[line.sku]
        stocked = order[atp[order] > 0].tolist()  # nearest first
        # The nearest node that can take the whole line is usually among the first few: look
        # for it before listing every node with units left (only a split needs that list).
        whole = next((n for n in stocked if left(line.sku, n) >= line.qty and usable(n)), None)
        plan: list[tuple[int, int]] = []
        if whole is not None:
            plan = [(whole, line.qty)]
        else:
            holders = [n for n in stocked if left(line.sku, n) > 0]
            need = line.qty
            for n in holders:
                if need == 0:
                    break
                if usable(n):
                    q = min(need, left(line.sku, n))
                    plan.append((n, q))
                    need -= q
            if need > 0:
                return None
        for n, q in plan:
            taken[(line.sku, n)] = taken.get((line.sku, n), 0) + q
            lines_at[n] = lines_at.get(n, 0) + 1
            parts.append((i, n, q))
    return parts


def few_nodes_plan(problem: Problem, stop_at: float = inf) -> Evaluation | None:
    """A fallback that keeps `max_parcels` and pick capacity, for when the rule's plan breaks
    them and the solvers found nothing in time: nodes are taken in turn by how many of the
    lines still open each holds whole (nearest first among equals); a node's lines join the
    plan if it stays feasible, else as many as its parcel budget carries by weight. With
    `allow_partial` the lines no node could add stay out; otherwise a plan must serve them
    all (None if it cannot). At most two plan evaluations per node tried; past `stop_at`
    (perf_counter seconds) no node joins a plan that has one."""
    open_lines = set(range(len(problem.lines)))
    parts: list[Part] = []
    best: Evaluation | None = None
    tried: list[int] = []
    most = problem.max_parcels
    heaviest_g = heaviest_parcel_g(problem.network, problem.order.fulfilment) or 0
    while open_lines and (most is None or best is None or best.parcels < most):
        if best is not None and time.perf_counter() > stop_at:
            break
        holds = np.zeros(len(problem.network.nodes), dtype=np.int64)
        for i in open_lines:
            line = problem.lines[i]
            holds += problem.atp_by_sku[line.sku] >= line.qty
        holds[tried] = 0
        if holds.max(initial=0) == 0:
            break
        n = int(np.lexsort((problem.distances_km, -holds))[0])
        tried.append(n)
        src = problem.source(n)
        if src is None:
            continue
        lines = [i for i in sorted(open_lines)
                 if problem.atp_by_sku[problem.lines[i].sku][n] >= problem.lines[i].qty]
        lines = lines[:src.capacity]
        plan = problem.evaluate([*parts, *((i, n, problem.lines[i].qty) for i in lines)])
        if not plan.feasible and most is not None and heaviest_g:
            budget = (most - (best.parcels if best else 0)) * heaviest_g
            fitting = []
            for i in lines:
                weight = problem.lines[i].unit_weight_g * problem.lines[i].qty
                if weight <= budget:
                    fitting.append(i)
                    budget -= weight
            plan = problem.evaluate([*parts, *((i, n, problem.lines[i].qty) for i in fitting)])
            lines = fitting
        if plan.feasible and lines:
            parts, best = list(plan.parts), plan
            open_lines -= set(lines)
    if open_lines and not problem.order.allow_partial:
        return None
    return best

