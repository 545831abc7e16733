"""Stock positions for a peak plan: per node x SKU the stock, the peak demand and its value.

The expected margin of a node holding s units over the peak is margin * E[min(D, s)], concave in
s with increments margin * P(D >= k). A node keeps back at least ``keep`` units for its own
forecast (by default the units its mean peak demand needs: walk-in for a store, online for a DC
that serves it); the rest is surplus it may send.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocation.planning.demand import expected_sales
from allocation.planning.errors import PlanningInputError, require_columns, require_non_negative

POSITION_COLUMNS = ("node_id", "sku", "on_hand", "demand_mean", "margin_pln")


@dataclass(frozen=True)
class Positions:
    """Validated positions as aligned arrays, one entry per node x SKU row."""

    node_id: np.ndarray
    sku: np.ndarray
    sku_code: np.ndarray
    is_dc: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    on_hand: np.ndarray
    mean: np.ndarray
    dispersion: np.ndarray
    margin: np.ndarray
    keep: np.ndarray

    @property
    def surplus(self) -> np.ndarray:
        return self.on_hand - self.keep

    def __len__(self) -> int:
        return len(self.on_hand)

    def expected_margin(self, stock: np.ndarray) -> np.ndarray:
        """margin * E[min(D, stock)] per row, in PLN."""
        return self.margin * expected_sales(self.mean, self.dispersion, stock)

    def margin_change(self, stock_after: np.ndarray) -> float:
        """Expected margin gained over the peak by moving from on_hand to `stock_after`."""
        changed = np.flatnonzero(stock_after != self.on_hand)
        if changed.size == 0:
            return 0.0
        after = self.margin[changed] * expected_sales(
            self.mean[changed], self.dispersion[changed], stock_after[changed]
        )
        before = self.margin[changed] * expected_sales(
            self.mean[changed], self.dispersion[changed], self.on_hand[changed]
        )
        return float((after - before).sum())


def prepare_positions(
    positions: pd.DataFrame, nodes: pd.DataFrame, default_dispersion: float
) -> Positions:
    """Validate the planner's frames and align them into arrays.

    positions: node_id, sku, on_hand, demand_mean (expected units over the peak, from the
    forecast), margin_pln; optional dispersion (variance/mean of peak demand) and keep.
    nodes: node_id, kind (dc/store), lat, lon.
    """
    require_columns(positions, POSITION_COLUMNS, "positions")
    require_columns(nodes, ("node_id", "kind", "lat", "lon"), "nodes")
    for column in ("on_hand", "demand_mean", "margin_pln"):
        require_non_negative(positions, column, "positions")
    if bool(positions.duplicated(["node_id", "sku"]).any()):
        raise PlanningInputError("positions", "duplicate node_id x sku rows")
    table = positions.merge(nodes[["node_id", "kind", "lat", "lon"]], on="node_id", how="left")
    if bool(table["kind"].isna().any()):
        unknown = sorted(set(table.loc[table["kind"].isna(), "node_id"]))[:5]
        raise PlanningInputError("positions.node_id", f"unknown node(s) {unknown}")
    on_hand = table["on_hand"].to_numpy(dtype=np.int64)
    mean = table["demand_mean"].to_numpy(dtype=np.float64)
    is_dc = (table["kind"] == "dc").to_numpy()
    if "keep" in table.columns:
        require_non_negative(table, "keep", "positions")
        keep = table["keep"].to_numpy(dtype=np.int64)
    else:
        # Every node keeps what its own mean forecast needs (a DC's is its online demand).
        keep = np.ceil(mean - 1e-9).astype(np.int64)
    if "dispersion" in table.columns:
        dispersion = table["dispersion"].fillna(default_dispersion).to_numpy(dtype=np.float64)
    else:
        dispersion = np.full(len(table), default_dispersion)
    sku = table["sku"].to_numpy()
    return Positions(
        node_id=table["node_id"].to_numpy(),
        sku=sku,
        sku_code=pd.factorize(sku)[0],
        is_dc=is_dc,
        lat=table["lat"].to_numpy(dtype=np.float64),
        lon=table["lon"].to_numpy(dtype=np.float64),
        on_hand=on_hand,
        mean=mean,
        dispersion=dispersion,
        margin=table["margin_pln"].to_numpy(dtype=np.float64),
        keep=np.clip(keep, 0, on_hand),
    )
