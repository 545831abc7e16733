"""Stock feeds (versioned snapshots, movements) and "available in a store near you"."""

from __future__ import annotations

from typing import Any

from api_helpers import OMS, PLANNER, stock_row
from fastapi.testclient import TestClient
from sqlalchemy import Engine


def snapshot(version: int, on_hand: int, node: str = "S002", sku: str = "PHONE") -> Any:
    return {"version": version, "items": [{"node_id": node, "sku": sku, "on_hand": on_hand}]}


def test_a_newer_snapshot_applies_and_an_older_one_is_refused(
    client: TestClient, loaded_engine: Engine
) -> None:
    applied = client.put("/v1/stock", json=snapshot(5, 7), headers=PLANNER)
    assert applied.status_code == 200, applied.text
    assert applied.json() == {"version": 5, "applied": 1, "unchanged": 0}
    assert stock_row(loaded_engine, "S002", "PHONE") == (7, 0)
    stale = client.put("/v1/stock", json=snapshot(4, 1), headers=PLANNER)
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["type"].endswith("/stale-snapshot")
    assert stock_row(loaded_engine, "S002", "PHONE") == (7, 0)
    repeat = client.put("/v1/stock", json=snapshot(5, 7), headers=PLANNER)
    assert repeat.json()["unchanged"] == 1


def test_a_count_with_its_moment_keeps_later_sales_and_skips_earlier_ones(
    client: TestClient, loaded_engine: Engine
) -> None:
    """The outside trial's case: a count of 10, then sales dated before it arrive. They are in
    the count already (they were subtracted again: on hand 4)."""
    def sale(movement_id: str, qty: int, at: str) -> dict[str, object]:
        return {"movement_id": movement_id, "node_id": "S001", "sku": "SCARF", "kind": "sale",
                "qty": qty, "occurred_at": at}

    posted = client.post("/v1/stock/movements", headers=OMS, json={"movements": [
        sale("after-count", 1, "2026-12-01T09:30:00+01:00")]})
    assert posted.status_code == 200, posted.text
    count = {**snapshot(5, 10, node="S001", sku="SCARF"),
             "counted_at": "2026-12-01T09:00:00+01:00"}
    applied = client.put("/v1/stock", json=count, headers=PLANNER)
    assert applied.status_code == 200, applied.text
    assert stock_row(loaded_engine, "S001", "SCARF") == (9, 0)
    late = client.post("/v1/stock/movements", headers=OMS, json={"movements": [
        sale("before-count", 2, "2026-12-01T08:00:00+01:00"),
        sale("long-before", 4, "2025-01-01T12:00:00+01:00")]})
    assert late.json() == {"applied": 0, "duplicates": 0, "already_counted": 2}
    assert stock_row(loaded_engine, "S001", "SCARF") == (9, 0)


def test_a_snapshot_for_an_unknown_node_is_a_404(client: TestClient) -> None:
    answer = client.put("/v1/stock", json=snapshot(1, 3, node="S999"), headers=PLANNER)
    assert answer.status_code == 404


def test_movements_change_on_hand_once_even_when_repeated(
    client: TestClient, loaded_engine: Engine
) -> None:
    batch = {"movements": [
        {"movement_id": "m1", "node_id": "S001", "sku": "SCARF", "kind": "sale", "qty": 2,
         "occurred_at": "2026-11-08T12:00:00+01:00"},
        {"movement_id": "m2", "node_id": "S001", "sku": "SCARF", "kind": "receipt", "qty": 5,
         "occurred_at": "2026-11-08T13:00:00+01:00"},
    ]}
    first = client.post("/v1/stock/movements", json=batch, headers=OMS)
    assert first.json() == {"applied": 2, "duplicates": 0, "already_counted": 0}
    again = client.post("/v1/stock/movements", json=batch, headers=OMS)
    assert again.json() == {"applied": 0, "duplicates": 2, "already_counted": 0}
    assert stock_row(loaded_engine, "S001", "SCARF") == (13, 0)


