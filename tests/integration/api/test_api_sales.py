"""`POST /v1/sales`: daily sales from POS and the e-shop, upserted all or nothing, every refusal a
problem document pointing at the row.

The small chain (api_chain) has stores S001-S003, a DC, SKUs JACKET (list price 299.99), PHONE,
SCARF and LAST, and S001 walk-in JACKET sales through 2026-11-08.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from api_helpers import OMS, PLANNER
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from api.db.tables import Sale
from api.http.schemas import MAX_SALES_ROWS
from api.services.sales_feed import WARSAW


def sale(day: str = "2026-11-09", node_id: str = "S002", channel: str = "online",
         sku: str = "PHONE", units: Any = 2, **extra: Any) -> dict[str, Any]:
    return {"date": day, "node_id": node_id, "channel": channel, "sku": sku, "units": units,
            **extra}


def rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Sale)).scalar_one())


def stored(engine: Engine, node_id: str, channel: str, sku: str, day: date) -> tuple[Any, ...]:
    query = select(Sale.units, Sale.price_pln, Sale.promo, Sale.stockout).where(
        Sale.node_id == node_id, Sale.channel == channel, Sale.sku == sku, Sale.date == day)
    with engine.connect() as conn:
        return tuple(conn.execute(query).one())


def test_posted_days_are_inserted_and_a_resent_day_replaces_them(
    client: TestClient, loaded_engine: Engine
) -> None:
    batch = {"sales": [
        sale(),
        sale(day="2026-11-08", node_id="S001", channel="store", sku="JACKET", units=3,
             stockout=1),
    ]}
    first = client.post("/v1/sales", json=batch, headers=OMS)
    assert first.status_code == 200, first.text
    body = first.json()
    version = body.pop("data_version")
    assert body == {"inserted": 1, "replaced": 1, "first_date": "2026-11-08",
                    "last_date": "2026-11-09", "sold_out": 1}
    assert len(version) == 64 and int(version, 16) >= 0
    assert stored(loaded_engine, "S002", "online", "PHONE", date(2026, 11, 9)) == (2, 1499.0, 0, 0)
    assert stored(loaded_engine, "S001", "store", "JACKET", date(2026, 11, 8)) == (
        3, 299.99, 0, 1)
    again = client.post("/v1/sales", json=batch, headers=PLANNER)
    assert again.json()["inserted"] == 0 and again.json()["replaced"] == 2
    assert again.json()["data_version"] != version


def test_an_unknown_node_is_a_404_pointing_at_its_row(
    client: TestClient, loaded_engine: Engine
) -> None:
    before = rows(loaded_engine)
    answer = client.post("/v1/sales", json={"sales": [sale(), sale(node_id="S999")]},
                         headers=OMS)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["pointer"] == "#/sales/1/node_id"
    assert rows(loaded_engine) == before


def test_negative_units_are_a_422_pointing_at_the_field(client: TestClient) -> None:
    answer = client.post("/v1/sales", json={"sales": [sale(), sale(sku="SCARF", units=-1)]},
                         headers=OMS)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["pointer"] == "#/sales/1/units"


def test_a_day_after_today_in_warsaw_is_a_422_pointing_at_the_date(client: TestClient) -> None:
    later = (datetime.now(WARSAW).date() + timedelta(days=2)).isoformat()
    answer = client.post("/v1/sales", json={"sales": [sale(day=later)]}, headers=OMS)
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"pointer": "#/sales/0/date", "detail": answer.json()["detail"]}]


def test_the_same_day_twice_is_a_422_pointing_at_the_second(client: TestClient) -> None:
    answer = client.post("/v1/sales", json={"sales": [sale(), sale(units=5)]}, headers=OMS)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["pointer"] == "#/sales/1"


def test_an_unknown_field_and_an_oversized_batch_are_refused(client: TestClient) -> None:
    typo = client.post("/v1/sales", json={"sales": [sale(unit_price=3.0)]}, headers=OMS)
    assert typo.status_code == 422
    assert typo.json()["errors"][0]["pointer"] == "#/sales/0/unit_price"
    many = {"sales": [sale()] * (MAX_SALES_ROWS + 1)}
    too_big = client.post("/v1/sales", json=many, headers=OMS)
    assert too_big.status_code == 422
    assert too_big.json()["errors"][0]["pointer"] == "#/sales"


def test_sales_need_a_key(client: TestClient) -> None:
    assert client.post("/v1/sales", json={"sales": [sale()]}).status_code == 401
