"""`source_order`: which node serves each line of one order, at what cost and promised time.

The path of a decision:
1. check the order (`build_problem`), set aside lines short of stock, judged per SKU over
   all the order's lines (`OutOfStock`, or `unfulfilled` with `allow_partial`: the lines in
   order while the SKU's units cover them whole);
2. prune to a few candidate nodes per line (`allocation.candidates`), always with the nodes the
   greedy rule would use, so that the answer never costs more than the rule;
3. exact search over whole-line plans (`allocation.search`): single-line orders over all nodes,
   others over the candidates, then certified (`allocation.candidates.beyond_candidates`: a
   lower bound on every whole-line plan that leaves the candidates); while that bound is below
   the best plan found, the nodes it does not rule out join the candidates and the search runs
   again. CP-SAT (`allocation.cpsat`) when a line must be split over nodes or the search runs
   out of budget or time, with what time is left before the deadline, certified the same way.
   "optimal" thus means: no whole-line plan over any node is cheaper (for an order with a line
   that no node holds whole: none over the candidates is); out of time before the
   certificate, the answer is "feasible";
4. without a solution in time: the greedy plan, status `fallback`; when that breaks
   `max_parcels` or pick capacity, `allocation.greedy.few_nodes_plan` (nodes by how many lines
   each holds whole), also `fallback`. The solvers stop at `1 - FINISH_SHARE` of the deadline
   and CP-SAT is not started without time for its model (`allocation.cpsat.least_time_s`), so
   that the answer, explained, is ready by the deadline;
5. explain: runner-up plan and the greedy plan, with their cost differences.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from math import inf

from allocation.candidates import DEFAULT_K, beyond_candidates, prune
from allocation.costs import Part
from allocation.cpsat import least_time_s, solve_cpsat
from allocation.errors import NoFeasiblePlan, OutOfStock, ShortLine
from allocation.explain import decision_from, plan_of
from allocation.greedy import few_nodes_plan, greedy_plan
from allocation.model import (
    Availability,
    CostWeights,
    Decision,
    Explanation,
    Network,
    Order,
    Status,
    UnfulfilledLine,
)
from allocation.problem import Evaluation, Problem, build_problem
from allocation.search import (
    SearchResult,
    best_single_line,
    search_whole_lines,
    whole_line_candidates,
)

DEFAULT_DEADLINE_MS = 50.0
DEFAULT_WEIGHTS = CostWeights()
WIDEN_NODES = 4  # nodes the certificate lets into the search per round
SETTLE_SHARE = 0.8  # widened searches may run until this share of the deadline
RUNNER_UP_MIN_MS = 15.0  # a CP-SAT re-solve for the runner-up only with this much time left
RUNNER_UP_SHARE = 0.2  # and never longer than this share of the deadline (10 ms of 50 ms):
# the explanation must not cost the p99
FINISH_SHARE = 0.2  # of the deadline kept after the solvers: evaluating and explaining the plan
MOVES_SHARE = 0.85  # the runner-up by one move stops here: writing the decision takes ~0.3 ms


def source_order(
    order: Order,
    network: Network,
    availability: Iterable[Availability],
    *,
    remaining_capacity: Mapping[str, int] | None = None,
    weights: CostWeights = DEFAULT_WEIGHTS,
    deadline_ms: float = DEFAULT_DEADLINE_MS,
    solver: str = "auto",
    candidates_per_line: int = DEFAULT_K,
) -> Decision:
    """Decide the sourcing of `order`.

    `availability`: ATP rows for the order's SKUs (rows for other SKUs are ignored).
    `remaining_capacity`: node_id -> line parts the node can still pick today (missing: the
    node's `pick_capacity_per_day`). `solver`: "auto", or "cpsat" / "greedy" to force one
    (tests and benchmarks compare them).
    Raises `OutOfStock` (`NoFeasiblePlan` when no line is short), `UnknownReference`,
    `InvalidOrder` (see `allocation.errors`).
    """
    started = time.perf_counter()
    problem = build_problem(order, network, availability, remaining_capacity, weights)
    short = _lines_left_out(problem) if order.allow_partial else _lines_over_stock(problem)
    if short and not order.allow_partial:
        raise OutOfStock(order.order_id, short)
    short_ids = {s.line_id for s in short}
    served = Problem(
        order=order,
        network=network,
        weights=weights,
        lines=tuple(line for line in problem.lines if line.line_id not in short_ids),
        atp=problem.atp,
        opp_g=problem.opp_g,
        atp_by_sku=problem.atp_by_sku,
        opp_by_sku=problem.opp_by_sku,
        capacity=problem.capacity,
        distances_km=problem.distances_km,
        pickup_index=problem.pickup_index,
    )
    unfulfilled = [UnfulfilledLine(s.line_id, s.sku, s.qty, s.available) for s in short]
    if not served.lines:
        return decision_from(served, None, "optimal", unfulfilled, _empty(0), started)

    greedy_parts = greedy_plan(served)
    greedy = served.evaluate(greedy_parts) if greedy_parts is not None else None
    best, runner_up, status, considered = _solve(
        served, greedy_parts, deadline_ms, started, solver, candidates_per_line
    )
    if greedy is not None and greedy.feasible and (best is None or _rank(greedy) < _rank(best)):
        # When the solver failed (fallback) or was cut short, or when the rule splits a line
        # and beats the best whole-line plan: never a worse plan than the rule's. Then no
        # optimum is proven.
        runner_up, best = best, greedy
        if status == "optimal":
            status = "feasible"
    if best is None and solver != "greedy":
        # The rule broke max_parcels or pick capacity and the solvers found nothing in time
        # (a forced "greedy" stays the plain rule: benchmarks and simulations compare it).
        best = few_nodes_plan(served, stop_at=started + deadline_ms / 1000.0)
        status = "fallback"
    if best is None:
        holders = {n for ln in served.lines for n in served.nodes_with(ln.sku)}
        raise NoFeasiblePlan(order.order_id, order.max_parcels, len(holders), deadline_ms)
    left_out = set(range(len(served.lines))) - {i for i, _, _ in best.parts}
    unfulfilled += [
        UnfulfilledLine(ln.line_id, ln.sku, ln.qty, served.available(ln.sku))
        for i, ln in enumerate(served.lines)
        if i in left_out
    ]
    if runner_up is None:
        explain_by = started + MOVES_SHARE * deadline_ms / 1000.0  # then write the decision
        runner_up = _runner_up_by_one_move(served, best, considered, stop_at=explain_by)
    n_considered = len({n for c in considered for n in c})
    explanation = _explanation(served, best, runner_up, greedy, n_considered, status, solver)
    return decision_from(served, best, status, unfulfilled, explanation, started)


def _lines_over_stock(problem: Problem) -> list[ShortLine]:
    """Every line of a SKU the order asks more units of, over all its lines, than the network
    holds, with the SKU's units: two lines of 4 against 5 units are short together, though
    each alone is not (checked per line, the solvers searched in vain and the order was
    refused as having no plan within its limits)."""
    asked: dict[str, int] = {}
    for line in problem.lines:
        asked[line.sku] = asked.get(line.sku, 0) + line.qty
    return [
        ShortLine(line.line_id, line.sku, line.qty, problem.available(line.sku))
        for line in problem.lines
        if asked[line.sku] > problem.available(line.sku)
    ]


def _lines_left_out(problem: Problem) -> list[ShortLine]:
    """With `allow_partial`: per SKU, the lines in order each take their units whole while the
    SKU's units left cover them; the lines that do not fit are left out (with the SKU's units),
    so that the solvers, and the greedy rule, get an order the stock can serve."""
    left = {line.sku: problem.available(line.sku) for line in problem.lines}
    short = []
    for line in problem.lines:
        if line.qty <= left[line.sku]:
            left[line.sku] -= line.qty
        else:
            short.append(ShortLine(line.line_id, line.sku, line.qty, problem.available(line.sku)))
    return short


def _rank(plan: Evaluation) -> tuple[int, int]:
    """Plans serving more lines first, then cheaper ones."""
    return -_lines_served(plan), plan.total_g


def _lines_served(plan: Evaluation) -> int:
    return len({i for i, _, _ in plan.parts})


def _solve(
    problem: Problem,
    greedy_parts: list[Part] | None,
    deadline_ms: float,
    started: float,
    solver: str,
    k: int,
) -> tuple[Evaluation | None, Evaluation | None, Status, list[list[int]]]:
    # The solvers stop early enough for the plan to be evaluated and explained by the deadline.
    deadline_at = started + (1.0 - FINISH_SHARE) * deadline_ms / 1000.0
    if solver == "greedy" or (solver == "auto" and time.perf_counter() >= deadline_at):
        # Reading a big order took the time (a deadline of a few ms, a slow or busy machine):
        # the rule's plan now, rather than pruning and searching past the deadline.
        return None, None, "fallback", [[] for _ in problem.lines]
    candidates = prune(problem, k)
    for i, _ in enumerate(problem.lines):
        for line_index, n, _ in greedy_parts or ():
            if line_index == i and n not in candidates[i] and problem.source(n) is not None:
                candidates[i].append(n)
    wholes = whole_line_candidates(problem, candidates)
    incumbent: SearchResult | None = None
    if solver == "auto" and all(wholes):
        if len(problem.lines) == 1:
            found, certified = best_single_line(problem), True
        else:
            # Half the time for the exact search; CP-SAT gets the rest if it is cut short.
            found, certified = _certified_search(
                problem, candidates, wholes, stop_at=(started + deadline_at) / 2,
                settle_at=started + SETTLE_SHARE * (deadline_at - started),
            )
        if certified and (found.best is not None or not problem.order.allow_partial):
            return found.best, found.runner_up, "optimal", candidates
        incumbent = found if found.best is not None else None
    hint = incumbent.best.parts if incumbent and incumbent.best else greedy_parts
    while (left_s := deadline_at - time.perf_counter()) > least_time_s(candidates):
        result = solve_cpsat(
            problem, candidates, left_s, hint=hint, optional_lines=problem.order.allow_partial
        )
        if result.status not in ("optimal", "feasible"):
            break
        best = problem.evaluate(result.parts)
        if not (best.feasible and best.parts):
            break
        status: Status = "optimal" if result.status == "optimal" else "feasible"
        if incumbent is not None and incumbent.best is not None:
            if incumbent.best.total_g < best.total_g:
                best = incumbent.best
        incumbent = SearchResult(best, None, False)  # kept if a widened re-solve fails
        extra = _escapes(problem, wholes, best) if all(wholes) and status == "optimal" else {}
        if extra and (deadline_at - time.perf_counter()) * 1000.0 > RUNNER_UP_MIN_MS:
            _widen(candidates, wholes, extra)  # a plan beyond the candidates may be cheaper
            hint = best.parts
            continue
        if extra:
            status = "feasible"  # optimal among the candidates only: no time left to widen
        budget_s = RUNNER_UP_SHARE * deadline_ms / 1000.0
        runner_up = _cpsat_runner_up(problem, candidates, best, deadline_at, budget_s)
        return best, runner_up, status, candidates
    if incumbent is not None and incumbent.best is not None:
        return incumbent.best, incumbent.runner_up, "feasible", candidates
    return None, None, "fallback", candidates


def _certified_search(
    problem: Problem,
    candidates: list[list[int]],
    wholes: list[list[int]],
    stop_at: float,
    settle_at: float,
) -> tuple[SearchResult, bool]:
    """The exact search over the candidates, widened until `beyond_candidates` shows that no
    whole-line plan leaving them is cheaper: (result, True) then, else (the best complete
    result, False). The first search stops at `stop_at` (then CP-SAT takes over); once one is
    complete, widened searches may run until `settle_at`, keeping the last complete result
    when one is cut short. Each round adds at least one (node, line) pair, so the loop ends
    by the number of pairs at the latest. Without any plan among the candidates every node
    in doubt joins at once, else the `WIDEN_NODES` most promising."""
    found = search_whole_lines(problem, wholes, stop_at=stop_at)
    while found.complete and time.perf_counter() < settle_at:  # certifying takes time too
        extra = _escapes(problem, wholes, found.best)
        if not extra:
            return found, True
        if time.perf_counter() > settle_at:
            break
        if found.best is not None:
            extra = dict(list(extra.items())[:WIDEN_NODES])
        _widen(candidates, wholes, extra)
        wider = search_whole_lines(problem, wholes, stop_at=settle_at)
        if not wider.complete:
            break
        found = wider
    return found, False


def _escapes(
    problem: Problem, wholes: list[list[int]], best: Evaluation | None
) -> dict[int, list[int]]:
    """Node -> lines beyond the candidates that might make a plan better than `best` (one
    serving fewer lines than the order has is beaten by any plan serving them all)."""
    served = {i for i, _, _ in best.parts} if best is not None else set()
    incumbent = best.total_g if best is not None and len(served) == len(problem.lines) else inf
    return beyond_candidates(problem, wholes, incumbent)


def _widen(
    candidates: list[list[int]], wholes: list[list[int]], extra: dict[int, list[int]]
) -> None:
    for n, lines in extra.items():
        for i in lines:
            if n not in wholes[i]:
                wholes[i].append(n)
            if n not in candidates[i]:
                candidates[i].append(n)


def _cpsat_runner_up(
    problem: Problem,
    candidates: list[list[int]],
    best: Evaluation,
    deadline_at: float,
    budget_s: float,
) -> Evaluation | None:
    """The best plan with some line part elsewhere (a no-good cut on `best`), if at least
    `RUNNER_UP_MIN_MS` remain before the deadline; else None (the caller then tries moves)."""
    left_s = deadline_at - time.perf_counter()
    if left_s * 1000.0 < RUNNER_UP_MIN_MS or min(left_s, budget_s) < least_time_s(candidates):
        return None
    result = solve_cpsat(
        problem,
        candidates,
        min(left_s, budget_s),
        optional_lines=problem.order.allow_partial,
        avoid=best.parts,
    )
    if result.status not in ("optimal", "feasible"):
        return None
    plan = problem.evaluate(result.parts)
    # With `allow_partial` the cut may leave a line out instead (when no other plan serves
    # them all): a plan serving less is no runner-up, and its lower cost no "next best".
    if not (plan.feasible and plan.parts) or _lines_served(plan) < _lines_served(best):
        return None
    return plan


def _runner_up_by_one_move(
    problem: Problem, best: Evaluation, candidates: list[list[int]], stop_at: float
) -> Evaluation | None:
    """Best plan moving one whole line of `best` to another candidate node (used when the
    solver itself gives no runner-up, e.g. CP-SAT); the best found so far at `stop_at`, since
    an explanation must not make the OMS wait past its deadline."""
    found: Evaluation | None = None
    for i, line in enumerate(problem.lines):
        here = {n for li, n, _ in best.parts if li == i}
        others = [p for p in best.parts if p[0] != i]
        for n in candidates[i] if i < len(candidates) else ():
            if n in here or problem.atp.get((line.sku, n), 0) < line.qty:
                continue
            if time.perf_counter() > stop_at:
                return found
            ev = problem.evaluate([*others, (i, n, line.qty)])
            if ev.feasible and (found is None or ev.total_g < found.total_g):
                found = ev
    return found


def _explanation(
    problem: Problem,
    best: Evaluation,
    runner_up: Evaluation | None,
    greedy: Evaluation | None,
    considered: int,
    status: Status,
    solver: str,
) -> Explanation:
    runner_delta = (runner_up.total_g - best.total_g) / 100.0 if runner_up else None
    greedy_delta = (greedy.total_g - best.total_g) / 100.0 if greedy else None
    text = _headline(status, best is greedy, solver, considered)
    if runner_delta is not None:
        # Only an optimum is known to be cheaper than every other plan.
        other = "the next best plan" if status == "optimal" else "the runner-up plan"
        text += f"; {other} costs {_more_or_less(runner_delta)}"
    if best is greedy and status != "fallback":
        text += "; it is also the nearest-node-with-stock plan"
    elif greedy is not None and greedy_delta is not None and best is not greedy:
        text += f"; nearest-node-with-stock would cost {_more_or_less(greedy_delta)}" + (
            "" if greedy.feasible else " and break a constraint"
        )
    return Explanation(
        runner_up=plan_of(problem, runner_up),
        runner_up_delta_pln=runner_delta,
        greedy=plan_of(problem, greedy),
        greedy_delta_pln=greedy_delta,
        candidates_considered=considered,
        text=text,
    )


def _headline(status: Status, rule_plan: bool, solver: str, considered: int) -> str:
    """What the plan is: "cheapest" only when proven; a fallback names the rule that made it
    and why no solver plan was taken (it searched no candidates worth naming)."""
    if status == "optimal":
        return f"cheapest plan among {considered} candidate nodes"
    if status == "feasible":
        return f"best plan found within the deadline among {considered} candidate nodes"
    if rule_plan and solver == "greedy":
        return "the nearest-node rule's plan, as asked (solver greedy)"
    if rule_plan:
        return "the nearest-node rule's plan: no solver plan was found within the deadline"
    return (
        "the plan from the fewest nodes holding the lines: no solver plan was found within "
        "the deadline, and the nearest-node rule breaks max_parcels or pick capacity"
    )


def _more_or_less(delta_pln: float) -> str:
    return f"{abs(delta_pln):.2f} PLN " + ("less" if delta_pln < 0 else "more")


def _empty(considered: int) -> Explanation:
    return Explanation(None, None, None, None, considered, "nothing to source")
