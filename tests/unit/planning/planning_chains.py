"""Tiny chains for planning tests: a DC and a few stores, built in code, deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd


def nodes(n_stores: int) -> pd.DataFrame:
    """One DC near Łódź and stores spread over Poland."""
    rng = np.random.default_rng(n_stores)
    return pd.DataFrame(
        {
            "node_id": ["DC"] + [f"S{i:02d}" for i in range(n_stores)],
            "kind": ["dc"] + ["store"] * n_stores,
            "lat": np.r_[51.9, rng.uniform(49.5, 54.4, n_stores)],
            "lon": np.r_[19.6, rng.uniform(14.6, 23.4, n_stores)],
        }
    )


def rates(
    fixed: float = 0.0, per_km: float = 0.0, dc_lead_h: float = 48.0, store_lead_h: float = 36.0
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lane": ["dc_to_store", "store_to_store"],
            "fixed_cost_pln": [fixed, fixed],
            "cost_per_unit_pln": [1.0, 2.5],
            "cost_per_km_pln": [per_km, per_km],
            "lead_time_hours": [dc_lead_h, store_lead_h],
        }
    )


def positions(n_stores: int, n_skus: int, seed: int, dc_stock: int = 20) -> pd.DataFrame:
    """Every node x SKU with uneven store stock against the peak forecast."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_skus):
        margin = float(rng.uniform(15, 60))
        rows.append(("DC", f"K{k}", int(rng.integers(0, dc_stock + 1)), 0.0, margin))
        for i in range(n_stores):
            mean = float(rng.gamma(1.5, 2.0))
            on_hand = int(rng.poisson(mean * rng.uniform(0, 2)))
            rows.append((f"S{i:02d}", f"K{k}", on_hand, mean, margin))
    return pd.DataFrame(rows, columns=["node_id", "sku", "on_hand", "demand_mean", "margin_pln"])
