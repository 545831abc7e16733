"""The calendar's words that command lines and settings check before any work: countries and
peaks. Apart from `forecasting.calendar` (pandas, holidays) so that checking them is instant.
"""

from __future__ import annotations

from typing import Literal

Country = Literal["PL", "DE", "US", "none"]
PeakName = Literal["back_to_school", "black_week", "christmas"]
PEAK_NAMES: tuple[PeakName, ...] = ("back_to_school", "black_week", "christmas")
