"""CP-SAT over line x node assignments, for orders the exact search does not take (a line
split over nodes, or a search tree too large). Same objective as `allocation.costs`.

Measured: on a toy 3-line x 8-node assignment model CP-SAT (one worker) took a median 2.7 ms
on an idle core, 3.2 ms of CPU under load, SCIP through pywraplp 5.3 ms of CPU for the same
model, so CP-SAT is the MIP-side choice. On the real order model (parcel weight bands, split,
ATP, capacity) benchmarks/solver.py measured CP-SAT forced on every 3-line order at a median
27 ms wall on the loaded 2-core machine (42 ms with its runner-up re-solve), against well
under 1 ms for the exact search of `allocation.search`: hence CP-SAT only where the search
does not apply. One worker (the server runs many requests side by side), a deadline always.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_right
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from allocation.costs import Part, grosze
from allocation.problem import Problem

# What a solve costs before CP-SAT's own time limit starts to count: building the model and
# presolving it. Measured on the 2-core machine with a near-zero limit: 3.9 ms for a 4-line
# order over 32 (line, node) pairs, 14.9 ms for 40 lines over 298 (about 2.5 ms + 42 us a pair);
# rounded up here, so that a solve is not started when it could not end by the deadline.
FIXED_COST_S = 0.003
COST_PER_PAIR_S = 0.000045


class SolvePace:
    """How many times the modelled least time (FIXED_COST_S + COST_PER_PAIR_S a pair) CP-SAT
    takes in this process, by size of model: the constants were measured on one machine, and
    a slower or busier one (seen: 1.6 x for 24 pairs, 2.2 x for 245 on another 2-core machine)
    overran the OMS's deadline by up to 65 % on 40-line orders.

    Every solve is an observation: one that ran into its time limit measures its least time
    (model build plus the overshoot past the limit), one that ended early bounds it from below
    (its build alone). Per size class (`SIZES`, pairs), the factor is the 90th percentile of
    its last `WINDOW` observed / modelled ratios: a slow machine shows within a few orders and
    one stray solve (a pause of the process) does not switch CP-SAT off. A class with fewer
    than `FEW` observations takes the highest factor of the classes that have them (1 when
    none has). Never below 1, so a fast machine keeps the measured constants' margin, and at
    most `MOST`. `allocation.warmup` fills every class before a server takes orders."""

    SIZES = (60, 180)  # upper bounds of the small and middle classes
    WINDOW, FEW, QUANTILE, MOST = 16, 3, 0.9, 10.0

    def __init__(self) -> None:
        self._ratios = [deque[float](maxlen=self.WINDOW) for _ in range(len(self.SIZES) + 1)]
        self._factors = [1.0] * (len(self.SIZES) + 1)
        self._lock = threading.Lock()  # the server decides orders on several threads

    def factor(self, pairs: int) -> float:
        size = bisect_right(self.SIZES, pairs)
        if len(self._ratios[size]) >= self.FEW:
            return self._factors[size]
        known = [f for f, r in zip(self._factors, self._ratios, strict=True) if len(r) >= self.FEW]
        return max(known, default=1.0)

    def observe(self, pairs: int, took_s: float, modelled_s: float) -> None:
        size = bisect_right(self.SIZES, pairs)
        with self._lock:
            ratios = self._ratios[size]
            ratios.append(took_s / modelled_s)
            high = float(np.quantile(np.fromiter(ratios, float), self.QUANTILE))
            self._factors[size] = min(max(high, 1.0), self.MOST)

    def observed(self, pairs: int) -> int:
        """Observations kept for models of this size."""
        return len(self._ratios[bisect_right(self.SIZES, pairs)])

    def forget(self) -> None:
        """Drop every observation (the warm-up's first solves are cold by design)."""
        with self._lock:
            for ratios in self._ratios:
                ratios.clear()
            self._factors = [1.0] * len(self._factors)


PACE = SolvePace()


def _pairs(candidates: Sequence[Sequence[int]]) -> int:
    return sum(len(c) for c in candidates)


def _modelled_s(pairs: int) -> float:
    return FIXED_COST_S + COST_PER_PAIR_S * pairs


def least_time_s(candidates: Sequence[Sequence[int]]) -> float:
    """Seconds a solve over `candidates` takes at the least, however short its time limit,
    at this process's pace (`SolvePace`)."""
    pairs = _pairs(candidates)
    return PACE.factor(pairs) * _modelled_s(pairs)


UNSERVED_LINE_G = 10_000_000  # 100,000 PLN: serving a line always beats leaving it out
SolverStatus = str  # "optimal" | "feasible" | "infeasible" | "unknown"


@dataclass(frozen=True, slots=True)
class CpSatResult:
    status: SolverStatus
    parts: tuple[Part, ...]


def solve_cpsat(
    problem: Problem,
    candidates: Sequence[Sequence[int]],
    deadline_s: float,
    hint: Sequence[Part] | None = None,
    optional_lines: bool = False,
    avoid: Sequence[Part] = (),
) -> CpSatResult:
    """Solve the order over `candidates` (node indices per line) within `deadline_s`;
    with `avoid`, the best plan that moves some line part off the nodes of that plan. Building
    the model counts against `deadline_s` (for a 20-line order it takes several ms)."""
    started = time.perf_counter()
    lines = problem.lines
    model = cp_model.CpModel()
    sources = {n: problem.source(n) for c in candidates for n in c}
    usable = [[n for n in c if sources[n] is not None] for c in candidates]
    nodes = sorted({n for c in usable for n in c})

    # Variables: units of line i from node n (q), whether that part exists (y), node used (u).
    q: dict[tuple[int, int], cp_model.IntVar] = {}
    y: dict[tuple[int, int], cp_model.IntVar] = {}
    most_units: dict[tuple[int, int], int] = {}
    for i, line in enumerate(lines):
        for n in usable[i]:
            top = min(line.qty, problem.atp.get((line.sku, n), 0))
            q[i, n] = model.new_int_var(0, top, f"q_{i}_{n}")
            most_units[i, n] = top
            y[i, n] = model.new_bool_var(f"y_{i}_{n}")
    u = {n: model.new_bool_var(f"u_{n}") for n in nodes}

    # Every line is served in full (with `allow_partial`: in full or not at all, and a line
    # left out costs more than any plan serving it); a line held whole by some node goes to
    # one node only (one picker, one label): lines split over nodes only when none holds it.
    served = {i: model.new_bool_var(f"served_{i}") for i in range(len(lines))}
    unserved_penalty = []
    for i, line in enumerate(lines):
        parts = [(q[i, n], y[i, n]) for n in usable[i]]
        model.add(sum(v for v, _ in parts) == line.qty * served[i])
        if optional_lines:
            unserved_penalty.append(UNSERVED_LINE_G * (1 - served[i]))
        else:
            model.add(served[i] == 1)
        whole = [n for n in usable[i] if problem.atp.get((line.sku, n), 0) >= line.qty]
        for n in usable[i]:
            model.add(q[i, n] >= y[i, n])
            model.add(q[i, n] <= most_units[i, n] * y[i, n])
            model.add_implication(y[i, n], u[n])
            if whole:
                model.add(q[i, n] == line.qty * y[i, n])
        if whole:
            model.add(sum(b for _, b in parts) == served[i])

    # ATP per node x SKU (two lines may ask for the same SKU).
    skus = {line.sku for line in lines}
    for sku in skus:
        for n in nodes:
            terms = [q[i, n] for i, line in enumerate(lines) if line.sku == sku and (i, n) in q]
            if len(terms) > 1:
                model.add(sum(terms) <= problem.atp.get((sku, n), 0))

    # Pick capacity: line parts a node can still pick today; a used node picks something.
    for n in nodes:
        src = sources[n]
        assert src is not None
        ys = [y[i, n] for i in range(len(lines)) if (i, n) in y]
        model.add(sum(ys) <= src.capacity)
        model.add(sum(ys) >= u[n])

    # Parcels: one per used shipping node in the weight band its load fits, plus full top-band
    # parcels beyond the heaviest band; transfers and the pickup shelf count one each.
    shipping = []
    parcels = []
    transfer = []
    for n in nodes:
        src = sources[n]
        assert src is not None
        if src.bands:
            load = sum(lines[i].unit_weight_g * q[i, n] for i in range(len(lines)) if (i, n) in q)
            top_w, top_p = src.bands[-1]
            most = sum(lines[i].unit_weight_g * lines[i].qty for i in range(len(lines)))
            extra = model.new_int_var(0, most // top_w + 1, f"extra_{n}")
            z = [model.new_bool_var(f"band_{n}_{b}") for b in range(len(src.bands))]
            model.add(sum(z) == u[n])
            model.add(load <= sum(w * zb for (w, _), zb in zip(src.bands, z, strict=True))
                      + top_w * extra)
            shipping.append(sum(p * zb for (_, p), zb in zip(src.bands, z, strict=True))
                            + top_p * extra)
            parcels.append(u[n] + extra)
        else:
            parcels.append(u[n])
            units = sum(q[i, n] for i in range(len(lines)) if (i, n) in q)
            transfer.append(src.transfer_fixed_g * u[n] + src.transfer_unit_g * units)
    n_parcels = sum(parcels)
    if problem.max_parcels is not None:
        model.add(n_parcels <= problem.max_parcels)

    # Objective: shipping + picking + lateness + opportunity + transfer + split, in grosze.
    per_part = []
    for (i, n), var in y.items():
        src = sources[n]
        assert src is not None
        per_part.append((src.pick_g + src.late_g) * var)
        per_part.append(problem.opp_g.get((lines[i].sku, n), 0) * q[i, n])
    split_g = grosze(problem.weights.split_pln)
    # (With no line served there is no parcel: the split term then goes to -split, harmless
    # next to the unserved-line penalty.)
    model.minimize(
        sum(shipping) + sum(transfer) + sum(per_part) + split_g * n_parcels - split_g
        + sum(unserved_penalty)
    )

    # Runner-up: some line part must move to another node than in the plan to avoid.
    if avoid:
        model.add(sum(y[i, n] for i, n, _ in avoid if (i, n) in y) <= len(avoid) - 1)

    if hint:
        hinted = {(i, n): qty for i, n, qty in hint}
        for i, var in served.items():
            model.add_hint(var, 1 if any(p[0] == i for p in hint) else 0)
        for key, var in q.items():
            model.add_hint(var, hinted.get(key, 0))
            model.add_hint(y[key], 1 if hinted.get(key, 0) > 0 else 0)

    solver = cp_model.CpSolver()
    # CP-SAT ends a few ms past its limit (presolve, the last check): FIXED_COST_S of them.
    built_s = time.perf_counter() - started
    pairs = _pairs(candidates)
    limit_s = max(deadline_s - built_s - PACE.factor(pairs) * FIXED_COST_S, 0.001)
    solver.parameters.max_time_in_seconds = limit_s
    solver.parameters.num_workers = 1
    solving = time.perf_counter()
    status = solver.solve(model)
    ran_s = time.perf_counter() - solving
    limited = status not in (cp_model.OPTIMAL, cp_model.INFEASIBLE)  # stopped by the limit
    PACE.observe(pairs, built_s + (max(ran_s - limit_s, 0.0) if limited else 0.0),
                 _modelled_s(pairs))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        name = "infeasible" if status == cp_model.INFEASIBLE else "unknown"  # or MODEL_INVALID
        return CpSatResult(name, ())
    chosen = tuple((i, n, int(solver.value(var))) for (i, n), var in q.items())
    return CpSatResult(
        "optimal" if status == cp_model.OPTIMAL else "feasible",
        tuple(p for p in chosen if p[2] > 0),
    )
