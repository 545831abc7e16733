"""Coherent forecasts: store x channel x SKU forecasts add up to store, SKU and chain totals.

Ids of the levels (bottom ids are `node|channel|sku`):
`total` (the chain), `S001|*|*` (store), `S001|store|*` (store x channel), `*|*|K1` (SKU).
`reconcile` takes base forecasts for the bottom and, optionally, for any upper level (for
example a model fitted on `aggregate_levels(history)`); missing upper forecasts are bottom-up
sums. `bottom_up` keeps the bottom as it is; `ols` and `wls_struct` (MinTrace) move every level
to the nearest coherent forecast, which helps when the upper models are better than the sum.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd
from hierarchicalforecast.core import HierarchicalReconciliation
from hierarchicalforecast.methods import BottomUp, MinTrace
from hierarchicalforecast.utils import aggregate

from forecasting.series_ids import series_parts

Method = Literal["bottom_up", "ols", "wls_struct"]
_LEVEL_OF_TAG = {"chain": "chain", "chain/node": "store", "chain/node/channel": "store_channel",
                 "chain/sku": "sku", "chain/node/channel/sku": "store_channel_sku"}
LEVELS: tuple[str, ...] = tuple(_LEVEL_OF_TAG.values())
_SPEC = [["chain"], ["chain", "node"], ["chain", "node", "channel"], ["chain", "sku"],
         ["chain", "node", "channel", "sku"]]


def _split_ids(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    parts = series_parts(frame["unique_id"], strict=True)
    return pd.DataFrame({
        "chain": "total", "node": "n:" + parts["node"], "channel": "c:" + parts["channel"],
        "sku": "s:" + parts["sku"], "ds": frame["ds"].to_numpy(),
        "y": frame[value].to_numpy(float),
    })


def _readable(raw_id: str) -> str:
    """Map aggregate()'s `total/n:S1/c:store` ids to `S1|store|*`."""
    if raw_id == "total":
        return "total"
    fields = {p[0]: p[2:] for p in raw_id.split("/")[1:]}
    return "|".join(fields.get(k, "*") for k in ("n", "c", "s"))


def _levels(tags: dict[str, np.ndarray]) -> dict[str, str]:
    return {raw: _LEVEL_OF_TAG[tag] for tag, ids in tags.items() for raw in ids}


def aggregate_levels(frame: pd.DataFrame, value: str = "y") -> pd.DataFrame:
    """Sum a bottom-level frame `unique_id, ds, <value>` to every level: `level, unique_id, ds,
    <value>` (store, SKU, chain totals and the bottom itself)."""
    summed, _, tags = aggregate(_split_ids(frame, value), _SPEC)
    level_of = _levels(tags)
    out = pd.DataFrame({
        "level": summed["unique_id"].map(level_of).to_numpy(),
        "unique_id": summed["unique_id"].map(_readable).to_numpy(),
        "ds": summed["ds"].to_numpy(),
        value: summed["y"].to_numpy(),
    })
    return out


def reconcile(
    forecast: pd.DataFrame, method: Method = "bottom_up", value: str = "yhat"
) -> pd.DataFrame:
    """Coherent `level, unique_id, ds, <value>` for every level from base forecasts.

    `forecast` holds bottom rows (`node|channel|sku`) and optionally upper rows with the ids
    above; after reconciliation each upper value equals the sum of its bottom values.
    """
    is_bottom = forecast["unique_id"].astype(str).str.fullmatch(r"[^|*]+\|[^|*]+\|[^|*]+")
    bottom = forecast.loc[is_bottom]
    split = _split_ids(bottom, value)
    summed, s_df, tags = aggregate(split, _SPEC)
    readable = summed["unique_id"].map(_readable)
    upper = forecast.loc[~is_bottom, ["unique_id", "ds", value]].rename(columns={value: "base"})
    base = pd.DataFrame({"raw_id": summed["unique_id"], "unique_id": readable,
                         "ds": summed["ds"], "sum": summed["y"]})
    base = base.merge(upper, on=["unique_id", "ds"], how="left")
    base["model"] = base["base"].fillna(base["sum"])
    y_hat = base[["raw_id", "ds", "model"]].rename(columns={"raw_id": "unique_id"})
    warnings.filterwarnings("ignore", category=Warning, module="qpsolvers")
    reconciler = HierarchicalReconciliation(
        [BottomUp() if method == "bottom_up" else MinTrace(method=method, nonnegative=True)])
    result = reconciler.reconcile(Y_hat_df=y_hat, S_df=s_df, tags=tags)
    rec_col = [c for c in result.columns if c.startswith("model/")][0]
    level_of = _levels(tags)
    out = pd.DataFrame({
        "level": result["unique_id"].map(level_of).to_numpy(),
        "unique_id": result["unique_id"].map(_readable).to_numpy(),
        "ds": result["ds"].to_numpy(),
        value: np.clip(result[rec_col].to_numpy(float), 0.0, None),
    })
    return out.reset_index(drop=True)
