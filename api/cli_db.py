"""`omni db ...`: create and migrate the schema, load the demo chain.

Errors a user can fix (bad URL, database down, bad settings) end with one line on stderr and exit
code 1, never a traceback; a failed command leaves the database as it was (migrations and the
load each run in one transaction).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from api.db.engine import (
    DatabaseError,
    SchemaNotCurrent,
    check_connection,
    first_line,
    make_engine,
    redact,
)
from api.settings import Settings, get_settings

if TYPE_CHECKING:
    from api.db.load_chain import LoadReport

# Alembic, pandas and the generator load inside the commands: `omni --help` stays quick.

db_app = typer.Typer(
    help="Database: schema migrations and the demo chain.", no_args_is_help=True
)
console = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    typer.echo(f"omni db: error: {message}", err=True)
    return typer.Exit(code=1)


@contextmanager
def user_errors(exit_with: Callable[[str], typer.Exit] = fail) -> Iterator[None]:
    """Turn the database and settings errors a user can act on into one line (`exit_with`
    prints it and gives the exit); every command that opens the database shares it."""
    from alembic.util.exc import CommandError

    try:
        yield
    except DatabaseError as exc:
        raise exit_with(str(exc)) from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise exit_with(f"invalid settings: {problems}") from None
    except SQLAlchemyError as exc:
        raise exit_with(first_line(getattr(exc, "orig", None) or exc)) from None
    except CommandError as exc:  # e.g. the database is at a revision this code does not know
        raise exit_with(f"migrations: {first_line(exc)}") from None
    except KeyboardInterrupt:
        raise exit_with("interrupted; nothing was written") from None


def connected_engine(settings: Settings) -> Engine:
    """The settings' database, its reachability checked (DatabaseError if not)."""
    engine = make_engine(settings.database_url, settings)
    check_connection(engine)
    return engine


def schema_engine(settings: Settings | None = None) -> Engine:
    """The settings' database, reachable and at the schema this release needs; else a
    DatabaseError naming the command that fixes it (`user_errors` prints it on one line), so
    that a command on an empty or older database stops before it reads or writes anything."""
    from api.db.migrate import schema_problem

    engine = connected_engine(settings or get_settings())
    with engine.connect() as conn:
        problem = schema_problem(conn)
    if problem is not None:
        engine.dispose()
        raise SchemaNotCurrent(f"{redact(engine.url)}: {problem}")
    return engine


def command_error(message: str) -> typer.Exit:
    """One line on stderr and exit 1, for commands outside `omni db`."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


@db_app.command("upgrade")
def upgrade_command(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply the schema migrations to OMNI_DATABASE_URL."""
    from api.db.migrate import current_revision, upgrade

    with user_errors():
        settings = get_settings()
        engine = connected_engine(settings)
        upgrade(engine, revision)
        typer.echo(f"{redact(engine.url)} at revision {current_revision(engine)}")
        engine.dispose()


@db_app.command("current")
def current_command() -> None:
    """Print the database's migration revision and the packaged head."""
    from api.db.migrate import current_revision, head_revision

    with user_errors():
        engine = connected_engine(get_settings())
        typer.echo(f"current: {current_revision(engine) or 'empty'}  head: {head_revision()}")
        engine.dispose()


@db_app.command("init")
def init_command(
    demo: Annotated[bool, typer.Option("--demo", help="Load the generated demo chain.")] = False,
    seed: Annotated[int, typer.Option(help="Demo chain seed.")] = 7,
    stores: Annotated[int, typer.Option(min=1, help="Number of stores.")] = 100,
    skus: Annotated[
        int | None, typer.Option(min=1, help="Number of SKUs (default: the generator's).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help=(
            "Reload even if the same demo chain is loaded, and replace a database that holds "
            "orders, stock movements, runs or plans (they are deleted)."))
    ] = False,
) -> None:
    """Create the schema (migrations) and, with --demo, load the demo chain.

    Safe to re-run: the same chain is skipped. Loading a different chain replaces all data
    atomically, and is refused while the database holds orders, stock movements, forecast
    runs or plans, unless --force. Restart running servers after a load: they keep the
    master data (nodes, SKUs) they started with.
    """
    from api.db.migrate import current_revision, upgrade

    with user_errors():
        settings = get_settings()
        engine = connected_engine(settings)
        upgrade(engine)
        if demo:
            _load_demo(engine, settings, seed, stores, skus, force)
        else:
            typer.echo(f"schema ready at revision {current_revision(engine)}")
        engine.dispose()


def _load_demo(
    engine: Engine, settings: Settings, seed: int, stores: int, skus: int | None, force: bool
) -> None:
    from api.db.load_chain import (
        DEMO_DATASET,
        load_chain,
        loaded_dataset,
        operational_records,
        total_rows,
    )
    from data import demo_chain

    n_skus = skus if skus is not None else demo_chain.DEFAULT_SKUS
    params: dict[str, Any] = {"seed": seed, "n_stores": stores, "n_skus": n_skus}
    version = demo_data_version(params)
    loaded = loaded_dataset(engine)
    if loaded is not None and loaded.data_version == version and not force:
        typer.echo(f"demo chain {params} already loaded (data version {version}); skipped")
        return
    records = operational_records(engine)
    if records and not force:
        held = ", ".join(f"{table.replace('_', ' ')}: {n:,}" for table, n in records.items())
        raise fail(f"the database holds {held}: loading the demo chain {params} would delete "
                   "them with everything else. Use another database (OMNI_DATABASE_URL), or "
                   "pass --force to replace it all")
    with console.status("generating the demo chain..."):
        chain = demo_chain.generate_chain(seed=seed, n_stores=stores, n_skus=n_skus)
    params["as_of"] = chain.as_of.isoformat()
    with _progress_bar(total_rows(chain)) as advance:
        report = load_chain(
            engine, chain, version, params, progress=advance,
            window_days=settings.demand_rate_window_days, name=DEMO_DATASET,
        )
    _print_report(report, redact(engine.url))
    if loaded is not None:
        typer.echo("restart any running `omni serve`: it keeps the nodes and SKUs it started with")


def demo_data_version(params: dict[str, Any]) -> str:
    """A short hash of the generator's parameters and of the code that makes the loaded data:
    the same version means the same data (the generator is deterministic), so a re-run can skip
    the load."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode())
    for source in demo_sources():
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def demo_sources() -> list[Path]:
    """The generator (`data/*.py`) and the loader, which derives tables of its own (demand
    rates) and picks the columns written: a change to either changes what the database holds."""
    root = Path(__file__).resolve().parents[1]
    return [*sorted((root / "data").glob("*.py")), root / "api" / "db" / "load_chain.py"]


@contextmanager
def _progress_bar(total: int) -> Iterator[Callable[[str, int], None]]:
    columns = (
        TextColumn("loading {task.description:<15}"),
        BarColumn(),
        TextColumn("{task.completed:>10,.0f} rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("", total=total)

        def advance(table: str, rows: int) -> None:
            bar.update(task, advance=rows, description=table)

        yield advance


def _print_report(report: LoadReport, where: str) -> None:
    rows = ", ".join(f"{table} {count:,}" for table, count in report.rows.items())
    typer.echo(f"loaded the demo chain into {where} in {report.seconds:.1f} s: {rows}")
    typer.echo(f"data version {report.data_version}")
