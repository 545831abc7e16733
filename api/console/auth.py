"""Who is looking at the console: browsers do not send Bearer headers, so a planner types the
API key once into a form and gets an HttpOnly cookie.

The cookie holds the key's SHA-256, not the key: it is checked against the same key store
(settings.api_keys) on every request, so removing a key logs its sessions out. SameSite=Strict
keeps other sites from posting the console's forms with it (our CSRF defence). Without a
planner or admin cookie the pages are a read-only view.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import Request, Response

from api.settings import Settings

COOKIE = "omni_console"
PLANNING_SCOPES = frozenset({"planner", "admin"})


@dataclass(frozen=True)
class Viewer:
    """The console user: a scope when logged in with a known key, else None (read-only)."""

    scope: str | None

    @property
    def can_plan(self) -> bool:
        return self.scope in PLANNING_SCOPES


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def scope_of_digest(settings: Settings, digest: str | None) -> str | None:
    if not digest:
        return None
    for key, scope in settings.api_keys.items():
        if hmac.compare_digest(key_digest(key), digest):
            return scope
    return None


def viewer(request: Request, settings: Settings) -> Viewer:
    return Viewer(scope_of_digest(settings, request.cookies.get(COOKIE)))


def log_in(response: Response, key: str, secure: bool) -> None:
    response.set_cookie(
        COOKIE, key_digest(key), httponly=True, samesite="strict", secure=secure,
        path="/console", max_age=12 * 3600,
    )


def log_out(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/console")
