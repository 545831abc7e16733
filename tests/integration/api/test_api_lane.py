"""`POST /v1/allocations` answers the same through the lane (`api.http.lane`, taken by an
`application/json` body) as through FastAPI's declared route (taken here by another JSON media
type, which FastAPI parses as JSON and the lane leaves alone): status, headers and body."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from api_helpers import OMS, PLANNER, order
from fastapi.testclient import TestClient

LANE = "application/json"
STANDARD = "application/vnd.omni+json"


def post(client: TestClient, body: Any, media_type: str, headers: dict[str, str]) -> Any:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return client.post("/v1/allocations", content=content,
                       headers={**headers, "Content-Type": media_type})


def same_answer(lane: Any, standard: Any) -> None:
    assert lane.status_code == standard.status_code, (lane.text, standard.text)
    assert lane.headers["content-type"] == standard.headers["content-type"]
    for name in ("retry-after", "www-authenticate"):
        assert lane.headers.get(name) == standard.headers.get(name)
    assert lane.json() == standard.json()


def pair(order_id: str, **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same order under two ids (one per way), with `changes` applied to both."""
    bodies = [order(f"{order_id}-{way}") for way in ("lane", "std")]
    for body in bodies:
        body.update(changes)
    return bodies[0], bodies[1]


def test_a_new_order_and_its_repeat_answer_alike_both_ways(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.http.lane

    through_lane: list[str] = []
    allocate = api.http.lane.allocate

    async def counted(body: Any, runtime: Any) -> Any:
        through_lane.append(body.order_id)
        return await allocate(body, runtime)

    monkeypatch.setattr(api.http.lane, "allocate", counted)
    lane_body, std_body = pair("NEW")
    first = post(client, lane_body, LANE, OMS), post(client, std_body, STANDARD, OMS)
    assert through_lane == ["NEW-lane"]  # the other went FastAPI's way
    again = post(client, lane_body, LANE, OMS), post(client, std_body, STANDARD, OMS)
    assert [a.status_code for a in first] == [201, 201]
    assert [a.status_code for a in again] == [200, 200]
    for lane, standard in (first, again):
        strip = [{k: v for k, v in a.json().items() if k not in ("order_id", "solve_ms")}
                 for a in (lane, standard)]
        assert [{**line, "promised_at": None} for line in strip[0]["lines"]] == [
            {**line, "promised_at": None} for line in strip[1]["lines"]]
        assert strip[0]["state"] == strip[1]["state"] == "allocated"
    # The repeat through the other way replays the same recorded answer.
    assert post(client, lane_body, STANDARD, OMS).json() == first[0].json()


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        pytest.param(order("A-1"), {}, id="no-key"),
        pytest.param(order("A-2"), {"Authorization": "Bearer nope"}, id="unknown-key"),
        pytest.param(order("A-3"), {"Authorization": "Basic dGVzdA=="}, id="not-bearer"),
        pytest.param(order("A-4"), PLANNER, id="wrong-scope"),
        pytest.param(order("A-5", sku="NO-SUCH-SKU"), OMS, id="unknown-sku"),
        pytest.param(order("A-6", qty=10_000), OMS, id="out-of-stock"),
        pytest.param({**order("A-7"), "fulfilment": "click_and_collect"}, OMS,
                     id="cross-field-rule"),
        pytest.param({**order("A-8"), "lines": [{"line_id": "1", "sku": "JACKET", "qty": 0}]},
                     OMS, id="invalid-field"),
        pytest.param({**order("A-9"), "extra": 1}, OMS, id="unknown-field"),
        pytest.param(b'{"order_id": ', OMS, id="not-json"),
        pytest.param(b"[1, 2]", OMS, id="not-an-object"),
        pytest.param(b"", OMS, id="no-body"),
    ],
)
def test_refusals_answer_alike_both_ways(
    client: TestClient, body: Any, headers: dict[str, str]
) -> None:
    same_answer(post(client, body, LANE, headers), post(client, body, STANDARD, headers))


def test_a_reused_order_id_is_the_same_conflict_both_ways(client: TestClient) -> None:
    assert post(client, order("REUSED"), LANE, OMS).status_code == 201
    changed = order("REUSED", qty=2)
    same_answer(post(client, changed, LANE, OMS), post(client, changed, STANDARD, OMS))
