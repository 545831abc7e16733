"""The calendar's words that command lines and settings check before any work: countries,
peaks and the chain's clock. Apart from `forecasting.calendar` (pandas, holidays) so that
checking them is instant.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

Country = Literal["PL", "DE", "US", "none"]
PeakName = Literal["back_to_school", "black_week", "christmas"]
PEAK_NAMES: tuple[PeakName, ...] = ("back_to_school", "black_week", "christmas")
TIMEZONE = "Europe/Warsaw"
WARSAW = ZoneInfo(TIMEZONE)  # the chain's clock: trading days, promises, the business day
