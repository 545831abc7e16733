"""Rebalancing before a peak: DC -> store and store -> store transfers that maximise the
expected margin over the peak minus the transfer cost.

What is exact and what is heuristic:

* Exact: with per-unit lane costs only, the problem (concave expected margins per node x SKU,
  keep floors at the senders, DC outbound capacity shared by all SKUs) is one single-commodity
  min-cost flow (see ``network.py``), solved to optimality by OR-Tools ``SimpleMinCostFlow``;
  its integral optimum is the integer optimum, so the status is ``optimal``.
* Heuristic: the fixed cost of a truck/parcel run is paid once per lane used, for all SKUs
  together; that couples SKUs and makes the problem a fixed-charge network flow (NP-hard). It is
  handled by dynamic slope scaling: the run cost is spread over the lane's flow of the previous
  round as a per-unit surcharge, re-solved a few rounds, each round's plan scored at its true
  cost, the best kept. The minimum transfer quantity is repaired by closing the arcs that carried
  less and re-solving; what is still short is dropped (dropping a transfer keeps every
  constraint). Receivers see only their nearest store senders (plus every DC). Any of these
  makes the status ``feasible``.
* Doing nothing is always a candidate, so the plan never loses money in expectation.

Why a flow and not a MIP: SCIP on the same network with lane binaries (``exact.py``) did not
prove optimality within 30 s on 10 stores x 50 SKUs, while the flow is exact without run costs
and scales. Measured (benchmarks/peak_plan.py, 120 stores x 5,000 SKUs, 20 blocks of 250 SKUs):
one slope-scaling round costs about 25 s of CPU, so a 60 s deadline on an idle 2-core machine
fits about two rounds; when the deadline cuts even the first round short, the blocks left
unsolved follow the proportional rule and the status says ``feasible``.

The shadow price of a node x SKU is the marginal value of one more unit there during the peak:
the better of selling it at home (margin * P(D >= stock_after + 1)) and sending it on a lane the
plan already runs (the receiver's next-unit margin minus the unit cost). It is the dual of the
node's stock balance in the flow's LP, and the real-time optimizer's opportunity cost of stock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

import numpy as np
import pandas as pd

from allocation.planning.baseline import proportional_quantities
from allocation.planning.demand import probability_at_least
from allocation.planning.errors import PlanningInputError
from allocation.planning.flow import BlockArcs, solve_block, solve_blocks
from allocation.planning.lanes import lane_rates, lane_timings
from allocation.planning.network import (
    GROSZE,
    LaneArcs,
    UnitArcs,
    lane_arcs,
    receiver_arcs,
    sender_arcs,
)
from allocation.planning.positions import Positions, prepare_positions
from forecasting.calendar import Country, PeakName, PeakWindow, peak_window

PlanStatus = Literal["optimal", "feasible", "fallback"]
UNLIMITED = 1 << 40


@dataclass(frozen=True)
class RebalanceSettings:
    """Knobs of a rebalancing plan."""

    min_transfer_qty: int = 1
    dc_outbound_capacity: int | None = None  # units each DC can ship before the peak
    deadline_s: float = 60.0
    nearest_store_senders: int = 8
    slope_scaling_rounds: int = 10
    max_units_per_receiver: int = 500
    block_skus: int = 250
    default_dispersion: float = 1.5
    country: Country = "PL"

    def __post_init__(self) -> None:
        if self.min_transfer_qty < 1:
            raise PlanningInputError("settings.min_transfer_qty", "must be >= 1")
        if self.dc_outbound_capacity is not None and self.dc_outbound_capacity < 0:
            raise PlanningInputError("settings.dc_outbound_capacity", "must be >= 0")
        if self.deadline_s <= 0:
            raise PlanningInputError("settings.deadline_s", "must be > 0")


@dataclass(frozen=True)
class RebalancePlan:
    """Transfers for a peak with their expected gain, and the shadow prices of stock."""

    peak: PeakWindow
    status: PlanStatus
    method: str
    transfers: pd.DataFrame
    shadow_prices: pd.DataFrame
    expected_gain_pln: float
    transfer_cost_pln: float
    solve_seconds: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def units_moved(self) -> int:
        return int(self.transfers["qty"].sum()) if len(self.transfers) else 0


def resolve_peak(peak: PeakWindow | str, year: int | None = None) -> PeakWindow:
    """A peak window from a window or a name and year; an unknown name is a domain error."""
    if isinstance(peak, PeakWindow):
        return peak
    if year is None:
        raise PlanningInputError("year", "a peak given by name needs a year")
    try:
        return peak_window(peak, year)  # type: ignore[arg-type]
    except ValueError as exc:
        raise PlanningInputError("peak", str(exc)) from exc


def plan_transfers(
    positions: pd.DataFrame,
    nodes: pd.DataFrame,
    transfer_rates: pd.DataFrame,
    peak: PeakWindow | PeakName,
    as_of: date | datetime,
    settings: RebalanceSettings | None = None,
    year: int | None = None,
) -> RebalancePlan:
    """The optimised transfer plan for `peak` (see the module docstring for the model)."""
    started = time.perf_counter()
    settings = settings or RebalanceSettings()
    pos, context = _prepare(positions, nodes, transfer_rates, peak, as_of, settings, year)
    if context.lanes.sender.size == 0:
        none = np.zeros(0, np.int64)
        return context.plan(none, "optimal", "min_cost_flow", started, ("nothing can move",))
    if time.perf_counter() - started > settings.deadline_s:
        qty = proportional_quantities(
            pos, context.lanes, settings.min_transfer_qty, settings.dc_outbound_capacity
        )
        notes = ("deadline hit while building the network",)
        return context.plan(qty, "fallback", "proportional", started, notes)
    best_qty = np.zeros(context.lanes.sender.size, np.int64)
    best_value, exact, found = 0.0, True, []
    surcharge = context.initial_surcharge()
    closed = np.zeros(surcharge.size, dtype=bool)
    # Keep a tenth of the deadline for scoring the plan and writing its frames.
    stop_at = started + 0.9 * settings.deadline_s
    last_round = 0.0
    for round_no in range(max(1, settings.slope_scaling_rounds)):
        if round_no and time.perf_counter() + last_round > stop_at:
            found.append(f"deadline after {round_no} slope-scaling round(s)")
            exact = False
            break
        tic = time.perf_counter()
        min_qty = settings.min_transfer_qty
        qty, adjusted, solved = context.solve(surcharge, closed, min_qty, stop_at)
        last_round = time.perf_counter() - tic
        complete = solved == context.n_blocks
        if not complete and round_no == 0:
            qty = context.fill_unsolved(qty, solved, settings)
            found.append(
                f"deadline hit after {solved} of {context.n_blocks} SKU blocks: "
                "the others follow the proportional rule"
            )
        value = context.value(qty)
        exact = exact and complete and not adjusted and not context.has_fixed_costs
        if value > best_value + 1e-9:
            best_qty, best_value = qty, value
        if not context.has_fixed_costs or not complete:
            break
        # Close the runs that do not pay for themselves; spread the others' run cost anew.
        losing = context.losing_pairs(qty)
        if not losing.any() and round_no:
            break
        closed |= losing
        surcharge = context.rescaled_surcharge(qty, surcharge)
    status: PlanStatus = "optimal" if exact else "feasible"
    return context.plan(best_qty, status, "min_cost_flow", started, tuple(found))


def plan_proportional_transfers(
    positions: pd.DataFrame,
    nodes: pd.DataFrame,
    transfer_rates: pd.DataFrame,
    peak: PeakWindow | PeakName,
    as_of: date | datetime,
    settings: RebalanceSettings | None = None,
    year: int | None = None,
) -> RebalancePlan:
    """The baseline: DC stock pushed to stores in proportion to their forecast (fair share)."""
    started = time.perf_counter()
    settings = settings or RebalanceSettings()
    pos, context = _prepare(positions, nodes, transfer_rates, peak, as_of, settings, year)
    qty = proportional_quantities(
        pos, context.lanes, settings.min_transfer_qty, settings.dc_outbound_capacity
    )
    return context.plan(qty, "fallback", "proportional", started, ())


def _prepare(
    positions: pd.DataFrame,
    nodes: pd.DataFrame,
    transfer_rates: pd.DataFrame,
    peak: PeakWindow | PeakName,
    as_of: date | datetime,
    settings: RebalanceSettings,
    year: int | None,
) -> tuple[Positions, _Context]:
    """Validated positions and the lane network both plans are built on. A peak that has
    started by `as_of` is refused: no transfer could arrive before it."""
    window = resolve_peak(peak, year)
    day = as_of.date() if isinstance(as_of, datetime) else as_of
    if window.start <= day:
        raise PlanningInputError(
            "peak", f"{window.name} {window.start.year} starts {window.start:%Y-%m-%d}, on or "
            f"before the as-of day {day:%Y-%m-%d}: no transfer could arrive before it")
    pos = prepare_positions(positions, nodes, settings.default_dispersion)
    return pos, _Context.build(pos, transfer_rates, window, as_of, settings)


def _split(block: np.ndarray, n_blocks: int) -> list[np.ndarray]:
    """Indices grouped by block number."""
    order = np.argsort(block, kind="stable")
    bounds = np.searchsorted(block[order], np.arange(n_blocks + 1))
    return [order[bounds[k] : bounds[k + 1]] for k in range(n_blocks)]


@dataclass(frozen=True)
class _Context:
    """Everything one plan needs between solver rounds: positions, arcs and lane timings."""

    pos: Positions
    window: PeakWindow
    lanes: LaneArcs
    senders: UnitArcs
    receivers: UnitArcs
    timings: dict
    dc_capacity: int
    gate_nodes: np.ndarray
    gate_of_row: np.ndarray
    n_blocks: int
    sender_blocks: list[np.ndarray]
    receiver_blocks: list[np.ndarray]
    lane_blocks: list[np.ndarray]

    @classmethod
    def build(
        cls,
        pos: Positions,
        transfer_rates: pd.DataFrame,
        window: PeakWindow,
        as_of: date | datetime,
        settings: RebalanceSettings,
    ) -> _Context:
        rates = lane_rates(transfer_rates)
        timings = lane_timings(transfer_rates, window, as_of, settings.country)
        timely = rates.loc[[k for k in rates.index if k in timings]]
        min_cost = float(timely["cost_per_unit_pln"].min()) if len(timely) else 0.0
        receivers = receiver_arcs(pos, min_cost, settings.max_units_per_receiver)
        senders = sender_arcs(pos)
        lanes = lane_arcs(
            pos,
            np.unique(senders.row),
            np.unique(receivers.row),
            timely,
            settings.nearest_store_senders,
        )
        capacity = settings.dc_outbound_capacity
        # One outbound gate per DC; each row of a DC points at its gate.
        gate_nodes, gate_code = np.unique(pos.node_id[pos.is_dc], return_inverse=True)
        gate_of_row = np.full(len(pos), -1, np.int64)
        gate_of_row[pos.is_dc] = gate_code
        block_of_row = pos.sku_code // max(1, settings.block_skus)
        n_blocks = int(block_of_row.max()) + 1 if len(pos) else 0
        return cls(
            pos=pos,
            window=window,
            lanes=lanes,
            senders=senders,
            receivers=receivers,
            timings=timings,
            dc_capacity=UNLIMITED if capacity is None else int(capacity),
            gate_nodes=gate_nodes,
            gate_of_row=gate_of_row,
            n_blocks=n_blocks,
            sender_blocks=_split(block_of_row[senders.row], n_blocks),
            receiver_blocks=_split(block_of_row[receivers.row], n_blocks),
            lane_blocks=_split(block_of_row[lanes.sender], n_blocks),
        )

    @property
    def has_fixed_costs(self) -> bool:
        return bool((self.lanes.pair_fixed_cost_pln > 0).any())

    def initial_surcharge(self) -> np.ndarray:
        """Run cost spread over the most a lane could carry: optimistic, so lanes get tried."""
        n_pairs = self.lanes.pair_fixed_cost_pln.size
        potential = np.bincount(self.lanes.pair, weights=self.lanes.capacity, minlength=n_pairs)
        return self.lanes.pair_fixed_cost_pln / np.maximum(potential, 1.0)

    def rescaled_surcharge(self, qty: np.ndarray, previous: np.ndarray) -> np.ndarray:
        """Run cost over last round's flow on lanes used; unused lanes keep their surcharge."""
        flow = np.bincount(self.lanes.pair, weights=qty, minlength=previous.size)
        return np.where(flow > 0, self.lanes.pair_fixed_cost_pln / np.maximum(flow, 1.0), previous)

    def losing_pairs(self, qty: np.ndarray) -> np.ndarray:
        """Lanes whose share of the margin gained (split over each receiver's and sender's
        units pro rata) does not cover their run cost plus unit costs."""
        pos, lanes = self.pos, self.lanes
        after = self.stock_after(qty)
        delta = pos.expected_margin(after) - pos.expected_margin(pos.on_hand)
        moved = np.abs(after - pos.on_hand).astype(np.float64)
        per_unit = np.where(moved > 0, delta / np.maximum(moved, 1.0), 0.0)
        # Receivers gain (per_unit > 0), senders lose (per_unit < 0): both add up per unit moved.
        net = qty * (per_unit[lanes.receiver] + per_unit[lanes.sender] - lanes.unit_cost_pln)
        n_pairs = lanes.pair_fixed_cost_pln.size
        contribution = np.bincount(lanes.pair, weights=net, minlength=n_pairs)
        used = np.bincount(lanes.pair, weights=qty, minlength=n_pairs) > 0
        shortfall = np.where(used, lanes.pair_fixed_cost_pln - contribution, 0.0)
        losing = shortfall > 0
        if losing.sum() > 1:
            # Close only the worse half at a time: the rest may pay once the others are gone.
            losing &= shortfall >= np.median(shortfall[losing])
        return losing

    def solve(
        self, surcharge: np.ndarray, closed: np.ndarray, min_qty: int, stop_at: float
    ) -> tuple[np.ndarray, bool, int]:
        """One round: every SKU block's min-cost flow with per-unit surcharges.

        DC capacity is exact within a block; across blocks it is split (a heuristic) in
        proportion to what each block wanted when the gates were loose. Returns (qty,
        repaired or split, blocks solved)."""
        lanes = self.lanes
        unit = np.round((lanes.unit_cost_pln + surcharge[lanes.pair]) * GROSZE).astype(np.int64)
        capacity = np.where(closed[lanes.pair], 0, lanes.capacity)
        n_gates = self.gate_nodes.size
        loose = np.full(n_gates, self.dc_capacity, np.int64)
        blocks = [self.block(k, unit, capacity) for k in range(self.n_blocks)]
        qty, repaired, solved = solve_blocks(blocks, lanes.sender.size, loose, min_qty, stop_at)
        if self.dc_capacity >= UNLIMITED or n_gates == 0:
            return qty, repaired, solved
        used = self.gate_usage(qty, blocks)
        if (used.sum(axis=0) <= self.dc_capacity).all():
            return qty, repaired, solved
        share = used / np.maximum(used.sum(axis=0), 1)
        for k, block in enumerate(blocks):
            caps = np.minimum(loose, np.floor(share[k] * self.dc_capacity).astype(np.int64))
            block_qty, _ = solve_block(block, caps, min_qty)
            qty[block.lane_index] = block_qty
        return qty, True, solved

    def fill_unsolved(
        self, qty: np.ndarray, solved: int, settings: RebalanceSettings
    ) -> np.ndarray:
        """Blocks the deadline left unsolved get the proportional rule (none under a DC
        capacity, which the rule could then break together with the solved blocks)."""
        if settings.dc_outbound_capacity is not None:
            return qty
        rule = proportional_quantities(self.pos, self.lanes, settings.min_transfer_qty, None)
        filled = qty.copy()
        for k in range(solved, self.n_blocks):
            arcs = self.lane_blocks[k]
            filled[arcs] = rule[arcs]
        return filled

    def gate_usage(self, qty: np.ndarray, blocks: list[BlockArcs]) -> np.ndarray:
        """Units leaving each DC gate, per block."""
        gate = self.gate_of_row[self.lanes.sender]
        usage = np.zeros((len(blocks), self.gate_nodes.size), np.int64)
        for k, block in enumerate(blocks):
            g = gate[block.lane_index]
            mask = g >= 0
            moved = qty[block.lane_index][mask]
            usage[k] = np.bincount(g[mask], weights=moved, minlength=usage.shape[1])
        return usage

    def block(self, k: int, lane_cost: np.ndarray, lane_capacity: np.ndarray) -> BlockArcs:
        s = self.sender_blocks[k]
        r = self.receiver_blocks[k]
        lane = self.lane_blocks[k]
        return BlockArcs(
            sender_row=self.senders.row[s],
            sender_gate=self.gate_of_row[self.senders.row[s]],
            sender_capacity=self.senders.capacity[s],
            sender_cost=self.senders.cost_grosze[s],
            receiver_row=self.receivers.row[r],
            receiver_gain=self.receivers.cost_grosze[r],
            lane_index=lane,
            lane_from=self.lanes.sender[lane],
            lane_to=self.lanes.receiver[lane],
            lane_capacity=lane_capacity[lane],
            lane_cost=lane_cost[lane],
        )

    def stock_after(self, qty: np.ndarray) -> np.ndarray:
        n = len(self.pos)
        out = np.bincount(self.lanes.sender, weights=qty, minlength=n)
        into = np.bincount(self.lanes.receiver, weights=qty, minlength=n)
        return self.pos.on_hand + np.round(into - out).astype(np.int64)

    def cost(self, qty: np.ndarray) -> float:
        """Unit costs plus one run cost per lane used, in PLN."""
        n_pairs = self.lanes.pair_fixed_cost_pln.size
        used = np.bincount(self.lanes.pair, weights=qty, minlength=n_pairs)
        unit = float((qty * self.lanes.unit_cost_pln).sum())
        return unit + float(self.lanes.pair_fixed_cost_pln[used > 0].sum())

    def value(self, qty: np.ndarray) -> float:
        """Expected margin gained over the peak minus transfer cost, in PLN."""
        if not qty.any():
            return 0.0
        return self.pos.margin_change(self.stock_after(qty)) - self.cost(qty)

    def plan(
        self,
        qty: np.ndarray,
        status: PlanStatus,
        method: str,
        started: float,
        notes: tuple[str, ...],
    ) -> RebalancePlan:
        value = self.value(qty)
        if value < 0 and method == "min_cost_flow":
            qty, value = np.zeros_like(qty), 0.0
        return RebalancePlan(
            peak=self.window,
            status=status,
            method=method,
            transfers=self.transfers_frame(qty),
            shadow_prices=self.shadow_prices(qty),
            expected_gain_pln=value,
            transfer_cost_pln=self.cost(qty),
            solve_seconds=time.perf_counter() - started,
            notes=notes,
        )

    def transfers_frame(self, qty: np.ndarray) -> pd.DataFrame:
        lanes, pos = self.lanes, self.pos
        moved = np.flatnonzero(qty)
        pair_qty = np.bincount(lanes.pair, weights=qty, minlength=lanes.pair_fixed_cost_pln.size)
        share = lanes.pair_fixed_cost_pln[lanes.pair[moved]] * qty[moved]
        share = share / np.maximum(pair_qty[lanes.pair[moved]], 1.0)
        kinds = lanes.lane[moved]
        return pd.DataFrame(
            {
                "from_node": pos.node_id[lanes.sender[moved]],
                "to_node": pos.node_id[lanes.receiver[moved]],
                "sku": pos.sku[lanes.sender[moved]],
                "qty": qty[moved].astype(np.int64),
                "lane": kinds,
                "ship_by": self._lane_times(kinds, "ship_by"),
                "arrive_by": self._lane_times(kinds, "arrive_by"),
                "cost_pln": np.round(qty[moved] * lanes.unit_cost_pln[moved] + share, 2),
            }
        )

    def _lane_times(self, kinds: np.ndarray, which: str) -> pd.Series:
        """Ship-by or arrive-by per transfer from its lane kind, as aware timestamps."""
        stamps = {k: pd.Timestamp(getattr(t, which)) for k, t in self.timings.items()}
        codes, uniques = pd.factorize(kinds)
        values = [stamps[k] for k in uniques]
        if not values:
            return pd.Series(pd.DatetimeIndex([], tz="Europe/Warsaw"))
        return pd.Series(pd.DatetimeIndex(values)[codes])

    def shadow_prices(self, qty: np.ndarray) -> pd.DataFrame:
        """Marginal value of one more unit per node x SKU after the plan, in PLN."""
        pos, lanes = self.pos, self.lanes
        after = self.stock_after(qty)
        own = pos.margin * probability_at_least(pos.mean, pos.dispersion, after + 1)
        pair_used = np.bincount(lanes.pair, weights=qty, minlength=lanes.pair_fixed_cost_pln.size)
        open_lane = pair_used[lanes.pair] > 0
        if self.dc_capacity < UNLIMITED and self.gate_nodes.size:
            # A DC whose gate is full cannot send one more unit anywhere.
            gate = self.gate_of_row[lanes.sender]
            sent = gate >= 0
            out = np.bincount(gate[sent], weights=qty[sent], minlength=self.gate_nodes.size)
            open_lane &= ~((gate >= 0) & (out[np.maximum(gate, 0)] >= self.dc_capacity))
        onward = own[lanes.receiver] - lanes.unit_cost_pln
        price = own.copy()
        np.maximum.at(price, lanes.sender[open_lane], onward[open_lane])
        return pd.DataFrame(
            {
                "node_id": pos.node_id,
                "sku": pos.sku,
                "stock_before": pos.on_hand,
                "stock_after": after,
                "shadow_price_pln": np.round(np.maximum(price, 0.0), 4),
            }
        )
