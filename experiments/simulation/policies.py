"""The sourcing policies compared on the same season, all through `allocation.source_order`.

(a) `nearest`: each line from the nearest node with stock (the common e-commerce rule; the
    allocation core's own greedy rule, `solver="greedy"`).
(b) `dc_first`: rule-based sourcing as in the commercial suites: DCs first, then stores by
    priority (nearest first); click-and-collect tries the pickup store's own shelf first.
(c) `optimizer`: our optimizer on plain on-hand stock, no store-stock opportunity cost.
(d) `optimizer_reserved`: our optimizer with the opportunity cost of store stock and the
    walk-in reservation plan (ATP = on hand - safety stock).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from allocation.candidates import DEFAULT_K
from allocation.errors import OutOfStock
from allocation.geo import haversine_km
from allocation.model import Availability, CostWeights, Decision, Network, Order
from allocation.sourcing import DEFAULT_DEADLINE_MS, DEFAULT_WEIGHTS, source_order

POLICY_NAMES: tuple[str, ...] = ("nearest", "dc_first", "optimizer", "optimizer_reserved")
OPTIMIZER_DEADLINE_MS = 500.0  # generous: the simulation wants the optimizer's real answer
NEAREST_STORES = 15  # stores offered per SKU besides the DCs and the pickup store


@dataclass(frozen=True)
class PolicySettings:
    """What a policy asks of the sourcing core; the policies read it, so the settings logged
    with a policy's run are the ones it ran with."""

    solver: str  # "greedy", or "auto": CP-SAT with the greedy rule past the deadline
    reserved: bool  # ATP net of the safety stock kept for walk-in customers
    opportunity: bool  # store stock priced at the walk-in margin taking it is expected to lose
    deadline_ms: float = DEFAULT_DEADLINE_MS
    weights: CostWeights = DEFAULT_WEIGHTS
    candidates_per_line: int = DEFAULT_K


SETTINGS: dict[str, PolicySettings] = {
    "nearest": PolicySettings("greedy", reserved=False, opportunity=False),
    "dc_first": PolicySettings("greedy", reserved=False, opportunity=False),
    "optimizer": PolicySettings("auto", reserved=False, opportunity=False,
                                deadline_ms=OPTIMIZER_DEADLINE_MS),
    "optimizer_reserved": PolicySettings("auto", reserved=True, opportunity=True,
                                         deadline_ms=OPTIMIZER_DEADLINE_MS),
}


@dataclass
class StockView:
    """What a policy sees when an order arrives: node x SKU arrays in network order."""

    network: Network
    skus: tuple[str, ...]
    on_hand: np.ndarray
    safety: np.ndarray  # units kept back for walk-in customers (0 unless reserved)
    opportunity_pln: np.ndarray  # expected walk-in margin lost per unit taken
    capacity: dict[str, int]
    is_dc: np.ndarray

    def availability(self, order: Order, *, reserved: bool, opportunity: bool,
                     nodes: np.ndarray | None = None) -> list[Availability]:
        """ATP rows of the order's SKUs at `nodes` (default: every node)."""
        rows: list[Availability] = []
        ids = self.network.nodes
        sku_index = {s: i for i, s in enumerate(self.skus)}
        by_distance = self._by_distance(order)
        for sku in sorted({line.sku for line in order.lines}):
            k = sku_index[sku]
            atp = self.on_hand[:, k] - (self.safety[:, k] if reserved else 0)
            holders = by_distance[atp[by_distance] > 0]
            if nodes is not None:
                holders = holders[np.isin(holders, nodes)]
            holders = self._reach(holders, order)
            for n in holders:
                opp = float(self.opportunity_pln[n, k]) if opportunity else 0.0
                rows.append(Availability(ids[n].node_id, sku, int(atp[n]), opp))
        return rows

    def _by_distance(self, order: Order) -> np.ndarray:
        net = self.network
        to = (net.node(order.pickup_store_id).location if order.pickup_store_id is not None
              else order.destination)
        assert to is not None
        return np.argsort(haversine_km(net.lat_rad, net.lon_rad, to), kind="stable")

    def _reach(self, holders: np.ndarray, order: Order) -> np.ndarray:
        """DCs, the pickup store and the `NEAREST_STORES` nearest stores with stock. Farther
        stores pay the same or a higher tariff band than these and a store's pick cost, so they
        practically never win; the shorter list keeps a season's replay in minutes."""
        stores = holders[~self.is_dc[holders]][:NEAREST_STORES]
        keep = np.concatenate([holders[self.is_dc[holders]], stores])
        if order.pickup_store_id is not None:
            pickup = self.network.index[order.pickup_store_id]
            if pickup in holders and pickup not in keep:
                keep = np.append(keep, pickup)
        return keep


Policy = Callable[[Order, StockView], Sequence[Decision]]


def _source(order: Order, view: StockView, settings: PolicySettings,
            nodes: np.ndarray | None = None) -> Decision:
    """`source_order` on the ATP rows the settings see, with the settings' solver and prices."""
    rows = view.availability(order, reserved=settings.reserved,
                             opportunity=settings.opportunity, nodes=nodes)
    return source_order(order, view.network, rows, remaining_capacity=view.capacity,
                        weights=settings.weights, deadline_ms=settings.deadline_ms,
                        solver=settings.solver,
                        candidates_per_line=settings.candidates_per_line)


def nearest(order: Order, view: StockView) -> Sequence[Decision]:
    return [_source(order, view, SETTINGS["nearest"])]


def dc_first(order: Order, view: StockView) -> Sequence[Decision]:
    """Stages of node groups; each serves what it can (nearest first) and passes the rest on."""
    dcs = np.flatnonzero(view.is_dc)
    stores = np.flatnonzero(~view.is_dc)
    stages = [dcs, stores]
    if order.pickup_store_id is not None:
        pickup = view.network.index[order.pickup_store_id]
        stages = [np.array([pickup]), dcs, stores[stores != pickup]]
    decisions: list[Decision] = []
    left = order
    for i, nodes in enumerate(stages):
        last = i == len(stages) - 1
        try:
            decision = _source(replace(left, allow_partial=not last), view,
                               SETTINGS["dc_first"], nodes)
        except OutOfStock:
            if last:
                raise
            continue  # this group cannot take any line as the rule would: pass all on
        if decision.lines:
            decisions.append(decision)
        short = {u.line_id for u in decision.unfulfilled}
        if not short:
            return decisions
        left = replace(left, lines=tuple(ln for ln in left.lines if ln.line_id in short))
    raise OutOfStock(order.order_id, [])  # pragma: no cover - the last stage raises itself


def optimizer(order: Order, view: StockView) -> Sequence[Decision]:
    return [_source(order, view, SETTINGS["optimizer"])]


def optimizer_reserved(order: Order, view: StockView) -> Sequence[Decision]:
    return [_source(order, view, SETTINGS["optimizer_reserved"])]


POLICIES: dict[str, Policy] = {
    "nearest": nearest,
    "dc_first": dc_first,
    "optimizer": optimizer,
    "optimizer_reserved": optimizer_reserved,
}
USES_RESERVATION: frozenset[str] = frozenset({"optimizer_reserved"})
