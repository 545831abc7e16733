"""`omni demo`: the main job end to end on the embedded defaults.

Loads the generated demo chain into the configured database (SQLite `./omni.db` by default),
then runs what the three users run, in the order a real week would: the planners' forecast
batch, the reservation plan and a rebalancing plan for the next peak, then a day of OMS orders
through the real HTTP API; and prints a short summary of each step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console

from api.chain_summary import summarise_chain
from api.cli_db import init_command
from api.db.engine import make_engine
from api.settings import get_settings

console = Console()


def demo_command(
    seed: Annotated[int, typer.Option(help="Demo chain seed.")] = 7,
    stores: Annotated[int, typer.Option(min=1, help="Number of stores.")] = 100,
    skus: Annotated[int | None, typer.Option(min=1, help="Number of SKUs.")] = None,
) -> None:
    """Run the main job end to end on the embedded defaults and print a summary."""
    started = time.perf_counter()
    _step("load the demo chain", lambda: init_command(
        demo=True, seed=seed, stores=stores, skus=skus, force=False
    ))
    settings = get_settings()
    engine = make_engine(settings.database_url, settings)
    try:
        summary = summarise_chain(engine)
        for line in summary.lines():
            console.print(f"  {line}")
    finally:
        engine.dispose()
    console.print(f"[bold green]demo finished in {time.perf_counter() - started:.1f} s[/]")


def _step(title: str, action: Callable[[], object]) -> None:
    console.rule(f"[bold]{title}")
    t0 = time.perf_counter()
    action()
    console.print(f"[dim]{title}: {time.perf_counter() - t0:.1f} s[/]")
