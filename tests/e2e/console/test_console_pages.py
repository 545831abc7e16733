"""The console over HTTP without a browser (runs everywhere, also where chromium is missing):
pages, the login cookie, the planner scope on actions, and the read model's arithmetic."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.console import mount_console
from api.console.auth import COOKIE, key_digest
from api.console.geo import POLAND_BORDER, Projection
from api.console.live import histogram_quantile
from api.db.engine import make_engine
from api.db.load_chain import load_chain
from api.db.migrate import upgrade
from api.db.runs import finish_batch_run, start_batch_run, write_forecasts
from api.http.app import create_app
from api.settings import Settings
from data.demo_chain import DEMO_AS_OF

KEYS = "page-oms-key:oms,page-planner-key:planner"
PAGES = ["/console", "/console/series", "/console/series?node=S002&channel=online&sku=E00006",
         "/console/accuracy",
         "/console/reservations", "/console/transfers", "/console/transfers?peak=christmas",
         "/console/decisions", "/console/live", "/console/login"]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    from data.demo_chain import generate_chain

    url = f"sqlite:///{tmp_path_factory.mktemp('console-pages') / 'omni.db'}"
    engine = make_engine(url)
    upgrade(engine)
    chain = generate_chain(seed=3, n_stores=4, n_skus=6, history_days=100)
    load_chain(engine, chain, data_version="console-pages", params={})
    yield url, engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _own_mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The console's batch logs to MLflow as `omni batch weekly` does: not into the checkout."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")


@pytest.fixture
def client(database: tuple[str, Engine]) -> Iterator[TestClient]:
    app = create_app(Settings(  # the business day: the demo chain's last day of history
        database_url=database[0], api_keys=KEYS, business_date=DEMO_AS_OF))  # type: ignore[arg-type]
    mount_console(app)
    mount_console(app)  # a second call must not mount twice
    with TestClient(app) as test_client:
        yield test_client


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def test_every_page_answers_html_for_a_read_only_viewer(client: TestClient) -> None:
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert "read-only" in page.text, path
        assert "http://" not in page.text and "https://" not in page.text, f"{path} links out"


def test_the_stylesheet_is_served_locally(client: TestClient) -> None:
    css = client.get("/console/static/console.css")
    assert css.status_code == 200 and ".country" in css.text


def test_an_unknown_key_sets_no_cookie(client: TestClient) -> None:
    answer = client.post("/console/login", data={"key": "guess"}, follow_redirects=False)
    assert answer.status_code == 303 and "err=" in answer.headers["location"]
    assert COOKIE not in answer.cookies


def test_the_cookie_holds_a_digest_of_the_key_never_the_key(client: TestClient) -> None:
    answer = client.post("/console/login", data={"key": "page-planner-key"},
                         follow_redirects=False)
    cookie = answer.headers["set-cookie"]
    assert "page-planner-key" not in cookie
    assert key_digest("page-planner-key") in cookie
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert "signed in" in client.get("/console").text


def test_an_oms_key_cannot_run_or_approve_plans(
    client: TestClient, database: tuple[str, Engine]
) -> None:
    client.post("/console/login", data={"key": "page-oms-key"})
    before = _count(database[1], "transfers"), _count(database[1], "safety_stock_plans")
    for action, form in [("/console/actions/rebalance", {"peak": "christmas"}),
                         ("/console/actions/reservations", {}),
                         ("/console/actions/batch", {})]:
        answer = client.post(action, data=form, follow_redirects=False)
        assert answer.status_code == 303 and "err=" in answer.headers["location"], action
    after = _count(database[1], "transfers"), _count(database[1], "safety_stock_plans")
    assert after == before


def test_a_rebalancing_plan_is_proposed_and_approving_twice_is_refused(
    client: TestClient, database: tuple[str, Engine]
) -> None:
    client.post("/console/login", data={"key": "page-planner-key"})
    ran = client.post("/console/actions/rebalance", data={"peak": "christmas"})
    assert "expected gain" in ran.text
    with database[1].connect() as conn:
        plan, statuses = conn.execute(text(
            "SELECT plan_id, GROUP_CONCAT(DISTINCT status) FROM transfers "
            "GROUP BY plan_id ORDER BY MAX(created_at) DESC"
        )).first() or (None, None)
    if plan is None:
        pytest.skip("this tiny chain's christmas plan moves nothing")
    assert statuses == "proposed"
    report = Path(os.environ["OMNI_REPORTS_DIR"]) / plan  # the planner's plots and lanes
    assert (report / "top_lanes.csv").is_file() and (report / "transfers_map.png").is_file()
    first = client.post("/console/actions/transfers/approve", data={"plan_id": plan})
    again = client.post("/console/actions/transfers/approve", data={"plan_id": plan})
    assert "approved" in first.text and 'class="flash ok"' in first.text
    assert 'class="flash err"' in again.text


def test_the_console_plans_from_the_business_day_not_from_the_last_sales_row(
    database: tuple[str, Engine]
) -> None:
    """Sales arriving late must not move the planners' day back: on 25 November (Black Week
    under way) the console's next Black Week is 2027's, as `omni plan rebalance` would say,
    and its reservation plan is dated that day. Before, it planned from the last sales row
    (8 November here): transfers that should have left in the past."""
    settings = Settings(database_url=database[0], api_keys=KEYS,  # type: ignore[arg-type]
                        business_date=date(2026, 11, 25))
    app = create_app(settings)
    mount_console(app)
    with TestClient(app) as during_black_week:
        assert "As of 2026-11-25; peak 2026-12-01" in during_black_week.get("/console").text
        during_black_week.post("/console/login", data={"key": "page-planner-key"})
        ran = during_black_week.post("/console/actions/rebalance", data={"peak": "black_week"})
        assert "for black_week 2027" in ran.text
        planned = during_black_week.post("/console/actions/reservations", data={})
        # named by the business day it plans from, as `omni plan reservations` names its own
        assert "reservations-20261125-" in planned.text and 'class="flash ok"' in planned.text
    with database[1].connect() as conn:
        params = conn.execute(text(
            "SELECT params FROM batch_runs WHERE kind = 'reservations' "
            "ORDER BY started_at DESC LIMIT 1")).scalar_one()
    recorded = params if isinstance(params, dict) else json.loads(params)
    assert recorded["as_of"] == "2026-11-25"


def test_an_older_reservation_plan_cannot_undo_a_newer_approved_one(
    client: TestClient, database: tuple[str, Engine]
) -> None:
    client.post("/console/login", data={"key": "page-planner-key"})
    client.post("/console/actions/reservations", data={})
    client.post("/console/actions/reservations", data={})
    with database[1].connect() as conn:
        older, newer = [r[0] for r in conn.execute(text(
            "SELECT plan_id FROM safety_stock_plans WHERE status = 'proposed' "
            "GROUP BY plan_id ORDER BY MAX(created_at) DESC LIMIT 2"
        ))][::-1]
    approved = client.post("/console/actions/reservations/approve", data={"plan_id": newer})
    assert 'class="flash ok"' in approved.text
    stale = client.post("/console/actions/reservations/approve", data={"plan_id": older})
    assert 'class="flash err"' in stale.text and f"approved plan {newer}" in stale.text
    with database[1].connect() as conn:
        left = conn.execute(text(
            "SELECT DISTINCT status FROM safety_stock_plans WHERE plan_id = :p"
        ), {"p": older}).scalars().all()
    assert left == ["proposed"], "a refused approval writes nothing"


def test_a_batch_whose_process_died_is_shown_failed_not_running(
    client: TestClient, database: tuple[str, Engine]
) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    with database[1].begin() as conn:
        run_id = start_batch_run(conn, "forecast", {"source": "console"}, model="lgbm",
                                 now=long_ago)
    page = client.get("/console/series").text
    assert run_id in page
    assert "abandoned: no heartbeat since" in page and 'class="pill running"' not in page


def _sold_out_series(engine: Engine) -> tuple[str, str, int]:
    """The walk-in store x SKU with the most sold-out days in the chart's last 91 days."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT node_id, sku, COUNT(*) AS n FROM sales WHERE stockout = 1 AND channel = "
            "'store' AND date > date((SELECT MAX(date) FROM sales), '-91 days') "
            "GROUP BY node_id, sku ORDER BY n DESC, node_id, sku LIMIT 1")).one()
    return str(row.node_id), str(row.sku), int(row.n)


