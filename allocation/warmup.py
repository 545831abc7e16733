"""Warm-up: pay the one-off costs of sourcing before the first real order does.

The first order a fresh server process decided took 0.87 s against its 50 ms deadline (then
about 10 ms): the `holidays` package builds its Polish calendar on first use (~0.8 s, the
promise dates need it), and the tariff tables, OR-Tools' first model and numpy's first calls
are built lazily too. `warm_up` decides made-up orders against the network, in memory (nothing
is reserved or written), then measures CP-SAT's pace on this machine for small, middle and
big models (`allocation.cpsat.SolvePace`), so that the first big orders are not the ones that
find out how slow it is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from allocation import cpsat
from allocation.candidates import prune
from allocation.model import Availability, Location, Network, Order, OrderLine
from allocation.problem import build_problem
from allocation.sourcing import DEFAULT_WEIGHTS, source_order
from forecasting.calendar import public_holidays

WARM_DEADLINE_MS = 1_000.0
PACE_LINES = (3, 20, 60)  # made-up orders of these sizes fill the pace's size classes
PACE_HOLDERS = 12  # nodes holding each made-up line


def warm_up(network: Network, now: datetime | None = None) -> int:
    """Decide made-up orders for every fulfilment method (the exact search and CP-SAT both
    run), then time CP-SAT on bigger ones; returns how many orders were decided. A network
    without stores or SKUs is left cold. Errors are left to the real orders to report."""
    at = now or datetime.now(UTC)
    for year in (at.year, at.year + 1):  # promises late in December fall in January
        public_holidays(year)
    stores = [n for n in network.nodes if n.kind == "store"]
    skus = list(network.skus)
    if not stores or not skus:
        return 0
    here = stores[0]
    two = skus[:2]
    stock = [Availability(node.node_id, sku, 1) for node in network.nodes[:4] for sku in two]
    lines = tuple(OrderLine(str(k), sku, 1) for k, sku in enumerate(two))
    split = (OrderLine("split", two[0], 2),)  # one unit a node: only CP-SAT splits it
    orders = [
        Order("warm-up-home", "home_delivery", lines, placed_at=at, destination=here.location),
        Order("warm-up-split", "home_delivery", split, placed_at=at, destination=here.location,
              promise_by=at + timedelta(days=2)),
        Order("warm-up-collect", "click_and_collect", lines, placed_at=at,
              pickup_store_id=here.node_id),
    ]
    if network.lockers:
        orders.append(Order("warm-up-locker", "parcel_locker", lines, placed_at=at,
                            destination=next(iter(network.lockers.values())).location))
    decided = sum(_decided(order, network, stock) for order in orders)
    cpsat.PACE.forget()  # those first solves were cold by design
    for size in PACE_LINES:
        _time_cpsat(network, here.location, skus, size, at)
    return decided


def _decided(order: Order, network: Network, stock: list[Availability]) -> bool:
    try:
        source_order(order, network, stock, deadline_ms=WARM_DEADLINE_MS)
    except Exception:  # noqa: BLE001 - a warm-up must never keep the server from starting
        return False
    return True


def _time_cpsat(network: Network, destination: Location, skus: list[str], size: int,
                at: datetime) -> None:
    """`SolvePace.FEW` CP-SAT solves of a made-up `size`-line order with a 1 ms limit: each
    runs into its limit, so each measures CP-SAT's least time for a model of that size."""
    lines = tuple(OrderLine(str(k), skus[k % len(skus)], 1) for k in range(size))
    held = {line.sku for line in lines}
    stock = [Availability(node.node_id, sku, 2)
             for node in network.nodes[:PACE_HOLDERS] for sku in held]
    order = Order("warm-up-pace", "home_delivery", lines, placed_at=at,
                  destination=destination, allow_partial=True)
    try:
        problem = build_problem(order, network, stock, None, DEFAULT_WEIGHTS)
        candidates = prune(problem)
        for _ in range(cpsat.PACE.FEW):
            cpsat.solve_cpsat(problem, candidates, 0.001, optional_lines=True)
    except Exception:  # noqa: BLE001 - as above
        return
