"""`omni sales import FILE` from the outside: what a user sees, and what the table then holds.

The tiny chain (conftest) has stores S001 and S002, a DC, SKUs A (list price 299.99), B and C,
and sales through 2026-11-08 (every day of S001 online B).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from api.cli import app
from api.cli_forecast import INPUT_ERROR_EXIT
from api.db.tables import Sale

HEADER = "date,node_id,channel,sku,units,price_pln,promo,stockout\n"
GOOD_ROWS = (
    "2026-11-07,S001,online,B,3,,0,1\n"  # replaces a day the tiny chain holds
    "2026-11-08,S001,online,B,2,1399.00,1,0\n"  # replaces one too
    "2026-11-08,S002,store,A,1,,,\n"  # new
)


def omni(args: list[str], database_url: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args, env={"OMNI_DATABASE_URL": database_url})
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Sale)).scalar_one())


def sale(engine: Engine, node_id: str, channel: str, sku: str, day: date) -> tuple[object, ...]:
    query = select(Sale.units, Sale.price_pln, Sale.promo, Sale.stockout).where(
        Sale.node_id == node_id, Sale.channel == channel, Sale.sku == sku, Sale.date == day)
    with engine.connect() as conn:
        return tuple(conn.execute(query).one())


def one_error_line(stderr: str, *words: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_a_csv_imports_and_a_reimport_replaces_every_row(
    loaded_engine: Engine, db_url: str, tmp_path: Path
) -> None:
    before = count(loaded_engine)
    path = write(tmp_path / "pos.csv", HEADER + GOOD_ROWS)
    code, out, err = omni(["sales", "import", str(path)], db_url)
    assert code == 0, err
    assert out.startswith("imported 3 rows (1 new, 2 replaced; 1 sold out) for "
                          "2026-11-07..2026-11-08 into ")
    assert count(loaded_engine) == before + 1
    assert sale(loaded_engine, "S001", "online", "B", date(2026, 11, 7)) == (3, 1499.0, 0, 1)
    assert sale(loaded_engine, "S001", "online", "B", date(2026, 11, 8)) == (2, 1399.0, 1, 0)
    assert sale(loaded_engine, "S002", "store", "A", date(2026, 11, 8)) == (1, 299.99, 0, 0)
    code, out, _ = omni(["sales", "import", str(path)], db_url)
    assert code == 0 and "imported 3 rows (0 new, 3 replaced; 1 sold out)" in out


def test_a_parquet_file_imports_with_its_own_types(
    loaded_engine: Engine, db_url: str, tmp_path: Path
) -> None:
    frame = pd.DataFrame({
        "date": pd.to_datetime(["2026-11-09", "2026-11-09"]),
        "node_id": ["S001", "S002"], "channel": ["store", "online"], "sku": ["A", "C"],
        "units": [4, 0], "stockout": [True, False],
    })
    path = tmp_path / "history.parquet"
    frame.to_parquet(path)
    code, out, err = omni(["sales", "import", str(path)], db_url)
    assert code == 0, err
    assert "imported 2 rows (2 new, 0 replaced; 1 sold out) for 2026-11-09..2026-11-09" in out
    assert sale(loaded_engine, "S001", "store", "A", date(2026, 11, 9)) == (4, 299.99, 0, 1)


def test_a_bad_row_is_named_with_its_column_and_nothing_is_written(
    loaded_engine: Engine, db_url: str, tmp_path: Path
) -> None:
    before = count(loaded_engine)
    rows = GOOD_ROWS + "2026-11-08,S002,store,C,2.5,,0,0\n" + "2026-11-08,S002,online,C,1,,0,0\n"
    path = write(tmp_path / "pos.csv", HEADER + rows)
    code, out, err = omni(["sales", "import", str(path)], db_url)
    assert code == INPUT_ERROR_EXIT and out == ""
    one_error_line(err, "pos.csv", "data row 4, column units", "whole number", "'2.5'")
    assert count(loaded_engine) == before


def test_unknown_node_and_sku_are_named_with_their_row(
    loaded_engine: Engine, db_url: str, tmp_path: Path
) -> None:
    node = write(tmp_path / "node.csv", HEADER + GOOD_ROWS + "2026-11-08,S404,store,A,1,,,\n")
    code, _, err = omni(["sales", "import", str(node)], db_url)
    assert code == INPUT_ERROR_EXIT
    one_error_line(err, "data row 4, column node_id", "unknown node 'S404'")
    sku = write(tmp_path / "sku.csv", HEADER + "2026-11-08,S001,store,ZZZ,1,,,\n" + GOOD_ROWS)
    code, _, err = omni(["sales", "import", str(sku)], db_url)
    assert code == INPUT_ERROR_EXIT
    one_error_line(err, "data row 1, column sku", "unknown sku 'ZZZ'")


def test_an_extra_column_is_refused_by_name(
    loaded_engine: Engine, db_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "pos.csv", "date,node_id,channel,sku,units,till\n"
                                       "2026-11-08,S001,store,A,1,7\n")
    code, _, err = omni(["sales", "import", str(path)], db_url)
    assert code == INPUT_ERROR_EXIT
    one_error_line(err, "header", "unknown column(s): till")


def test_a_file_that_is_neither_csv_nor_parquet_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "pos.xlsx", "not a spreadsheet")
    code, _, err = omni(["sales", "import", str(path)], sqlite_url)
    assert code == INPUT_ERROR_EXIT
    one_error_line(err, "pos.xlsx", "expected .csv or .parquet")


def test_a_row_longer_than_the_header_is_refused_not_shifted(
    loaded_engine: Engine, db_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "pos.csv", "date,node_id,channel,sku,units\n"
                                       "2026-11-08,S001,store,A,1,9\n")
    code, _, err = omni(["sales", "import", str(path)], db_url)
    assert code == INPUT_ERROR_EXIT
    one_error_line(err, "more fields than the header")


def test_a_database_without_the_schema_is_named_in_one_line(
    sqlite_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "pos.csv", HEADER + GOOD_ROWS)
    code, _, err = omni(["sales", "import", str(path)], sqlite_url)
    assert code == 1
    one_error_line(err, "has no schema", "omni db init")


@pytest.mark.parametrize("command", [
    ["plan", "reservations"], ["plan", "rebalance", "--peak", "christmas", "--year", "2027"],
    ["batch", "weekly"], ["batch", "accuracy"],
    ["serve", "--host", "256.0.0.1"],  # an address uvicorn cannot bind: a failed check fails fast
])
def test_every_command_on_a_database_without_the_schema_says_what_to_run(
    sqlite_url: str, command: list[str]
) -> None:
    """They used to end in a SQLAlchemy traceback ("no such table: nodes")."""
    code, _, err = omni(command, sqlite_url)
    assert code == 1
    one_error_line(err, "has no schema", "omni db init --demo", "omni db upgrade")


def test_serve_goes_on_when_the_database_is_not_up_yet() -> None:
    """Unlike a missing schema, an unreachable database may come up later: the server starts
    (here it then fails to bind an impossible address, quickly) and /readyz says 503 meanwhile."""
    code, _, err = omni(["serve", "--host", "256.0.0.1"],
                        "postgresql+psycopg://nobody@127.0.0.1:1/x")
    assert "serving anyway" in err and "cannot reach database" in err
    assert "has no schema" not in err


def test_a_database_at_an_older_schema_is_named_with_its_revision(sqlite_url: str) -> None:
    from api.db.engine import make_engine
    from api.db.migrate import head_revision, upgrade

    engine = make_engine(sqlite_url)
    upgrade(engine, "0006")
    engine.dispose()
    code, _, err = omni(["plan", "reservations"], sqlite_url)
    assert code == 1
    one_error_line(err, "schema revision 0006", f"needs {head_revision()}", "omni db upgrade")


@pytest.mark.parametrize("url", ["postgresql+psycopg://nobody@127.0.0.1:1/x", "not a url"])
def test_an_unusable_database_url_is_one_line(url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "pos.csv", HEADER + GOOD_ROWS)
    code, _, err = omni(["sales", "import", str(path)], url)
    assert code == 1
    one_error_line(err, "database")
