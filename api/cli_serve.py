"""`omni serve`: run the HTTP API under uvicorn, in one process or several workers."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Annotated

import typer

from api.metrics import MULTIPROC_ENV

APP_FACTORY = "api.http.app:app_from_environment"


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (each has its own DB pool).")
    ] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
    keep_alive: Annotated[
        int,
        typer.Option(min=1, help="Seconds an idle keep-alive connection stays open (the OMS "
                     "pools connections; uvicorn's 5 s races clients reusing them)."),
    ] = 30,
    worker_start_timeout: Annotated[
        int,
        typer.Option(min=1, help="Seconds a worker may take to start (it imports the solver and "
                     "the scientific stack; uvicorn's default of 5 s kills it on a busy box)."),
    ] = 120,
) -> None:
    """Serve the allocation API (settings from OMNI_* environment variables). A database
    without this release's schema stops it before it listens, naming the migration to run; one
    that cannot be reached yet does not (requests get 503 with Retry-After until it can)."""
    import uvicorn  # imported here: `omni --help` should not pay for the server stack

    from api.cli_db import command_error, schema_engine, user_errors
    from api.db.engine import DatabaseUnavailable

    with user_errors(command_error):
        try:
            schema_engine().dispose()
        except DatabaseUnavailable as down:  # may come up later: serve, /readyz says 503
            typer.echo(f"warning: {down}; serving anyway, /readyz answers 503 until it is "
                       "reachable", err=True)

    metrics_dir = None
    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        # Workers are separate processes; prometheus-client aggregates them through files.
        metrics_dir = tempfile.mkdtemp(prefix="omni-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir
    try:
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            access_log=access_log,
            timeout_graceful_shutdown=5,
            timeout_keep_alive=keep_alive,
            timeout_worker_healthcheck=worker_start_timeout,
        )
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
