"""The one-statement write of an allocation on real PostgreSQL (`api.db.stock.reserve_and_record`
through `api.services.allocations.allocate_order`): all or nothing, never oversold, never
deadlocked, one reservation per order id, under many orders at the same moment."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from api_chain import LAST_UNITS, LAST_UNITS_SKU
from api_greedy import greedy_source
from sqlalchemy import Engine, text

from allocation.errors import OutOfStock
from allocation.model import Availability, Decision, Network, Order
from api.db import stock as db_stock
from api.db.engine import autocommit, make_engine
from api.services.allocations import AllocationPolicy, allocate_order
from api.services.commands import AllocateOrder, LineCommand
from api.services.errors import NotEnoughStock, StaleStock
from api.services.network import MasterData, load_master_data
from api.settings import Settings

RACERS = 40
POLICY = AllocationPolicy(deadline_ms=50, hold_hours=48.0, max_parcels_default=3)


@pytest.fixture
def pg(loaded_engine: Engine) -> Engine:
    if loaded_engine.dialect.name != "postgresql":
        pytest.skip("the one-statement write is PostgreSQL's")
    return loaded_engine


@pytest.fixture
def racing_engine(pg: Engine) -> Iterator[Engine]:
    engine = make_engine(
        pg.url.render_as_string(hide_password=False),
        Settings(db_pool_size=RACERS, db_max_overflow=0),
        generic_plans=True,
    )
    yield engine
    engine.dispose()


def command(order_id: str, lines: list[tuple[str, int]], request_hash: str = "") -> AllocateOrder:
    return AllocateOrder(
        order_id=order_id,
        fulfilment="home_delivery",
        lines=tuple(LineCommand(str(k + 1), sku, qty) for k, (sku, qty) in enumerate(lines)),
        request_hash=request_hash or f"hash-of-{order_id}",
        postcode="00-950",
        max_parcels=3,
    )


def race(
    engine: Engine, data: MasterData, commands: list[AllocateOrder], decide: Callable[..., Any]
) -> Counter[str]:
    """All `commands` at the same moment, one thread each: created, replayed or refused (409)."""
    start = threading.Barrier(len(commands))

    def one(c: AllocateOrder) -> str:
        start.wait()
        try:
            outcome = allocate_order(engine, data, c, POLICY, decide=decide)
        except (OutOfStock, NotEnoughStock, StaleStock):
            return "refused"
        return "created" if outcome.created else "replayed"

    with ThreadPoolExecutor(len(commands)) as pool:
        return Counter(pool.map(one, commands))


def books(engine: Engine) -> dict[str, int]:
    """Oversold units, and the reserved column, held reservations and open allocations (equal)."""
    with engine.connect() as conn:
        figures = conn.execute(text(
            "SELECT (SELECT COALESCE(SUM(reserved - on_hand), 0) FROM stock"
            "        WHERE reserved > on_hand),"
            "       (SELECT COALESCE(SUM(reserved), 0) FROM stock),"
            "       (SELECT COALESCE(SUM(qty), 0) FROM reservations WHERE state = 'held'),"
            "       (SELECT COALESCE(SUM(qty), 0) FROM allocations)"
        )).one()
    return dict(zip(("oversold", "reserved", "held", "allocated"), map(int, figures),
                    strict=True))


def test_racing_orders_for_the_last_units_sell_exactly_those_units(
    pg: Engine, racing_engine: Engine
) -> None:
    data = load_master_data(pg)
    outcomes = race(racing_engine, data,
                    [command(f"LAST-{k}", [(LAST_UNITS_SKU, 1)]) for k in range(RACERS)],
                    greedy_source)
    assert outcomes["created"] == LAST_UNITS, outcomes
    assert outcomes["created"] + outcomes["refused"] == RACERS
    assert books(pg) == {"oversold": 0, "reserved": LAST_UNITS, "held": LAST_UNITS,
                         "allocated": LAST_UNITS}


def test_racing_multi_line_orders_neither_oversell_nor_deadlock(
    pg: Engine, racing_engine: Engine
) -> None:
    # Lines listed in both orders, over rows other orders want too: a lock-order bug would
    # deadlock (an error here), a check outside the lock would oversell.
    data = load_master_data(pg)
    baskets = [[("PHONE", 2), ("JACKET", 3), ("SCARF", 1)], [("SCARF", 4), ("PHONE", 1)],
               [("JACKET", 2), ("PHONE", 3)], [(LAST_UNITS_SKU, 1), ("PHONE", 2)]]
    commands = [command(f"MIX-{k}", baskets[k % len(baskets)][:: 1 if k % 2 else -1])
                for k in range(RACERS)]
    outcomes = race(racing_engine, data, commands, greedy_source)
    assert set(outcomes) <= {"created", "refused"}
    assert outcomes["created"] > 0
    figures = books(pg)
    assert figures["oversold"] == 0
    assert figures["reserved"] == figures["held"] == figures["allocated"]


def test_concurrent_first_requests_with_one_order_id_reserve_it_once(
    pg: Engine, racing_engine: Engine
) -> None:
    data = load_master_data(pg)
    twins = [command("TWIN", [("JACKET", 2), ("SCARF", 1)])] * 12
    outcomes = race(racing_engine, data, twins, greedy_source)
    assert outcomes == Counter({"created": 1, "replayed": 11})
    assert books(pg) == {"oversold": 0, "reserved": 3, "held": 3, "allocated": 3}


def test_a_row_taken_between_read_and_write_writes_nothing_and_decides_again(pg: Engine) -> None:
    """The first decision is made on stock that another order then takes (one of its two
    rows): the write must reserve neither row nor record anything, and the order is decided
    again on the new stock."""
    data = load_master_data(pg)
    decisions: list[Decision] = []

    def decide_then_lose_the_phones(
        order: Order, network: Network, availability: list[Availability], **kw: object
    ) -> Decision:
        decision = greedy_source(order, network, availability, **kw)
        decisions.append(decision)
        if len(decisions) == 1:  # someone else buys the chosen phones right now
            phone = next(line for line in decision.lines if line.sku == "PHONE")
            with pg.begin() as conn:
                db_stock.reserve(conn, "SOMEONE-ELSE", [(phone.node_id, "PHONE", phone.qty)])
        return decision

    outcome = allocate_order(pg, data, command("LATE", [("JACKET", 1), ("PHONE", 3)]), POLICY,
                             decide=decide_then_lose_the_phones)
    assert outcome.created and len(decisions) == 2
    first, second = ({line.sku: line.node_id for line in d.lines} for d in decisions)
    assert second["PHONE"] != first["PHONE"]  # decided again on the new stock
    with pg.connect() as conn:
        holds = conn.execute(text(
            "SELECT order_id, COUNT(*) FROM reservations GROUP BY order_id ORDER BY 1")).all()
    assert [tuple(h) for h in holds] == [("LATE", 2), ("SOMEONE-ELSE", 1)]
    figures = books(pg)
    assert figures["oversold"] == 0 and figures["reserved"] == figures["held"] == 4 + 3


def _record(order_id: str, items: list[tuple[str, str, int]]) -> db_stock.OrderRecord:
    now = datetime.now(UTC)
    return db_stock.OrderRecord(
        order_id=order_id, request_hash=f"hash-{order_id}", status="allocated",
        fulfilment="home_delivery", decision_json=json.dumps({"order_id": order_id}),
        expires_at=None,
        lines=[(str(k + 1), sku, qty, "allocated") for k, (_, sku, qty) in enumerate(items)],
        allocations=[(str(k + 1), node, sku, qty, "home_delivery", now, 12.5)
                     for k, (node, sku, qty) in enumerate(items)],
    )


def test_one_short_row_makes_the_whole_write_a_no_op(pg: Engine) -> None:
    items = [("DC-STRYKOW", "JACKET", 1), ("S001", LAST_UNITS_SKU, 2)]  # S001 has 1 LAST
    with autocommit(pg) as db:
        outcome = db_stock.reserve_and_record(db, _record("SHORT", items), items)
    assert outcome == db_stock.RecordOutcome(False)
    with pg.connect() as conn:
        for table in ("orders", "order_lines", "allocations", "reservations"):
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() == 0
    assert books(pg)["reserved"] == 0


def test_a_recorded_order_id_is_returned_and_nothing_more_is_written(pg: Engine) -> None:
    items = [("DC-STRYKOW", "JACKET", 2)]
    with autocommit(pg) as db:
        first = db_stock.reserve_and_record(db, _record("ONCE", items), items)
        again = db_stock.reserve_and_record(db, _record("ONCE", items), items)
    assert first == db_stock.RecordOutcome(True)
    assert again.prior == db_stock.PriorOrder("hash-ONCE", "allocated", {"order_id": "ONCE"})
    assert not again.written
    assert books(pg) == {"oversold": 0, "reserved": 2, "held": 2, "allocated": 2}


def test_a_lost_race_for_the_order_id_rolls_the_reservation_back(pg: Engine) -> None:
    """An id committed after the statement's snapshot fails the orders INSERT: the whole
    statement, the stock it had reserved included, is undone."""
    items = [("DC-STRYKOW", "JACKET", 2)]
    url = pg.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as other:
        # The other transaction holds the stock row and then records the same id.
        other.execute("SELECT 1 FROM stock WHERE node_id = 'DC-STRYKOW' AND sku = 'JACKET' "
                      "FOR UPDATE")
        other.execute("INSERT INTO orders (order_id, request_hash, status, fulfilment, "
                      "decision) VALUES ('RACE', 'h', 'allocated', 'home_delivery', '{}')")
        with ThreadPoolExecutor(1) as pool:

            def write() -> db_stock.RecordOutcome:
                with autocommit(pg) as db:
                    return db_stock.reserve_and_record(db, _record("RACE", items), items)

            pending = pool.submit(write)
            _wait_for_a_lock_wait(url)
            other.commit()
            with pytest.raises(psycopg.errors.UniqueViolation) as raised:
                pending.result(timeout=30)
    assert db_stock.is_order_id_taken(raised.value)
    assert books(pg)["reserved"] == 0
    with pg.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM reservations")).scalar_one() == 0


def _wait_for_a_lock_wait(url: str) -> None:
    import time

    with psycopg.connect(url, autocommit=True) as admin:
        for _ in range(200):
            if admin.execute("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                             "AND datname = current_database()").fetchone():
                return
            time.sleep(0.05)
    raise AssertionError("the write never waited for the row lock")


def test_an_order_does_not_wait_for_a_lock_held_on_its_sku_and_node_rows(pg: Engine) -> None:
    """The order write takes no lock on the catalogue (r0004): a planner transaction holding the
    SKU and DC rows must not hold up the OMS (it used to, through the foreign keys)."""
    data = load_master_data(pg)
    url = pg.url.render_as_string(hide_password=False).replace("+psycopg", "")
    with psycopg.connect(url) as holder, ThreadPoolExecutor(1) as pool:
        holder.execute("SELECT 1 FROM skus WHERE sku = 'JACKET' FOR UPDATE")
        holder.execute("SELECT 1 FROM nodes FOR UPDATE")
        pending = pool.submit(allocate_order, pg, data, command("UNLOCKED", [("JACKET", 1)]),
                              POLICY, decide=greedy_source)
        try:
            outcome = pending.result(timeout=20)  # blocked for good if it needed those rows
        finally:
            holder.rollback()
    assert outcome.created


def test_an_allocation_must_name_a_stock_row(pg: Engine) -> None:
    with pytest.raises(Exception, match="fk_allocations_node_id_stock"), pg.begin() as conn:
        conn.execute(text(
            "INSERT INTO orders (order_id, request_hash, status, fulfilment, decision) "
            "VALUES ('NOSTOCK', 'h', 'allocated', 'home_delivery', '{}')"
        ))
        conn.execute(text(
            "INSERT INTO order_lines VALUES ('NOSTOCK', '1', 'JACKET', 1, 'allocated')"
        ))
        conn.execute(text(
            "INSERT INTO allocations (order_id, line_id, node_id, sku, qty, method, promised_at,"
            " cost_pln) VALUES ('NOSTOCK', '1', 'NO-SUCH-NODE', 'JACKET', 1, 'home_delivery',"
            " now(), 1.0)"
        ))



def _restock_while_waited_for(pg: Engine, write: Callable[[], Any]) -> Any:
    """Run `write` while another transaction holds S001's last LAST unit and restocks it (+5):
    the write's snapshot sees 1 unit, its row lock sees 6 once the restock commits."""
    url = pg.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as feed, ThreadPoolExecutor(1) as pool:
        feed.execute("UPDATE stock SET on_hand = on_hand + 5, version = version + 1 "
                     f"WHERE node_id = 'S001' AND sku = '{LAST_UNITS_SKU}'")
        pending = pool.submit(write)
        _wait_for_a_lock_wait(url)
        feed.commit()
        return pending.result(timeout=30)


