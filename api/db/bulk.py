"""Bulk writes of DataFrames: COPY on PostgreSQL, batched executemany on SQLite.

Both run inside the caller's SQLAlchemy transaction (COPY goes through the same driver
connection), so a bulk write commits or rolls back with everything else. Values bypass
SQLAlchemy's type processing: dates are written as ISO text, which both databases read back as
DATE through SQLAlchemy; timezone-aware datetime columns should not be bulk-written this way.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

CHUNK_ROWS = 100_000
SQLITE_LOAD_CACHE_KIB = 256 * 1024  # page cache for a bulk connection: indexes stay in memory


def write_frame(conn: Connection, table: str, frame: pd.DataFrame) -> Iterator[int]:
    """Write `frame` (columns = table columns) into `table`; yields rows written per chunk."""
    if conn.dialect.name == "postgresql":
        return _copy_frame(conn, table, frame)
    return _insert_frame(conn, table, frame)


def enlarge_sqlite_cache(conn: Connection) -> None:
    """Give this connection a large page cache for a bulk write (no-op on PostgreSQL)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_LOAD_CACHE_KIB}")


def _chunks(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), CHUNK_ROWS):
        yield frame.iloc[start : start + CHUNK_ROWS]


def _copy_frame(conn: Connection, table: str, frame: pd.DataFrame) -> Iterator[int]:
    """COPY FROM STDIN in CSV, within the SQLAlchemy transaction (same driver connection)."""
    driver = conn.connection.driver_connection
    assert driver is not None
    import psycopg

    columns = ", ".join(f'"{c}"' for c in frame.columns)
    statement = f'COPY "{table}" ({columns}) FROM STDIN (FORMAT CSV)'
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            for chunk in _chunks(frame):
                buffer = io.StringIO()
                dates = [c for c in chunk.columns if pd.api.types.is_datetime64_any_dtype(chunk[c])]
                ready = chunk.assign(**{c: _iso_dates(chunk[c]) for c in dates})
                ready.to_csv(buffer, index=False, header=False)
                copy.write(buffer.getvalue())
                yield len(chunk)
    except psycopg.Error as exc:
        # The same exception types as every other statement (IntegrityError, ...).
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


def _insert_frame(conn: Connection, table: str, frame: pd.DataFrame) -> Iterator[int]:
    """executemany of plain tuples through the driver (no per-row SQLAlchemy overhead)."""
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    statement = f'INSERT INTO "{table}" ({columns}) VALUES ({marks})'
    for chunk in _chunks(frame):
        conn.exec_driver_sql(statement, _plain_rows(chunk))
        yield len(chunk)


def _iso_dates(series: pd.Series) -> pd.Series:
    """Datetimes as 'YYYY-MM-DD' text (vectorised in numpy), NaT as None."""
    text_values = series.to_numpy(dtype="datetime64[D]").astype(str).astype(object)
    return pd.Series(text_values, index=series.index).where(series.notna(), None)


def _plain_rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows of Python scalars for the DB-API: dates as ISO text (what SQLAlchemy stores on
    SQLite), NaN/NaT as NULL, numpy numbers as Python numbers. Column-wise, for speed."""
    columns: list[list[Any]] = []
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            series = _iso_dates(series)
        elif series.dtype == object and pd.api.types.infer_dtype(series) != "string":
            series = series.map(_plain)
        if series.hasnans:
            series = series.astype(object).where(series.notna(), None)
        columns.append(series.tolist())
    return list(zip(*columns, strict=True))


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value
