"""The lane for `POST /v1/allocations`: the e-shop's every order, answered without the framework
layers a well-formed order does not need.

A FastAPI request passes a dozen ASGI layers (error and telemetry middleware, body limits,
exception handling, an exit stack, route matching, dependency solving) before the endpoint runs:
together about as much CPU as sourcing the order itself. The lane takes a request for exactly
`POST /v1/allocations` with a JSON body, and does what the declared endpoint does, in the same
order: the key is checked as the `OmsKey` dependency checks it, the body is parsed and validated
by the same pydantic model (`AllocationCreate`, parsed from the bytes in one step), the order goes
to `api.http.routers.allocations.allocate`, and any error becomes its problem document through
the one mapping of `api.http.problems`; the latency histogram is observed as
`api.http.middleware.LatencyMiddleware` does.

Anything else, and every body that does not validate, goes the standard way (with the bytes
already read), so the OpenAPI contract, the 422 documents with their pointers and every other
answer stay exactly FastAPI's.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from api.http.deps import authorize_header
from api.http.media_type import base_type
from api.http.problems import problem_for
from api.http.routers.allocations import OMS_SCOPES, allocate
from api.http.runtime import Runtime
from api.http.schemas import AllocationCreate
from api.metrics import REQUEST_SECONDS

PATH = "/v1/allocations"
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def takes(scope: Scope) -> bool:
    """Whether the lane answers this request (a POST to exactly the allocations path)."""
    return scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == PATH


async def allocation_lane(
    scope: Scope, receive: Receive, send: Send, runtime: Runtime, standard: ASGIApp
) -> None:
    """Answer `POST /v1/allocations` (see the module doc); `standard` is the full app."""
    started = time.perf_counter()
    content_type = authorization = None
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value.decode("latin-1")
        elif name == b"authorization":
            authorization = value.decode("latin-1")
    # exactly application/json; other JSON types (+json) take the standard way
    if content_type is None or base_type(content_type) != "application/json":
        await standard(scope, receive, send)
        return
    body = await _read_body(receive)
    if body is None:  # the client went away before sending the whole body
        return
    replay = _replaying(body, receive)
    try:
        authorize_header(runtime, authorization, OMS_SCOPES)
        try:
            order = AllocationCreate.model_validate_json(body)
        except ValidationError:
            await standard(scope, replay, send)  # FastAPI's own 422 (or 400), as always
            return
        response = await allocate(order, runtime)
    except Exception as exc:  # noqa: BLE001 - every error leaves as its problem document
        response = await problem_for(Request(scope, replay), exc)
    await response(scope, replay, send)
    REQUEST_SECONDS.labels(PATH, "POST", str(response.status_code)).observe(
        time.perf_counter() - started
    )


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands out the body already read, then waits on the real one."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
