"""Solving the rebalancing network block by block of SKUs with OR-Tools ``SimpleMinCostFlow``.

SKUs share nothing in the network but the DC outbound gates, so a block of SKUs is an exact
sub-problem whenever the gates do not bind; smaller flows solve faster than one chain-wide flow
and let the deadline stop between blocks. Node ids are local to each block.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow


@dataclass(frozen=True)
class BlockArcs:
    """Arcs of one block of SKUs, with global row ids and each DC sender arc's gate."""

    sender_row: np.ndarray
    sender_gate: np.ndarray  # -1 for a store sender, else the DC's gate number
    sender_capacity: np.ndarray
    sender_cost: np.ndarray
    receiver_row: np.ndarray
    receiver_gain: np.ndarray
    lane_index: np.ndarray  # positions in the chain-wide lane arrays
    lane_from: np.ndarray
    lane_to: np.ndarray
    lane_capacity: np.ndarray
    lane_cost: np.ndarray


def solve_block(
    block: BlockArcs, gate_capacity: np.ndarray, min_qty: int
) -> tuple[np.ndarray, bool]:
    """Units per lane arc of the block; transfers under `min_qty` are closed and the flow
    re-solved once, then any still short are dropped. Returns (qty, repaired)."""
    rows, local = np.unique(
        np.concatenate([block.sender_row, block.receiver_row, block.lane_from, block.lane_to]),
        return_inverse=True,
    )
    n_s, n_r, n_l = block.sender_row.size, block.receiver_row.size, block.lane_from.size
    s_node, r_node = local[:n_s], local[n_s : n_s + n_r]
    f_node, t_node = local[n_s + n_r : n_s + n_r + n_l], local[n_s + n_r + n_l :]
    n_gates = gate_capacity.size
    source, sink, base = 0, 1, 2 + n_gates
    supply = int(block.sender_capacity.sum())
    gate_of = np.where(block.sender_gate >= 0, 2 + block.sender_gate, source)
    tails = [np.zeros(1 + n_gates, np.int64), gate_of, base + f_node, base + r_node]
    heads = [np.r_[sink, 2 + np.arange(n_gates)], base + s_node, base + t_node, np.full(n_r, sink)]
    caps = [np.r_[supply, gate_capacity], block.sender_capacity, block.lane_capacity, np.ones(n_r)]
    costs = [np.zeros(1 + n_gates), block.sender_cost, block.lane_cost, -block.receiver_gain]
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(heads).astype(np.int32),
        np.concatenate(caps).astype(np.int64),
        np.concatenate(costs).astype(np.int64),
    )
    supplies = np.zeros(base + rows.size, np.int64)
    supplies[source], supplies[sink] = supply, -supply
    flow.set_nodes_supplies(np.arange(supplies.size, dtype=np.int32), supplies)
    first_lane = 1 + n_gates + n_s
    lane_ids = np.arange(first_lane, first_lane + n_l, dtype=np.int32)
    repaired, qty = False, np.zeros(n_l, np.int64)
    for attempt in range(2):
        status = flow.solve()
        if status != flow.OPTIMAL:
            raise RuntimeError(f"min-cost flow ended with status {status}")
        qty = flow.flows(lane_ids).astype(np.int64)
        short = (qty > 0) & (qty < min_qty)
        if not short.any():
            return qty, repaired
        repaired = True
        if attempt == 0:
            flow.set_arc_capacities(lane_ids[short], np.zeros(int(short.sum()), np.int64))
    # Dropping a short transfer leaves its units at the sender: every constraint still holds.
    return np.where((qty > 0) & (qty < min_qty), 0, qty), repaired


def solve_blocks(
    blocks: list[BlockArcs],
    n_lanes: int,
    gate_capacity: np.ndarray,
    min_qty: int,
    stop_at: float,
) -> tuple[np.ndarray, bool, int]:
    """Solve every block until `stop_at` (perf_counter). Returns (qty per lane arc, repaired,
    blocks solved); blocks left unsolved move nothing, which is feasible."""
    qty = np.zeros(n_lanes, np.int64)
    repaired, solved = False, 0
    for block in blocks:
        if solved and time.perf_counter() > stop_at:
            break
        block_qty, block_repaired = solve_block(block, gate_capacity, min_qty)
        qty[block.lane_index] = block_qty
        repaired |= block_repaired
        solved += 1
    return qty, repaired, solved
