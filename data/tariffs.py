"""Cost tables: parcel prices by weight and distance band, and transfer costs between nodes.

Figures are ASSUMPTIONS in the range of Polish business tariffs in 2025-2026: a parcel-locker
shipment ~10-16 PLN, a courier parcel to the door ~14-25 PLN; lockers take parcels up to 25 kg.
"""

from __future__ import annotations

import pandas as pd

WEIGHT_BANDS_KG = (1.0, 5.0, 10.0, 25.0, 31.5)
DISTANCE_BANDS_KM = (50.0, 150.0, 300.0, 500.0, 1000.0)
LOCKER_MAX_KG = 25.0


def parcel_rates() -> pd.DataFrame:
    """One row per method x weight band x distance band, sorted so that the first row whose
    `max_weight_kg` and `max_distance_km` both hold is the price to pay."""
    rows = []
    for method, base, per_weight, per_distance, hours in (
        ("parcel_locker", 10.49, 1.0, 0.5, (24, 24, 36, 48, 48)),
        ("home_delivery", 14.49, 1.8, 0.8, (24, 24, 24, 36, 48)),
    ):
        for w, max_kg in enumerate(WEIGHT_BANDS_KG):
            if method == "parcel_locker" and max_kg > LOCKER_MAX_KG:
                continue
            for d, max_km in enumerate(DISTANCE_BANDS_KM):
                rows.append({
                    "method": method,
                    "max_weight_kg": max_kg,
                    "max_distance_km": max_km,
                    "price_pln": round(base + per_weight * w + per_distance * d, 2),
                    "transit_hours": hours[d],
                })
    return pd.DataFrame(rows)


def transfer_rates() -> pd.DataFrame:
    """DC-to-store moves ride the scheduled replenishment truck (cheap, next run within a day);
    store-to-store moves need a dedicated van or courier pick-up (dearer, two days)."""
    return pd.DataFrame({
        "lane": ["dc_to_store", "store_to_store"],
        "fixed_cost_pln": [25.0, 60.0],
        "cost_per_unit_pln": [0.40, 1.20],
        "cost_per_km_pln": [0.35, 1.10],
        "lead_time_hours": [24, 48],
        "max_lead_time_hours": [48, 72],
    })
