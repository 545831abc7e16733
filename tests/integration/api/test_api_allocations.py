"""POST /v1/allocations and the order life cycle, through the app and a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api_helpers import OMS, order, stock_row, total_reserved
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.services.lifecycle import expire_due_holds


def test_an_order_is_sourced_and_its_stock_reserved(
    client: TestClient, loaded_engine: Engine
) -> None:
    answer = client.post("/v1/allocations", json=order("O-1", qty=2), headers=OMS)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["order_id"] == "O-1" and body["state"] == "allocated"
    (line,) = body["lines"]
    assert {"line_id", "sku", "qty", "node_id", "method", "promised_at", "cost_pln"} <= set(line)
    assert line["qty"] == 2 and line["sku"] == "JACKET"
    assert {"parcels", "total_cost_pln", "solve_ms", "explanation"} <= set(body)
    assert stock_row(loaded_engine, line["node_id"], "JACKET")[1] == 2


def test_the_same_order_again_replays_the_decision_and_reserves_nothing_more(
    client: TestClient, loaded_engine: Engine
) -> None:
    first = client.post("/v1/allocations", json=order("O-2", qty=3), headers=OMS)
    again = client.post("/v1/allocations", json=order("O-2", qty=3, deadline_ms=7), headers=OMS)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert total_reserved(loaded_engine) == 3


def test_a_retry_that_spells_out_the_defaults_replays_the_order(
    client: TestClient, loaded_engine: Engine
) -> None:
    """The default max_parcels sent explicitly, allow_partial false, a null field: the same
    order as before (the explicit max_parcels used to be a 409 order-id-reused)."""
    first = client.post("/v1/allocations", json=order("O-DEF", qty=2), headers=OMS)
    spelled = order("O-DEF", qty=2, max_parcels=3, allow_partial=False, promise_by=None)
    again = client.post("/v1/allocations", json=spelled, headers=OMS)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json() == first.json()
    other = client.post("/v1/allocations", json=order("O-DEF", qty=2, max_parcels=2),
                        headers=OMS)
    assert other.status_code == 409 and other.json()["type"].endswith("/order-id-reused")
    assert total_reserved(loaded_engine) == 2


def test_a_different_payload_under_a_used_order_id_is_a_conflict(client: TestClient) -> None:
    assert client.post("/v1/allocations", json=order("O-3"), headers=OMS).status_code == 201
    clash = client.post("/v1/allocations", json=order("O-3", qty=2), headers=OMS)
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    assert clash.json()["type"].endswith("/order-id-reused")


def test_without_enough_stock_the_answer_names_the_short_line_and_nothing_is_reserved(
    client: TestClient, loaded_engine: Engine
) -> None:
    body = order("O-4", sku="PHONE", qty=1)
    body["lines"] = [{"line_id": "a", "sku": "SCARF", "qty": 1},
                     {"line_id": "b", "sku": "LAST", "qty": 4}]
    answer = client.post("/v1/allocations", json=body, headers=OMS)
    assert answer.status_code == 409
    problem = answer.json()
    assert problem["status"] == 409 and problem["type"].endswith("/out-of-stock")
    assert [s["line_id"] for s in problem["short_lines"]] == ["b"]
    assert problem["short_lines"][0]["available"] == 3
    assert total_reserved(loaded_engine) == 0


def test_allow_partial_serves_what_it_can_and_marks_the_rest_unfulfilled(
    client: TestClient, loaded_engine: Engine
) -> None:
    body = order("O-5", allow_partial=True)
    body["lines"] = [{"line_id": "a", "sku": "SCARF", "qty": 1},
                     {"line_id": "b", "sku": "LAST", "qty": 4}]
    answer = client.post("/v1/allocations", json=body, headers=OMS)
    assert answer.status_code == 201, answer.text
    status = {line["line_id"]: line["status"] for line in answer.json()["lines"]}
    assert status == {"a": "allocated", "b": "unfulfilled"}
    assert answer.json()["state"] == "partial"
    assert total_reserved(loaded_engine) == 1


def test_cancel_releases_and_ship_consumes(client: TestClient, loaded_engine: Engine) -> None:
    placed = client.post("/v1/allocations", json=order("O-6", qty=2), headers=OMS).json()
    node = placed["lines"][0]["node_id"]
    on_hand, reserved = stock_row(loaded_engine, node, "JACKET")
    cancelled = client.post("/v1/allocations/O-6/cancel", headers=OMS)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert stock_row(loaded_engine, node, "JACKET") == (on_hand, reserved - 2)
    assert client.post("/v1/allocations/O-6/cancel", headers=OMS).status_code == 200

    client.post("/v1/allocations", json=order("O-7", qty=2), headers=OMS)
    shipped = client.post("/v1/allocations/O-7/ship", headers=OMS)
    assert shipped.status_code == 200 and shipped.json()["state"] == "shipped"
    assert stock_row(loaded_engine, node, "JACKET") == (on_hand - 2, reserved - 2)
    late_cancel = client.post("/v1/allocations/O-7/cancel", headers=OMS)
    assert late_cancel.status_code == 409
    assert stock_row(loaded_engine, node, "JACKET") == (on_hand - 2, reserved - 2)


def test_an_unknown_order_is_a_404_problem(client: TestClient) -> None:
    answer = client.post("/v1/allocations/NOPE/ship", headers=OMS)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["instance"] == "/v1/allocations/NOPE/ship"


def test_click_and_collect_holds_expire_and_release_themselves(
    client: TestClient, loaded_engine: Engine
) -> None:
    body = {
        "order_id": "CC-1", "fulfilment": "click_and_collect", "pickup_store_id": "S001",
        "lines": [{"line_id": "1", "sku": "SCARF", "qty": 2}],
    }
    placed = client.post("/v1/allocations", json=body, headers=OMS)
    assert placed.status_code == 201, placed.text
    expires_at = datetime.fromisoformat(placed.json()["expires_at"])
    assert total_reserved(loaded_engine) == 2
    assert expire_due_holds(loaded_engine, expires_at - timedelta(minutes=1)) == 0
    assert expire_due_holds(loaded_engine, expires_at + timedelta(minutes=1)) == 1
    assert total_reserved(loaded_engine) == 0
    read = client.get("/v1/allocations/CC-1", headers=OMS)
    assert read.json()["state"] == "expired"
    assert client.post("/v1/allocations/CC-1/ship", headers=OMS).status_code == 409
    assert expires_at > datetime.now(UTC)


def test_a_locker_order_sent_with_only_an_address_names_the_nearest_locker(
    client: TestClient,
) -> None:
    """The answer said neither which locker nor priced the parcel to one (second outside
    trial); an order sent with a locker keeps it."""
    to_krakow = client.post("/v1/allocations", headers=OMS, json={
        "order_id": "L-ADDR", "fulfilment": "parcel_locker",
        "destination": {"postcode": "30-001"},
        "lines": [{"line_id": "1", "sku": "SCARF", "qty": 1}]})
    assert to_krakow.status_code == 201, to_krakow.text
    chosen = to_krakow.json()["locker_id"]
    assert chosen == "WAW01"  # the small chain's one locker: nearest, however far
    assert client.get("/v1/allocations/L-ADDR", headers=OMS).json()["locker_id"] == chosen
    named = client.post("/v1/allocations", headers=OMS, json={
        "order_id": "L-NAMED", "fulfilment": "parcel_locker", "locker_id": chosen,
        "lines": [{"line_id": "1", "sku": "SCARF", "qty": 1}]})
    assert named.json()["locker_id"] == chosen
    assert named.json()["total_cost_pln"] == to_krakow.json()["total_cost_pln"]
    home = client.post("/v1/allocations", json=order("H-1"), headers=OMS).json()
    assert home["locker_id"] is None
