"""The planner and operations console: server-rendered pages under /console on the service.

`mount_console(app)` adds the pages, the actions and the static files to an app built by
`api.http.app.create_app`; it reads the runtime (engine, settings) the app's lifespan wires.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def mount_console(app: FastAPI) -> None:
    """Serve the console at /console and its stylesheet at /console/static."""
    from api.console.routes import router

    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
