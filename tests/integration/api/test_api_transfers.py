"""Approved transfers hold their units at the sender (api.services.transfer_holds) and the
sender's dispatch takes them off its shelf (`POST /v1/transfers/{id}/ship`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api_helpers import OMS, PLANNER, order, stock_row
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from api.db.stock import expire_holds, reserve
from api.db.tables import BatchRun, Transfer
from api.services.errors import Conflict
from api.services.network import REBALANCE_RUN_KIND
from api.services.transfer_holds import (
    HOLD_AHEAD,
    approve_transfer_plan,
    hold_due_transfers,
    ship_transfer,
)

NOW = datetime.now(UTC)


def propose(engine: Engine, plan_id: str, *moves: tuple[str, str, int],
            ship_by: datetime | None = None) -> list[int]:
    """Proposed transfers of `plan_id` to S002 (as the rebalancing plan writes them)."""
    leave = ship_by or NOW + timedelta(days=5)
    with engine.begin() as conn:
        return [conn.execute(insert(Transfer).values(
            plan_id=plan_id, peak="christmas", from_node=node, to_node="S002", sku=sku, qty=qty,
            arrive_by=leave + timedelta(days=1), ship_by=leave, cost_pln=10.0, status="proposed",
        ).returning(Transfer.transfer_id)).scalar_one() for node, sku, qty in moves]


def statuses(engine: Engine, plan_id: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(Transfer.status).where(Transfer.plan_id == plan_id))
                   .scalars())


def test_approving_a_plan_holds_its_units_where_orders_cannot_take_them(
    client: TestClient, loaded_engine: Engine
) -> None:
    """The outside trial's case: approved units left a DC, then an online order took them."""
    ids = propose(loaded_engine, "P-HOLD", ("DC-STRYKOW", "PHONE", 78), ("S001", "PHONE", 1))
    approved = approve_transfer_plan(loaded_engine, "P-HOLD")
    assert (approved.transfers, approved.units_held) == (2, 79)
    assert statuses(loaded_engine, "P-HOLD") == {"approved"}
    assert stock_row(loaded_engine, "DC-STRYKOW", "PHONE") == (80, 78)
    # 80 + 3 + 1 phones in the chain, 79 held: an order for 6 finds 5 at most
    wants_six = client.post("/v1/allocations", json=order("O-PH", sku="PHONE", qty=6),
                            headers=OMS)
    assert wants_six.status_code == 409, wants_six.text
    assert wants_six.json()["type"].endswith("/out-of-stock")
    with pytest.raises(Conflict, match="no proposed transfers"):
        approve_transfer_plan(loaded_engine, "P-HOLD")
    # an OMS order named like a transfer, cancelled, releases its own units only
    look_alike = order(f"transfer-{ids[0]}", sku="PHONE", qty=1)
    assert client.post("/v1/allocations", json=look_alike, headers=OMS).status_code == 201
    assert client.post(f"/v1/allocations/transfer-{ids[0]}/cancel",
                       headers=OMS).status_code == 200
    assert stock_row(loaded_engine, "DC-STRYKOW", "PHONE")[1] == 78


def test_a_plan_whose_senders_lack_the_units_is_refused_whole(loaded_engine: Engine) -> None:
    propose(loaded_engine, "P-SHORT", ("DC-STRYKOW", "JACKET", 10), ("S001", "LAST", 2))
    with pytest.raises(Conflict, match=r"1 transfers .*2 x LAST from S001: 1 available"):
        approve_transfer_plan(loaded_engine, "P-SHORT")
    assert statuses(loaded_engine, "P-SHORT") == {"proposed"}
    assert stock_row(loaded_engine, "DC-STRYKOW", "JACKET") == (500, 0)


def test_the_dispatch_takes_the_held_units_off_the_shelf_once(
    client: TestClient, loaded_engine: Engine
) -> None:
    (transfer,) = propose(loaded_engine, "P-SHIP", ("DC-STRYKOW", "JACKET", 40))
    url = f"/v1/transfers/{transfer}/ship"
    assert client.post(url, headers=OMS).json()["type"].endswith("/transfer-proposed")
    approve_transfer_plan(loaded_engine, "P-SHIP")
    shipped = client.post(url, headers=OMS)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json() == {"transfer_id": transfer, "from_node": "DC-STRYKOW",
                              "to_node": "S002", "sku": "JACKET", "qty": 40, "state": "shipped"}
    assert stock_row(loaded_engine, "DC-STRYKOW", "JACKET") == (460, 0)
    again = client.post(url, headers=OMS)
    assert again.status_code == 200 and again.json() == shipped.json()
    assert stock_row(loaded_engine, "DC-STRYKOW", "JACKET") == (460, 0)
    unknown = client.post("/v1/transfers/999999/ship", headers=OMS)
    assert unknown.status_code == 404 and unknown.json()["type"] == "/problems/unknown-transfer"


