"""The exact rebalancing MIP for small cases: the yardstick of the flow heuristic.

The same network as ``network.py`` (same arcs, same grosze), with what the flow cannot say:
a binary per lane run paying its fixed cost once, and a binary per transfer enforcing the
minimum quantity. SCIP through ``pywraplp``; fine for a few stores x a few dozen SKUs, far too
slow for the chain (which is why ``plan_transfers`` uses slope scaling on a flow).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
from ortools.linear_solver import pywraplp

from allocation.planning.network import GROSZE
from allocation.planning.positions import prepare_positions
from allocation.planning.rebalance import RebalanceSettings, _Context, resolve_peak
from forecasting.calendar import PeakName, PeakWindow


@dataclass(frozen=True)
class ExactPlan:
    """Optimal objective (PLN, solver's view) and units per lane arc, by the MIP."""

    status: str
    objective_pln: float
    expected_gain_pln: float
    units_moved: int


def solve_exact(
    positions: pd.DataFrame,
    nodes: pd.DataFrame,
    transfer_rates: pd.DataFrame,
    peak: PeakWindow | PeakName,
    as_of: date | datetime,
    settings: RebalanceSettings | None = None,
    year: int | None = None,
    time_limit_s: float = 30.0,
) -> ExactPlan:
    """Solve the rebalancing MIP to optimality (or the time limit) with SCIP."""
    settings = settings or RebalanceSettings()
    window = resolve_peak(peak, year)
    pos = prepare_positions(positions, nodes, settings.default_dispersion)
    ctx = _Context.build(pos, transfer_rates, window, as_of, settings)
    lanes, send, recv = ctx.lanes, ctx.senders, ctx.receivers
    solver = pywraplp.Solver.CreateSolver("SCIP")
    if solver is None:
        raise RuntimeError("SCIP is not available in this OR-Tools build")
    solver.SetTimeLimit(int(time_limit_s * 1000))
    # Variables: units given up per sender unit arc, received per receiver unit arc, moved per
    # lane arc; a run binary per lane pair and a use binary per lane arc.
    u = [solver.NumVar(0, float(c), f"u{k}") for k, c in enumerate(send.capacity)]
    v = [solver.NumVar(0, float(c), f"v{k}") for k, c in enumerate(recv.capacity)]
    x = [solver.IntVar(0, float(c), f"x{k}") for k, c in enumerate(lanes.capacity)]
    y = [solver.BoolVar(f"run{p}") for p in range(lanes.pair_fixed_cost_pln.size)]
    z = [solver.BoolVar(f"use{k}") for k in range(len(x))]
    # Stock balance at every node x SKU: units given up + received = units sent + kept on sale.
    inflow: dict[int, list] = {}
    outflow: dict[int, list] = {}
    for k, row in enumerate(send.row):
        inflow.setdefault(int(row), []).append(u[k])
    for k, row in enumerate(recv.row):
        outflow.setdefault(int(row), []).append(v[k])
    for k in range(len(x)):
        outflow.setdefault(int(lanes.sender[k]), []).append(x[k])
        inflow.setdefault(int(lanes.receiver[k]), []).append(x[k])
    for row in set(inflow) | set(outflow):
        solver.Add(sum(inflow.get(row, [])) == sum(outflow.get(row, [])))
    # DC outbound capacity over all SKUs.
    dc_units = [u[k] for k, row in enumerate(send.row) if pos.is_dc[row]]
    if dc_units and ctx.dc_capacity < (1 << 40):
        solver.Add(sum(dc_units) <= ctx.dc_capacity)
    # A transfer rides a paid run, and moves at least the minimum quantity or nothing.
    for k in range(len(x)):
        cap = float(lanes.capacity[k])
        solver.Add(x[k] <= cap * z[k])
        solver.Add(x[k] >= settings.min_transfer_qty * z[k])
        solver.Add(z[k] <= y[int(lanes.pair[k])])
    # Objective: margin earned at receivers - margin lost at senders - unit and run costs.
    objective = solver.Objective()
    for k, var in enumerate(v):
        objective.SetCoefficient(var, float(recv.cost_grosze[k]) / GROSZE)
    for k, var in enumerate(u):
        objective.SetCoefficient(var, -float(send.cost_grosze[k]) / GROSZE)
    for k, var in enumerate(x):
        objective.SetCoefficient(var, -float(lanes.unit_cost_pln[k]))
    for p, var in enumerate(y):
        objective.SetCoefficient(var, -float(lanes.pair_fixed_cost_pln[p]))
    objective.SetMaximization()
    status = solver.Solve()
    names = {pywraplp.Solver.OPTIMAL: "optimal", pywraplp.Solver.FEASIBLE: "feasible"}
    if status not in names:
        return ExactPlan("infeasible_or_unknown", 0.0, 0.0, 0)
    qty = np.array([round(var.solution_value()) for var in x], dtype=np.int64)
    return ExactPlan(names[status], objective.Value(), ctx.value(qty), int(qty.sum()))
