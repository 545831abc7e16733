"""The rebalancing network: one single-commodity min-cost flow over every node x SKU.

Each (node, SKU) is a graph node, so a unit's SKU never changes along its path:
source -> (sender, sku) -> (receiver, sku) -> sink. Concave expected margins become parallel
unit arcs: a sender's k-th unit given away costs margin * P(D >= stock - k + 1) (increasing in
k), a receiver's k-th unit received earns margin * P(D >= stock + k) (decreasing in k), so the
flow takes them in the right order without binaries. A DC's outbound capacity is one arc
source -> gate -> (dc, sku) shared by all SKUs. A bypass source -> sink lets stock stay put.
Money is in grosze (integers), as the solver needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocation.geo import great_circle_km
from allocation.planning.demand import demand_quantile, survival_runs
from allocation.planning.positions import Positions

GROSZE = 100
NEGLIGIBLE_GROSZE = 0.5


@dataclass(frozen=True)
class UnitArcs:
    """Parallel arcs of one unit (or a lump of zero-cost units) at a node x SKU row."""

    row: np.ndarray
    capacity: np.ndarray
    cost_grosze: np.ndarray


@dataclass(frozen=True)
class LaneArcs:
    """Candidate transfers sender row -> receiver row (same SKU) on a timely lane."""

    sender: np.ndarray
    receiver: np.ndarray
    lane: np.ndarray
    pair: np.ndarray
    capacity: np.ndarray
    unit_cost_pln: np.ndarray
    pair_fixed_cost_pln: np.ndarray
    pair_from: np.ndarray
    pair_to: np.ndarray


def _explode(rows: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Repeat each row `count` times with the unit number 1..count."""
    rep = np.repeat(rows, counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return rep, np.arange(rep.size) - starts + 1


def receiver_arcs(pos: Positions, min_unit_cost: float, max_units: int) -> UnitArcs:
    """Units a store would gladly receive: those whose expected margin beats the cheapest lane."""
    store = ~pos.is_dc & (pos.margin > 0) & (pos.mean > 0)
    ratio = np.where(store, np.minimum(min_unit_cost / np.maximum(pos.margin, 1e-9), 1.0), 1.0)
    # Unit s+t pays while P(D >= s+t) > c/m, i.e. s+t <= quantile at 1 - c/m.
    worth = demand_quantile(pos.mean, pos.dispersion, 1.0 - np.maximum(ratio, 1e-6))
    counts = np.where(store, np.clip(worth - pos.on_hand, 0, max_units), 0)
    rows = np.flatnonzero(counts)
    share = survival_runs(pos.mean[rows], pos.dispersion[rows], pos.on_hand[rows] + 1, counts[rows])
    rep = np.repeat(rows, counts[rows])
    gain = pos.margin[rep] * share
    return UnitArcs(rep, np.ones(rep.size, np.int64), np.round(gain * GROSZE).astype(np.int64))


def sender_arcs(pos: Positions) -> UnitArcs:
    """Units a node may give up: unit arcs costing the margin they would have earned at home,
    and one zero-cost lump for the units its demand will (almost) surely never reach."""
    surplus = np.maximum(pos.surplus, 0)
    level = 1.0 - NEGLIGIBLE_GROSZE / np.maximum(pos.margin * GROSZE, 1e-9)
    reach = np.where(pos.mean > 0, demand_quantile(pos.mean, pos.dispersion, level), 0)
    lump = np.minimum(surplus, np.maximum(pos.on_hand - reach, 0))
    single = surplus - lump
    rows = np.flatnonzero(single)
    # Shelf units keep+1 .. on_hand-lump may go; each costs what it would earn at home.
    share = survival_runs(pos.mean[rows], pos.dispersion[rows], pos.keep[rows] + 1, single[rows])
    rep = np.repeat(rows, single[rows])
    loss = pos.margin[rep] * share
    lump_rows = np.flatnonzero(lump)
    return UnitArcs(
        row=np.concatenate([lump_rows, rep]),
        capacity=np.concatenate([lump[lump_rows], np.ones(rep.size, np.int64)]),
        cost_grosze=np.concatenate(
            [np.zeros(lump_rows.size, np.int64), np.round(loss * GROSZE).astype(np.int64)]
        ),
    )


def lane_arcs(
    pos: Positions,
    senders: np.ndarray,
    receivers: np.ndarray,
    rates: pd.DataFrame,
    nearest_store_senders: int,
    store_neighbours: int = 30,
) -> LaneArcs:
    """Sender x receiver pairs of the same SKU on timely lanes (`rates` holds only those).

    Pruning (a heuristic): each receiver keeps every DC sender of its SKU but only the first
    `nearest_store_senders` store senders among its `store_neighbours` nearest stores; a far
    store's unit rarely beats a near one's, and the chain-wide problem stays small.
    """
    codes, node_names = pd.factorize(pos.node_id)
    n_nodes = len(node_names)
    first = np.zeros(n_nodes, np.int64)
    first[codes[::-1]] = np.arange(codes.size)[::-1]
    lat, lon, is_dc_node = pos.lat[first], pos.lon[first], pos.is_dc[first]
    dist = great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    n_sku = int(pos.sku_code.max()) + 1 if len(pos) else 0
    sender_row = np.full((n_sku, n_nodes), -1, np.int64)
    sender_row[pos.sku_code[senders], codes[senders]] = senders
    r_node, r_sku = codes[receivers], pos.sku_code[receivers]
    pieces: list[tuple[np.ndarray, np.ndarray]] = []
    if "dc_to_store" in rates.index:
        dcs = np.flatnonzero(is_dc_node)
        cand = sender_row[r_sku[:, None], dcs[None, :]]
        i, j = np.nonzero(cand >= 0)
        pieces.append((cand[i, j], receivers[i]))
    stores = np.flatnonzero(~is_dc_node)
    if "store_to_store" in rates.index and stores.size > 1 and nearest_store_senders > 0:
        masked = np.where(is_dc_node[None, :] | np.eye(n_nodes, dtype=bool), np.inf, dist)
        width = min(store_neighbours, stores.size - 1)
        neighbours = np.argsort(masked, axis=1)[:, :width]
        cand = sender_row[r_sku[:, None], neighbours[r_node]]
        valid = cand >= 0
        rank = np.cumsum(valid, axis=1)
        i, j = np.nonzero(valid & (rank <= nearest_store_senders))
        pieces.append((cand[i, j], receivers[i]))
    s = np.concatenate([p[0] for p in pieces]) if pieces else np.zeros(0, np.int64)
    r = np.concatenate([p[1] for p in pieces]) if pieces else np.zeros(0, np.int64)
    lane = np.where(pos.is_dc[s], "dc_to_store", "store_to_store")
    km = dist[codes[s], codes[r]]
    lane_rate = rates.reindex(lane)
    run_cost = lane_rate["fixed_cost_pln"].to_numpy() + lane_rate["cost_per_km_pln"].to_numpy() * km
    pair_keys, pair = np.unique(codes[s] * n_nodes + codes[r], return_inverse=True)
    pair_fixed = np.zeros(pair_keys.size)
    pair_fixed[pair] = run_cost
    return LaneArcs(
        sender=s,
        receiver=r,
        lane=lane,
        pair=pair,
        capacity=np.maximum(pos.surplus[s], 0),
        unit_cost_pln=lane_rate["cost_per_unit_pln"].to_numpy(dtype=np.float64),
        pair_fixed_cost_pln=pair_fixed,
        pair_from=np.asarray(node_names)[pair_keys // n_nodes],
        pair_to=np.asarray(node_names)[pair_keys % n_nodes],
    )