def test_a_row_restocked_while_the_write_waited_writes_nothing_until_decided_again(
    pg: Engine
) -> None:
    """Short in the statement's snapshot, enough on the locked row: the write is a no-op (the
    UPDATE used to skip that row while the order was recorded, holding nothing: a unit sold
    twice when it shipped); the same write on a fresh snapshot then holds the units."""
    items = [("S001", LAST_UNITS_SKU, 2)]

    def write() -> db_stock.RecordOutcome:
        with autocommit(pg) as db:
            return db_stock.reserve_and_record(db, _record("RESTOCKED", items), items)

    assert _restock_while_waited_for(pg, write) == db_stock.RecordOutcome(False)
    with pg.connect() as conn:
        for table in ("orders", "order_lines", "allocations", "reservations"):
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() == 0
    assert books(pg)["reserved"] == 0
    assert write() == db_stock.RecordOutcome(True)
    assert books(pg) == {"oversold": 0, "reserved": 2, "held": 2, "allocated": 2}


def test_a_write_that_reserves_fewer_rows_than_judged_writes_nothing(pg: Engine) -> None:
    """The statement's own guard: should its UPDATE skip a row the verdict passed, the
    statement fails and is rolled back whole. A trigger that swallows updates of one row
    stands in for such a bug (a test double at the database)."""
    items = [("DC-STRYKOW", "JACKET", 1), ("S001", "PHONE", 1)]
    with pg.begin() as conn:
        conn.execute(text(
            "CREATE FUNCTION skip_phone_update() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF NEW.sku = 'PHONE' THEN RETURN NULL; END IF; RETURN NEW; END $$"))
        conn.execute(text("CREATE TRIGGER skip_phone BEFORE UPDATE ON stock "
                          "FOR EACH ROW EXECUTE FUNCTION skip_phone_update()"))
    try:
        with autocommit(pg) as db, pytest.raises(db_stock.RecordingFailed,
                                                 match="1 of 2 stock rows reserved"):
            db_stock.reserve_and_record(db, _record("GUARDED", items), items)
    finally:
        with pg.begin() as conn:
            conn.execute(text("DROP TRIGGER skip_phone ON stock"))
            conn.execute(text("DROP FUNCTION skip_phone_update()"))
    with pg.connect() as conn:
        for table in ("orders", "order_lines", "allocations", "reservations"):
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() == 0
    assert books(pg)["reserved"] == 0
