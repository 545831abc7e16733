from __future__ import annotations

from datetime import date, timedelta

from api.services.sales_completeness import HELD_BACK_DAYS, USUAL_DAYS, arrived_through

LAST = date(2026, 11, 20)  # a Friday; 2026-11-15 is a non-trading Sunday, 11-11 a holiday


def _counts(stores: int = 10, **overrides: tuple[int, int]) -> dict[tuple[date, str], int]:
    """Every store reports both channels every day (walk-in: open days only); `overrides`
    maps 'days_before_last' -> (store, online) counts."""
    counts = {}
    for k in range(HELD_BACK_DAYS + USUAL_DAYS + 1):
        day = LAST - timedelta(days=k)
        walk_in, online = overrides.get(f"d{k}", (stores, stores))
        counts[(day, "online")] = online
        if day.weekday() != 6 and day != date(2026, 11, 11):
            counts[(day, "store")] = walk_in
    return counts


def test_a_full_week_of_reports_keeps_the_last_day() -> None:
    arrived = arrived_through(_counts(), LAST)

    assert (arrived.through, arrived.short) == (LAST, ())


def test_days_some_stores_have_not_reported_yet_are_held_back() -> None:
    arrived = arrived_through(_counts(d0=(4, 10), d1=(10, 8)), LAST)

    assert arrived.through == LAST - timedelta(days=2)
    assert {(s.day, s.channel, s.stores) for s in arrived.short} == {
        (LAST, "store", 4), (LAST - timedelta(days=1), "online", 8)}
    assert "2026-11-19 (online 8/10), 2026-11-20 (store 4/10)" in arrived.describe()


def test_a_closed_sunday_and_a_holiday_without_walk_in_sales_are_not_gaps() -> None:
    sunday = arrived_through(_counts(), date(2026, 11, 15))
    holiday = arrived_through(_counts(), date(2026, 11, 11))

    assert (sunday.through, holiday.through) == (date(2026, 11, 15), date(2026, 11, 11))


def test_an_older_short_day_does_not_hold_back_the_arrived_days_after_it() -> None:
    arrived = arrived_through(_counts(d3=(2, 2)), LAST)

    assert arrived.through == LAST


def test_over_a_week_of_fewer_stores_is_a_smaller_chain_not_a_late_feed() -> None:
    shrunk = {f"d{k}": (7, 7) for k in range(HELD_BACK_DAYS + 1)}

    arrived = arrived_through(_counts(**shrunk), LAST)

    assert (arrived.through, arrived.short) == (LAST, ())
