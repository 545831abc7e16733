from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_is_open(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200


def test_metrics_count_decisions_and_time_requests(client: TestClient) -> None:
    from api_helpers import OMS, order

    assert client.post("/v1/allocations", json=order("MET-1"), headers=OMS).status_code == 201
    text = client.get("/metrics").text
    assert 'omni_allocation_decisions_total{status="fallback"}' in text
    assert 'omni_http_request_seconds_bucket{le="0.005",method="POST",route="/v1/allocations"' \
        in text
