"""Exact search over whole-line plans (each line from one node), best and runner-up.

Why it is exact: every cost term only grows when a line is added to a partial plan (a heavier
parcel never costs less, picks, lateness, opportunity and transfers add up, parcels only add),
so the cost of a partial plan plus the cheapest stand-alone pick/lateness/opportunity of each
line still open is a lower bound on every completion. A branch is cut only when that bound
reaches the runner-up's cost, so the best and the second-best plan over the candidates are
found. Single-line orders go through `best_single_line`, exact over *all* nodes: the
rough cost of `allocation.candidates` leaves out only lateness (>= 0), so it bounds the true
cost from below and the scan stops once it reaches the runner-up.

Measured against CP-SAT (benchmarks/solver.py): for 1-3 lines over the pruned candidates this
search takes ~0.1-1 ms where CP-SAT's model building and presolve take 2-5 ms, so CP-SAT is kept
for orders that need a line split over nodes or whose search tree is too large.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from allocation.candidates import _rough_cost_g
from allocation.costs import Part
from allocation.problem import Evaluation, Problem

MAX_EXPANSIONS = 20_000


@dataclass(frozen=True, slots=True)
class SearchResult:
    best: Evaluation | None
    runner_up: Evaluation | None
    complete: bool  # False when the expansion budget ran out (best is then only feasible)


class _Top2:
    def __init__(self) -> None:
        self.items: list[Evaluation] = []

    @property
    def bound(self) -> float:
        return self.items[1].total_g if len(self.items) == 2 else float("inf")

    def offer(self, ev: Evaluation) -> None:
        self.items.append(ev)
        self.items.sort(key=lambda e: e.total_g)
        del self.items[2:]

    def result(self, complete: bool) -> SearchResult:
        best = self.items[0] if self.items else None
        runner = self.items[1] if len(self.items) > 1 else None
        return SearchResult(best, runner, complete)


def whole_line_candidates(problem: Problem, candidates: Sequence[Sequence[int]]) -> list[list[int]]:
    return [
        [n for n in cands if problem.atp.get((line.sku, n), 0) >= line.qty]
        for line, cands in zip(problem.lines, candidates, strict=True)
    ]


def best_single_line(problem: Problem) -> SearchResult:
    """Exact best and runner-up for a one-line order among all nodes holding the whole line."""
    line = problem.lines[0]
    rows = sorted(
        (_rough_cost_g(problem, 0, n, line.qty), n)
        for n in problem.nodes_with(line.sku)
        if problem.atp[(line.sku, n)] >= line.qty
    )
    top = _Top2()
    for rough, n in rows:
        if rough >= top.bound:
            break
        if problem.source(n) is None:
            continue
        ev = problem.evaluate([(0, n, line.qty)])
        if ev.feasible:
            top.offer(ev)
    return top.result(complete=True)


def search_whole_lines(problem: Problem, candidates: Sequence[Sequence[int]]) -> SearchResult:
    """Branch and bound over one node per line (candidates: node indices per line)."""
    lines = problem.lines
    cands = [list(c) for c in candidates]
    floor = []
    for i, c in enumerate(cands):
        srcs = [(problem.source(n), n) for n in c]
        floor.append(
            min(
                (
                    s.pick_g + s.late_g + problem.opp_g.get((lines[i].sku, n), 0) * lines[i].qty
                    for s, n in srcs
                    if s is not None
                ),
                default=0,
            )
        )
    rest = [sum(floor[i:]) for i in range(len(lines))] + [0]
    top = _Top2()
    budget = [MAX_EXPANSIONS]
    plan: list[Part] = []

    def walk(i: int) -> bool:
        if budget[0] <= 0:
            return False
        budget[0] -= 1
        if i == len(lines):
            ev = problem.evaluate(plan)
            if ev.feasible:
                top.offer(ev)
            return True
        for n in cands[i]:
            plan.append((i, n, lines[i].qty))
            partial = problem.evaluate(plan)
            if partial.feasible and partial.total_g + rest[i + 1] < top.bound:
                if not walk(i + 1):
                    plan.pop()
                    return False
            plan.pop()
        return True

    complete = walk(0)
    return top.result(complete)
