"""A small hand-made network (one DC in Łódź, stores in Warsaw, Kraków and Gdańsk), and a
builder of random small networks and orders for the property and exactness tests."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from allocation.model import (
    Availability,
    Fulfilment,
    Location,
    Network,
    Node,
    NodeKind,
    Order,
    OrderLine,
    ParcelRate,
    Sku,
    TransferRate,
)

T = TypeVar("T")

WARSAW = ZoneInfo("Europe/Warsaw")
KRAKOW = Location(50.0647, 19.9450)

# A Wednesday afternoon, all open.
WEDNESDAY = datetime(2026, 11, 18, 12, 0, tzinfo=WARSAW)


def parcel_rates() -> tuple[ParcelRate, ...]:
    rows = []
    for method, base in (("home_delivery", 14.0), ("parcel_locker", 10.0)):
        for d, max_km in enumerate((50.0, 300.0, 1000.0)):
            for w, max_kg in enumerate((1.0, 5.0, 31.5)):
                if method == "parcel_locker" and max_kg > 25:
                    max_kg = 25.0
                rows.append(
                    ParcelRate(
                        method,  # type: ignore[arg-type]
                        max_kg,
                        max_km,
                        base + 2.0 * w + 1.0 * d,
                        24.0 + 12.0 * d,
                    )
                )
    return tuple(rows)


def make_network() -> Network:
    nodes = (
        Node("DC", "dc", Location(51.7592, 19.4560), 1.2, 50_000, 0, 24, 14),
        Node("S-WAW", "store", Location(52.2297, 21.0122), 6.0, 200, 10, 20, 3),
        Node("S-KRK", "store", Location(50.0614, 19.9366), 6.0, 200, 10, 20, 3),
        Node("S-GDA", "store", Location(54.3520, 18.6466), 6.0, 200, 10, 20, 3),
    )
    skus = {
        "TEE": Sku("TEE", 0.3, 40.0, 15.0),
        "JEANS": Sku("JEANS", 0.7, 200.0, 80.0),
        "TV": Sku("TV", 12.0, 2000.0, 1500.0),
    }
    return Network(nodes=nodes, skus=skus, parcel_rates=parcel_rates(),
                   transfer_rates=SMALL_TRANSFERS)


# Random small networks (the property tests draw them with hypothesis, the exactness tests with
# a seeded `random.Random`): one builder, two ways to draw.
SMALL_SKUS = {
    "A": Sku("A", 0.3, 40.0, 15.0),
    "B": Sku("B", 2.5, 300.0, 150.0),
    "C": Sku("C", 14.0, 1500.0, 1100.0),
}
SMALL_TRANSFERS = {
    "dc_to_store": TransferRate("dc_to_store", 20.0, 0.4, 0.3, 24.0),
    "store_to_store": TransferRate("store_to_store", 50.0, 1.2, 1.0, 48.0),
}


@dataclass(frozen=True)
class Case:
    network: Network
    order: Order
    stock: list[Availability]
    capacity: dict[str, int]


class Picker(Protocol):
    def integer(self, low: int, high: int) -> int: ...
    def real(self, low: float, high: float) -> float: ...
    def boolean(self) -> bool: ...
    def choice(self, options: Sequence[T]) -> T: ...


class SeededPicker:
    """A `Picker` over `random.Random(seed)`: the same case for the same seed, every run."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def real(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)

    def boolean(self) -> bool:
        return self.rng.random() < 0.5

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]


def small_case(pick: Picker, min_lines: int = 1, max_lines: int = 4) -> Case:
    """Up to six nodes (N0 a DC, maybe N1 too, the rest stores) anywhere in Poland, 0-4 units
    of each SKU per node, an order of `min_lines`..`max_lines` lines placed in the three days
    from Saturday 14 Nov 2026 08:00 (Sunday trading ban included) with a 12-96 h promise."""

    def location() -> Location:
        return Location(pick.real(49.5, 54.5), pick.real(14.5, 23.5))

    n_nodes = pick.integer(1, 6)
    nodes = []
    for k in range(n_nodes):
        kind: NodeKind = "dc" if k == 0 or pick.boolean() and k < 2 else "store"
        nodes.append(
            Node(
                f"N{k}", kind, location(), pick.choice([1.0, 1.5, 5.0, 7.0]),
                200, 0 if kind == "dc" else 9, 24 if kind == "dc" else 21, 3,
            )
        )
    network = Network(
        nodes=tuple(nodes), skus=SMALL_SKUS, parcel_rates=parcel_rates(),
        transfer_rates=SMALL_TRANSFERS,
    )
    stock = [
        Availability(node.node_id, sku, pick.integer(0, 4), pick.choice([0, 2.5]))
        for node in nodes
        for sku in SMALL_SKUS
    ]
    n_lines = pick.integer(min_lines, max_lines)
    lines = tuple(
        OrderLine(f"L{i}", pick.choice(sorted(SMALL_SKUS)), pick.integer(1, 3))
        for i in range(n_lines)
    )
    fulfilment: Fulfilment = pick.choice(["home_delivery", "parcel_locker", "click_and_collect"])
    stores = [n.node_id for n in nodes if n.kind == "store"]
    if fulfilment == "click_and_collect" and not stores:
        fulfilment = "home_delivery"
    placed = datetime(2026, 11, 14, 8, 0, tzinfo=WARSAW) + timedelta(hours=pick.integer(0, 72))
    order = Order(
        "o",
        fulfilment,
        lines,
        placed,
        destination=None if fulfilment == "click_and_collect" else location(),
        pickup_store_id=pick.choice(stores) if fulfilment == "click_and_collect" else None,
        promise_by=placed + timedelta(hours=pick.integer(12, 96)),
        max_parcels=pick.choice([None, 1, 2, 3]),
        allow_partial=pick.boolean(),
    )
    capacity = {n.node_id: pick.integer(0, 4) for n in nodes if n.kind == "store"}
    return Case(network, order, stock, capacity)


def krakow_order(*lines: tuple[str, str, int], order_id: str = "o-1",
                 max_parcels: int | None = None, allow_partial: bool = False) -> Order:
    """A home delivery to Kraków placed on WEDNESDAY; `lines` as (line_id, sku, qty)."""
    return Order(order_id, "home_delivery", tuple(OrderLine(i, s, q) for i, s, q in lines),
                 WEDNESDAY, destination=KRAKOW, max_parcels=max_parcels,
                 allow_partial=allow_partial)
