"""`GET /v1/forecast-runs/{run_id}/accuracy`: a stored weekly run scored on the sales posted
since its as-of day; unknown or failed runs are problem documents.

The small chain (api_chain) has sales through 2026-11-08; the run forecasts S002 online PHONE
(2 a day) and S001 walk-in JACKET (3 a day) from 2026-11-09."""

from __future__ import annotations

import pandas as pd
import pytest
from api_helpers import OMS, PLANNER
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.db.runs import finish_batch_run, start_batch_run, write_forecasts


def _run(engine: Engine, status: str = "succeeded") -> str:
    ds = pd.date_range("2026-11-09", periods=7)
    forecast = pd.concat([
        pd.DataFrame({"unique_id": "S002|online|PHONE", "ds": ds, "yhat": 2.0, "q90": 4.0}),
        pd.DataFrame({"unique_id": "S001|store|JACKET", "ds": ds, "yhat": 3.0, "q90": 5.0}),
    ])
    with engine.begin() as conn:
        run_id = start_batch_run(conn, "forecast_weekly", {"as_of": "2026-11-08",
                                                           "horizon_days": 7, "country": "PL"},
                                 model="lgbm")
        write_forecasts(conn, run_id, forecast)
        finish_batch_run(conn, run_id, status)  # type: ignore[arg-type]
    return run_id


def test_the_latest_run_is_scored_on_the_days_posted_since(
    client: TestClient, loaded_engine: Engine
) -> None:
    run_id = _run(loaded_engine)
    before = client.get("/v1/forecast-runs/latest/accuracy", headers=PLANNER)
    assert before.status_code == 200
    assert before.json()["days_known"] == 0 and before.json()["segments"] == []

    posted = client.post("/v1/sales", headers=OMS, json={"sales": [
        {"date": "2026-11-09", "node_id": "S002", "channel": "online", "sku": "PHONE",
         "units": 5},
        {"date": "2026-11-10", "node_id": "S002", "channel": "online", "sku": "PHONE",
         "units": 0, "stockout": 1},
        {"date": "2026-11-10", "node_id": "S001", "channel": "store", "sku": "JACKET",
         "units": 3}]})
    assert posted.status_code == 200, posted.text

    body = client.get("/v1/forecast-runs/latest/accuracy?top=1", headers=PLANNER).json()

    assert body["run_id"] == run_id and body["model"] == "lgbm" and body["days_known"] == 2
    assert body["excluded"] == {"sold_out_days": 1, "closed_days": 0, "unforecast_series": 0,
                                "unforecast_units": 0}
    segments = {s["segment"]: s for s in body["segments"]}
    # PHONE: the 9th (5 vs 2); the 10th sold out. JACKET: 0 on the 9th, 3 on the 10th.
    assert segments["online"]["days"] == 1 and segments["online"]["actual_units"] == 5
    assert segments["store"]["actual_units"] == 3 and segments["store"]["forecast_units"] == 6
    assert segments["all"]["wape"] == pytest.approx((3 + 3 + 0) / 8)
    assert segments["all"]["coverage"] == {"q90": pytest.approx(2 / 3)}
    assert [s["unique_id"] for s in body["worst_series"]] == ["S002|online|PHONE"]
    assert body["worst_series"][0]["error"] == -3.0
    # S001: JACKET sold 3, forecast 6 (+100%); S002: PHONE sold 5, forecast 2 (-60%)
    assert [(s["node_id"], s["bias_pct"]) for s in body["worst_stores"]] == [
        ("S001", pytest.approx(100.0))]
    assert body["held_back_days"] == []

    # the 12th: the e-shop's feed is in, the store's walk-in sales (every day so far) are not
    late = client.post("/v1/sales", headers=OMS, json={"sales": [
        {"date": "2026-11-12", "node_id": "S002", "channel": "online", "sku": "PHONE",
         "units": 1}]})
    assert late.status_code == 200, late.text
    held = client.get("/v1/forecast-runs/latest/accuracy", headers=PLANNER).json()
    asked = client.get("/v1/forecast-runs/latest/accuracy?through=2026-11-12",
                       headers=PLANNER).json()

    assert held["days_known"] == 3 and held["held_back_days"] == ["2026-11-12"]
    assert asked["days_known"] == 4 and asked["held_back_days"] == []

    # a short day after the run's 7 days is no reason to hold anything back from its score
    after = client.post("/v1/sales", headers=OMS, json={"sales": [
        {"date": "2026-11-16", "node_id": "S002", "channel": "online", "sku": "PHONE",
         "units": 1}]})
    assert after.status_code == 200, after.text
    whole = client.get("/v1/forecast-runs/latest/accuracy", headers=PLANNER).json()
    assert whole["days_known"] == 7 and whole["held_back_days"] == []


