"""The chain's own daily sales (a POS day feed, a history file) into the `sales` table.

The weekly forecast batch learns from `sales`; until now only the demo loader filled it. A batch
is checked whole before anything is written, then upserted in ONE transaction: a row for a
(node, channel, SKU, day) already recorded replaces it (a POS correction re-sends the day), and
any refused row leaves the table as it was. Online sales belong to a store node too: the demo
chain (and the forecasts) attribute them to the store whose catchment the customer lives in.

Rows arrive as a DataFrame (a file of a million rows is checked column by column, not row by
row); `RowNames` says how a message names the offending row: a JSON pointer into the HTTP body
by default (`BodyPointers`), a file row and column for the CLI.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar, cast

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Connection, Engine, bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY

from api.db.datasets import record_sales_import, rows_digest
from api.db.tables import Node, Sale, Sku
from api.services.errors import InvalidCommand, NotFound
from forecasting.vocabulary import WARSAW

KEY_COLUMNS = ("node_id", "channel", "sku", "date")
REQUIRED_COLUMNS = ("date", "node_id", "channel", "sku", "units")
OPTIONAL_COLUMNS = ("price_pln", "promo", "stockout")
SALES_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
CHANNELS = ("store", "online")
EARLIEST_DAY = date(2000, 1, 1)  # a day before it is a typo, not trading history
MAX_UNITS = 1_000_000_000  # fits the INTEGER column with room to spare
MAX_PRICE_PLN = 10_000_000.0  # the NUMERIC(12, 2) column holds less than 10^10
CHUNK_ROWS = 10_000  # rows per statement (and per step of a progress bar)
KINDS = {"dc": "distribution centre"}
UpsertInsert = TypeVar("UpsertInsert", postgresql.Insert, sqlite.Insert)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

Progress = Callable[[int], None]
"""Called with the number of rows just written."""


class RowNames(Protocol):
    """How a message names the header, a row and a field of the batch."""

    def header(self) -> str: ...
    def row(self, index: int) -> str: ...
    def field(self, index: int, column: str) -> str: ...


class BodyPointers:
    """JSON pointers into the HTTP body `{"sales": [...]}` (`#/sales/3/units`); the CLI names
    file rows and columns instead."""

    def header(self) -> str:
        return "#/sales"

    def row(self, index: int) -> str:
        return f"#/sales/{index}"

    def field(self, index: int, column: str) -> str:
        return f"{self.row(index)}/{column}"


@dataclass(frozen=True)
class SalesImport:
    """What an import did: rows new to the table, rows that replaced a recorded day, and the
    days the batch covers."""

    inserted: int
    replaced: int
    first_date: date
    last_date: date
    data_version: str  # the database's data version after this import (api.db.datasets)
    sold_out: int = 0  # rows flagged stockout = 1: the batch fits them as estimated demand

    @property
    def rows(self) -> int:
        return self.inserted + self.replaced


def import_sales(
    engine: Engine,
    sales: pd.DataFrame,
    *,
    today: date | None = None,
    names: RowNames | None = None,
    progress: Progress | None = None,
) -> SalesImport:
    """Check every row of `sales` (columns SALES_COLUMNS, the optional ones may be absent), then
    upsert them all in one transaction; a bad row raises `InvalidCommand` or `NotFound` (a 422
    or 404 naming the row and field) and nothing is written.

    A missing price is the SKU's list price; missing promo and stockout are 0. `today` (default:
    today in Warsaw) bounds the dates: sales are recorded for days that have happened.
    """
    where = names or BodyPointers()
    rows = checked_rows(sales, today or datetime.now(WARSAW).date(), where)
    report = progress or (lambda _rows: None)
    days = rows["date"]
    first, last = min(days), max(days)
    with engine.begin() as conn:
        rows = _with_references_checked(conn, rows, where)
        inserted = _upsert(conn, rows, report)
        sold_out = int((rows["stockout"] == 1).sum())
        version = record_sales_import(conn, rows_digest(rows), {
            "rows": len(rows), "inserted": inserted, "first_date": first.isoformat(),
            "last_date": last.isoformat(), "sold_out": sold_out})
    return SalesImport(inserted, len(rows) - inserted, first, last, version, sold_out)


# --- Checks that need nothing but the rows ---------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    """Rows failing one check: the first one is reported, with how many share the problem."""

    column: str
    bad: np.ndarray  # bool per row
    detail: Callable[[object], str]  # the message, given the first bad row's value


def checked_rows(sales: pd.DataFrame, today: date, names: RowNames) -> pd.DataFrame:
    """The rows, in batch order, as typed columns (str ids, `date` days, int units, float or
    NaN prices, 0/1 flags); the first bad row raises `InvalidCommand`."""
    _check_columns(sales, names)
    if sales.empty:
        raise InvalidCommand(names.header(), "no sales rows: nothing to import")
    frame = sales.reset_index(drop=True)
    problems: list[_Problem] = []
    typed: dict[str, pd.Series] = {}
    for column in ("node_id", "channel", "sku"):
        typed[column] = _text(frame[column], column, problems)
    problems.append(_Problem(
        "channel", ~typed["channel"].isin(CHANNELS).to_numpy() & ~_missing(frame["channel"]),
        lambda v: f"channel must be one of {', '.join(CHANNELS)}, got {v!r}",
    ))
    typed["date"] = _days(frame["date"], today, problems)
    typed["units"] = _whole_units(frame["units"], problems)
    typed["price_pln"] = _prices(frame.get("price_pln"), len(frame), problems)
    for flag in ("promo", "stockout"):
        typed[flag] = _flag(frame.get(flag), flag, len(frame), problems)
    _raise_first(problems, frame, names)
    rows = pd.DataFrame(typed, columns=list(SALES_COLUMNS))
    _refuse_repeated_keys(rows, names)
    return rows


def _check_columns(sales: pd.DataFrame, names: RowNames) -> None:
    columns = [str(c) for c in sales.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InvalidCommand(names.header(), f"missing column(s): {', '.join(missing)} "
                             f"(required: {', '.join(REQUIRED_COLUMNS)})")
    extra = [c for c in columns if c not in SALES_COLUMNS]
    if extra:
        raise InvalidCommand(names.header(), f"unknown column(s): {', '.join(extra)} "
                             f"(allowed: {', '.join(SALES_COLUMNS)})")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise InvalidCommand(names.header(), f"repeated column(s): {', '.join(repeated)}")


def _missing(values: pd.Series) -> np.ndarray:
    """None, NaN, NaT or a blank cell."""
    missing = values.isna().to_numpy()
    if values.dtype != object:
        return missing
    blanks = [v for v in pd.unique(values) if isinstance(v, str) and not v.strip()]
    return missing | values.isin(blanks).to_numpy() if blanks else missing


def _numbers(values: pd.Series) -> np.ndarray:
    """Floats (NaN where the value is no number): a CSV's text and a Parquet's ints alike."""
    return np.asarray(pd.to_numeric(values, errors="coerce"), dtype="float64")


def _text(values: pd.Series, column: str, problems: list[_Problem]) -> pd.Series:
    problems.append(_Problem(column, _missing(values), lambda _v: f"{column} is missing"))
    return values.astype(str)


def _days(values: pd.Series, today: date, problems: list[_Problem]) -> pd.Series:
    """ISO days (`YYYY-MM-DD` text, dates, or midnight timestamps) as `date` objects."""
    missing = _missing(values)
    if pd.api.types.is_datetime64_any_dtype(values):
        midnight = values.dt.normalize().eq(values)
        text = values.dt.strftime("%Y-%m-%d").where(midnight, values.astype(str))
    else:
        text = values.astype(str)
    parsed = {t: _iso_day(t) for t in text.unique()}  # a file holds few distinct days
    days = text.map(parsed)
    day_ordinal = text.map({t: d.toordinal() if d else 0 for t, d in parsed.items()}).to_numpy()
    problems.append(_Problem("date", missing, lambda _v: "date is missing"))
    problems.append(_Problem(
        "date", (day_ordinal == 0) & ~missing,
        lambda v: f"date must be an ISO date (YYYY-MM-DD), got {v!r}",
    ))
    valid = day_ordinal > 0
    problems.append(_Problem(
        "date", valid & (day_ordinal < EARLIEST_DAY.toordinal()),
        lambda v: f"date {v} is before {EARLIEST_DAY}: not trading history",
    ))
    problems.append(_Problem(
        "date", valid & (day_ordinal > today.toordinal()),
        lambda v: f"date {v} is after today ({today}): sales are recorded for days that "
                  "have happened",
    ))
    return days


def _iso_day(text: str) -> date | None:
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        return None


def _whole_units(values: pd.Series, problems: list[_Problem]) -> pd.Series:
    missing = _missing(values)
    number = _numbers(values)
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(number) & (number == np.floor(number))
        in_range = whole & (number >= 0) & (number <= MAX_UNITS)
    problems.append(_Problem("units", missing, lambda _v: "units is missing"))
    problems.append(_Problem(
        "units", ~in_range & ~missing,
        lambda v: f"units must be a whole number from 0 to {MAX_UNITS:,}, got {v!r}",
    ))
    return pd.Series(np.where(in_range, number, 0).astype(np.int64))


def _prices(values: pd.Series | None, n: int, problems: list[_Problem]) -> pd.Series:
    """The price per row, NaN where absent (the SKU's list price fills it in later)."""
    if values is None:
        return pd.Series(np.full(n, np.nan))
    missing = _missing(values)
    number = _numbers(values)
    with np.errstate(invalid="ignore"):
        fine = np.isfinite(number) & (number >= 0) & (number <= MAX_PRICE_PLN)
    problems.append(_Problem(
        "price_pln", ~fine & ~missing,
        lambda v: f"price_pln must be a price from 0 to {MAX_PRICE_PLN:,.0f} PLN, got {v!r}",
    ))
    return pd.Series(np.where(fine, number, np.nan))


def _flag(values: pd.Series | None, column: str, n: int, problems: list[_Problem]) -> pd.Series:
    """0 or 1, 0 where absent."""
    if values is None:
        return pd.Series(np.zeros(n, dtype=np.int8))
    missing = _missing(values)
    number = _numbers(values)
    fine = (number == 0) | (number == 1)
    problems.append(_Problem(column, ~fine & ~missing,
                             lambda v: f"{column} must be 0 or 1, got {v!r}"))
    return pd.Series(np.where(fine, number, 0).astype(np.int8))


def _raise_first(problems: list[_Problem], frame: pd.DataFrame, names: RowNames) -> None:
    """Refuse the batch at its first bad row (in batch order), saying how many rows share the
    problem so a bad file is fixed in one go, not one row per run."""
    failing = [p for p in problems if p.bad.any()]
    if not failing:
        return
    first = min(failing, key=lambda p: int(np.argmax(p.bad)))
    index = int(np.argmax(first.bad))
    detail = first.detail(frame[first.column].iloc[index])
    count = int(first.bad.sum())
    if count > 1:
        detail += f" ({count:,} rows have this problem; the first is named)"
    raise InvalidCommand(names.field(index, first.column), detail)


def _refuse_repeated_keys(rows: pd.DataFrame, names: RowNames) -> None:
    """A day twice in one batch would make the result depend on the order of the rows."""
    repeated = rows.duplicated(list(KEY_COLUMNS), keep="first").to_numpy()
    if not repeated.any():
        return
    index = int(np.argmax(repeated))
    key = rows.loc[index, list(KEY_COLUMNS)]
    earlier = int(np.argmax((rows[list(KEY_COLUMNS)] == key).all(axis=1).to_numpy()))
    node_id, channel, sku, day = key
    raise InvalidCommand(
        names.row(index),
        f"{node_id} {channel} {sku} on {day} is already in this batch at {names.row(earlier)}: "
        "send each day once",
    )


# --- Checks against the network and catalogue, and the writes --------------------------------


def _with_references_checked(
    conn: Connection, rows: pd.DataFrame, names: RowNames
) -> pd.DataFrame:
    """Refuse unknown nodes and SKUs, and DCs (sales are a store's); fill missing prices with
    the SKU's list price. `rows` is in batch order (its index is the row's position)."""
    kinds = dict(conn.execute(select(Node.node_id, Node.kind)).tuples().all())
    prices = dict(conn.execute(select(Sku.sku, Sku.price_pln)).tuples().all())
    node_kind = rows["node_id"].map(kinds)
    unknown = _first(node_kind.isna())
    if unknown is not None:
        raise NotFound("node", rows["node_id"][unknown], names.field(unknown, "node_id"))
    not_store = _first(node_kind.ne("store"))
    if not_store is not None:
        kind = str(node_kind[not_store])
        raise InvalidCommand(
            names.field(not_store, "node_id"),
            f"node {rows['node_id'][not_store]} is a {KINDS.get(kind, kind)}, not a store: sales "
            "are recorded at stores, online ones at the store whose catchment the customer "
            "lives in",
        )
    list_price = rows["sku"].map(prices)
    unknown = _first(list_price.isna())
    if unknown is not None:
        raise NotFound("sku", rows["sku"][unknown], names.field(unknown, "sku"))
    return rows.assign(price_pln=rows["price_pln"].fillna(list_price.astype(float)))


def _first(mask: pd.Series) -> int | None:
    """The position of the first row where `mask` holds, or None."""
    flags = mask.to_numpy(dtype=bool)
    return int(np.argmax(flags)) if flags.any() else None


def _upsert(conn: Connection, rows: pd.DataFrame, report: Progress) -> int:
    """Write `rows` (each key once) chunk by chunk in key order, a recorded day replaced;
    returns how many keys were new to the table."""
    if conn.dialect.name == "postgresql":
        return _upsert_postgres(conn, rows, report)
    return _upsert_sqlite(conn, rows, report)


def _upsert_postgres(conn: Connection, rows: pd.DataFrame, report: Progress) -> int:
    """One INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO UPDATE per chunk: eight array
    parameters whatever the chunk's size, one short statement text prepared once (a multi-row
    VALUES list is parsed again for every page, and an executemany runs a statement per row).

    A row version the statement inserted has no locker (`xmax = 0`); one that replaced a
    recorded day carries this transaction's lock: that is how the new rows are counted.
    """
    table = Sale.__table__
    arrays = [bindparam(c, type_=ARRAY(table.c[c].type)) for c in SALES_COLUMNS]
    source = func.unnest(*arrays).table_valued(*SALES_COLUMNS).render_derived()
    insert = postgresql.insert(Sale).from_select(
        list(SALES_COLUMNS), select(*(source.c[c] for c in SALES_COLUMNS))
    )
    statement = _on_conflict_replace(insert).returning(literal_column("xmax = 0", Boolean))
    inserted = 0
    for chunk in _chunks(rows):
        columns = {c: chunk[c].tolist() for c in SALES_COLUMNS}
        inserted += sum(conn.execute(statement, columns).scalars())
        report(len(chunk))
    return inserted


def _upsert_sqlite(conn: Connection, rows: pd.DataFrame, report: Progress) -> int:
    """An executemany of INSERT ... ON CONFLICT DO UPDATE per chunk (8 parameters per
    execution, never near SQLite's limit). SQLite cannot tell an insert from a replacement, but
    this transaction holds the only write lock (BEGIN IMMEDIATE), so the rows the batch's days
    gained are exactly the new ones."""
    statement = _on_conflict_replace(sqlite.insert(Sale))
    first, last = min(rows["date"]), max(rows["date"])
    before = _rows_between(conn, first, last)
    for chunk in _chunks(rows):
        conn.execute(statement, cast(list[dict[str, Any]], chunk.to_dict("records")))
        report(len(chunk))
    return _rows_between(conn, first, last) - before


def _on_conflict_replace(insert: UpsertInsert) -> UpsertInsert:
    """ON CONFLICT (the key) DO UPDATE every other column with the incoming row's."""
    values = [c for c in SALES_COLUMNS if c not in KEY_COLUMNS]
    return insert.on_conflict_do_update(
        index_elements=list(KEY_COLUMNS),
        set_={column: insert.excluded[column] for column in values},
    )


def _chunks(rows: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """The rows in key order, CHUNK_ROWS at a time: a million-row file is many bounded
    statements, never one giant one. In key order the clustered key grows at its end, and two
    batches sharing days lock them in the same order (one waits, neither deadlocks)."""
    ordered = rows.sort_values(list(KEY_COLUMNS), kind="stable", ignore_index=True)
    for start in range(0, len(ordered), CHUNK_ROWS):
        yield ordered.iloc[start : start + CHUNK_ROWS]


def _rows_between(conn: Connection, first: date, last: date) -> int:
    """Rows the table holds for days first..last (an index range count on ix_sales_date)."""
    query = select(func.count()).select_from(Sale).where(Sale.date.between(first, last))
    return int(conn.execute(query).scalar_one())
