"""Availability derived from stock rows is remembered per row value, never per stock row: a row
whose units moved is derived afresh, and every value equals the direct computation."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from allocation.model import Availability
from api.services.allocations import _DerivedAvailability
from api.services.network import load_master_data
from api.services.opportunity import opportunity_costs_pln

DAY = date(2026, 11, 9)


def direct(data: object, rows: list[tuple[str, str, int, int]], day: date) -> list[Availability]:
    costs = opportunity_costs_pln(
        data.network, [(n, s, shelf) for n, s, _, shelf in rows], day,  # type: ignore[attr-defined]
        data.shadow_prices,  # type: ignore[attr-defined]
    )
    return [Availability(n, s, atp, c) for (n, s, atp, _), c in zip(rows, costs, strict=True)]


def test_derived_values_equal_the_direct_ones_and_follow_the_units(loaded_engine: Engine) -> None:
    data = load_master_data(loaded_engine)
    derived = _DerivedAvailability()
    rows = [("S001", "JACKET", 5, 6), ("DC-STRYKOW", "JACKET", 500, 500), ("S002", "PHONE", 1, 1)]
    first = derived.availability(data, rows, DAY)
    assert first == direct(data, rows, DAY)
    assert any(a.opportunity_cost_pln > 0 for a in first)  # the walk-in rule is in play
    again = derived.availability(data, rows, DAY)
    assert all(a is b for a, b in zip(first, again, strict=True))  # remembered
    moved = [("S001", "JACKET", 1, 1)]  # the same row after five units were taken
    assert derived.availability(data, moved, DAY) == direct(data, moved, DAY)
    assert derived.availability(data, moved, DAY)[0] != first[0]


def test_a_new_day_or_new_master_data_derives_afresh(loaded_engine: Engine) -> None:
    data = load_master_data(loaded_engine)
    derived = _DerivedAvailability()
    rows = [("S001", "JACKET", 5, 6)]
    first = derived.availability(data, rows, DAY)
    later = date(2026, 12, 20)
    assert derived.availability(data, rows, later) == direct(data, rows, later)
    reloaded = load_master_data(loaded_engine)
    assert derived.availability(reloaded, rows, DAY)[0] is not first[0]
