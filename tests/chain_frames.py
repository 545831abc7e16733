"""What the hand-built test chains share: the frames a chain hands to `load_chain`
(docs/CONTRACTS.md) and a node row. Each test package builds its own small chain from these,
with its own stock and sales to reason about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd


@dataclass(frozen=True)
class HandBuiltChain:
    nodes: pd.DataFrame
    skus: pd.DataFrame
    stock: pd.DataFrame
    postcode_areas: pd.DataFrame
    parcel_rates: pd.DataFrame
    transfer_rates: pd.DataFrame
    lockers: pd.DataFrame
    sales: pd.DataFrame
    as_of: date


def node_row(
    node_id: str, kind: str, city: str, lat: float, lon: float, **extra: object
) -> dict[str, object]:
    """A DC (open round the clock, cheap picks) or a mall store (9-21, dearer picks)."""
    store = kind == "store"
    return {
        "node_id": node_id, "kind": kind, "name": f"{city} {kind}", "city": city,
        "lat": lat, "lon": lon, "format": "mall" if store else "dc",
        "opens_at_hour": 9 if store else 0, "closes_at_hour": 21 if store else 24,
        "pick_cost_pln": 3.5 if store else 1.2,
        "pick_capacity_per_day": 200 if store else 50_000, "replenishment_days": 7,
        **extra,
    }


def transfer_rates() -> pd.DataFrame:
    """DC-to-store and store-to-store lanes at the demo chain's tariffs."""
    return pd.DataFrame({
        "lane": ["dc_to_store", "store_to_store"], "fixed_cost_pln": [20.0, 35.0],
        "cost_per_unit_pln": [0.35, 0.8], "cost_per_km_pln": [0.0125, 0.02],
        "lead_time_hours": [48.0, 72.0],
    })


def one_locker() -> pd.DataFrame:
    return pd.DataFrame({"locker_id": ["WAW01"], "city": ["Warszawa"], "lat": [52.2],
                         "lon": [21.0]})
