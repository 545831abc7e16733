"""`GET /v1/plans/...`: what a planner reads back after `omni plan`, and the problems."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from api_helpers import ADMIN, OMS, PLANNER
from fastapi.testclient import TestClient
from planning_setup import PEAK, PLAN_AS_OF, YEAR
from sqlalchemy import Engine, update

from api.db.tables import Transfer
from api.services.planning import plan_peak_transfers, plan_store_reservations
from forecasting.calendar import peak_window


def test_plans_need_a_planner_or_admin_key(client: TestClient) -> None:
    for path in ("/v1/plans/reservations/S001", f"/v1/plans/transfers?peak={PEAK}"):
        missing = client.get(path)
        assert missing.status_code == 401
        assert missing.headers["content-type"] == "application/problem+json"
        forbidden = client.get(path, headers=OMS)
        assert forbidden.status_code == 403
        assert forbidden.json()["needed_scopes"] == ["admin", "planner"]
        assert client.get(path, headers=ADMIN).status_code == 200


def test_unknown_store_is_a_404_problem_and_a_store_without_plan_says_so(
    client: TestClient,
) -> None:
    for unknown in ("S999", "DC-STRYKOW"):
        response = client.get(f"/v1/plans/reservations/{unknown}", headers=PLANNER)
        assert response.status_code == 404
        assert response.json()["type"] == "/problems/unknown-store"
    empty = client.get("/v1/plans/reservations/S001", headers=PLANNER).json()
    assert empty["plan_exists"] is False
    assert empty["lines"] == []


def test_the_latest_reservation_plan_of_a_store_keeps_stock_for_walk_in(
    client: TestClient, loaded_engine: Engine
) -> None:
    plan_store_reservations(loaded_engine, PLAN_AS_OF)
    newest = plan_store_reservations(loaded_engine, PLAN_AS_OF)
    body = client.get("/v1/plans/reservations/S001", headers=PLANNER).json()
    assert body["plan_exists"] is True
    assert body["plan_id"] == newest.plan_id
    assert body["policy"] == "critical_ratio"
    lines = {line["sku"]: line for line in body["lines"]}
    assert set(lines) == {"JACKET", "PHONE", "SCARF", "LAST"}
    for line in lines.values():
        assert 0 <= line["safety_stock"] <= line["on_hand"]
        free = line["on_hand"] - line["reserved"] - line["safety_stock"]
        assert line["promisable_online"] == max(free, 0)
        assert line["service_level"] is None
    # S001 sells a jacket every day: some jackets are kept back for walk-in customers.
    assert lines["JACKET"]["safety_stock"] > 0
    assert 0 < lines["JACKET"]["critical_ratio"] < 1


def test_an_unknown_peak_is_a_422_problem_naming_the_parameter(client: TestClient) -> None:
    response = client.get("/v1/plans/transfers?peak=easter", headers=PLANNER)
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "/problems/invalid-input"
    assert body["errors"][0]["parameter"] == "peak"


def test_the_transfer_plan_arrives_before_the_peak_and_follows_its_status(
    client: TestClient, loaded_engine: Engine, tmp_path: Path
) -> None:
    url = f"/v1/plans/transfers?peak={PEAK}&year={YEAR}"
    assert client.get(url, headers=PLANNER).json()["plan_exists"] is False
    summary = plan_peak_transfers(loaded_engine, PEAK, YEAR, PLAN_AS_OF, 10.0,
                                  reports_dir=tmp_path)
    body = client.get(url, headers=PLANNER).json()
    assert body["plan_id"] == summary.plan_id
    assert body["status"] == "proposed"
    assert body["units_moved"] == summary.plan.units_moved > 0
    assert body["total_transfers"] == len(body["transfers"]) == len(summary.plan.transfers)
    assert abs(body["expected_gain_pln"] - summary.plan.expected_gain_pln) < 0.01
    assert body["report_dir"] == str(tmp_path / summary.plan_id)
    start = peak_window(PEAK, YEAR).start
    assert body["peak_start"] == start.isoformat()
    opening = datetime.combine(start, time(0, 0), tzinfo=ZoneInfo("Europe/Warsaw"))
    for transfer in body["transfers"]:
        arrive = datetime.fromisoformat(transfer["arrive_by"])
        assert arrive <= opening  # in the store before the peak's first day opens
        assert datetime.fromisoformat(transfer["ship_by"]) < arrive
        assert transfer["qty"] > 0 and transfer["from_node"] != transfer["to_node"]
    # Units are conserved: every unit moved leaves one node and reaches another.
    assert sum(t["qty"] for t in body["transfers"]) == body["units_moved"]
    # No plan of another year; none approved until a planner approves it.
    assert client.get(f"/v1/plans/transfers?peak={PEAK}&year=2030",
                      headers=PLANNER).json()["plan_exists"] is False
    approved = client.get(url + "&status=approved", headers=PLANNER).json()
    assert approved["plan_exists"] is False
    with loaded_engine.begin() as conn:
        conn.execute(update(Transfer).where(Transfer.plan_id == summary.plan_id)
                     .values(status="approved"))
    approved = client.get(url + "&status=approved", headers=PLANNER).json()
    assert approved["plan_id"] == summary.plan_id and approved["status"] == "approved"


def test_a_feed_that_changes_the_safety_stock_shows_beside_the_plan_in_force(
    client: TestClient, loaded_engine: Engine
) -> None:
    """A stock count may carry its own safety_stock: the approved plan's units stay on show,
    and what is promisable is what the allocator sees (it read the plan's: 18 promisable where
    the OMS was offered 20)."""
    plan_store_reservations(loaded_engine, PLAN_AS_OF)
    before = client.get("/v1/plans/reservations/S001", headers=PLANNER).json()
    jacket = next(line for line in before["lines"] if line["sku"] == "JACKET")
    assert jacket["safety_stock"] > 0 and jacket["safety_stock_now"] == jacket["safety_stock"]
    count = {"version": 99, "items": [{"node_id": "S001", "sku": "JACKET",
                                       "on_hand": jacket["on_hand"], "safety_stock": 0}]}
    assert client.put("/v1/stock", json=count, headers=PLANNER).status_code == 200
    after = client.get("/v1/plans/reservations/S001", headers=PLANNER).json()
    line = next(line for line in after["lines"] if line["sku"] == "JACKET")
    assert (line["safety_stock"], line["safety_stock_now"]) == (jacket["safety_stock"], 0)
    assert line["promisable_online"] == line["on_hand"] - line["reserved"]


def test_the_reservation_plan_read_back_is_the_one_in_force_not_a_proposal(
    client: TestClient, loaded_engine: Engine
) -> None:
    """A console proposal awaiting approval changes nothing the allocator sees; reading it
    back as the store's plan would promise online what the store still keeps back."""
    from api.console.actions import run_reservation_plan

    applied = plan_store_reservations(loaded_engine, PLAN_AS_OF)
    proposed = run_reservation_plan(loaded_engine, PLAN_AS_OF)
    in_force = client.get("/v1/plans/reservations/S001", headers=PLANNER).json()
    assert in_force["plan_id"] == applied.plan_id and in_force["status"] == "approved"
    waiting = client.get("/v1/plans/reservations/S001?status=proposed", headers=PLANNER).json()
    assert waiting["plan_id"] == proposed.run_id and waiting["status"] == "proposed"
    bad = client.get("/v1/plans/reservations/S001?status=draft", headers=PLANNER)
    assert bad.status_code == 422
