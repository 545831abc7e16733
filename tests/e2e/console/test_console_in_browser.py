"""The console in a real browser: Debian's chromium driven headless by Playwright against a real
uvicorn serving the app on a small demo chain.

Every page loads without console errors and is saved as a screenshot (artifacts/screenshots/,
or OMNI_ARTIFACTS_DIR); a planner logs in, runs a rebalancing plan and a reservation plan and
approves them, and nothing is written before the approval. Skipped when /usr/bin/chromium or
the playwright package is missing, unless OMNI_REQUIRE_BROWSER=1 (CI), where that fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

CHROMIUM = Path(os.environ.get("OMNI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PROJECT_ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = Path(os.environ.get("OMNI_ARTIFACTS_DIR", PROJECT_ROOT / "artifacts")) / "screenshots"
API_KEYS = "test-oms-key:oms,test-planner-key:planner"
N_STORES = 6
BATCH_WAIT_S = 120  # a seasonal-naive batch over 96 series; seconds on an idle machine
PAGES = {
    "chain": "/console",
    "series": "/console/series?node=S001&channel=store&sku=F00001",
    "reservations": "/console/reservations",
    "transfers": "/console/transfers?peak=black_week",
    "decisions": "/console/decisions",
    "live": "/console/live?refresh=0",
    "login": "/console/login",
}


def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


_missing = _browser_missing()
if _missing is not None:
    if os.environ.get("OMNI_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"browser tests required (OMNI_REQUIRE_BROWSER=1) but {_missing}")
    pytest.skip(f"console browser tests skipped: {_missing}", allow_module_level=True)

from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright  # noqa: E402

from data.demo_chain import DEMO_AS_OF  # noqa: E402

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Console:
    base_url: str
    engine: Engine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _small_demo_database(url: str) -> Engine:
    from api.db.engine import make_engine
    from api.db.load_chain import load_chain
    from api.db.migrate import upgrade
    from data.demo_chain import generate_chain

    engine = make_engine(url)
    upgrade(engine)
    chain = generate_chain(seed=7, n_stores=N_STORES, n_skus=8, history_days=120)
    load_chain(engine, chain, data_version="console-e2e", params={"stores": N_STORES})
    return engine


def _wait_until_up(process: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"uvicorn exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the console server did not answer within 60 s")


def _place_orders(base_url: str) -> None:
    """A few OMS orders, so the decisions and live pages have something to show."""
    headers = {"Authorization": "Bearer test-oms-key"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        for k, sku in enumerate(["F00001", "F00002", "E00006"]):
            body = {
                "order_id": f"CONSOLE-{k}", "fulfilment": "home_delivery",
                "destination": {"postcode": "00-950"},
                "lines": [{"line_id": "1", "sku": sku, "qty": 1}],
            }
            assert client.post("/v1/allocations", json=body).status_code in (201, 409)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    url = f"sqlite:///{tmp_path_factory.mktemp('console') / 'omni.db'}"
    engine = _small_demo_database(url)
    port = _free_port()
    # The planners' business day is the demo chain's last day of history, whatever the date.
    env = {**os.environ, "OMNI_DATABASE_URL": url, "OMNI_API_KEYS": API_KEYS,
           "OMNI_BUSINESS_DATE": DEMO_AS_OF.isoformat()}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "api.console:app_with_console",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, base_url)
        _place_orders(base_url)
        yield Console(base_url, engine)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Watched:
    page: Page
    problems: list[str]


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    """A fresh browser context (no cookies) whose console errors and failed requests are kept."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status}: {r.url}"))
    yield Watched(page, problems)
    context.close()


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def _log_in(page: Page, base_url: str) -> None:
    page.goto(base_url + "/console/login")
    page.fill("#key", "test-planner-key")
    page.click("button[type=submit]:has-text('Log in')")
    page.wait_for_selector("text=signed in")


def test_every_page_loads_without_console_errors(console: Console, watched: Watched) -> None:
    page = watched.page
    for name, path in PAGES.items():
        response = page.goto(console.base_url + path)
        assert response is not None and response.status == 200, (name, path)
        page.wait_for_load_state("load")
        _shot(page, name)
    assert watched.problems == []


def test_the_map_shows_every_store_coloured_by_risk(console: Console, watched: Watched) -> None:
    watched.page.goto(console.base_url + "/console")
    stores = watched.page.locator("svg.map circle.node")
    assert stores.count() == N_STORES
    levels = {stores.nth(k).get_attribute("class") for k in range(N_STORES)}
    assert levels <= {"node low", "node medium", "node high"}
    assert watched.page.locator("svg.map rect.node.dc").count() == 3


