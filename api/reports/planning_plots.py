"""Planner-readable plots of a peak plan: stock against forecast quantiles, transfers on a map.

Edge code: the core returns plain frames; this module draws them with matplotlib's Agg canvas
(no pyplot, no display, no global state) and writes PNG files stored with the run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from allocation.planning.demand import demand_quantile
from allocation.planning.rebalance import RebalancePlan

DEFAULT_DISPERSION = 1.5


def stock_vs_forecast_figure(
    positions: pd.DataFrame, plan: RebalancePlan, top_skus: int = 4, top_stores: int = 15
) -> Figure:
    """Per top SKU (by peak forecast), the stores with most demand: stock before and after the
    plan as bars, the forecast median and 90% quantile of peak demand as markers."""
    stores = positions[positions["demand_mean"] > 0]
    skus = stores.groupby("sku")["demand_mean"].sum().nlargest(top_skus).index
    after = plan.shadow_prices.set_index(["node_id", "sku"])["stock_after"]
    fig = Figure(figsize=(11, 2.8 * max(len(skus), 1)))
    FigureCanvasAgg(fig)
    for k, sku in enumerate(skus):
        ax = fig.add_subplot(max(len(skus), 1), 1, k + 1)
        rows = stores[stores["sku"] == sku].nlargest(top_stores, "demand_mean")
        disp = rows["dispersion"] if "dispersion" in rows else DEFAULT_DISPERSION
        q50 = demand_quantile(rows["demand_mean"], disp, 0.5)
        q90 = demand_quantile(rows["demand_mean"], disp, 0.9)
        x = np.arange(len(rows))
        keys = list(zip(rows["node_id"], rows["sku"], strict=True))
        ax.bar(x - 0.2, rows["on_hand"], width=0.4, label="stock now", color="#9bb7d4")
        moved = after.reindex(keys).to_numpy()
        ax.bar(x + 0.2, moved, width=0.4, label="after plan", color="#2a6f97")
        ax.scatter(x, q50, marker="_", s=300, color="black", label="forecast median")
        ax.scatter(x, q90, marker="_", s=300, color="#c1121f", label="forecast 90%")
        ax.set_xticks(x, rows["node_id"], rotation=60, fontsize=7)
        ax.set_ylabel("units")
        ax.set_title(f"{sku}: stock vs peak demand ({plan.peak.name} {plan.peak.start:%Y})")
        if k == 0:
            ax.legend(fontsize=7, ncols=4, loc="upper right")
    fig.tight_layout()
    return fig


def transfers_map_figure(transfers: pd.DataFrame, nodes: pd.DataFrame) -> Figure:
    """Nodes on lon/lat (Poland), one line per lane used, width by units moved."""
    fig = Figure(figsize=(8, 8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    where = nodes.set_index("node_id")[["lon", "lat"]]
    lanes = transfers.groupby(["from_node", "to_node"], as_index=False)["qty"].sum()
    widest = max(float(lanes["qty"].max()), 1.0) if len(lanes) else 1.0
    for lane in lanes.itertuples(index=False):
        a, b = where.loc[lane.from_node], where.loc[lane.to_node]
        dc = str(lane.from_node).startswith("DC")
        ax.plot(
            [a["lon"], b["lon"]],
            [a["lat"], b["lat"]],
            color="#2a6f97" if dc else "#e76f51",
            linewidth=0.4 + 4.0 * float(lane.qty) / widest,
            alpha=0.6,
        )
    stores = nodes[nodes["kind"] == "store"]
    dcs = nodes[nodes["kind"] == "dc"]
    ax.scatter(stores["lon"], stores["lat"], s=12, color="#444444", label="store", zorder=3)
    ax.scatter(dcs["lon"], dcs["lat"], s=90, marker="s", color="#c1121f", label="DC", zorder=3)
    ax.plot([], [], color="#2a6f97", label="DC → store")
    ax.plot([], [], color="#e76f51", label="store → store")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_aspect(1.6)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(f"Transfers: {int(transfers['qty'].sum()) if len(transfers) else 0:,} units")
    return fig


def transfers_table(transfers: pd.DataFrame, top: int = 20) -> pd.DataFrame:
    """The lanes that move most, for a table in the report."""
    if not len(transfers):
        return pd.DataFrame(columns=["from_node", "to_node", "skus", "qty", "cost_pln"])
    lanes = transfers.groupby(["from_node", "to_node"], as_index=False).agg(
        skus=("sku", "nunique"), qty=("qty", "sum"), cost_pln=("cost_pln", "sum")
    )
    return lanes.nlargest(top, "qty").reset_index(drop=True)


def write_planning_report(
    plan: RebalancePlan, positions: pd.DataFrame, nodes: pd.DataFrame, out_dir: Path
) -> list[Path]:
    """Write the plan's PNG plots and the transfers table (CSV) into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fig in (
        ("stock_vs_forecast.png", stock_vs_forecast_figure(positions, plan)),
        ("transfers_map.png", transfers_map_figure(plan.transfers, nodes)),
    ):
        path = out_dir / name
        fig.savefig(path, dpi=110)
        written.append(path)
    table = out_dir / "top_lanes.csv"
    transfers_table(plan.transfers).to_csv(table, index=False)
    return [*written, table]
