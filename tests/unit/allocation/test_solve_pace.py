"""CP-SAT's least time is learnt per process (`allocation.cpsat.SolvePace`): a slow or busy
machine must not make the OMS wait past its deadline because constants measured elsewhere
said CP-SAT would fit."""

from __future__ import annotations

import pytest
from allocation_network import KRAKOW, WEDNESDAY

from allocation import cpsat
from allocation.cpsat import SolvePace
from allocation.model import Availability, Network, Order, OrderLine
from allocation.sourcing import source_order
from allocation.warmup import warm_up

SMALL, BIG = 20, 250  # pairs of a 3-line and of a 40-line order


def _observe(pace: SolvePace, pairs: int, *ratios: float) -> None:
    for ratio in ratios:
        pace.observe(pairs, took_s=ratio * 0.01, modelled_s=0.01)


def test_the_factor_is_a_high_percentile_of_recent_ratios_never_below_one() -> None:
    pace = SolvePace()
    _observe(pace, BIG, *[2.0] * 16)
    assert pace.factor(BIG) == pytest.approx(2.0)
    _observe(pace, SMALL, *[0.4] * 16)
    assert pace.factor(SMALL) == 1.0  # faster than measured: the measured margin stays


def test_one_stray_slow_solve_does_not_switch_cp_sat_off() -> None:
    pace = SolvePace()
    _observe(pace, BIG, *[1.0] * 15, 9.0)
    assert pace.factor(BIG) == 1.0
    _observe(pace, BIG, 9.0, 9.0, 9.0)  # ... but a slow spell does show
    assert pace.factor(BIG) > 5.0


def test_an_unseen_size_takes_the_slowest_known_pace_and_the_factor_is_capped() -> None:
    pace = SolvePace()
    _observe(pace, BIG, 50.0, 50.0, 50.0)
    assert pace.factor(SMALL) == pace.factor(BIG) == SolvePace.MOST


def _split_line_order() -> tuple[Order, list[Availability]]:
    """A line no node holds whole: only CP-SAT splits it."""
    order = Order("o-pace", "home_delivery", (OrderLine("1", "TEE", 3),), placed_at=WEDNESDAY,
                  destination=KRAKOW)
    return order, [Availability("DC", "TEE", 2), Availability("S-KRK", "TEE", 2)]


def test_at_a_slow_pace_cp_sat_is_not_started_when_it_cannot_end_by_the_deadline(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    order, stock = _split_line_order()
    started: list[int] = []
    solve = cpsat.solve_cpsat

    def counted(*args: object, **kwargs: object) -> cpsat.CpSatResult:
        started.append(1)
        return solve(*args, **kwargs)  # type: ignore[arg-type]

    warm_up(network, now=WEDNESDAY)  # the holiday calendar's first use alone takes ~0.8 s
    monkeypatch.setattr("allocation.sourcing.solve_cpsat", counted)
    monkeypatch.setattr(cpsat, "PACE", SolvePace())
    assert source_order(order, network, stock, deadline_ms=50).status == "optimal"
    assert started

    slow = SolvePace()
    _observe(slow, SMALL, *[SolvePace.MOST] * 16)  # 10 x the modelled least time
    monkeypatch.setattr(cpsat, "PACE", slow)
    started.clear()
    decision = source_order(order, network, stock, deadline_ms=20)

    assert not started  # 10 x (3 ms + 2 pairs x 45 us) > the 16 ms the solvers may take
    assert decision.status == "fallback" and sum(ln.qty for ln in decision.lines) == 3


def test_every_cp_sat_solve_is_an_observation(network: Network,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    order, stock = _split_line_order()
    pace = SolvePace()
    monkeypatch.setattr(cpsat, "PACE", pace)
    monkeypatch.setattr(cpsat, "COST_PER_PAIR_S", 1e-9)  # a model that claims CP-SAT is free
    monkeypatch.setattr(cpsat, "FIXED_COST_S", 1e-9)

    for _ in range(SolvePace.FEW):
        source_order(order, network, stock, solver="cpsat", deadline_ms=1_000)

    assert pace.factor(SMALL) == SolvePace.MOST  # it took far longer than that model says


def test_the_warm_up_decides_every_method_and_measures_every_size(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    pace = SolvePace()
    monkeypatch.setattr(cpsat, "PACE", pace)
    _observe(pace, SMALL, *[SolvePace.MOST] * 3)  # a cold solve's ratio, to be forgotten

    decided = warm_up(network, now=WEDNESDAY)

    assert decided == 3 + bool(network.lockers)
    for pairs in (SMALL, 100, BIG):
        assert pace.observed(pairs) == SolvePace.FEW
    assert pace.factor(SMALL) < SolvePace.MOST


def test_when_reading_the_order_took_the_time_the_rule_answers_without_pruning(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few-ms deadline on a big order (or a slow machine): pruning and searching past the
    deadline would only make the OMS wait; the rule's plan is ready."""

    def no_pruning(*args: object, **kwargs: object) -> None:
        raise AssertionError("pruned after the deadline")

    monkeypatch.setattr("allocation.sourcing.prune", no_pruning)
    order = Order("o-late", "home_delivery", (OrderLine("1", "TEE", 1), OrderLine("2", "JEANS", 1)),
                  placed_at=WEDNESDAY, destination=KRAKOW)
    stock = [Availability("DC", "TEE", 5), Availability("S-KRK", "JEANS", 5)]

    decision = source_order(order, network, stock, deadline_ms=0.001)

    assert decision.status == "fallback" and {ln.sku for ln in decision.lines} == {"TEE", "JEANS"}
