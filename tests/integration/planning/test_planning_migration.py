"""r0002 (shadow prices, transfers.ship_by) applies on a database already at r0001 with plans in
it, on SQLite (batch mode) and PostgreSQL, and comes off again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text

from api.db.engine import make_engine
from api.db.migrate import current_revision, downgrade, upgrade


def _upgrade_over_existing_transfers(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO nodes VALUES ('DC', 'dc', 'DC', 'Stryków', 51.9, 19.6, 'dc', 0, 24,"
                " 1.2, 50000, 7), ('S1', 'store', 'S1', 'Łódź', 51.7, 19.4, 'mall', 9, 21, 3.5,"
                " 200, 7)"
            ))
            conn.execute(text(
                "INSERT INTO skus VALUES ('A', 'Jacket', 'fashion', 'outerwear', 'M', 1.1,"
                " 299.99, 120.0, NULL, NULL)"
            ))
            conn.execute(
                text("INSERT INTO transfers (plan_id, peak, from_node, to_node, sku, qty,"
                     " arrive_by, cost_pln, status) VALUES ('p0', 'christmas', 'DC', 'S1', 'A',"
                     " 3, :at, 21.0, 'proposed')"),
                {"at": datetime(2026, 11, 30, 23, tzinfo=UTC)},
            )
        upgrade(engine, "0002")
        assert current_revision(engine) == "0002"
        with engine.connect() as conn:
            old = conn.execute(text("SELECT qty, ship_by FROM transfers")).one()
        assert tuple(old) == (3, None)  # the old plan survives the table rebuild, no ship_by
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO shadow_prices (plan_id, node_id, sku, peak, valid_from, valid_to,"
                " shadow_price_pln) VALUES ('p1', 'S1', 'A', 'christmas', '2026-12-01',"
                " '2026-12-24', 171.85)"
            ))
        downgrade(engine, "0001")
        assert "shadow_prices" not in inspect(engine).get_table_names()
        assert "ship_by" not in {c["name"] for c in inspect(engine).get_columns("transfers")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM transfers")).scalar_one() == 1
    finally:
        engine.dispose()


def test_r0002_applies_over_plans_on_sqlite(sqlite_url: str) -> None:
    _upgrade_over_existing_transfers(sqlite_url)


@pytest.mark.postgres
def test_r0002_applies_over_plans_on_postgres(empty_postgres_url: str) -> None:
    _upgrade_over_existing_transfers(empty_postgres_url)
