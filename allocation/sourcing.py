"""`source_order`: which node serves each line of one order, at what cost and promised time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from allocation.model import Availability, CostWeights, Decision, Network, Order

DEFAULT_DEADLINE_MS = 50.0
DEFAULT_WEIGHTS = CostWeights()


def source_order(
    order: Order,
    network: Network,
    availability: Iterable[Availability],
    *,
    remaining_capacity: Mapping[str, int] | None = None,
    weights: CostWeights = DEFAULT_WEIGHTS,
    deadline_ms: float = DEFAULT_DEADLINE_MS,
) -> Decision:
    """Decide the sourcing of `order`.

    `availability`: ATP rows for the order's SKUs (rows for other SKUs are ignored).
    `remaining_capacity`: node_id -> lines the node can still pick today (missing: the
    node's `pick_capacity_per_day`).
    Raises `OutOfStock`, `UnknownReference`, `InvalidOrder` (see `allocation.errors`).
    """
    raise NotImplementedError
