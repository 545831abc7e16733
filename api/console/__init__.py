"""The planner and operations console: server-rendered pages under /console on the service.

`mount_console(app)` adds the pages, the actions and the static files to an app built by
`api.http.app.create_app`; it reads the runtime (engine, settings) the app's lifespan wires.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
STATIC_ROUTE = "console-static"


def mount_console(app: FastAPI) -> None:
    """Serve the console at /console and its stylesheet at /console/static (once per app)."""
    from api.console.routes import router

    if any(getattr(route, "name", None) == STATIC_ROUTE for route in app.routes):
        return
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name=STATIC_ROUTE)


def app_with_console() -> FastAPI:
    """The service app from OMNI_* settings with the console mounted (a uvicorn factory), for
    as long as `create_app` does not mount it itself."""
    from api.http.app import create_app
    from api.settings import get_settings

    app = create_app(get_settings())
    mount_console(app)
    return app
