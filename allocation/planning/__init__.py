"""Planning: how much store stock to keep back for walk-in customers, and which transfers to
make before a peak. Pure: plain frames in, plain values out (no database, no web, no plots)."""

from allocation.planning.errors import PlanningInputError
from allocation.planning.rebalance import (
    RebalancePlan,
    RebalanceSettings,
    plan_proportional_transfers,
    plan_transfers,
)
from allocation.planning.reservation import ReservationPolicy, plan_reservations

__all__ = [
    "PlanningInputError",
    "RebalancePlan",
    "RebalanceSettings",
    "ReservationPolicy",
    "plan_proportional_transfers",
    "plan_reservations",
    "plan_transfers",
]
