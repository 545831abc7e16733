from __future__ import annotations

import pytest
from api_helpers import settings_for
from fastapi.testclient import TestClient
from sqlalchemy import Engine


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


def test_the_server_warms_the_sourcing_core_before_it_takes_orders(
    loaded_engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first order of a fresh process took 0.87 s against its 50 ms deadline, building
    the holiday calendar (benchmarks/cold_start.py); the start-up pays that now, and times
    CP-SAT on this machine for every size of model."""
    from allocation import cpsat
    from api.http.app import create_app
    from forecasting import calendar

    calendar._holiday_table.cache_clear()
    pace = cpsat.SolvePace()
    monkeypatch.setattr(cpsat, "PACE", pace)

    with TestClient(create_app(settings_for(db_url))):
        assert calendar._holiday_table.cache_info().currsize >= 2  # this year and the next
        for pairs in (10, 100, 300):
            assert pace.observed(pairs) >= cpsat.SolvePace.FEW
