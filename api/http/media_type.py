"""Write requests to `/v1/` carry JSON: any other body is a 415 problem, before routing.

Without this, a body sent as `text/plain` or as a form (curl's `-d` without a Content-Type)
reached the handlers unparsed and came back as a 422 "Input should be a valid dictionary",
which does not tell the integrator that only the header is wrong.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from api.http.problems import problem

WRITES = frozenset({"POST", "PUT", "PATCH"})


def wrong_media_type(scope: Scope) -> str | None:
    """The media type of a `/v1/` write's body when it is not JSON (`"none"` when unnamed);
    None when the request is fine or has no body."""
    if scope["type"] != "http" or scope["method"] not in WRITES:
        return None
    if not str(scope["path"]).startswith("/v1/"):
        return None
    headers = dict(scope["headers"])
    length = headers.get(b"content-length")
    if length is not None and length.strip() in (b"", b"0"):
        return None
    if length is None and b"transfer-encoding" not in headers:
        return None
    media_type = base_type(headers.get(b"content-type", b"").decode("latin-1"))
    if media_type == "application/json" or media_type.endswith("+json"):
        return None
    return media_type or "none"


def base_type(content_type: str) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return content_type.split(";", 1)[0].strip().lower()


async def refuse(scope: Scope, receive: Receive, send: Send, media_type: str) -> None:
    """Answer 415 with a problem document naming the header to send."""
    response = problem(Request(scope, receive), 415, "unsupported-media-type",
                       "Unsupported media type",
                       f"the body must be JSON: send Content-Type: application/json "
                       f"(got {media_type})", {"accepted": ["application/json"]})
    await response(scope, receive, send)
