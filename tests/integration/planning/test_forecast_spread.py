"""The safety-stock plan takes its spread from the latest forecast run: each day's stored
variance-to-mean ratio and the run's level shock, with the policy default for older runs."""

from __future__ import annotations

from planning_setup import PLAN_AS_OF, record_forecast_run
from sqlalchemy import Engine, select

from allocation.planning import ReservationPolicy
from api.console import actions
from api.db.tables import SafetyStockPlan, Stock
from api.services.planning import plan_store_reservations


def test_the_latest_runs_ratio_and_level_shock_set_the_safety_stock(
    loaded_engine: Engine,
) -> None:
    with loaded_engine.begin() as conn:  # plenty on the shelves, so no plan is capped by stock
        conn.execute(Stock.__table__.update().values(on_hand=500))
    # a 95 % service level: a wider distribution of demand means more units kept
    policy = ReservationPolicy(kind="service_level", default_service_level=0.95)
    record_forecast_run(loaded_engine, "forecast_weekly-1-old", None, None)
    default = plan_store_reservations(loaded_engine, PLAN_AS_OF, policy)
    record_forecast_run(loaded_engine, "forecast_weekly-2-poisson", 1.0, 0.0)
    poisson = plan_store_reservations(loaded_engine, PLAN_AS_OF, policy)
    record_forecast_run(loaded_engine, "forecast_weekly-3-shock", 1.0, 0.3)
    shocked = plan_store_reservations(loaded_engine, PLAN_AS_OF, policy)

    # a run without ratios takes the default 1.5; Poisson days keep less; a shared level
    # error of variance 0.3 keeps more than either
    assert default.rows == poisson.rows == shocked.rows > 0
    assert poisson.safety_units < default.safety_units < shocked.safety_units


def test_a_console_run_newer_than_the_weekly_batch_is_the_one_planned_from(
    loaded_engine: Engine,
) -> None:
    """Run ids of the two kinds do not sort by time against each other ("forecast_weekly-..."
    sorts after "forecast-..."): the newest is the one started last."""
    with loaded_engine.begin() as conn:
        conn.execute(Stock.__table__.update().values(on_hand=500))
    policy = ReservationPolicy(kind="service_level", default_service_level=0.95)
    record_forecast_run(loaded_engine, "forecast_weekly-20261108T0600Z-a", 1.0, 0.0)
    weekly = plan_store_reservations(loaded_engine, PLAN_AS_OF, policy)
    record_forecast_run(loaded_engine, "forecast-20261108T0700Z-b", 1.0, 0.3, kind="forecast")
    console = plan_store_reservations(loaded_engine, PLAN_AS_OF, policy)
    assert console.safety_units > weekly.safety_units


def test_the_console_proposes_the_plan_the_cli_applies(loaded_engine: Engine) -> None:
    """The console's button and `omni plan reservations` read stock, forecast, dispersion and
    level shock the same way: the same safety stock for every store x SKU."""
    record_forecast_run(loaded_engine, "forecast_weekly-20261108T0600Z-a", 1.3, 0.2)
    proposed = actions.run_reservation_plan(loaded_engine, PLAN_AS_OF)
    applied = plan_store_reservations(loaded_engine, PLAN_AS_OF)
    with loaded_engine.connect() as conn:
        rows = select(SafetyStockPlan.node_id, SafetyStockPlan.sku, SafetyStockPlan.safety_stock)
        plans = {
            plan_id: {(node, sku): units for node, sku, units in conn.execute(
                rows.where(SafetyStockPlan.plan_id == plan_id)).all()}
            for plan_id in (proposed.run_id, applied.plan_id)
        }
    assert len(plans[proposed.run_id]) == applied.rows > 0
    assert plans[proposed.run_id] == plans[applied.plan_id]
    assert sum(plans[proposed.run_id].values()) == applied.safety_units > 0
