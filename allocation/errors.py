"""Domain errors of sourcing; the API maps each to one problem document (409, 404, 422)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class AllocationError(Exception):
    """Base of every error the sourcing core raises on purpose."""


@dataclass(frozen=True, slots=True)
class ShortLine:
    """A line that cannot be served in full: asked and available (sum of ATP over nodes)."""

    line_id: str
    sku: str
    qty: int
    available: int


class OutOfStock(AllocationError):
    """No plan serves every line and the order does not allow partial fulfilment (-> 409)."""

    def __init__(self, order_id: str, short_lines: Sequence[ShortLine]) -> None:
        self.order_id = order_id
        self.short_lines = tuple(short_lines)
        names = ", ".join(
            f"{s.line_id} ({s.sku}: {s.qty} asked, {s.available} available)"
            for s in self.short_lines
        )
        super().__init__(f"order {order_id}: not enough stock for {names or 'the order'}")


class UnknownReference(AllocationError):
    """The order names a SKU, store or node the network does not know (-> 404).
    `field` is a JSON-pointer-like path into the order, e.g. `/lines/0/sku`."""

    def __init__(self, kind: str, key: str, field: str) -> None:
        self.kind = kind
        self.key = key
        self.field = field
        super().__init__(f"unknown {kind} {key!r}")


class InvalidOrder(AllocationError):
    """An order that parses but makes no sense for sourcing (-> 422)."""

    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        self.detail = detail
        super().__init__(detail)


class NoFeasiblePlan(OutOfStock):
    """Every line has stock, yet no plan keeping the order's limits was found in time: its
    `max_parcels` over nodes that each pack their own parcels, the nodes' pick capacity left
    today, their opening days (-> 409). No line is short, so `short_lines` is empty."""

    def __init__(
        self, order_id: str, max_parcels: int | None, nodes_with_stock: int, deadline_ms: float
    ) -> None:
        AllocationError.__init__(
            self,
            f"order {order_id}: every line has stock (over {nodes_with_stock} nodes), but no "
            "plan ships it within "
            + (f"max_parcels {max_parcels} and " if max_parcels is not None else "")
            + f"the nodes' pick capacity left today (searched {deadline_ms:g} ms): allow more "
            "parcels, or allow_partial to ship the lines that fit",
        )
        self.deadline_ms = deadline_ms
        self.order_id = order_id
        self.short_lines = ()
        self.max_parcels = max_parcels
        self.nodes_with_stock = nodes_with_stock