def test_a_movement_id_reused_for_another_movement_is_refused_and_nothing_applied(
    client: TestClient, loaded_engine: Engine
) -> None:
    """Skipping it as a retry would lose five received scarves without a word."""
    sale = {"movement_id": "m1", "node_id": "S001", "sku": "SCARF", "kind": "sale", "qty": 2,
            "occurred_at": "2026-11-08T12:00:00+01:00"}
    assert client.post("/v1/stock/movements", json={"movements": [sale]},
                       headers=OMS).json() == {"applied": 1, "duplicates": 0, "already_counted": 0}
    same_instant = {**sale, "occurred_at": "2026-11-08T11:00:00Z"}  # a retry, written in UTC
    new = {"movement_id": "m3", "node_id": "S001", "sku": "PHONE", "kind": "receipt", "qty": 1,
           "occurred_at": "2026-11-08T14:00:00Z"}
    reused = {**sale, "kind": "receipt", "qty": 5}
    answer = client.post("/v1/stock/movements", json={"movements": [same_instant, new, reused]},
                         headers=OMS)
    assert answer.status_code == 409, answer.text
    problem = answer.json()
    assert problem["type"].endswith("/movement-id-reused")
    assert problem["movements"] == [{
        "movement_id": "m1",
        "recorded": "a sale of 2 × SCARF at S001 at 2026-11-08T11:00:00+00:00",
        "sent": "a receipt of 5 × SCARF at S001 at 2026-11-08T11:00:00+00:00",
    }]
    assert stock_row(loaded_engine, "S001", "SCARF") == (8, 0)
    assert stock_row(loaded_engine, "S001", "PHONE") == (3, 0)  # all or nothing
    retry = client.post("/v1/stock/movements", json={"movements": [same_instant, new]},
                        headers=OMS)
    assert retry.json() == {"applied": 1, "duplicates": 1, "already_counted": 0}


def test_two_movements_of_one_batch_under_one_id_are_refused_as_invalid_input(
    client: TestClient, loaded_engine: Engine
) -> None:
    """Nothing was recorded under the id yet, so it is the batch that is wrong (422 at the
    second), not a 409 saying the id 'was recorded as' the first; an exact repeat within the
    batch is still a harmless duplicate."""
    sale = {"movement_id": "m7", "node_id": "S001", "sku": "SCARF", "kind": "sale", "qty": 1,
            "occurred_at": "2026-11-08T12:00:00+01:00"}
    other = {**sale, "qty": 2}
    answer = client.post("/v1/stock/movements", json={"movements": [sale, other]}, headers=OMS)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["errors"][0]["pointer"] == "#/movements/1/movement_id"
    assert "also the id of movement 0 of this batch" in problem["errors"][0]["detail"]
    assert stock_row(loaded_engine, "S001", "SCARF") == (10, 0)
    same = client.post("/v1/stock/movements", json={"movements": [sale, sale]}, headers=OMS)
    assert same.json() == {"applied": 1, "duplicates": 1, "already_counted": 0}


def test_a_sale_below_the_reserved_units_is_refused(client: TestClient) -> None:
    assert client.post(
        "/v1/allocations",
        json={"order_id": "M-1", "fulfilment": "click_and_collect", "pickup_store_id": "S003",
              "lines": [{"line_id": "1", "sku": "JACKET", "qty": 2}]},
        headers=OMS,
    ).status_code == 201
    sale = {"movements": [{"movement_id": "m9", "node_id": "S003", "sku": "JACKET",
                           "kind": "sale", "qty": 1, "occurred_at": "2026-11-08T12:00:00Z"}]}
    answer = client.post("/v1/stock/movements", json=sale, headers=OMS)
    assert answer.status_code == 409 and answer.json()["type"].endswith("/below-reserved")
    # what to do about it: the orders holding the units are named
    assert answer.json()["rows"] == [{"node_id": "S003", "sku": "JACKET", "on_hand": 1,
                                      "reserved": 2, "held_by": ["M-1"], "holds": 1}]
    count = client.put("/v1/stock", headers=OMS, json={"version": 7, "items": [
        {"node_id": "S003", "sku": "JACKET", "on_hand": 0}]})
    assert count.status_code == 409 and count.json()["rows"][0]["held_by"] == ["M-1"]
    assert "re-source the orders holding them" in count.json()["detail"]


