"""The rule of thumb we compare against: each line from the nearest node that has it.

A line goes whole to the nearest node holding its full quantity; when no node does, units come
from the nearest nodes with stock in turn. For click-and-collect the chosen store is nearest
(0 km). Pick capacity is respected; max parcels is not (the rule does not look at it), so the
caller checks the plan's feasibility before falling back to it.
"""

from __future__ import annotations

import numpy as np

from allocation.costs import Part
from allocation.problem import Problem


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
