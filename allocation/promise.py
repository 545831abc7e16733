"""When a node can have an order ready, and when the customer gets it.

A node works only on its open days (stores: the retail calendar, closed on public holidays and
non-trading Sundays; DCs: every day but public holidays) and within its hours. Work that does
not fit in today's hours moves to the next open day's opening. Carriers deliver Monday to
Saturday except public holidays.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from allocation.model import Node
from forecasting.calendar import is_public_holiday
from forecasting.vocabulary import WARSAW

MAX_DAYS_AHEAD = 21


def ready_at(node: Node, start: datetime, work_hours: float) -> datetime:
    """The first moment `work_hours` of work started at or after `start` is done at `node`,
    inside one open day's hours (0 hours: the next moment the node is open)."""
    local = start.astimezone(WARSAW)
    day = local.date()
    work = timedelta(hours=work_hours)
    for _ in range(MAX_DAYS_AHEAD):
        if node.is_open(day):
            opens = datetime.combine(day, time(), WARSAW) + timedelta(hours=node.opens_at_hour)
            closes = datetime.combine(day, time(), WARSAW) + timedelta(hours=node.closes_at_hour)
            begin = max(local, opens)
            if begin + work <= closes and begin < closes:
                return begin + work
        day += timedelta(days=1)
    raise ValueError(f"node {node.node_id} is not open within {MAX_DAYS_AHEAD} days")


def delivered_at(ready: datetime, transit_hours: float) -> datetime:
    """When a parcel handed over at `ready` reaches the door or locker. Couriers and locker
    networks deliver Monday to Saturday, not on public holidays: a delivery that would land on
    such a day lands on the next delivery day at the same hour."""
    at = (ready + timedelta(hours=transit_hours)).astimezone(WARSAW)
    for _ in range(MAX_DAYS_AHEAD):
        if at.weekday() != 6 and not is_public_holiday(at.date()):
            return at
        at += timedelta(days=1)
    return at


def hours_late(promised_at: datetime, promise_by: datetime | None) -> float:
    """Hours past the requested promise (0 when on time or when nothing was requested)."""
    if promise_by is None or promised_at <= promise_by:
        return 0.0
    return (promised_at - promise_by).total_seconds() / 3600.0


def scheduled_arrival(store: Node, ready: datetime, lead_time_hours: float) -> datetime | None:
    """When units ready at the home DC at `ready` reach `store` on its scheduled delivery: the
    first delivery day (every `replenishment_days` days from `delivery_epoch`) whose truck,
    leaving `lead_time_hours` before the store opens that day, departs after `ready`; the
    units are at the counter when the store next opens. None without a known schedule."""
    if store.delivery_epoch is None or store.replenishment_days <= 0:
        return None
    local = ready.astimezone(WARSAW)
    cycle = store.replenishment_days
    day = local.date()
    day += timedelta(days=(store.delivery_epoch - day).days % cycle)
    for _ in range(MAX_DAYS_AHEAD):
        opens = datetime.combine(day, time(), WARSAW) + timedelta(hours=store.opens_at_hour)
        if opens - timedelta(hours=lead_time_hours) >= local:
            return ready_at(store, opens, 0.0)
        day += timedelta(days=cycle)
    return None
