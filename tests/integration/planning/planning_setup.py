"""The planning tests' dates: a Christmas plan made on the small chain's day."""

from __future__ import annotations

from datetime import date

PLAN_AS_OF = date(2026, 11, 8)
PEAK, YEAR = "christmas", 2026
IN_PEAK, BEFORE_PEAK = date(2026, 12, 5), date(2026, 11, 20)
