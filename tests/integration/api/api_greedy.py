"""A stand-in for the sourcing core in tests of the HTTP layer only: each line from the nearest
node with enough ATP, one parcel per node. It honours the core's contract (never more than ATP,
`OutOfStock` naming the short lines, `allow_partial`), which is all the API relies on."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta

from allocation.errors import OutOfStock, ShortLine
from allocation.model import (
    Availability,
    CostBreakdown,
    Decision,
    Explanation,
    LineDecision,
    Network,
    Order,
    Parcel,
    UnfulfilledLine,
)


def _km(network: Network, node_id: str, order: Order) -> float:
    node = network.node(node_id)
    if order.destination is None:
        return 0.0
    dlat = node.location.lat - order.destination.lat
    dlon = (node.location.lon - order.destination.lon) * math.cos(math.radians(52))
    return 111.0 * math.hypot(dlat, dlon)


def greedy_source(
    order: Order, network: Network, availability: Iterable[Availability], **_: object
) -> Decision:
    atp: dict[tuple[str, str], int] = {(a.node_id, a.sku): a.atp for a in availability}
    lines, unfulfilled, short = [], [], []
    for line in order.lines:
        nodes = sorted(
            (n for (n, s), q in atp.items() if s == line.sku and q >= line.qty),
            key=lambda n: _km(network, n, order),
        )
        if not nodes:
            total = sum(q for (_, s), q in atp.items() if s == line.sku)
            short.append(ShortLine(line.line_id, line.sku, line.qty, total))
            unfulfilled.append(UnfulfilledLine(line.line_id, line.sku, line.qty, total))
            continue
        node_id = nodes[0]
        atp[(node_id, line.sku)] -= line.qty
        method = "click_and_collect" if order.fulfilment == "click_and_collect" else (
            order.fulfilment if network.node(node_id).kind == "dc" else "ship_from_store"
        )
        costs = CostBreakdown(shipping_pln=15.79, picking_pln=network.node(node_id).pick_cost_pln)
        lines.append(LineDecision(
            line.line_id, line.sku, line.qty, node_id, method,  # type: ignore[arg-type]
            order.placed_at + timedelta(hours=24), costs.total_pln, costs,
        ))
    if short and not order.allow_partial:
        raise OutOfStock(order.order_id, short)
    parcels = tuple(
        Parcel(node_id, lines_at[0].method, 1.0, _km(network, node_id, order), 15.79,
               tuple(x.line_id for x in lines_at), lines_at[0].promised_at)
        for node_id in sorted({x.node_id for x in lines})
        for lines_at in [[x for x in lines if x.node_id == node_id]]
    )
    total = round(sum(x.cost_pln for x in lines), 2)
    return Decision(
        order.order_id, "fallback", tuple(lines), tuple(unfulfilled), parcels, total,
        CostBreakdown(shipping_pln=total), 0.1,
        Explanation(None, None, None, None, len(atp), "greedy stand-in"),
    )