def test_unknown_and_failed_runs_are_problems(client: TestClient, loaded_engine: Engine) -> None:
    none_yet = client.get("/v1/forecast-runs/latest/accuracy", headers=PLANNER)
    failed = _run(loaded_engine, status="failed")
    unknown = client.get("/v1/forecast-runs/nope/accuracy", headers=PLANNER)
    not_done = client.get(f"/v1/forecast-runs/{failed}/accuracy", headers=PLANNER)
    bad_top = client.get(f"/v1/forecast-runs/{failed}/accuracy?top=-1", headers=PLANNER)
    forbidden = client.get("/v1/forecast-runs/latest/accuracy", headers=OMS)

    assert none_yet.status_code == 404 and unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["type"] == "/problems/unknown-forecast-run"
    assert unknown.json()["key"] == "nope"
    assert not_done.status_code == 409 and not_done.json()["type"] == "/problems/run-not-succeeded"
    assert bad_top.status_code == 422 and forbidden.status_code == 403


def test_a_runs_forecast_is_read_back_for_a_store_or_a_sku(
    client: TestClient, loaded_engine: Engine
) -> None:
    run_id = _run(loaded_engine)

    jacket = client.get("/v1/forecast-runs/latest/forecasts?node_id=S001&sku=JACKET",
                        headers=PLANNER).json()
    phone = client.get(f"/v1/forecast-runs/{run_id}/forecasts?sku=PHONE&channel=online"
                       "&start=2026-11-10&end=2026-11-11", headers=PLANNER).json()
    none_there = client.get("/v1/forecast-runs/latest/forecasts?node_id=S003",
                            headers=PLANNER).json()

    assert jacket["run_id"] == run_id and jacket["as_of"] == "2026-11-08"
    assert [(r["channel"], r["ds"], r["yhat"], r["q90"]) for r in jacket["rows"][:2]] == [
        ("store", "2026-11-09", 3.0, 5.0), ("store", "2026-11-10", 3.0, 5.0)]
    assert len(jacket["rows"]) == 7 and jacket["rows"][0]["q50"] is None  # not stored
    assert [(r["node_id"], r["ds"]) for r in phone["rows"]] == [
        ("S002", "2026-11-10"), ("S002", "2026-11-11")]
    assert none_there["rows"] == []


def test_a_forecast_read_names_what_is_wrong(client: TestClient, loaded_engine: Engine) -> None:
    _run(loaded_engine)

    unbounded = client.get("/v1/forecast-runs/latest/forecasts", headers=PLANNER)
    unknown_store = client.get("/v1/forecast-runs/latest/forecasts?node_id=S999",
                               headers=PLANNER)
    bad_channel = client.get("/v1/forecast-runs/latest/forecasts?sku=PHONE&channel=shop",
                             headers=PLANNER)

    assert unbounded.status_code == 422
    assert unbounded.json()["errors"][0]["parameter"] == "node_id"
    assert unknown_store.status_code == 404
    assert unknown_store.json()["type"] == "/problems/unknown-node"
    assert bad_channel.status_code == 422 and bad_channel.json()["errors"][0]["parameter"] \
        == "channel"
    backwards = client.get("/v1/forecast-runs/latest/forecasts?sku=PHONE"
                           "&start=2026-11-12&end=2026-11-10", headers=PLANNER)
    assert backwards.status_code == 422
    assert backwards.json()["errors"] == [{"parameter": "start", "in": "query",
                                           "detail": "start 2026-11-12 is after end 2026-11-10"}]
    early = client.get("/v1/forecast-runs/latest/accuracy?through=2026-11-08", headers=PLANNER)
    assert early.status_code == 422 and early.json()["errors"][0]["parameter"] == "through"
    assert "first forecast day is 2026-11-09" in early.json()["detail"]
