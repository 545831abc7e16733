"""Helpers shared by the API tests (integration and e2e): keys, orders, stock reads."""

from __future__ import annotations

from sqlalchemy import Engine

from api.settings import Settings

OMS = {"Authorization": "Bearer test-oms-key"}
PLANNER = {"Authorization": "Bearer test-planner-key"}
ADMIN = {"Authorization": "Bearer test-admin-key"}
API_KEYS = "test-oms-key:oms,test-planner-key:planner,test-admin-key:admin"


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, api_keys=API_KEYS)  # type: ignore[arg-type]


def order(order_id: str, sku: str = "JACKET", qty: int = 1, **extra: object) -> dict[str, object]:
    """A home-delivery order to Warsaw with one line."""
    body: dict[str, object] = {
        "order_id": order_id,
        "fulfilment": "home_delivery",
        "destination": {"postcode": "00-950"},
        "lines": [{"line_id": "1", "sku": sku, "qty": qty}],
    }
    body.update(extra)
    return body


def stock_row(engine: Engine, node_id: str, sku: str) -> tuple[int, int]:
    """(on_hand, reserved) of one stock row."""
    from sqlalchemy import text

    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT on_hand, reserved FROM stock WHERE node_id = :n AND sku = :s"),
            {"n": node_id, "s": sku},
        ).one()
    return int(row[0]), int(row[1])


def total_reserved(engine: Engine) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COALESCE(SUM(reserved), 0) FROM stock")).scalar_one())
