"""The chain's nodes: three distribution centres and the stores, with formats, opening hours,
pick cost and capacity, and replenishment time.

Figures are ASSUMPTIONS for a mid-market Polish chain: DC picking is automated and cheap per
line; a store picks online orders between walk-in customers, so a line costs more and daily
capacity is small; stores farther from their DC wait longer for replenishment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.geography import DISTRIBUTION_CENTRES, haversine_km, jitter, polish_cities

STORE_CITIES = 150  # stores go to the largest cities, weighted by population ** 0.9
FORMATS = ("mall", "high_street", "outlet")
# (opens, closes) choices per format
HOURS: dict[str, tuple[tuple[int, int], ...]] = {
    "mall": ((10, 21), (9, 21), (10, 22)),
    "high_street": ((10, 19), (9, 20), (10, 20)),
    "outlet": ((10, 20), (10, 21)),
}
SIZE_BY_FORMAT = {"mall": 1.3, "high_street": 0.9, "outlet": 0.7}
PICK_COST_BY_FORMAT = {"mall": 5.5, "high_street": 6.0, "outlet": 4.5}
DC_PICK_COST_PLN = (1.10, 1.25, 1.40)
DC_PICK_CAPACITY = (60_000, 35_000, 40_000)
DC_REPLENISHMENT_DAYS = 14  # supplier lead time and order cycle


def nodes(rng: np.random.Generator, n_stores: int) -> pd.DataFrame:
    """DCs then stores S001.., with the columns of docs/CONTRACTS.md plus `home_dc` (nearest
    DC), `size` (walk-in demand multiplier) and `catchment` (online demand multiplier)."""
    return pd.concat([_dcs(), _stores(rng, n_stores)], ignore_index=True)


def _dcs() -> pd.DataFrame:
    return pd.DataFrame({
        "node_id": [d[0] for d in DISTRIBUTION_CENTRES],
        "kind": "dc",
        "name": [d[1] for d in DISTRIBUTION_CENTRES],
        "city": [d[2] for d in DISTRIBUTION_CENTRES],
        "lat": [d[3] for d in DISTRIBUTION_CENTRES],
        "lon": [d[4] for d in DISTRIBUTION_CENTRES],
        "format": "dc",
        "opens_at_hour": 0,
        "closes_at_hour": 24,
        "pick_cost_pln": list(DC_PICK_COST_PLN),
        "pick_capacity_per_day": list(DC_PICK_CAPACITY),
        "replenishment_days": DC_REPLENISHMENT_DAYS,
        "home_dc": [d[0] for d in DISTRIBUTION_CENTRES],
        "size": 0.0,
        "catchment": 0.0,
    })


def _stores(rng: np.random.Generator, n_stores: int) -> pd.DataFrame:
    cities = polish_cities()[:STORE_CITIES]
    weight = np.array([c.population for c in cities], dtype=float) ** 0.9
    # Every store city gets one store before any gets a second: the first stores go to the
    # largest cities, the rest are spread by population (several stores in big cities).
    first = min(n_stores, len(cities), max(1, int(n_stores * 0.6)))
    extra = rng.multinomial(n_stores - first, weight**1.4 / (weight**1.4).sum())
    counts = np.zeros(len(cities), dtype=int)
    counts[:first] = 1
    counts += extra
    rows = []
    for city, count in zip(cities, counts, strict=True):
        lats, lons = jitter(rng, city.lat, city.lon, 1.5 + 3.0 * (count > 1), int(count))
        for k in range(int(count)):
            fmt = _format(rng, city.population, k)
            opens, closes = HOURS[fmt][rng.integers(len(HOURS[fmt]))]
            size = SIZE_BY_FORMAT[fmt] * float(np.exp(rng.normal(0.0, 0.25)))
            size *= 1.0 + 0.15 * np.log10(max(city.population, 20_000) / 100_000)
            rows.append({
                "name": f"{city.name} {fmt.replace('_', ' ').title()} {k + 1}",
                "city": city.name, "lat": float(lats[k]), "lon": float(lons[k]),
                "format": fmt, "opens_at_hour": opens, "closes_at_hour": closes,
                "pick_cost_pln": round(PICK_COST_BY_FORMAT[fmt] + float(rng.normal(0, 0.4)), 2),
                "pick_capacity_per_day": int(round(40 + 120 * size + rng.integers(0, 20))),
                "review_days": int(rng.integers(1, 4)),
                "size": round(size, 4),
                "catchment": round((city.population / count / 100_000) ** 0.3, 4),
            })
    stores = pd.DataFrame(rows)
    dc_lat = np.array([d[3] for d in DISTRIBUTION_CENTRES])
    dc_lon = np.array([d[4] for d in DISTRIBUTION_CENTRES])
    dist = haversine_km(stores["lat"].to_numpy()[:, None], stores["lon"].to_numpy()[:, None],
                        dc_lat[None, :], dc_lon[None, :])
    nearest = dist.argmin(axis=1)
    lead_days = 1 + (dist.min(axis=1) > 250).astype(int)
    stores["replenishment_days"] = stores.pop("review_days") + lead_days
    stores["home_dc"] = [DISTRIBUTION_CENTRES[k][0] for k in nearest]
    stores.insert(0, "node_id", [f"S{k + 1:03d}" for k in range(len(stores))])
    stores.insert(1, "kind", "store")
    cols = ["node_id", "kind", "name", "city", "lat", "lon", "format", "opens_at_hour",
            "closes_at_hour", "pick_cost_pln", "pick_capacity_per_day", "replenishment_days",
            "home_dc", "size", "catchment"]
    return stores[cols]


def _format(rng: np.random.Generator, population: int, k: int) -> str:
    """Malls dominate big cities, high-street shops small towns; outlets only near big cities."""
    if population >= 300_000:
        p = (0.55, 0.30, 0.15) if k > 0 else (0.7, 0.3, 0.0)
    elif population >= 100_000:
        p = (0.55, 0.40, 0.05)
    else:
        p = (0.40, 0.60, 0.0)
    return FORMATS[int(rng.choice(3, p=p))]
