"""Pruning: the few nodes worth a look for each line.

Per line, nodes with ATP are ranked by the cost of serving the line alone from them (parcel at
the line's weight and the node's distance band, or transfer, plus pick and opportunity cost;
lateness is left out so that no promise date is computed for the ~100 nodes, which also makes
this "rough" cost a lower bound of the true one). Kept: the `k` cheapest nodes that cover the
line alone, the `k` cheapest that cover part of it (more while they hold too few units
together to serve the line), and the "consolidators", the nodes that
cover the most lines of the order whole (one parcel for many lines is what makes multi-line
orders cheap). Ranking is vectorised over all nodes; only the kept nodes become `Source`s.

Pruning alone is a heuristic (an on-time node can rank below late ones); `beyond_candidates`
makes it exact for whole-line plans: a cheap lower bound on any plan that leaves the
candidates, which the caller compares with the best plan found among them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from allocation.costs import Bands, DistanceBand, grosze, parcel_price, tariff
from allocation.model import Network
from allocation.problem import Problem

DEFAULT_K = 4
CONSOLIDATORS = 3
FEW_LOADS = 16
PARTITION_MAX_LINES = 8  # (3^8 - 1) / 2 steps of the partition bound's programme
PARTITION_ROUNDS = 3  # each round may rule out nodes that tighten the next


@dataclass(frozen=True, slots=True)
class NodeArrays:
    pick_g: np.ndarray
    is_dc: np.ndarray


@lru_cache(maxsize=8)
def node_arrays(network: Network) -> NodeArrays:
    return NodeArrays(
        pick_g=np.array([grosze(n.pick_cost_pln) for n in network.nodes], dtype=np.int64),
        is_dc=np.array([n.kind == "dc" for n in network.nodes], dtype=bool),
    )


def rough_shipping_of(
    problem: Problem, weight_g: np.ndarray, units: np.ndarray, split_g: int = 0
) -> np.ndarray:
    """Grosze per load and node (loads x nodes) to ship `weight_g` grams (`units` units) from
    the node alone: the parcel at that weight in the node's distance band, or for
    click-and-collect the transfer (the cheaper of the lane and the scheduled truck, which may
    not run; nothing from the pickup store). Never more than the true price of a node's load
    that holds at least this weight and these units. `split_g`: added per parcel beyond the
    first of a load heavier than the top weight band (the split term of those parcels, which
    such a load pays whatever else the plan ships)."""
    arrays = node_arrays(problem.network)
    distance = problem.distances_km
    units_col = units.astype(float)[:, None]
    if problem.order.fulfilment == "click_and_collect":
        dc = problem.network.transfer_rates["dc_to_store"]
        st = problem.network.transfer_rates["store_to_store"]
        fixed = np.where(arrays.is_dc, dc.fixed_cost_pln, st.fixed_cost_pln)
        per_km = np.where(arrays.is_dc, dc.cost_per_km_pln, st.cost_per_km_pln)
        per_unit = np.where(arrays.is_dc, dc.cost_per_unit_pln, st.cost_per_unit_pln)
        transfer = np.rint((fixed + per_km * distance + per_unit * units_col) * 100.0).astype(
            np.int64
        )
        truck = problem.network.transfer_rates.get("replenishment")
        if problem.pickup_index is not None:
            transfer[:, problem.pickup_index] = 0
            home = problem.network.index.get(problem.network.nodes[problem.pickup_index].home_dc)
            if truck is not None and home is not None:  # a lower bound: the lane may not run
                by_truck = (truck.fixed_cost_pln + truck.cost_per_km_pln * distance[home]
                            + truck.cost_per_unit_pln * units_col[:, 0])
                transfer[:, home] = np.minimum(
                    transfer[:, home], np.rint(by_truck * 100.0).astype(np.int64)
                )
        return transfer
    table, band = node_bands(problem)
    prices = np.empty((len(weight_g), len(table)), dtype=np.int64)
    for b, row in enumerate(table):
        if len(weight_g) <= FEW_LOADS:  # plain Python beats numpy's call overhead here
            for k, weight in enumerate(weight_g.tolist()):
                price_g, count = parcel_price(row.bands, weight)
                prices[k, b] = price_g + split_g * (count - 1)
        else:
            price, parcels = parcel_prices(row.bands, weight_g)
            prices[:, b] = price + split_g * (parcels - 1)
    return prices[:, band]


def node_bands(problem: Problem) -> tuple[tuple[DistanceBand, ...], np.ndarray]:
    """The order's parcel tariff and, per node, the index of its distance band (as
    `allocation.costs.distance_band`, vectorised over the nodes)."""
    table = tariff(problem.network, problem.order.fulfilment)
    maxes = np.array([band.max_distance_km for band in table])
    band = np.searchsorted(maxes, problem.distances_km, side="left")
    return table, np.minimum(band, len(table) - 1)


def parcel_prices(bands: Bands, weight_g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`allocation.costs.parcel_price` over an array of weights: (prices, parcels)."""
    weight = np.asarray(weight_g, dtype=np.int64)
    top_weight, top_price = bands[-1]
    full = np.where(weight > top_weight, (weight - 1) // top_weight, 0)
    rest = weight - full * top_weight
    maxes = np.array([w for w, _ in bands])
    prices = np.array([p for _, p in bands])
    at = np.minimum(np.searchsorted(maxes, rest, side="left"), len(bands) - 1)
    return full * top_price + prices[at], full + 1


def rough_costs_of_lines(problem: Problem) -> np.ndarray:
    """Grosze to serve each line in full alone from each node, without lateness: lines x
    nodes, in one pass over the tariff (a 40-line order spent most of its pruning pricing
    each line apart)."""
    lines = problem.lines
    weights = np.array([line.unit_weight_g * line.qty for line in lines], dtype=np.int64)
    units = np.array([line.qty for line in lines], dtype=np.int64)
    costs = rough_shipping_of(problem, weights, units)  # a new array: added to in place
    costs += node_arrays(problem.network).pick_g
    for row, line in zip(costs, lines, strict=True):  # most orders have one line: no stack
        row += problem.opp_by_sku[line.sku] * line.qty
    return costs


def prune(problem: Problem, k: int = DEFAULT_K) -> list[list[int]]:
    """Candidate node indices per line, cheapest first (only nodes that can serve today)."""
    size = len(problem.network.nodes)
    covers = np.zeros(size, dtype=np.int64)
    rough_sum = np.zeros(size, dtype=np.int64)
    per_line = []
    costs = rough_costs_of_lines(problem)
    for i, line in enumerate(problem.lines):
        atp = problem.atp_by_sku[line.sku]
        cost = costs[i]
        whole = atp >= line.qty
        covers += whole
        rough_sum += np.where(whole, cost, 0)
        per_line.append((cost, whole, atp > 0))
    holders = np.flatnonzero(covers > 0)
    ranked = holders[np.lexsort((rough_sum[holders], -covers[holders]))]
    consolidators = [int(n) for n in ranked[:CONSOLIDATORS]]
    out: list[list[int]] = []
    for line, (cost, whole, held) in zip(problem.lines, per_line, strict=True):
        atp = problem.atp_by_sku[line.sku]
        keep: list[int] = []
        for mask in (whole, held & ~whole):
            nodes = np.flatnonzero(mask)
            taken = units = 0
            for n in nodes[np.argsort(cost[nodes], kind="stable")].tolist():
                # Partial holders: k of them, and more while together they hold too little.
                if taken >= k and (mask is whole or units >= line.qty):
                    break
                if problem.source(n) is not None:
                    keep.append(n)
                    taken += 1
                    units += int(atp[n])
        for n in consolidators:
            if whole[n] and n not in keep and problem.source(n) is not None:
                keep.append(n)
        out.append(keep)
    return out


# Certification: is a whole-line plan outside the candidates possibly cheaper than the answer?
#
# A whole-line plan sends each line i to one node a(i) holding it whole and costs
#   sum over used nodes n of ship_n(lines at n) + sum over lines of f(a(i), i) + split_pln *
#   (used nodes - 1),
# f(n, i) = pick_n + late_n + opp(i, n) * qty_i, ship_n = the node's parcels or transfer plus
# split_pln per parcel beyond its first (a load above the top weight band), so that the split
# term of the plan is spread over its nodes.
# Take any plan that serves some line i0 from a node e outside i0's candidates. Either
#  (A) every line is at e: cost >= ship_e(whole order) + sum_i f(e, i), or
#  (B) the lines S (i0 in S, S not all) are at e, the others on k >= 1 other nodes; no other
#      node holds more than m lines whole and e holds h, so k >= ceil((L - h) / m), and
#      cost >= ship_e(lightest line alone) + k * (split_pln + cheapest line alone from any
#      other node) + sum_{i in S} f(e, i) + sum_{i not in S} g(e, i), g(e, i) = min over nodes
#      n != e holding line i whole of f(n, i) (impossible when k + 1 > max parcels);
# the smallest such sum over S is taken by putting in S i0 and every line with f(e, i) < g(e, i)
# (one line dropped when that would be all). ship_n only grows with weight and units, and
# lateness is replaced by `lateness_floor` wherever no promise date was computed, so each term is
# a lower bound and so is the minimum of (A) and (B) over such i0: if it is no less than the
# cost of the best plan among the candidates, no plan that leaves the candidates is cheaper.
# Ignored constraints (ATP shared by two lines of one SKU, capacity beyond a known source's,
# max parcels beyond the k + 1 nodes of (B)) only make the bound lower, never invalid.
# `partition_bounds` is the tighter (and dearer) bound for the nodes this one leaves in doubt.

_NONE = 1e12  # grosze standing for "no such plan" (kept finite: no inf - inf in the sums)


def lateness_floor(problem: Problem) -> np.ndarray:
    """Grosze of lateness per line part that no node can beat: the promise compared with the
    order time plus the pick hours plus the parcel band's transit (or the transfer lane's lead
    time, the truck's if shorter; nothing for the pickup store). Opening hours, closed days and
    the carriers' days off only make the real promise later (`allocation.promise`)."""
    size = len(problem.network.nodes)
    promise_by = problem.order.promise_by
    if promise_by is None:
        return np.zeros(size)
    weights, arrays = problem.weights, node_arrays(problem.network)
    hours = np.where(arrays.is_dc, weights.dc_pick_hours, weights.store_pick_hours).astype(float)
    if problem.order.fulfilment == "click_and_collect":
        rates = problem.network.transfer_rates
        lead = np.where(arrays.is_dc, rates["dc_to_store"].lead_time_hours,
                        rates["store_to_store"].lead_time_hours).astype(float)
        if problem.pickup_index is not None:
            home = problem.network.index.get(problem.network.nodes[problem.pickup_index].home_dc)
            truck = rates.get("replenishment")
            if truck is not None and home is not None:
                lead[home] = min(lead[home], truck.lead_time_hours)
            lead[problem.pickup_index] = 0.0
        hours += lead
    else:
        table, band = node_bands(problem)
        hours += np.array([b.transit_hours for b in table])[band]
    slack = (promise_by - problem.order.placed_at).total_seconds() / 3600.0
    late = np.maximum(hours - slack, 0.0) * weights.lateness_pln_per_hour * 100.0
    return np.floor(late)


def _without_self(values: np.ndarray) -> np.ndarray:
    """Per row n and column i: the least of column i over the rows other than n."""
    if values.shape[0] < 2:
        return np.full_like(values, _NONE)
    cols = np.arange(values.shape[1])
    first_at = values.argmin(axis=0)
    first = values[first_at, cols]
    masked = values.copy()
    masked[first_at, cols] = np.inf
    out = np.broadcast_to(first, values.shape).copy()
    out[first_at, cols] = masked.min(axis=0)
    return out


@dataclass(frozen=True, slots=True)
class _Lines:
    """Nodes x lines of one order, for the bounds below."""

    held: np.ndarray  # the node holds the line whole and can serve
    outside: np.ndarray  # ... and is not among the line's candidates
    part: np.ndarray  # f(n, i) (`_NONE` where not held)
    alone: np.ndarray  # ship_n(line i alone) (`_NONE` where not held)
    whole: np.ndarray  # per node: ship_n(every line of the order)


def _loads(problem: Problem) -> np.ndarray:
    """`rough_shipping_of` (with the split of extra parcels) of each line alone, then of the whole
    order: (lines + 1) x nodes."""
    lines = problem.lines
    weights = [ln.unit_weight_g * ln.qty for ln in lines]
    units = [ln.qty for ln in lines]
    return rough_shipping_of(
        problem, np.array([*weights, sum(weights)]), np.array([*units, sum(units)]),
        grosze(problem.weights.split_pln),
    )


def _lines(
    problem: Problem, wholes: Sequence[Sequence[int]], late: np.ndarray, usable: np.ndarray,
    loads: np.ndarray,
) -> _Lines:
    count = len(problem.lines)
    pick = node_arrays(problem.network).pick_g
    held = np.stack(
        [problem.atp_by_sku[ln.sku] >= ln.qty for ln in problem.lines], axis=1
    ) & usable[:, None]
    inside = np.zeros_like(held)
    for i, cands in enumerate(wholes):
        inside[list(cands), i] = True
    opp = np.stack([problem.opp_by_sku[ln.sku] * ln.qty for ln in problem.lines], axis=1)
    part = np.where(held, (pick + late)[:, None] + opp, _NONE)
    alone = np.where(held, loads[:count].T, _NONE)
    return _Lines(held, held & ~inside, part, alone, loads[count])


def escape_bounds(problem: Problem, m: _Lines, capacity: np.ndarray) -> np.ndarray:
    """Per node: grosze that any whole-line plan serving some line from the node while the
    node is not among that line's candidates costs at least (`_NONE`: no such plan), by (A)
    and (B) above. `capacity`: line parts a node can pick (large where unknown)."""
    count = len(problem.lines)
    held, outside, part, alone = m.held, m.outside, m.part, m.alone
    # (A) the whole order from the node.
    whole_order = m.whole + part.sum(axis=1)
    bound = np.where(held.all(axis=1) & (capacity >= count), whole_order, _NONE)
    # (B) some lines from the node, the others from elsewhere.
    # The other nodes hold at most `most_other` of the order's lines each, so the lines the
    # node does not hold take at least `others` of them, each a parcel and a split.
    counts = held.sum(axis=1).astype(float)
    most_other = np.maximum(-_without_self(-counts[:, None])[:, 0], 1.0)
    others = np.maximum(np.ceil((count - counts) / most_other), 1.0)
    max_parcels = problem.max_parcels if problem.max_parcels is not None else count
    if count >= 2:
        elsewhere = _without_self(part)  # g(n, i)
        gain = part - elsewhere  # < 0: the line is cheaper at n than anywhere else
        other_ship = _without_self(alone.min(axis=1, keepdims=True))[:, 0]
        per_other = grosze(problem.weights.split_pln) + other_ship
        fixed = np.where(others + 1 <= max_parcels, alone.min(axis=1) + others * per_other,
                         _NONE)
        base = fixed + elsewhere.sum(axis=1) + np.minimum(gain, 0.0).sum(axis=1)
        # Per forced line i0 (columns): S = {i0} + the lines with gain < 0; when that is every
        # line, the one other line of largest gain goes back elsewhere.
        forced = base[:, None] + np.maximum(gain, 0.0)
        cheaper = gain < 0
        others_cheaper = cheaper.sum(axis=1, keepdims=True) - cheaper
        everything = others_cheaper == count - 1
        largest_other = -_without_self(-gain.T).T  # max over j != i0 of gain[n, j]
        forced += np.where(everything, -largest_other, 0.0)
        bound = np.minimum(bound, np.where(outside, forced, _NONE).min(axis=1))
    return np.where(outside.any(axis=1), np.minimum(bound, _NONE), _NONE)


def partition_bounds(problem: Problem, m: _Lines, capacity: np.ndarray) -> np.ndarray:
    """Per node, as `escape_bounds` but tighter, for orders of up to `PARTITION_MAX_LINES`
    lines. For every set T of lines, c(T, n) = ship_n(T) + sum_{i in T} f(n, i) where n holds
    all of T, w(T) = min over nodes of c(T, n), and best(R) = the least sum of w over a
    partition of R plus split_pln per block beyond the first (a subset dynamic programme,
    3^L steps). A plan serving T from node e and the rest R on other nodes costs at least
    c(T, e) + split_pln + best(R): its other nodes serve a partition of R, each block at no
    less than w. The bound is the least such sum over the T that hold an outside line of e
    and that leave a partition of R within max parcels (the same programme counts the fewest
    parcels, a block of weight W needing at least the parcels of W in any distance band)."""
    lines = problem.lines
    count = len(lines)
    full = (1 << count) - 1
    member = ((np.arange(full + 1)[:, None] >> np.arange(count)[None, :]) & 1).astype(bool)
    weights = member @ np.array([ln.unit_weight_g * ln.qty for ln in lines])
    units = member @ np.array([ln.qty for ln in lines])
    holds_all = (member.astype(np.int64) @ (~m.held).T.astype(np.int64)) == 0
    split = grosze(problem.weights.split_pln)
    cost = rough_shipping_of(problem, weights, units, split) + member.astype(float) @ m.part.T
    cost = np.where(holds_all & (member.sum(axis=1)[:, None] <= capacity[None, :]), cost, _NONE)
    cheapest = cost.min(axis=1)
    parcels = np.array(_fewest_parcels(problem, weights), dtype=float)
    coverable = cheapest < _NONE
    # best[t]: cost floor of the lines t on other nodes; fewest[t]: parcels they need at least.
    best, fewest = np.zeros(full + 1), np.zeros(full + 1)
    for targets, starts, subs, rests in _partitions(count):
        joined = cheapest[subs] + np.where(rests > 0, split, 0.0) + best[rests]
        best[targets] = np.minimum.reduceat(joined, starts)
        needed = np.where(coverable[subs], parcels[subs] + fewest[rests], np.inf)
        fewest[targets] = np.minimum.reduceat(needed, starts)
    sets = np.arange(full + 1)
    most = problem.max_parcels if problem.max_parcels is not None else np.inf
    rest = np.where(sets == full, 0.0, split) + best[full ^ sets]
    rest = np.where(parcels + fewest[full ^ sets] <= most, rest, _NONE)
    touches = (member.astype(np.int64) @ m.outside.T.astype(np.int64)) > 0
    bound = np.where(touches, cost + rest[:, None], _NONE).min(axis=0)
    return np.minimum(bound, _NONE)


@lru_cache(maxsize=PARTITION_MAX_LINES)
def _partitions(count: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], ...]:
    """The subset programme's steps by number of lines, so that each layer is a few array
    operations: (sets t, segment starts, first blocks s holding t's lowest line, rests t - s)."""
    layers = []
    for size in range(1, count + 1):
        targets: list[int] = []
        starts: list[int] = []
        subs: list[int] = []
        rests: list[int] = []
        for t in range(1, 1 << count):
            if t.bit_count() != size:
                continue
            targets.append(t)
            starts.append(len(subs))
            low, sub = t & -t, t
            while sub:
                if sub & low:
                    subs.append(sub)
                    rests.append(t ^ sub)
                sub = (sub - 1) & t
        layers.append((np.array(targets), np.array(starts), np.array(subs), np.array(rests)))
    return tuple(layers)


