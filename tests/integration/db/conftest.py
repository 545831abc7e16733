"""A tiny hand-built chain with the demo chain's frames (docs/CONTRACTS.md), small enough to
reason about: one DC, two stores, three SKUs, 60 days of sales with known walk-in rates."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from chain_frames import HandBuiltChain, node_row, one_locker, transfer_rates
from sqlalchemy import Engine

from api.db.load_chain import load_chain
from forecasting.calendar import is_store_open

AS_OF = date(2026, 11, 8)


TinyChain = HandBuiltChain


def _node(node_id: str, kind: str, city: str, lat: float, lon: float) -> dict[str, object]:
    return node_row(node_id, kind, city, lat, lon,
                    home_dc="DC-STRYKOW")  # an extra column the loader must ignore


def tiny_chain() -> TinyChain:
    nodes = pd.DataFrame([
        _node("DC-STRYKOW", "dc", "Stryków", 51.90, 19.60),
        _node("S001", "store", "Łódź", 51.76, 19.46),
        _node("S002", "store", "Kraków", 50.06, 19.94),
    ])
    skus = pd.DataFrame({
        "sku": ["A", "B", "C"], "name": ["Jacket", "Phone", "Scarf"],
        "department": ["fashion", "electronics", "fashion"],
        "category": ["outerwear", "phones", "accessories"], "size_class": ["M", "S", "S"],
        "weight_kg": [1.1, 0.4, 0.2], "price_pln": [299.99, 1499.0, 49.9],
        "unit_cost_pln": [120.0, 1100.0, 15.5],
        "launch_date": pd.to_datetime(["2023-01-01", "2024-03-01", "2023-01-01"]),
        "discontinue_date": pd.to_datetime([None, None, "2026-12-31"]),
    })
    stock = pd.DataFrame({
        "node_id": ["DC-STRYKOW"] * 3 + ["S001"] * 3 + ["S002"] * 3,
        "sku": ["A", "B", "C"] * 3,
        "on_hand": [500, 80, 900, 3, 2, 10, 0, 1, 4],
    })
    # Walk-in: S001 sells 2 × A on every open day, S002 1 × C on open days; online every day.
    days = [AS_OF - timedelta(days=k) for k in range(60)]
    rows = []
    for day in days:
        if is_store_open(day):
            rows.append((day, "S001", "store", "A", 2, 299.99, 0))
            rows.append((day, "S002", "store", "C", 1, 49.9, 1))
        rows.append((day, "S001", "online", "B", 1, 1499.0, 0))
    sales = pd.DataFrame(rows, columns=["date", "node_id", "channel", "sku", "units",
                                        "price_pln", "promo"])
    sales["date"] = pd.to_datetime(sales["date"])
    sales["promo"] = sales["promo"].astype(bool)
    return TinyChain(
        nodes=nodes,
        skus=skus,
        stock=stock,
        postcode_areas=pd.DataFrame({"postcode_prefix": ["00", "90"], "city": ["Warszawa", "Łódź"],
                                     "lat": [52.23, 51.76], "lon": [21.01, 19.46]}),
        parcel_rates=pd.DataFrame({
            "method": ["parcel_locker", "home_delivery", "home_delivery"],
            "max_weight_kg": [25.0, 5.0, 31.5], "max_distance_km": [1000.0, 1000.0, 1000.0],
            "price_pln": [12.99, 15.79, 21.19], "transit_hours": [24, 24, 48],
        }),
        transfer_rates=transfer_rates(),
        lockers=one_locker(),
        sales=sales,
        as_of=AS_OF,
    )


@pytest.fixture
def chain() -> TinyChain:
    return tiny_chain()


@pytest.fixture
def loaded_engine(db_engine: Engine, chain: TinyChain) -> Engine:
    """The tiny chain loaded into a migrated database of each kind."""
    load_chain(db_engine, chain, data_version="tiny", params={"tiny": True})
    return db_engine
