"""Open endpoints for orchestrators and scrapers: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import text

from api.http.deps import RuntimeDep
from api.metrics import render_latest

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up (does not touch the database)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"description": "DB unreachable"}})
def readyz(runtime: RuntimeDep) -> Health:
    """The database answers; a 503 problem (with Retry-After) otherwise."""
    with runtime.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return Health(status="ready")


@router.get("/metrics", response_class=Response, include_in_schema=False)
def metrics() -> Response:
    """Prometheus exposition: request latency histogram and decisions by status."""
    body, content_type = render_latest()
    return Response(body, media_type=content_type)
