"""A small hand-made network: one DC in Łódź, stores in Warsaw, Kraków and Gdańsk."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from allocation.model import (
    Location,
    Network,
    Node,
    ParcelRate,
    Sku,
    TransferRate,
)

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
    transfers = {
        "dc_to_store": TransferRate("dc_to_store", 20.0, 0.4, 0.3, 24.0),
        "store_to_store": TransferRate("store_to_store", 50.0, 1.2, 1.0, 48.0),
    }
    return Network(nodes=nodes, skus=skus, parcel_rates=parcel_rates(), transfer_rates=transfers)