def test_a_sale_of_more_than_the_books_hold_asks_for_a_count(client: TestClient) -> None:
    """No order holds anything: re-sourcing orders cannot help, the books are short."""
    sale = {"movements": [{"movement_id": "m-big", "node_id": "S003", "sku": "SCARF",
                           "kind": "sale", "qty": 9, "occurred_at": "2026-11-08T12:00:00Z"}]}
    answer = client.post("/v1/stock/movements", json=sale, headers=OMS)
    assert answer.status_code == 409
    assert answer.json()["rows"][0]["holds"] == 0
    assert "send a count of the shelf" in answer.json()["detail"]
    assert "re-source" not in answer.json()["detail"]


def test_availability_lists_the_nearest_stores_with_stock_first(client: TestClient) -> None:
    answer = client.get("/v1/availability", params={"sku": "JACKET", "near": "30-001"},
                        headers=OMS)
    assert answer.status_code == 200, answer.text
    stores = answer.json()["stores"]
    assert [s["node_id"] for s in stores] == ["S002", "S001", "S003"]
    assert stores[0]["atp"] == 4
    near_gdansk = client.get("/v1/availability", params={"sku": "PHONE", "near": "54.35,18.65"},
                             headers=OMS).json()
    assert [s["node_id"] for s in near_gdansk["stores"]] == ["S001", "S002"]  # S003 has none


def test_availability_drops_a_store_whose_units_are_reserved(client: TestClient) -> None:
    client.post("/v1/allocations", json={
        "order_id": "A-1", "fulfilment": "click_and_collect", "pickup_store_id": "S002",
        "lines": [{"line_id": "1", "sku": "PHONE", "qty": 1}]}, headers=OMS)
    stores = client.get("/v1/availability", params={"sku": "PHONE", "near": "30-001"},
                        headers=OMS).json()["stores"]
    assert "S002" not in [s["node_id"] for s in stores]


def test_availability_problems_name_the_parameter(client: TestClient) -> None:
    unknown = client.get("/v1/availability", params={"sku": "NOSUCH", "near": "00-950"},
                         headers=OMS)
    assert unknown.status_code == 404
    bad = client.get("/v1/availability", params={"sku": "JACKET", "near": "nowhere"},
                     headers=OMS)
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"parameter": "near", "in": "query",
         "detail": "give a postcode (00-950) or coordinates (52.23,21.01)"}
    ]
    missing = client.get("/v1/availability", params={"sku": "JACKET"}, headers=OMS)
    assert missing.json()["errors"][0]["parameter"] == "near"



def test_a_movement_for_an_unknown_node_is_a_404_pointing_at_it(client: TestClient) -> None:
    batch = {"movements": [{"movement_id": "x1", "node_id": "S999", "sku": "SCARF",
                            "kind": "receipt", "qty": 1, "occurred_at": "2026-11-08T12:00:00Z"}]}
    answer = client.post("/v1/stock/movements", json=batch, headers=OMS)
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["pointer"] == "#/movements/0/node_id"


def test_an_instant_outside_this_century_is_invalid_input(client: TestClient) -> None:
    batch = {"movements": [{"movement_id": "x2", "node_id": "S001", "sku": "SCARF",
                            "kind": "sale", "qty": 1, "occurred_at": "0001-01-01T00:00:00-05:00"}]}
    answer = client.post("/v1/stock/movements", json=batch, headers=OMS)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["pointer"] == "#/movements/0/occurred_at"


def test_a_movement_dated_in_the_future_is_invalid_input_and_a_skewed_clock_passes(
    client: TestClient, loaded_engine: Engine
) -> None:
    """A till clock a few hours off is normal; a sale dated 2030 is a clock or typing error."""
    from datetime import UTC, datetime, timedelta

    def batch(movement_id: str, at: datetime) -> dict[str, object]:
        return {"movements": [{"movement_id": movement_id, "node_id": "S001", "sku": "SCARF",
                               "kind": "sale", "qty": 1, "occurred_at": at.isoformat()}]}

    ahead = client.post("/v1/stock/movements", json=batch("f1", datetime(2030, 1, 1, tzinfo=UTC)),
                        headers=OMS)
    assert ahead.status_code == 422
    error = ahead.json()["errors"][0]
    assert error["pointer"] == "#/movements/0/occurred_at" and "future" in error["detail"]
    skewed = datetime.now(UTC) + timedelta(hours=3)
    assert client.post("/v1/stock/movements", json=batch("f2", skewed),
                       headers=OMS).json() == {"applied": 1, "duplicates": 0, "already_counted": 0}
    assert stock_row(loaded_engine, "S001", "SCARF") == (9, 0)