def test_the_series_chart_marks_closed_days_and_draws_the_history(
    console: Console, watched: Watched
) -> None:
    watched.page.goto(console.base_url + PAGES["series"])
    # 120 days of history ending 2026-11-08 hold All Saints' Day and the non-trading Sundays.
    assert watched.page.locator("svg.chart rect.closed").count() >= 10
    points = watched.page.locator("svg.chart polyline.history").get_attribute("points") or ""
    assert len(points.split()) == 91


def test_the_read_only_view_offers_no_actions_and_refuses_them(
    console: Console, watched: Watched
) -> None:
    page = watched.page
    page.goto(console.base_url + "/console/transfers?peak=black_week")
    assert page.locator("#run-rebalance").count() == 0
    before = _scalar(console.engine, "SELECT COUNT(*) FROM transfers")
    answer = httpx.post(console.base_url + "/console/actions/rebalance",
                        data={"peak": "black_week"}, follow_redirects=False)
    assert answer.status_code == 303 and "err=" in answer.headers["location"]
    assert _scalar(console.engine, "SELECT COUNT(*) FROM transfers") == before


def test_a_planner_runs_a_rebalancing_plan_and_only_approval_writes_it(
    console: Console, watched: Watched
) -> None:
    page = watched.page
    _log_in(page, console.base_url)
    page.goto(console.base_url + "/console/transfers?peak=black_week")
    page.click("#run-rebalance")
    page.wait_for_selector(".flash.ok")
    assert "expected gain" in page.locator(".flash.ok").inner_text()
    plan_id = _scalar(console.engine, "SELECT plan_id FROM transfers ORDER BY created_at DESC")
    assert plan_id is not None, "the demo chain's black week plan should move some units"
    approved = f"SELECT COUNT(*) FROM transfers WHERE plan_id = '{plan_id}' AND status = 'approved'"
    assert _scalar(console.engine, approved) == 0
    _shot(page, "transfers-proposed")
    page.click("button.approve")
    page.wait_for_selector(".flash.ok:has-text('approved')")
    total = _scalar(console.engine, f"SELECT COUNT(*) FROM transfers WHERE plan_id = '{plan_id}'")
    assert _scalar(console.engine, approved) == total > 0
    _shot(page, "transfers-approved")
    assert watched.problems == []


def test_a_planner_approves_a_reservation_plan_into_the_stock(
    console: Console, watched: Watched
) -> None:
    page = watched.page
    _log_in(page, console.base_url)
    page.goto(console.base_url + "/console/reservations")
    page.click("#run-reservations")
    page.wait_for_selector(".flash.ok")
    plan_id = _scalar(console.engine,
                      "SELECT plan_id FROM safety_stock_plans ORDER BY created_at DESC")
    kept = _scalar(console.engine, "SELECT SUM(safety_stock) FROM safety_stock_plans "
                                   f"WHERE plan_id = '{plan_id}'")
    assert _scalar(console.engine, "SELECT SUM(safety_stock) FROM stock") == 0
    page.click("#approve-reservations")
    page.wait_for_selector(".flash.ok:has-text('approved')")
    assert _scalar(console.engine, "SELECT SUM(safety_stock) FROM stock") == kept
    _shot(page, "reservations-approved")
    assert watched.problems == []


def test_a_planner_runs_the_forecast_batch_and_the_chart_gets_its_bands(
    console: Console, watched: Watched
) -> None:
    page = watched.page
    _log_in(page, console.base_url)
    page.goto(console.base_url + PAGES["series"])
    assert page.locator("svg.chart polyline.median").count() == 0
    page.select_option("#batch-model", "seasonal_naive")
    page.click("#run-batch")
    page.wait_for_selector(".flash.ok:has-text('started')")
    status_sql = "SELECT status FROM batch_runs WHERE kind = 'forecast' ORDER BY started_at DESC"
    deadline = time.monotonic() + BATCH_WAIT_S
    while _scalar(console.engine, status_sql) == "running" and time.monotonic() < deadline:
        time.sleep(1)
    assert _scalar(console.engine, status_sql) == "succeeded"
    page.goto(console.base_url + PAGES["series"])
    assert page.locator("svg.chart polyline.median").count() == 1
    assert page.locator("svg.chart polygon.band95").count() == 1
    assert page.locator("svg.chart polygon.band99").count() == 1
    _shot(page, "series-forecast")
    assert watched.problems == []