def test_the_chart_marks_the_days_a_shelf_sold_out(
    client: TestClient, database: tuple[str, Engine]
) -> None:
    """The line shows what the shelf held; the marks say where the forecast learnt an estimate
    of demand instead, so a forecast above recent sales is explained on the page."""
    node, sku, flagged = _sold_out_series(database[1])
    page = client.get(f"/console/series?node={node}&channel=store&sku={sku}").text
    assert page.count('<rect class="soldout"') == flagged > 0
    assert f"sold out ({flagged} days; fitted as estimated demand)" in page
    online = client.get(f"/console/series?node={node}&channel=online&sku={sku}").text
    assert '<rect class="soldout"' not in online  # the demo's online sales never sell out


def test_the_console_batch_fits_sold_out_days_as_estimated_demand(
    database: tuple[str, Engine]
) -> None:
    """The console's batch button runs `omni batch weekly`'s batch: the sold-out days of the
    whole history are estimated, each day's spread is stored for the safety-stock plan, the
    run's level shock recorded and the walk-in demand rates refreshed from it."""
    from api.console.actions import run_weekly_batch
    from api.console.queries import as_of_day

    engine = database[1]
    with engine.begin() as conn:
        as_of = as_of_day(conn)
        run_id = start_batch_run(conn, "forecast", {"source": "console"}, model="seasonal_naive")
        flagged = conn.execute(text(
            "SELECT COUNT(*) FROM sales WHERE stockout = 1 AND date <= :as_of"),
            {"as_of": as_of.isoformat()}).scalar_one()
        conn.execute(text("UPDATE demand_rates SET walkin_units_per_day = 1234.5"))
    params = run_weekly_batch(engine, run_id, as_of, "seasonal_naive")
    assert params["censored_days"] == flagged > 0
    assert params["censored_added_units"] > 0
    assert params["level_shock"] >= 0 and params["source"] == "console"
    with engine.connect() as conn:
        status, without_spread = conn.execute(text(
            "SELECT status, (SELECT COUNT(*) FROM forecasts WHERE run_id = :r AND dispersion IS "
            "NULL) FROM batch_runs WHERE run_id = :r"), {"r": run_id}).one()
        stale_rates = conn.execute(text(
            "SELECT COUNT(*) FROM demand_rates WHERE walkin_units_per_day = 1234.5")).scalar_one()
    assert status == "succeeded" and without_spread == 0 and stale_rates == 0


