"""`omni sales import FILE`: load the chain's own sales history or daily POS file.

The file is read whole and checked by `api.services.sales_feed` before anything is written; the
rows then go in one transaction. Bad input (an unreadable file, a missing or unknown column, a
bad row) ends with one line on stderr naming the file, the row and the column, exit code 2 and
nothing written; a database problem (unreachable, no schema) ends with exit code 1.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from api.cli_db import command_error, schema_engine, user_errors
from api.cli_forecast import INPUT_ERROR_EXIT

if TYPE_CHECKING:
    import pandas as pd

    from api.services.sales_feed import SalesImport

# pandas, SQLAlchemy and the service load inside the command: `omni --help` stays quick.

sales_app = typer.Typer(help="Sales history: load the chain's own daily sales.",
                        no_args_is_help=True)
console = Console(stderr=True)
FORMATS = (".csv", ".parquet")


class FileRows:
    """Rows named as a user finds them: `data row N` counts from 1 under the header (a CSV's
    line number would be off by its blank lines, which the reader skips). Implements
    `sales_feed.RowNames`."""

    def __init__(self, csv: bool) -> None:
        self.csv = csv

    def header(self) -> str:
        return "header" if self.csv else "columns"

    def row(self, index: int) -> str:
        return f"data row {index + 1:,}"

    def field(self, index: int, column: str) -> str:
        return f"{self.row(index)}, column {column}"


def _input_error(path: Path, message: str) -> typer.Exit:
    typer.echo(f"error: {path}: {message}", err=True)
    return typer.Exit(INPUT_ERROR_EXIT)


def read_sales_file(path: Path) -> pd.DataFrame:
    """The file's rows as they are: a CSV entirely as text (the service parses every column,
    so `007` stays a node id and a blank cell stays blank), a Parquet file with its types."""
    import pandas as pd
    import pyarrow as pa

    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise _input_error(path, f"not a sales file: expected {' or '.join(FORMATS)}")
    if not path.is_file():
        raise _input_error(path, "no such file")
    try:
        if suffix == ".csv":
            with warnings.catch_warnings():
                # More fields than the header: never take the first column for an index.
                warnings.simplefilter("error", pd.errors.ParserWarning)
                return pd.read_csv(path, dtype=str, keep_default_na=False, index_col=False,
                                   encoding="utf-8-sig")
        return pd.read_parquet(path)
    except pd.errors.ParserWarning:
        raise _input_error(path, "the first data row has more fields than the header") from None
    except pd.errors.EmptyDataError:
        raise _input_error(path, "the file is empty (not even a header)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pa.ArrowException, OSError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise _input_error(path, f"cannot read it as {suffix[1:]}: {first}") from None


@sales_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(
        help="A .csv or .parquet file with columns date, node_id, channel, sku, units and "
             "optionally price_pln (default: the SKU's list price), promo and stockout (0/1, "
             "default 0)", show_default=False)],
) -> None:
    """Import daily sales (store x channel x SKU x day); a day already recorded is replaced.

    All or nothing: a bad row is named with its column, and nothing is written.
    """
    from api.db.engine import redact
    from api.services.errors import InvalidCommand, NotFound
    from api.services.sales_feed import CHUNK_ROWS, import_sales

    with console.status(f"reading {file}..."):
        frame = read_sales_file(file)
    names = FileRows(csv=file.suffix.lower() == ".csv")
    with user_errors(command_error):
        engine = schema_engine()
        try:
            with _progress_bar(len(frame), hidden=len(frame) <= CHUNK_ROWS) as advance:
                result = import_sales(engine, frame, names=names, progress=advance)
        except InvalidCommand as error:
            raise _input_error(file, f"{error.pointer}: {error.detail}") from None
        except NotFound as error:
            raise _input_error(file, f"{error.field}: {error}") from None
        finally:
            engine.dispose()
    typer.echo(_summary(result, redact(engine.url)))


def _summary(result: SalesImport, where: str) -> str:
    return (f"imported {result.rows:,} rows ({result.inserted:,} new, {result.replaced:,} "
            f"replaced; {result.sold_out:,} sold out) for {result.first_date}..{result.last_date}"
            f" into {where}; data version {result.data_version[:12]}")


@contextmanager
def _progress_bar(total: int, hidden: bool) -> Iterator[Callable[[int], None]]:
    """A bar on stderr over the rows written (a million-row file takes a while); gone when
    done, and not shown at all for a file of one chunk."""
    columns = (
        TextColumn("importing sales"),
        BarColumn(),
        TextColumn("{task.completed:>12,.0f} / {task.total:,.0f} rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=hidden) as bar:
        task = bar.add_task("", total=total)

        def advance(rows: int) -> None:
            bar.update(task, advance=rows)

        yield advance
