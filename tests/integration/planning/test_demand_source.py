"""Each plan says where its daily demand came from: the latest forecast run when it covers
every day planned, else the flat walk-in demand rates (no peak uplift, no online demand), and
the planner reads which in the CLI, the console, the plan's record and `GET /v1/plans/...`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from api_helpers import PLANNER
from fastapi.testclient import TestClient
from planning_setup import PEAK, PLAN_AS_OF, YEAR, record_forecast_run
from sqlalchemy import Engine, func, select

from allocation.planning import PlanningInputError
from api.db.tables import SafetyStockPlan
from api.services.planning import plan_peak_transfers, plan_store_reservations

TRANSFERS = f"/v1/plans/transfers?peak={PEAK}&year={YEAR}"


def test_a_plan_before_any_forecast_run_says_it_rests_on_the_flat_rates(
    client: TestClient, loaded_engine: Engine, tmp_path: Path
) -> None:
    reservations = plan_store_reservations(loaded_engine, PLAN_AS_OF)
    transfers = plan_peak_transfers(loaded_engine, PEAK, YEAR, PLAN_AS_OF, 10.0,
                                    reports_dir=tmp_path)
    for source in (reservations.demand_source, transfers.demand_source):
        assert source.startswith("walk-in demand rates, flat, without peak uplift")
        assert "no forecast run has succeeded yet" in source
    assert "reaches 2026-12-24" in transfers.demand_source  # the peak's last day
    stored = client.get("/v1/plans/reservations/S001", headers=PLANNER).json()
    assert stored["demand_source"] == reservations.demand_source
    assert client.get(TRANSFERS, headers=PLANNER).json()["demand_source"] == (
        transfers.demand_source)


def test_a_plan_names_the_forecast_run_it_planned_from(
    client: TestClient, loaded_engine: Engine, tmp_path: Path
) -> None:
    record_forecast_run(loaded_engine, "forecast_weekly-20261108T0600Z-a", 1.0, 0.0)
    reservations = plan_store_reservations(loaded_engine, PLAN_AS_OF)
    transfers = plan_peak_transfers(loaded_engine, PEAK, YEAR, PLAN_AS_OF, 10.0,
                                    reports_dir=tmp_path)
    assert reservations.demand_source.startswith(
        "forecast run forecast_weekly-20261108T0600Z-a (2026-11-09 .. ")
    assert transfers.demand_source == (
        "forecast run forecast_weekly-20261108T0600Z-a (2026-12-01 .. 2026-12-24)")
    assert client.get(TRANSFERS, headers=PLANNER).json()["demand_source"] == (
        transfers.demand_source)


def test_a_run_that_misses_some_planned_days_is_not_used_for_the_others(
    loaded_engine: Engine, tmp_path: Path
) -> None:
    """Summing only the days the run holds would plan short of the missing days' demand: a
    peak past the run's end, or reservations from before the run's first day."""
    record_forecast_run(loaded_engine, "forecast_weekly-20261108T0600Z-a", 1.0, 0.0, days=30,
                        first_day=PLAN_AS_OF + timedelta(days=3))
    reservations = plan_store_reservations(loaded_engine, PLAN_AS_OF)
    transfers = plan_peak_transfers(loaded_engine, PEAK, YEAR, PLAN_AS_OF, 10.0,
                                    reports_dir=tmp_path)
    assert reservations.demand_source.startswith("walk-in demand rates")
    assert "covers only 2026-11-11 .. " in reservations.demand_source
    assert "walk-in demand rates" in transfers.demand_source
    assert ("the latest forecast run forecast_weekly-20261108T0600Z-a covers only "
            "2026-12-01 .. 2026-12-10 of these days") in transfers.demand_source


def test_reservations_as_of_a_day_before_the_last_sales_are_refused(
    loaded_engine: Engine,
) -> None:
    """The stock on hand already reflects those sales: a plan as of 1990 (or last week) would
    overwrite today's safety stock from demand of days already past."""
    with pytest.raises(PlanningInputError, match="lies before the last day with recorded "
                       "sales"):
        plan_store_reservations(loaded_engine, PLAN_AS_OF - timedelta(days=1))
    with loaded_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SafetyStockPlan)).scalar_one() == 0