def test_a_hold_never_dispatched_lapses_and_a_late_dispatch_still_ships(
    loaded_engine: Engine,
) -> None:
    (transfer,) = propose(loaded_engine, "P-LATE", ("DC-STRYKOW", "SCARF", 30),
                          ship_by=NOW + timedelta(hours=1))
    approve_transfer_plan(loaded_engine, "P-LATE")
    assert stock_row(loaded_engine, "DC-STRYKOW", "SCARF") == (900, 30)
    with loaded_engine.begin() as conn:
        expire_holds(conn, NOW + timedelta(days=1, hours=2))
    assert stock_row(loaded_engine, "DC-STRYKOW", "SCARF") == (900, 0)  # given back
    # the warehouse confirms it left after all: the units are off the shelf
    late = ship_transfer(loaded_engine, transfer, now=NOW + timedelta(days=2))
    assert late.state == "shipped"
    assert stock_row(loaded_engine, "DC-STRYKOW", "SCARF") == (870, 0)


def test_a_plan_months_ahead_holds_nothing_until_a_week_before_ship_by(
    loaded_engine: Engine,
) -> None:
    """A second trial approved a Back-to-School plan in November: the DCs' stock was frozen
    for nine months. Holds start HOLD_AHEAD before ship-by, placed by the server's sweep."""
    leave = NOW + timedelta(days=60)
    (transfer,) = propose(loaded_engine, "P-AHEAD", ("DC-STRYKOW", "JACKET", 100), ship_by=leave)
    approved = approve_transfer_plan(loaded_engine, "P-AHEAD")
    assert (approved.units_held, approved.scheduled) == (0, 1)
    assert "held from 7 days before their ship-by" in approved.describe()
    assert hold_due_transfers(loaded_engine, NOW) == 0
    assert stock_row(loaded_engine, "DC-STRYKOW", "JACKET") == (500, 0)
    week_before = leave - HOLD_AHEAD + timedelta(minutes=1)
    assert hold_due_transfers(loaded_engine, week_before) == 100
    assert hold_due_transfers(loaded_engine, week_before) == 0  # held once
    assert stock_row(loaded_engine, "DC-STRYKOW", "JACKET") == (500, 100)
    assert ship_transfer(loaded_engine, transfer, now=leave).state == "shipped"
    assert stock_row(loaded_engine, "DC-STRYKOW", "JACKET") == (400, 0)


def test_an_early_dispatch_without_stock_on_the_books_is_refused(loaded_engine: Engine) -> None:
    (transfer,) = propose(loaded_engine, "P-EARLY", ("S001", "LAST", 1),
                          ship_by=NOW + timedelta(days=30))
    approve_transfer_plan(loaded_engine, "P-EARLY")
    with loaded_engine.begin() as conn:
        reserve(conn, "someone", [("S001", "LAST", 1)])
    with pytest.raises(Conflict, match="0 of its 1 units free") as short:
        ship_transfer(loaded_engine, transfer)
    assert short.value.reason == "transfer-short"


def test_approving_transfers_long_past_their_ship_by_holds_nothing_for_them(
    loaded_engine: Engine,
) -> None:
    """A plan replayed on a past business day, or approved weeks late: approved as the planner
    asked, without a hold that would only block orders until the next sweep."""
    propose(loaded_engine, "P-OLD", ("DC-STRYKOW", "SCARF", 30), ship_by=NOW - timedelta(days=2))
    approved = approve_transfer_plan(loaded_engine, "P-OLD")
    assert (approved.lapsed, approved.units_held) == (1, 0)
    assert "nothing is held for them" in approved.describe()
    assert stock_row(loaded_engine, "DC-STRYKOW", "SCARF") == (900, 0)


def test_the_transfer_plan_read_back_says_where_each_hold_stands(
    client: TestClient, loaded_engine: Engine
) -> None:
    plan = "rebalance-christmas-2026-holds"
    with loaded_engine.begin() as conn:
        conn.execute(insert(BatchRun).values(
            run_id=plan, kind=REBALANCE_RUN_KIND, started_at=NOW, finished_at=NOW,
            status="succeeded", model="lp", params={"year": 2026}))
    shipped, held = propose(loaded_engine, plan, ("DC-STRYKOW", "JACKET", 50),
                            ("DC-STRYKOW", "SCARF", 20))
    url = "/v1/plans/transfers?peak=christmas"
    before = client.get(url, headers=PLANNER).json()
    assert {t["hold"] for t in before["transfers"]} == {"proposed"}
    approve_transfer_plan(loaded_engine, plan)
    ship_transfer(loaded_engine, shipped)
    after = {t["transfer_id"]: t["hold"]
             for t in client.get(url, headers=PLANNER).json()["transfers"]}
    assert after == {shipped: "shipped", held: "held"}
