"""Measure the demand-shape constants of ``data/calibration.py`` on the public data and print them.

Run: ``.venv/bin/python benchmarks/calibrate_demand.py`` (needs ``../shared/data``).
The generator itself never reads that data: the figures printed here were copied, rounded,
into ``data/calibration.py`` with a comment naming the source and the method.
"""

from __future__ import annotations

import numpy as np

from data.measurements import (
    back_to_school,
    black_week_profile,
    christmas_runup,
    intermittency,
    month_profile,
    pre_closure_uplift,
    promo_uplift,
    rossmann_normalised,
    weekday_profile_online,
    weekday_profile_store,
)
from data.public import (
    load_favorita_transactions,
    load_m5_204_series,
    load_m5_item_store,
    load_m5_level1,
    load_rossmann_train,
)


def main() -> None:
    np.set_printoptions(precision=3, suppress=True)
    train = load_rossmann_train()
    norm = rossmann_normalised(train)
    print("Rossmann weekday profile Mon..Sat (regular days):", weekday_profile_store(norm))
    print("Rossmann promo uplift (Mon..Fri):", round(promo_uplift(norm), 3))
    print("Rossmann Christmas run-up:", {k: round(v, 3) for k, v in christmas_runup(norm).items()})
    print("Rossmann pre-closure uplift:", round(pre_closure_uplift(train, norm), 3))
    level1 = load_m5_level1()
    print("M5 weekday profile Mon..Sun:", weekday_profile_online(level1))
    print("M5 month profile Jan..Dec:", month_profile(level1))
    bw = black_week_profile(level1, "sales")
    print("M5 Black Week day ratios:", {k: round(v, 3) for k, v in bw.items()})
    fav = load_favorita_transactions().groupby("date")["transactions"].sum().reset_index()
    fbw = black_week_profile(fav, "transactions")
    print("Favorita Black Week day ratios:", {k: round(v, 3) for k, v in fbw.items()})
    print("M5 back-to-school by category:", back_to_school(load_m5_204_series()))
    print("M5 intermittency:", intermittency(load_m5_item_store()))


if __name__ == "__main__":
    main()
