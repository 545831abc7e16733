"""Calendar facts: Polish holidays, the Sunday trading ban and the peaks, 2024-2026."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dateutil.easter import easter

from forecasting.calendar import (
    black_friday,
    is_public_holiday,
    is_store_open,
    peak_window,
    trading_sundays,
)

TRADING_SUNDAYS_2024 = (
    date(2024, 1, 28), date(2024, 3, 24), date(2024, 4, 28), date(2024, 6, 30),
    date(2024, 8, 25), date(2024, 12, 15), date(2024, 12, 22),
)  # fmt: skip
TRADING_SUNDAYS_2025 = (
    date(2025, 1, 26), date(2025, 4, 13), date(2025, 4, 27), date(2025, 6, 29),
    date(2025, 8, 31), date(2025, 12, 7), date(2025, 12, 14), date(2025, 12, 21),
)  # fmt: skip


def _sundays(year: int) -> list[date]:
    day = date(year, 1, 1)
    day += timedelta(days=(6 - day.weekday()) % 7)
    out = []
    while day.year == year:
        out.append(day)
        day += timedelta(weeks=1)
    return out


def _trading_sundays_by_the_law(year: int) -> tuple[date, ...]:
    """An independent reading of the Act: the last Sunday of Jan, Apr, Jun and Aug, Palm
    Sunday, and the Sundays before Christmas (two before 25 Dec through 2024, three before
    24 Dec from 2025), minus Sundays that are public holidays."""
    sundays = _sundays(year)
    chosen = {max(s for s in sundays if s.month == m) for m in (1, 4, 6, 8)}
    chosen.add(easter(year) - timedelta(days=7))
    if year <= 2024:
        chosen.update([s for s in sundays if s < date(year, 12, 25)][-2:])
    else:
        chosen.update([s for s in sundays if s < date(year, 12, 24)][-3:])
    return tuple(sorted(s for s in chosen if not is_public_holiday(s)))


def test_trading_sundays_2024_match_the_published_list() -> None:
    assert trading_sundays(2024) == TRADING_SUNDAYS_2024


def test_trading_sundays_2025_match_the_published_list() -> None:
    assert trading_sundays(2025) == TRADING_SUNDAYS_2025


@pytest.mark.parametrize("year", [2024, 2025, 2026, 2027])
def test_trading_sundays_follow_the_law_rule(year: int) -> None:
    assert trading_sundays(year) == _trading_sundays_by_the_law(year)


def test_trading_sundays_2026_are_the_rule_dates() -> None:
    assert trading_sundays(2026) == (
        date(2026, 1, 25), date(2026, 3, 29), date(2026, 4, 26), date(2026, 6, 28),
        date(2026, 8, 30), date(2026, 12, 6), date(2026, 12, 13), date(2026, 12, 20),
    )  # fmt: skip


def test_stores_are_closed_on_every_other_sunday() -> None:
    for year in (2024, 2025, 2026):
        for sunday in _sundays(year):
            assert is_store_open(sunday) == (sunday in trading_sundays(year)), sunday


def test_wigilia_is_a_holiday_from_2025_and_not_in_2024() -> None:
    assert not is_public_holiday(date(2024, 12, 24))
    assert is_store_open(date(2024, 12, 24))
    assert is_public_holiday(date(2025, 12, 24))
    assert is_public_holiday(date(2026, 12, 24))
    assert not is_store_open(date(2025, 12, 24))


@pytest.mark.parametrize(
    ("year", "friday"),
    [(2024, date(2024, 11, 29)), (2025, date(2025, 11, 28)), (2026, date(2026, 11, 27))],
)
def test_black_friday_is_the_day_after_us_thanksgiving(year: int, friday: date) -> None:
    assert black_friday(year) == friday
    window = peak_window("black_week", year)
    assert window.end == friday + timedelta(days=3)  # Cyber Monday
    assert window.end.weekday() == 0


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_stores_are_closed_on_all_saints_day_and_easter_sunday(year: int) -> None:
    assert not is_store_open(date(year, 11, 1))
    assert not is_store_open(easter(year))


def test_an_ordinary_saturday_is_a_trading_day() -> None:
    assert is_store_open(date(2026, 11, 7))
