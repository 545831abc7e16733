"""The allocation API over real HTTP, served by `omni serve`, with the real sourcing core."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from api_chain import LAST_UNITS, LAST_UNITS_SKU
from api_helpers import OMS, order, stock_row
from e2e_server import Server, reset_stock
from sqlalchemy import Engine, text

pytestmark = pytest.mark.slow  # each server start imports the scientific stack (seconds)


def oversold(engine: Engine) -> int:
    """Units reserved beyond what is on hand, summed over every stock row (must be 0)."""
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT COALESCE(SUM(reserved - on_hand), 0) FROM stock WHERE reserved > on_hand"
        )).scalar_one())


def reserved_of(engine: Engine, sku: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COALESCE(SUM(reserved), 0) FROM stock WHERE sku = :s"),
                                {"s": sku}).scalar_one())


async def _race(base_url: str, bodies: list[dict[str, object]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(base_url=base_url, headers=OMS, timeout=60, limits=limits) as c:
        return list(await asyncio.gather(*(c.post("/v1/allocations", json=b) for b in bodies)))


def race_for_the_last_units(live: Server) -> None:
    bodies = [order(f"RACE-{k}", sku=LAST_UNITS_SKU) for k in range(50)]
    answers = asyncio.run(_race(live.base_url, bodies))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == LAST_UNITS, codes
    assert codes.count(409) == 50 - LAST_UNITS, codes
    assert all(a.headers["content-type"] == "application/problem+json"
               for a in answers if a.status_code == 409)
    assert reserved_of(live.engine, LAST_UNITS_SKU) == LAST_UNITS
    assert oversold(live.engine) == 0


def test_fifty_concurrent_orders_for_the_last_three_units_sell_exactly_three(
    live: Server,
) -> None:
    race_for_the_last_units(live)


def test_concurrent_repeats_of_one_order_reserve_it_once(live: Server) -> None:
    answers = asyncio.run(_race(live.base_url, [order("TWIN", qty=2)] * 10))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 9 + [201], codes
    assert all(a.json() == answers[0].json() for a in answers)
    assert reserved_of(live.engine, "JACKET") == 2


def test_the_same_order_replays_and_a_changed_one_conflicts(live: Server) -> None:
    with httpx.Client(base_url=live.base_url, headers=OMS, timeout=30) as client:
        first = client.post("/v1/allocations", json=order("IDEM", qty=1))
        again = client.post("/v1/allocations", json=order("IDEM", qty=1))
        changed = client.post("/v1/allocations", json=order("IDEM", qty=2))
    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 409)
    assert again.json()["lines"] == first.json()["lines"]
    assert reserved_of(live.engine, "JACKET") == 1


def test_cancel_gives_units_back_and_ship_takes_them_out(live: Server) -> None:
    with httpx.Client(base_url=live.base_url, headers=OMS, timeout=30) as client:
        placed = client.post("/v1/allocations", json=order("LIFE-1", sku="SCARF", qty=3)).json()
        node = placed["lines"][0]["node_id"]
        on_hand, _ = stock_row(live.engine, node, "SCARF")
        assert stock_row(live.engine, node, "SCARF") == (on_hand, 3)
        assert client.post("/v1/allocations/LIFE-1/cancel").json()["state"] == "cancelled"
        assert stock_row(live.engine, node, "SCARF") == (on_hand, 0)

        placed = client.post("/v1/allocations", json=order("LIFE-2", sku="SCARF", qty=3)).json()
        node = placed["lines"][0]["node_id"]
        on_hand, _ = stock_row(live.engine, node, "SCARF")
        assert client.post("/v1/allocations/LIFE-2/ship").json()["state"] == "shipped"
        assert stock_row(live.engine, node, "SCARF") == (on_hand - 3, 0)
        assert client.post("/v1/allocations/LIFE-2/ship").status_code == 200
        assert stock_row(live.engine, node, "SCARF") == (on_hand - 3, 0)


def test_bad_input_over_http_is_a_problem_document_with_pointers(live: Server) -> None:
    body = order("BAD-1")
    body["lines"] = [{"line_id": "1", "sku": "JACKET", "qty": -1}]
    answer = httpx.post(live.base_url + "/v1/allocations", json=body, headers=OMS, timeout=30)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["pointer"] for e in answer.json()["errors"]] == ["#/lines/0/qty"]


@pytest.mark.parametrize(("extra", "pointer"), [
    ({"destination": {"lat": 21.0122, "lon": 52.2297}}, "#/destination"),  # Warsaw, swapped
    ({"promise_by": "2020-01-01T00:00:00Z"}, "#/promise_by"),
])
def test_an_order_no_plan_could_keep_is_a_422_that_reserves_nothing(
    live: Server, extra: dict[str, object], pointer: str
) -> None:
    before = reserved_of(live.engine, "JACKET")
    answer = httpx.post(live.base_url + "/v1/allocations", json=order("FAR", **extra),
                        headers=OMS, timeout=30)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["pointer"] for e in answer.json()["errors"]] == [pointer]
    assert reserved_of(live.engine, "JACKET") == before
    missing = httpx.get(live.base_url + "/v1/allocations/FAR", headers=OMS, timeout=30)
    assert missing.status_code == 404


def test_an_order_too_heavy_for_the_default_parcel_limit_is_a_422_naming_the_default(
    live: Server,
) -> None:
    """100 jackets weigh 110 kg: four 31.5 kg parcels, one more than the default limit of 3."""
    heavy = order("HEAVY", qty=100)
    answer = httpx.post(live.base_url + "/v1/allocations", json=heavy, headers=OMS, timeout=30)
    assert answer.status_code == 422, answer.text
    error = answer.json()["errors"][0]
    assert error["pointer"] == "#/max_parcels"
    assert "at least 4 parcels" in error["detail"] and "default is 3" in error["detail"]
    assert reserved_of(live.engine, "JACKET") == 0
    allowed = httpx.post(live.base_url + "/v1/allocations", json={**heavy, "max_parcels": 4},
                         headers=OMS, timeout=30)
    assert allowed.status_code == 201, allowed.text
    assert reserved_of(live.engine, "JACKET") == 100


def test_stock_spread_over_more_nodes_than_parcels_is_a_409_no_feasible_plan(
    live: Server,
) -> None:
    """The last three units lie at two nodes: one parcel cannot carry them; two can."""
    body = order("SPREAD", sku=LAST_UNITS_SKU, qty=LAST_UNITS, max_parcels=1)
    answer = httpx.post(live.base_url + "/v1/allocations", json=body, headers=OMS, timeout=30)
    assert answer.status_code == 409, answer.text
    problem = answer.json()
    assert problem["type"].endswith("/no-feasible-plan")
    assert problem["max_parcels"] == 1 and problem["nodes_with_stock"] == 2
    assert reserved_of(live.engine, LAST_UNITS_SKU) == 0
    two = httpx.post(live.base_url + "/v1/allocations", json={**body, "max_parcels": 2},
                     headers=OMS, timeout=30)
    assert two.status_code == 201, two.text


def test_the_real_core_explains_its_choice(live: Server) -> None:
    answer = httpx.post(live.base_url + "/v1/allocations", json=order("WHY", qty=1),
                        headers=OMS, timeout=30)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] in {"optimal", "feasible", "fallback"}
    assert body["explanation"]["text"]
    assert body["total_cost_pln"] > 0


@pytest.mark.postgres
def test_the_last_units_are_sold_once_across_two_worker_processes(
    postgres_two_workers: Server,
) -> None:
    reset_stock(postgres_two_workers.engine)
    race_for_the_last_units(postgres_two_workers)
