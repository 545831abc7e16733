"""Request dependencies as `Annotated` aliases: the wired runtime, and API-key scope checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.http.problems import Forbidden, Unauthenticated
from api.http.runtime import Runtime
from api.services.network import MasterData

_bearer = HTTPBearer(auto_error=False, description="An API key from OMNI_API_KEYS")


async def get_runtime(request: Request) -> Runtime:
    """The engine, settings and cached network the lifespan wired."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def master_data(runtime: Runtime) -> MasterData:
    """The cached network and catalog; the first call per process reads them (in a thread)."""
    data = runtime.network.cached()
    if data is None:
        data = await run_in_threadpool(runtime.network.get)
    return data


def authorize(runtime: Runtime, scheme: str, key: str, allowed: frozenset[str]) -> str:
    """The key's scope if it may act (`allowed`); else Unauthenticated (401) or Forbidden (403)."""
    if not key or scheme.lower() != "bearer":
        raise Unauthenticated()
    scope = runtime.settings.api_keys.get(key)
    if scope is None:
        raise Unauthenticated()
    if scope not in allowed:
        raise Forbidden(sorted(allowed), scope)
    return scope


def authorize_header(runtime: Runtime, authorization: str | None, allowed: frozenset[str]) -> str:
    """`authorize` from a raw `Authorization` header, parsed as FastAPI's HTTPBearer does."""
    scheme, _, key = (authorization or "").partition(" ")
    return authorize(runtime, scheme, key.strip(), allowed)


def allowed_scopes(*scopes: str) -> frozenset[str]:
    """The scopes that may call an operation open to `scopes`: those, and `admin` (may do all)."""
    return frozenset(scopes) | {"admin"}


def require_scope(*scopes: str) -> Callable[..., Awaitable[str]]:
    """A dependency accepting keys whose scope is one of `scopes`, or `admin` (may do all).

    Dependencies here are `async def` on purpose: they never block, and a plain `def` would cost
    a thread-pool hop per request on the hot path.
    """
    allowed = allowed_scopes(*scopes)

    async def check(
        runtime: RuntimeDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> str:
        if credentials is None:
            raise Unauthenticated()
        return authorize(runtime, credentials.scheme, credentials.credentials, allowed)

    return check


OmsKey = Annotated[str, Depends(require_scope("oms"))]
FeedKey = Annotated[str, Depends(require_scope("oms", "planner"))]
ReadKey = Annotated[str, Depends(require_scope("oms", "planner"))]
