"""The chain's series ids, `node|channel|sku`: written and read in one place.

The weekly batch names every series this way (the store or DC, `store` for walk-in or
`online`, the SKU); the database stores the three parts as columns, the closed-day rule reads
the channel, reconciliation builds its hierarchy from all three. Other data (M5, Rossmann, a
planner's own file) may use any id: `series_parts` then gives empty parts, or refuses them
with `strict`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEPARATOR = "|"
PARTS = ("node", "channel", "sku")


def series_id(node: pd.Series, channel: pd.Series | str, sku: pd.Series) -> pd.Series:
    """`node|channel|sku` row by row."""
    return node.astype(str) + SEPARATOR + channel + SEPARATOR + sku.astype(str)


def series_parts(unique_ids: pd.Series | pd.Index | np.ndarray | list[str], strict: bool = False,
                 only: tuple[str, ...] = PARTS) -> pd.DataFrame:
    """Columns node, channel, sku (or those in `only`), one row per id, in order; each
    distinct id is parsed once (a forecast repeats every id once a day). An id of another
    shape gets empty parts, or with `strict` a ValueError naming it."""
    codes, uniques = pd.factorize(np.asarray(unique_ids, dtype=object), use_na_sentinel=False)
    ids = pd.Series(uniques, dtype=object).astype(str)
    split = ids.str.split(SEPARATOR, regex=False)
    well_formed = split.map(len).to_numpy() == len(PARTS)
    if strict and not well_formed.all():
        bad = ids[~well_formed].iloc[0]
        raise ValueError(f"series id {bad!r} is not of the form node|channel|sku")
    parts = {name: np.where(well_formed, split.str[k].fillna(""), "").astype(object)
             for k, name in enumerate(PARTS) if name in only}
    return pd.DataFrame({name: values[codes] if len(codes) else values[:0]
                         for name, values in parts.items()})