def test_a_console_batch_logs_the_data_version_it_started_on_to_mlflow(
    database: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the CLI's run does: a console run logged data_version 'none' (a second outside
    trial compared the two in MLflow)."""
    import time

    import mlflow

    from api.console import actions

    started_with: list[tuple[object, ...]] = []
    run_as_the_thread_would = actions._batch_in_background
    monkeypatch.setattr(actions, "_batch_in_background", lambda *a: started_with.append(a))
    engine = database[1]
    started = actions.start_weekly_batch(engine, "seasonal_naive")
    for _ in range(100):
        if started_with:
            break
        time.sleep(0.05)
    run_as_the_thread_would(*started_with[0])  # type: ignore[arg-type]
    with engine.connect() as conn:
        mlflow_run, version = conn.execute(text(
            "SELECT mlflow_run_id, data_version FROM batch_runs WHERE run_id = :r"),
            {"r": started.run_id}).one()
    assert version and mlflow.get_run(mlflow_run).data.params["data_version"] == version


def test_a_second_console_batch_waits_for_the_first(database: tuple[str, Engine]) -> None:
    from api.console.actions import ActionError, start_weekly_batch

    engine = database[1]
    with engine.begin() as conn:  # a CLI batch, alive (started now, so its heartbeat is fresh)
        running = start_batch_run(conn, "forecast_weekly", {"as_of": "2026-11-08"}, model="lgbm")
        before = conn.execute(text("SELECT COUNT(*) FROM batch_runs")).scalar_one()
    try:
        with pytest.raises(ActionError, match=f"{running} is still running"):
            start_weekly_batch(engine, "seasonal_naive")
        assert _count(engine, "batch_runs") == before
    finally:
        with engine.begin() as conn:
            finish_batch_run(conn, running, "failed")


def test_the_accuracy_page_scores_the_newest_run_with_sales_after_it(
    client: TestClient, database: tuple[str, Engine]
) -> None:
    """Without a chosen run the page scores the newest run that has days to score (the newest
    of all was just made); its figures count the units sold, and its worst series link to the
    series page."""
    from api.console.queries import as_of_day

    with database[1].begin() as conn:
        last = as_of_day(conn)
        as_of = last - timedelta(days=14)
        older = start_batch_run(conn, "forecast_weekly", {"as_of": as_of.isoformat(),
                                                          "horizon_days": 28}, model="lgbm")
        write_forecasts(conn, older, pd.DataFrame({
            "unique_id": "S002|online|E00006", "yhat": 1.0, "q90": 3.0,
            "ds": pd.date_range(as_of + timedelta(days=1), periods=28)}))
        finish_batch_run(conn, older, "succeeded")
        newest = start_batch_run(conn, "forecast", {"as_of": last.isoformat(),
                                                    "horizon_days": 28}, model="lgbm")
        finish_batch_run(conn, newest, "succeeded")
        sold = conn.execute(text(
            "SELECT COALESCE(SUM(units), 0) FROM sales WHERE node_id = 'S002' AND channel = "
            "'online' AND sku = 'E00006' AND stockout = 0 AND date > :d"),
            {"d": as_of.isoformat()}).scalar_one()

    page = client.get("/console/accuracy").text

    assert f"<code>{older}</code>" in page and "14 of 28 days known" in page
    assert f'<td>units sold</td><td class="num">{sold:,.0f}</td>' in page
    assert 'href="/console/series?node=S002&amp;channel=online&amp;sku=E00006"' in page
    assert page.count("<polyline") == 2  # one channel: sold and forecast
    assert 'id="worst-stores"' in page and "<tr><td>S002</td>" in page
    assert 'id="nothing-to-score"' in client.get(f"/console/accuracy?run={newest}").text
    listed = client.get("/console/series").text  # the CLI's weekly runs are listed there too
    assert "<td>omni batch weekly</td>" in listed
    assert f'<a href="/console/accuracy?run={older}"' in listed  # a succeeded run links there
    assert "unknown forecast run" in client.get("/console/accuracy?run=nope").text
    assert 'id="held-back"' not in page

    # one store's sales of the next day arrived, the others' not yet: that day is held back
    early = {"d": (last + timedelta(days=1)).isoformat()}
    with database[1].begin() as conn:
        conn.execute(text("INSERT INTO sales (node_id, channel, sku, date, units, price_pln) "
                          "VALUES ('S002', 'online', 'E00006', :d, 1, 10)"), early)
    try:
        held = client.get(f"/console/accuracy?run={older}").text
    finally:
        with database[1].begin() as conn:
            conn.execute(text("DELETE FROM sales WHERE date = :d"), early)
    assert "14 of 28 days known" in held and 'id="held-back"' in held
    assert f"sales after {last} look incomplete" in held


def test_histogram_percentiles_interpolate_inside_the_bucket() -> None:
    buckets = [(0.001, 0.0), (0.002, 50.0), (0.005, 90.0), (0.01, 100.0), (float("inf"), 100.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.002)
    assert histogram_quantile(0.25, buckets) == pytest.approx(0.0015)
    assert histogram_quantile(0.95, buckets) == pytest.approx(0.0075)
    assert histogram_quantile(0.5, [(float("inf"), 0.0)]) is None


def _inside(x: float, y: float, polygon: list[tuple[float, float]]) -> bool:
    crossings = 0
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            crossings += 1
    return crossings % 2 == 1


def test_polish_cities_fall_inside_the_outline_and_berlin_outside() -> None:
    projection = Projection()
    outline = [projection.point(lat, lon) for lon, lat in POLAND_BORDER]
    for lat, lon in [(52.23, 21.01), (50.06, 19.94), (54.35, 18.65), (51.11, 17.03),
                     (53.43, 14.55), (50.04, 22.0), (53.13, 23.16)]:
        assert _inside(*projection.point(lat, lon), outline), (lat, lon)
    assert not _inside(*projection.point(52.52, 13.40), outline)
    gdansk, krakow = projection.point(54.35, 18.65), projection.point(50.06, 19.94)
    assert gdansk[1] < krakow[1] and gdansk[0] < krakow[0]


def test_templates_name_no_remote_script_or_style() -> None:
    folder = Path(__file__).resolve().parents[3] / "api" / "console" / "templates"
    for template in folder.glob("*.html"):
        body = template.read_text()
        assert "<script src=\"http" not in body and "cdn" not in body.lower(), template.name
