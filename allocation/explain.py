"""From an evaluated plan to the `Decision` the caller sees: per line part the node, method,
promised time and cost terms (a node's parcel, transfer and split shares go to its parts by
weight), the parcels, and the plans of the explanation."""

from __future__ import annotations

import time
from collections.abc import Sequence

from allocation.costs import Terms, grosze
from allocation.model import (
    Decision,
    Explanation,
    LineDecision,
    Parcel,
    Plan,
    Status,
    UnfulfilledLine,
)
from allocation.problem import Evaluation, Problem


def plan_of(problem: Problem, ev: Evaluation | None) -> Plan | None:
    """The plan with line and node ids, its cost and terms."""
    if ev is None:
        return None
    nodes = problem.network.nodes
    return Plan(
        assignments=tuple(
            (problem.lines[i].line_id, nodes[n].node_id, q) for i, n, q in ev.parts
        ),
        cost_pln=ev.total_g / 100.0,
        costs=ev.terms.breakdown(),
    )


def decision_from(
    problem: Problem,
    best: Evaluation | None,
    status: Status,
    unfulfilled: Sequence[UnfulfilledLine],
    explanation: Explanation,
    started: float,
) -> Decision:
    lines: list[LineDecision] = []
    parcels: list[Parcel] = []
    total = Terms()
    split_g = grosze(problem.weights.split_pln)
    first = True
    for use in best.uses if best is not None else ():
        src = problem.source(use.node_index)
        assert src is not None
        node_terms = Terms(shipping=use.terms.shipping, transfer=use.terms.transfer)
        node_terms.split = split_g * (use.parcels - (1 if first else 0))
        first = False
        for line_index, _, qty in use.parts:
            line = problem.lines[line_index]
            share = (line.unit_weight_g * qty / use.weight_g) if use.weight_g else (
                1.0 / len(use.parts)
            )
            terms = Terms(
                picking=src.pick_g,
                lateness=src.late_g,
                opportunity=problem.opp_g.get((line.sku, use.node_index), 0) * qty,
            )
            terms.add(node_terms, share)
            total.add(terms)
            lines.append(
                LineDecision(
                    line_id=line.line_id,
                    sku=line.sku,
                    qty=qty,
                    node_id=src.node.node_id,
                    method=src.method,
                    promised_at=src.promised_at,
                    cost_pln=terms.total / 100.0,
                    costs=terms.breakdown(),
                )
            )
        parcels.append(
            Parcel(
                node_id=src.node.node_id,
                method=src.method,
                weight_kg=use.weight_g / 1000.0,
                distance_km=round(src.distance_km, 1),
                price_pln=(use.terms.shipping + use.terms.transfer) / 100.0,
                line_ids=tuple(problem.lines[i].line_id for i, _, _ in use.parts),
                promised_at=src.promised_at,
                boxes=use.parcels,
            )
        )
    costs = best.terms if best is not None else Terms()
    order_line = {line.line_id: k for k, line in enumerate(problem.order.lines)}
    lines.sort(key=lambda d: (order_line[d.line_id], d.node_id))
    return Decision(
        order_id=problem.order.order_id,
        status=status,
        lines=tuple(lines),
        unfulfilled=tuple(unfulfilled),
        parcels=tuple(parcels),
        total_cost_pln=costs.total / 100.0,
        costs=costs.breakdown(),
        solve_ms=(time.perf_counter() - started) * 1000.0,
        explanation=explanation,
    )
