from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from api.db.load_chain import demand_rates_from_sales, load_chain, loaded_dataset
from api.db.stock import read_availability
from api.db.tables import Node, ParcelRate, Sale, Sku, Stock


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_loaded_chain_reads_back_as_it_was_written(loaded_engine: Engine, chain: Any) -> None:
    with loaded_engine.connect() as conn:
        nodes = pd.read_sql(select(Node).order_by(Node.node_id), conn)
        skus = {s.sku: s for s in conn.execute(select(Sku)).all()}
        rates = conn.execute(select(ParcelRate).order_by(ParcelRate.rank)).all()
        sales_units = conn.execute(select(func.sum(Sale.units))).scalar_one()
        promo_days = conn.execute(select(func.sum(Sale.promo))).scalar_one()
    assert list(nodes["node_id"]) == ["DC-STRYKOW", "S001", "S002"]
    assert nodes.set_index("node_id").loc["S001", "city"] == "Łódź"
    assert skus["A"].price_pln == pytest.approx(299.99)
    assert skus["C"].discontinue_date == date(2026, 12, 31)
    assert skus["A"].discontinue_date is None
    assert [r.method for r in rates] == list(chain.parcel_rates["method"])
    assert sales_units == int(chain.sales["units"].sum())
    assert promo_days == int(chain.sales["promo"].sum())
    assert _count(loaded_engine, Stock) == len(chain.stock)


def test_walkin_rate_is_units_per_open_day_over_the_last_28_open_days(
    loaded_engine: Engine,
) -> None:
    with loaded_engine.connect() as conn:
        by_key = {(a.node_id, a.sku): a for a in read_availability(conn, ["A", "B", "C"])}
    assert by_key[("S001", "A")].walkin_units_per_day == pytest.approx(2.0)
    assert by_key[("S002", "C")].walkin_units_per_day == pytest.approx(1.0)
    assert by_key[("S001", "B")].walkin_units_per_day == 0.0  # online sales do not count
    assert by_key[("DC-STRYKOW", "A")].walkin_units_per_day == 0.0
    assert by_key[("S001", "A")].atp == 3


def test_closed_days_do_not_dilute_the_walkin_rate(chain: Any) -> None:
    rates = demand_rates_from_sales(chain.sales, chain.as_of, window_days=28)
    assert rates.set_index(["node_id", "sku"]).loc[("S001", "A"), "walkin_units_per_day"] == 2.0


def test_reloading_replaces_the_data_instead_of_adding_to_it(
    loaded_engine: Engine, chain: Any
) -> None:
    before = _count(loaded_engine, Sale)
    load_chain(loaded_engine, chain, data_version="tiny-2", params={"again": True})
    assert _count(loaded_engine, Sale) == before
    info = loaded_dataset(loaded_engine)
    assert info is not None and info.data_version == "tiny-2" and info.params == {"again": True}


def test_a_failed_load_leaves_the_previous_data_untouched(
    loaded_engine: Engine, chain: Any
) -> None:
    broken_stock = pd.concat(
        [chain.stock, pd.DataFrame({"node_id": ["NOWHERE"], "sku": ["A"], "on_hand": [1]})]
    )
    with pytest.raises(IntegrityError):
        load_chain(loaded_engine, replace(chain, stock=broken_stock), "broken", {})
    assert _count(loaded_engine, Stock) == len(chain.stock)
    info = loaded_dataset(loaded_engine)
    assert info is not None and info.data_version == "tiny"


def test_a_frame_missing_a_contract_column_is_refused_before_writing(
    loaded_engine: Engine, chain: Any
) -> None:
    with pytest.raises(ValueError, match="lacks columns"):
        no_weights = replace(chain, skus=chain.skus.drop(columns="weight_kg"))
        load_chain(loaded_engine, no_weights, "x", {})
    assert _count(loaded_engine, Sku) == 3


def test_a_load_leaves_planner_statistics_for_the_stock_table(loaded_engine: Engine) -> None:
    from sqlalchemy import text

    with loaded_engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            analyzed = conn.execute(text(
                "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
                "WHERE relname = 'stock' AND schemaname = current_schema()"
            )).scalar_one()
        else:
            analyzed = conn.execute(text(
                "SELECT count(*) > 0 FROM sqlite_stat1 WHERE tbl = 'stock'"
            )).scalar_one()
    assert analyzed


