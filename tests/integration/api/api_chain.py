"""A small chain for the API tests: one DC, three stores, four SKUs, and a SKU with exactly
three units left in the whole network (the "last units" of the concurrency tests)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from chain_frames import HandBuiltChain, node_row, one_locker, transfer_rates

AS_OF = date(2026, 11, 8)
LAST_UNITS_SKU = "LAST"
LAST_UNITS = 3


SmallChain = HandBuiltChain


def small_chain() -> SmallChain:
    nodes = pd.DataFrame([
        node_row("DC-STRYKOW", "dc", "Stryków", 51.90, 19.60),
        node_row("S001", "store", "Warszawa", 52.23, 21.01),
        node_row("S002", "store", "Kraków", 50.06, 19.94),
        node_row("S003", "store", "Gdańsk", 54.35, 18.65),
    ])
    skus = pd.DataFrame({
        "sku": ["JACKET", "PHONE", "SCARF", LAST_UNITS_SKU],
        "name": ["Jacket", "Phone", "Scarf", "Limited sneaker"],
        "department": ["fashion", "electronics", "fashion", "fashion"],
        "category": ["outerwear", "phones", "accessories", "shoes"],
        "size_class": ["M", "S", "S", "M"],
        "weight_kg": [1.1, 0.4, 0.2, 1.2],
        "price_pln": [299.99, 1499.0, 49.9, 899.0],
        "unit_cost_pln": [120.0, 1100.0, 15.5, 400.0],
        "launch_date": pd.to_datetime(["2023-01-01"] * 4),
        "discontinue_date": pd.to_datetime([None] * 4),
    })
    stock_rows = [
        ("DC-STRYKOW", "JACKET", 500), ("DC-STRYKOW", "PHONE", 80), ("DC-STRYKOW", "SCARF", 900),
        ("DC-STRYKOW", LAST_UNITS_SKU, 2),
        ("S001", "JACKET", 6), ("S001", "PHONE", 3), ("S001", "SCARF", 10),
        ("S001", LAST_UNITS_SKU, 1),
        ("S002", "JACKET", 4), ("S002", "PHONE", 1), ("S002", "SCARF", 5),
        ("S003", "JACKET", 2), ("S003", "SCARF", 3),
    ]
    stock = pd.DataFrame(stock_rows, columns=["node_id", "sku", "on_hand"])
    rows = [
        (AS_OF - timedelta(days=k), "S001", "store", "JACKET", 1, 299.99, 0) for k in range(30)
    ]
    sales = pd.DataFrame(rows, columns=["date", "node_id", "channel", "sku", "units",
                                        "price_pln", "promo"])
    sales["date"] = pd.to_datetime(sales["date"])
    return SmallChain(
        nodes=nodes,
        skus=skus,
        stock=stock,
        postcode_areas=pd.DataFrame({
            "postcode_prefix": ["00", "30", "80", "90"],
            "city": ["Warszawa", "Kraków", "Gdańsk", "Łódź"],
            "lat": [52.23, 50.06, 54.35, 51.76], "lon": [21.01, 19.94, 18.65, 19.46],
        }),
        parcel_rates=pd.DataFrame({
            "method": ["parcel_locker", "home_delivery", "home_delivery"],
            "max_weight_kg": [25.0, 5.0, 31.5], "max_distance_km": [2000.0] * 3,
            "price_pln": [12.99, 15.79, 21.19], "transit_hours": [24.0, 24.0, 48.0],
        }),
        transfer_rates=transfer_rates(),
        lockers=one_locker(),
        sales=sales,
        as_of=AS_OF,
    )
