"""The demo catalogue: fashion and electronics SKUs with price, cost, weight, size and life.

Category figures (price range, weight, margin, season, Back-to-School peak, typical rate of sale)
are ASSUMPTIONS for a mid-market Polish chain; margins follow the brief (fashion 40-65 %,
electronics 15-30 % of price).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Category:
    """What every SKU of a category shares."""

    name: str
    department: str
    size_class: str
    weight_kg: tuple[float, float]
    price_pln: tuple[float, float]
    margin: tuple[float, float]
    units_per_store_day: float  # typical SKU, both channels, before seasonality
    season_peak_month: int  # month of the category's own seasonal high (0 = none)
    season_amplitude: float  # +/- share around the base yearly profile
    back_to_school: float  # multiplier at the top of the Back-to-School peak
    christmas_extra: float  # extra multiplier on the measured Christmas run-up
    online_bias: float  # added to the department online share


CATEGORIES: tuple[Category, ...] = (
    Category("t_shirts", "fashion", "S", (0.15, 0.3), (29, 99), (0.55, 0.65), 1.4, 7, 0.25,
             1.10, 1.0, 0.00),
    Category("jeans", "fashion", "M", (0.5, 0.8), (129, 299), (0.45, 0.60), 0.7, 9, 0.10,
             1.20, 1.0, 0.02),
    Category("dresses", "fashion", "M", (0.3, 0.6), (119, 349), (0.50, 0.65), 0.5, 6, 0.25,
             1.00, 1.1, 0.05),
    Category("jackets", "fashion", "L", (0.9, 1.8), (249, 699), (0.40, 0.55), 0.3, 11, 0.60,
             1.05, 1.2, 0.03),
    Category("sneakers", "fashion", "L", (0.7, 1.3), (179, 549), (0.40, 0.55), 0.4, 4, 0.15,
             1.25, 1.1, 0.04),
    Category("backpacks", "fashion", "M", (0.5, 1.0), (79, 249), (0.45, 0.60), 0.25, 8, 0.10,
             2.60, 1.0, 0.02),
    Category("accessories", "fashion", "S", (0.05, 0.3), (19, 129), (0.55, 0.65), 0.9, 12, 0.15,
             1.05, 1.4, 0.00),
    Category("swimwear", "fashion", "S", (0.1, 0.3), (59, 199), (0.50, 0.65), 0.4, 6, 0.80,
             0.80, 0.7, 0.03),
    Category("headphones", "electronics", "S", (0.15, 0.5), (99, 1299), (0.20, 0.30), 0.35, 12,
             0.10, 1.25, 1.4, 0.05),
    Category("smartphones", "electronics", "S", (0.2, 0.4), (799, 5499), (0.15, 0.22), 0.2, 12,
             0.10, 1.10, 1.3, 0.08),
    Category("laptops", "electronics", "L", (1.2, 2.8), (1999, 7999), (0.15, 0.22), 0.08, 9,
             0.10, 1.70, 1.2, 0.10),
    Category("tablets", "electronics", "M", (0.4, 0.8), (599, 3999), (0.18, 0.25), 0.08, 9,
             0.10, 1.35, 1.3, 0.08),
    Category("tvs", "electronics", "XL", (8.0, 24.0), (1299, 8999), (0.15, 0.22), 0.04, 11,
             0.15, 1.00, 1.3, 0.15),
    Category("smartwatches", "electronics", "S", (0.1, 0.3), (299, 2499), (0.20, 0.30), 0.1, 12,
             0.10, 1.05, 1.5, 0.06),
    Category("consoles", "electronics", "L", (3.0, 5.5), (1499, 2999), (0.15, 0.20), 0.05, 12,
             0.15, 1.00, 1.8, 0.10),
    Category("small_appliances", "electronics", "L", (1.0, 6.0), (149, 999), (0.22, 0.30), 0.12,
             11, 0.10, 1.00, 1.3, 0.05),
)
FASHION_SHARE = 0.6
POPULARITY_LOG_MEAN = 0.1


def category_index(name: str) -> int:
    return next(k for k, c in enumerate(CATEGORIES) if c.name == name)


def catalogue(rng: np.random.Generator, n_skus: int, history_start: date,
              as_of: date) -> pd.DataFrame:
    """`n_skus` SKUs, 60 % fashion; extra column `popularity` (rate multiplier) and
    `category_code` for the demand model.

    Life: most SKUs are on sale through the whole history; about 25 % launch inside it or in
    the four weeks after `as_of` (no history, stock waiting in the DCs); about 15 % are
    discontinued inside it (zero sales from `discontinue_date` on).
    """
    fashion = [k for k, c in enumerate(CATEGORIES) if c.department == "fashion"]
    electronics = [k for k, c in enumerate(CATEGORIES) if c.department == "electronics"]
    n_fashion = int(round(n_skus * FASHION_SHARE))
    codes = np.concatenate([
        np.resize(np.array(fashion), n_fashion),
        np.resize(np.array(electronics), n_skus - n_fashion),
    ])
    cats = [CATEGORIES[k] for k in codes]
    u = rng.random((n_skus, 4))
    weight = np.array([c.weight_kg[0] + (c.weight_kg[1] - c.weight_kg[0]) * x
                       for c, x in zip(cats, u[:, 0], strict=True)])
    price = np.array([_round_price(c.price_pln[0] * (c.price_pln[1] / c.price_pln[0]) ** x)
                      for c, x in zip(cats, u[:, 1], strict=True)])
    margin = np.array([c.margin[0] + (c.margin[1] - c.margin[0]) * x
                       for c, x in zip(cats, u[:, 2], strict=True)])
    # Popularity: lognormal around the category rate. Most store x channel x SKU series sell
    # less than a unit a day (slower than M5 grocery, where 63.5 % do; data.calibration).
    popularity = np.exp(rng.normal(POPULARITY_LOG_MEAN, 1.0, n_skus))
    span = (as_of - history_start).days
    launch_offset = np.where(u[:, 3] < 0.25, rng.integers(0, span + 28, n_skus), -1 - (
        rng.integers(0, 900, n_skus)))
    launch = [history_start + timedelta(days=int(o)) for o in launch_offset]
    discontinue_at = rng.integers(int(span * 0.3), span, n_skus)
    discontinued = (rng.random(n_skus) < 0.15) & (launch_offset < discontinue_at - 120)
    stop = pd.Series(pd.to_datetime([history_start + timedelta(days=int(d))
                                     for d in discontinue_at])).where(discontinued)
    return pd.DataFrame({
        "sku": [f"{c.department[0].upper()}{k + 1:05d}" for k, c in enumerate(cats)],
        "name": [f"{c.name.replace('_', ' ').title()} {k + 1:05d}" for k, c in enumerate(cats)],
        "department": [c.department for c in cats],
        "category": [c.name for c in cats],
        "size_class": [c.size_class for c in cats],
        "weight_kg": np.round(weight, 2),
        "price_pln": price,
        "unit_cost_pln": np.round(price * (1.0 - margin), 2),
        "launch_date": pd.to_datetime(launch),
        "discontinue_date": stop,
        "popularity": np.round(popularity, 4),
        "category_code": codes.astype(np.int16),
    })


def _round_price(value: float) -> float:
    """Retail price points: ...,99 below 100 PLN, then whole tens minus a grosz."""
    if value < 100:
        return float(np.floor(value)) + 0.99
    return float(np.ceil(value / 10.0) * 10.0) - 0.01