@pytest.mark.postgres
def test_order_tables_left_empty_by_a_load_stay_unanalyzed_and_are_read_by_key(
    loaded_engine: Engine,
) -> None:
    """Statistics saying 'empty' would make the cached generic plans of the per-order
    foreign-key checks scan orders and order lines sequentially as they grow."""
    from sqlalchemy import text

    if loaded_engine.dialect.name != "postgresql":
        pytest.skip("planner statistics of PostgreSQL")
    with loaded_engine.connect() as conn:
        reltuples = dict(conn.execute(text(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN ('orders', "
            "'order_lines', 'stock') AND relnamespace = current_schema()::regnamespace"
        )).all())
        conn.execute(text("SET plan_cache_mode = force_generic_plan"))
        conn.execute(text("PREPARE order_by_key(text) AS "
                          "SELECT 1 FROM orders WHERE order_id = $1 FOR KEY SHARE"))
        plan = "\n".join(conn.execute(text("EXPLAIN EXECUTE order_by_key('X')")).scalars())

    assert reltuples["orders"] == -1 and reltuples["order_lines"] == -1  # never analyzed
    assert reltuples["stock"] > 0
    assert "Index" in plan and "Seq Scan" not in plan


def _sold_out_rows(engine: Engine) -> set[tuple[str, str, str, date, int]]:
    query = select(Sale.node_id, Sale.channel, Sale.sku, Sale.date, Sale.units).where(
        Sale.stockout == 1)
    with engine.connect() as conn:
        return {(r.node_id, r.channel, r.sku, pd.Timestamp(r.date).date(), r.units)
                for r in conn.execute(query)}


def test_the_load_writes_the_sold_out_flag_of_each_day(db_engine: Engine) -> None:
    from data.demo_chain import generate_chain

    chain = generate_chain(seed=2, n_stores=6, n_skus=4, history_days=365, future_days=0)
    load_chain(db_engine, chain, data_version="generated", params={})
    flagged = chain.sales[chain.sales["stockout"] == 1]
    assert (flagged["units"] == 0).any()  # the days that sold nothing are loaded too
    assert _sold_out_rows(db_engine) == {
        (r.node_id, r.channel, r.sku, r.date.date(), r.units) for r in flagged.itertuples()}
    assert _count(db_engine, Sale) == len(chain.sales)


def test_a_sales_frame_without_the_flag_loads_as_never_sold_out(
    loaded_engine: Engine, chain: Any
) -> None:
    assert "stockout" not in chain.sales.columns
    assert _count(loaded_engine, Sale) == len(chain.sales)
    assert _sold_out_rows(loaded_engine) == set()


def test_sold_out_days_do_not_lower_the_walkin_rate(chain: Any) -> None:
    """S001 sells 2 x A on every open day; its last five sold out early (1 unit) or sold
    nothing: they say nothing about demand, so the rate stays 2 a day."""
    sales = chain.sales.assign(stockout=0)
    last = sales[(sales["node_id"] == "S001") & (sales["sku"] == "A")].nlargest(5, "date").index
    sales.loc[last, ["units", "stockout"]] = [[1, 1], [0, 1], [0, 1], [0, 1], [0, 1]]
    rates = demand_rates_from_sales(sales, chain.as_of, window_days=28).set_index(
        ["node_id", "sku"])["walkin_units_per_day"]
    assert rates[("S001", "A")] == 2.0
    assert rates[("S002", "C")] == 1.0


def test_the_walkin_rate_is_never_below_the_recorded_units_per_open_day(chain: Any) -> None:
    """S002 sells 1 x C on every open day; its last three sold out after selling 10 each (a
    rush): the days around say 1 a day, but 55 units in 28 open days were sold for sure."""
    sales = chain.sales.assign(stockout=0)
    last = sales[(sales["node_id"] == "S002") & (sales["sku"] == "C")].nlargest(3, "date").index
    sales.loc[last, ["units", "stockout"]] = 10, 1
    rates = demand_rates_from_sales(sales, chain.as_of, window_days=28).set_index(
        ["node_id", "sku"])["walkin_units_per_day"]
    assert rates[("S002", "C")] == pytest.approx(55 / 28)
