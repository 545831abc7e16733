"""Transfer lanes before a peak: which node pairs can deliver in time, at what cost.

A lane's cost has a per-unit part (handling) and a per-run part (a truck or parcel run: the
fixed cost plus the cost per km of the distance), paid once per lane used whatever the SKUs.
A lane is usable only when a transfer shipped after ``as_of`` arrives before the peak starts,
and a store sends only on a day it is open (no picking on non-trading Sundays or holidays).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pandas as pd

from allocation.planning.errors import PlanningInputError, require_columns, require_non_negative
from forecasting.calendar import Country, PeakWindow, is_store_open
from forecasting.vocabulary import WARSAW

LANE_KINDS = ("dc_to_store", "store_to_store")


@dataclass(frozen=True)
class LaneTiming:
    """When a lane kind must ship so that its transfers arrive before the peak starts."""

    lane: str
    ship_by: datetime
    arrive_by: datetime


def as_warsaw_datetime(moment: date | datetime) -> datetime:
    """A planning moment as an aware Warsaw datetime (a bare date means the end of that day)."""
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=WARSAW)
    return datetime.combine(moment, time(23, 59), tzinfo=WARSAW)


def lane_timings(
    transfer_rates: pd.DataFrame,
    peak: PeakWindow,
    as_of: date | datetime,
    country: Country = "PL",
) -> dict[str, LaneTiming]:
    """Latest ship time per lane kind that still arrives before the peak; lanes that cannot
    make it (ship_by before `as_of`) are left out."""
    require_columns(transfer_rates, ("lane", "lead_time_hours"), "transfer_rates")
    require_non_negative(transfer_rates, "lead_time_hours", "transfer_rates")
    start = datetime.combine(peak.start, time(0, 0), tzinfo=WARSAW)
    now = as_warsaw_datetime(as_of)
    timings: dict[str, LaneTiming] = {}
    for row in transfer_rates.itertuples(index=False):
        lead = timedelta(hours=float(row.lead_time_hours))  # type: ignore[arg-type]
        ship_by = start - lead
        if row.lane == "store_to_store":
            # A store picks a transfer only on a day it is open.
            while not is_store_open(ship_by.date(), country) and ship_by > now:
                ship_by = datetime.combine(ship_by.date(), time(23, 59), WARSAW) - timedelta(days=1)
        if ship_by >= now:
            timings[str(row.lane)] = LaneTiming(str(row.lane), ship_by, ship_by + lead)
    return timings


def lane_rates(transfer_rates: pd.DataFrame) -> pd.DataFrame:
    """The rates frame indexed by lane kind, validated."""
    cols = ("lane", "fixed_cost_pln", "cost_per_unit_pln", "cost_per_km_pln", "lead_time_hours")
    require_columns(transfer_rates, cols, "transfer_rates")
    for c in cols[1:]:
        require_non_negative(transfer_rates, c, "transfer_rates")
    unknown = set(transfer_rates["lane"]) - set(LANE_KINDS)
    if unknown:
        raise PlanningInputError("transfer_rates.lane", f"unknown lane kind(s) {sorted(unknown)}")
    return transfer_rates.drop_duplicates("lane").set_index("lane")