def _fewest_parcels(problem: Problem, weights: np.ndarray) -> list[int]:
    """Per load weight: the fewest parcels it ships in from any node (a transfer: one)."""
    if problem.order.fulfilment == "click_and_collect":
        return [1] * len(weights)
    table = tariff(problem.network, problem.order.fulfilment)
    return np.min([parcel_prices(b.bands, weights)[1] for b in table], axis=0).tolist()


def beyond_candidates(
    problem: Problem, wholes: Sequence[Sequence[int]], incumbent_g: float
) -> dict[int, list[int]]:
    """Node -> lines (outside their candidates) that a whole-line plan cheaper than
    `incumbent_g` might take from it, the most promising node (lowest bound) first; empty: the
    best plan among the candidates is the best overall. The cheap bound first, with lateness
    floors; promise dates only for the nodes it does not rule out; the partition bound only
    for the nodes left after that."""
    size = len(problem.network.nodes)
    late = lateness_floor(problem)
    usable = np.ones(size, dtype=bool)
    capacity = np.full(size, 1 << 30)

    def learn(nodes: Iterable[int]) -> None:
        for n in nodes:
            src = problem.source(n)
            if src is None:
                usable[n] = False
            else:
                late[n], capacity[n] = src.late_g, src.capacity

    # Rounding (PLN to grosze per term, per unit for a transfer rate finer than a grosz) can
    # lift a bound a few grosze over the true cost.
    slack = 2 * (len(problem.lines) + sum(line.qty for line in problem.lines))

    def below(bound: np.ndarray) -> np.ndarray:
        return np.flatnonzero((bound < _NONE) & (bound - slack < incumbent_g))

    learn({n for c in wholes for n in c})
    loads = _loads(problem)
    maybe = below(escape_bounds(problem, _lines(problem, wholes, late, usable, loads), capacity))
    if maybe.size == 0:
        return {}
    learn(maybe.tolist())
    m = _lines(problem, wholes, late, usable, loads)
    bound = escape_bounds(problem, m, capacity)
    maybe = below(bound)
    if len(problem.lines) <= PARTITION_MAX_LINES:
        for _ in range(PARTITION_ROUNDS):
            if maybe.size == 0:
                break
            # A plan cheaper than the incumbent uses no outside pair of a node ruled out so far:
            # the rest of such a plan is covered by the candidates and the nodes still in doubt.
            doubt = np.zeros(size, dtype=bool)
            doubt[maybe] = True
            allowed = m.held & ~(m.outside & ~doubt[:, None])
            narrowed = _Lines(allowed, m.outside & doubt[:, None],
                              np.where(allowed, m.part, _NONE), m.alone, m.whole)
            tighter = partition_bounds(problem, narrowed, capacity)
            bound = np.maximum(bound, tighter)
            kept = np.intersect1d(maybe, below(tighter))
            if kept.size == maybe.size:
                break
            maybe = kept
    maybe = maybe[np.argsort(bound[maybe], kind="stable")]
    return {int(n): np.flatnonzero(m.outside[n]).tolist() for n in maybe}
