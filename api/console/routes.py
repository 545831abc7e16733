"""The console's pages (GET, read-only for everyone) and actions (POST, planner scope).

Handlers are plain `def`: FastAPI runs them in its thread pool, where the blocking database
reads and the solver belong. Forms are URL-encoded and parsed here (no multipart dependency).
An action ends in a redirect back to its page with a one-line message (post/redirect/get).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from api.console import actions, queries
from api.console.auth import Viewer, key_digest, log_in, log_out, scope_of_digest, viewer
from api.console.chart import accuracy_chart, series_chart
from api.console.geo import Projection, warsaw_time
from api.console.live import live_figures
from api.http.deps import RuntimeDep
from forecasting.calendar import PEAK_NAMES, next_peak

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["warsaw"] = warsaw_time
router = APIRouter(prefix="/console", include_in_schema=False)


def _viewer(request: Request, runtime: RuntimeDep) -> Viewer:
    return viewer(request, runtime.settings)


ViewerDep = Annotated[Viewer, Depends(_viewer)]


def _page(request: Request, template: str, who: Viewer, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"viewer": who, "message": request.query_params.get("msg"),
         "error": request.query_params.get("err"), **context},
    )


def _back(path: str, **params: str) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"/console{path}{'?' + query if query else ''}", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode()
    return {k: v[0] for k, v in parse_qs(body).items()}


# --- Pages -----------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def chain_page(request: Request, runtime: RuntimeDep, who: ViewerDep) -> HTMLResponse:
    """The chain on a map of Poland, stores coloured by stock risk for the next peak."""
    with runtime.engine.connect() as conn:
        chain = queries.chain_map(conn, runtime.settings.today())
    return _page(request, "chain.html", who, chain=chain, page="chain")


@router.get("/series", response_class=HTMLResponse)
def series_page(
    request: Request, runtime: RuntimeDep, who: ViewerDep,
    node: str | None = None, sku: str | None = None, channel: str = "store",
) -> HTMLResponse:
    """History and forecast with quantile bands for a store x channel x SKU."""
    with runtime.engine.connect() as conn:
        stores, skus = queries.store_and_sku_choices(conn)
        channel = channel if channel in ("store", "online") else "store"
        if node not in stores and sku not in {s for s, _ in skus}:
            node, sku = queries.busiest_series(conn, channel) or (None, None)
        node = node if node in stores else (stores[0] if stores else None)
        sku = sku if sku in {s for s, _ in skus} else (skus[0][0] if skus else None)
        data = queries.series(conn, node, channel, sku) if node and sku else None
        runs = queries.forecast_runs(conn)
    chart = series_chart(data) if data else None
    return _page(request, "series.html", who, page="series", stores=stores, skus=skus,
                 node=node, sku=sku, channel=channel, data=data, chart=chart, runs=runs,
                 models=actions.BATCH_MODELS)


@router.get("/reservations", response_class=HTMLResponse)
def reservations_page(
    request: Request, runtime: RuntimeDep, who: ViewerDep, plan: str | None = None
) -> HTMLResponse:
    """Per store: kept back for walk-in customers vs promisable online."""
    with runtime.engine.connect() as conn:
        plans = queries.reservation_plans(conn)
        shown = plan or next((p.plan_id for p in plans if p.status == "proposed"), None)
        stores = queries.reservations(conn, shown)
    return _page(request, "reservations.html", who, page="reservations", plans=plans,
                 shown=shown, stores=stores)


@router.get("/transfers", response_class=HTMLResponse)
def transfers_page(
    request: Request, runtime: RuntimeDep, who: ViewerDep,
    peak: str | None = None, plan: str | None = None,
) -> HTMLResponse:
    """The transfer plans for a peak with their expected gain; one plan on the map."""
    projection = Projection()
    today = runtime.settings.today()
    with runtime.engine.connect() as conn:
        upcoming = next_peak(today)
        peak = peak if peak in PEAK_NAMES else upcoming.name
        plans = queries.transfer_plans(conn, peak)
        shown = plan if plan in {p.plan_id for p in plans} else (
            plans[0].plan_id if plans else None)
        rows = queries.transfers_of(conn, shown, projection) if shown else []
        chain = queries.chain_map(conn, today, projection)
    return _page(request, "transfers.html", who, page="transfers", peak=peak, peaks=PEAK_NAMES,
                 plans=plans, shown=shown, rows=rows, chain=chain)


@router.get("/accuracy", response_class=HTMLResponse)
def accuracy_page(
    request: Request, runtime: RuntimeDep, who: ViewerDep, run: str | None = None,
) -> HTMLResponse:
    """A forecast run scored on the sales recorded since its as-of day (`omni batch accuracy`):
    figures per channel, daily units sold vs forecast, the series it missed most. Without a
    chosen run: the newest one with sales recorded after its as-of (the newest run of all has
    usually just been made, with nothing to score yet)."""
    from api.services.errors import Conflict, NotFound
    from api.services.forecast_accuracy import score_forecast_run, summary_table

    problem, scored, chart = None, None, None
    with runtime.engine.connect() as conn:
        runs = queries.forecast_runs(conn, limit=12, succeeded_only=True)
        last_sale = queries.as_of_day(conn).isoformat()
        known = [r.run_id for r in runs if str(r.params.get("as_of", "")) < last_sale]
        try:
            scored = score_forecast_run(conn, run or (known[0] if known else None))
        except (NotFound, Conflict) as error:
            problem = (str(error) if run else "no forecast run has succeeded yet: run the "
                       "weekly batch first")
    summary = None
    if scored is not None and scored.accuracy is not None and scored.accuracy.scored_days:
        daily = scored.accuracy.daily
        chart = accuracy_chart(list(zip(daily["ds"].dt.date, daily["channel"],
                                        daily["actual_units"], daily["forecast_units"],
                                        strict=True)))
        summary = summary_table(scored.accuracy.summary)
    return _page(request, "accuracy.html", who, page="accuracy", runs=runs, scored=scored,
                 problem=problem, chart=chart, summary=summary)


@router.get("/decisions", response_class=HTMLResponse)
def decisions_page(request: Request, runtime: RuntimeDep, who: ViewerDep) -> HTMLResponse:
    """Recent allocation decisions with their explanation."""
    with runtime.engine.connect() as conn:
        decisions = queries.recent_decisions(conn)
    return _page(request, "decisions.html", who, page="decisions", decisions=decisions)


@router.get("/live", response_class=HTMLResponse)
def live_page(
    request: Request, runtime: RuntimeDep, who: ViewerDep,
    refresh: Annotated[int, Query(ge=0, le=3600)] = 10,
) -> HTMLResponse:
    """Orders per minute, decision latency percentiles and the fallback rate."""
    with runtime.engine.connect() as conn:
        figures = live_figures(conn)
    return _page(request, "live.html", who, page="live", live=figures, refresh=refresh)


# --- Logging in and out ----------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, who: ViewerDep) -> HTMLResponse:
    return _page(request, "login.html", who, page="login")


@router.post("/login")
async def login(request: Request, runtime: RuntimeDep) -> Response:
    key = (await _form(request)).get("key", "").strip()
    if scope_of_digest(runtime.settings, key_digest(key)) is None:
        return _back("/login", err="unknown API key")
    response = _back("", msg="logged in")
    log_in(response, key, secure=request.url.scheme == "https")
    return response


@router.post("/logout")
def logout() -> Response:
    response = _back("", msg="logged out")
    log_out(response)
    return response


# --- Actions (planner scope) -----------------------------------------------------------------


def _refused(path: str) -> RedirectResponse:
    return _back(path, err="log in with a planner key to do that")


@router.post("/actions/batch")
async def run_batch(request: Request, runtime: RuntimeDep, who: ViewerDep) -> Response:
    model = (await _form(request)).get("model", actions.BATCH_MODEL)
    if not who.can_plan:
        return _refused("/series")
    try:
        done = await run_in_threadpool(actions.start_weekly_batch, runtime.engine, model)
    except actions.ActionError as exc:
        return _back("/series", err=str(exc))
    return _back("/series", msg=done.message)


@router.post("/actions/rebalance")
async def run_rebalance(request: Request, runtime: RuntimeDep, who: ViewerDep) -> Response:
    form = await _form(request)
    peak = form.get("peak", "")
    if not who.can_plan:
        return _back("/transfers", peak=peak, err="log in with a planner key to do that")
    if peak not in PEAK_NAMES:
        return _back("/transfers", err=f"unknown peak {peak!r}")
    try:
        done = await run_in_threadpool(actions.run_rebalance, runtime.engine, peak,
                                       runtime.settings.today())
    except actions.ActionError as exc:
        return _back("/transfers", peak=peak, err=str(exc))
    return _back("/transfers", peak=peak, plan=done.run_id, msg=done.message)


@router.post("/actions/transfers/approve")
async def approve_transfers(request: Request, runtime: RuntimeDep, who: ViewerDep) -> Response:
    form = await _form(request)
    plan, peak = form.get("plan_id", ""), form.get("peak", "")
    if not who.can_plan:
        return _back("/transfers", peak=peak, plan=plan, err="log in with a planner key")
    try:
        done = await run_in_threadpool(actions.approve_transfers, runtime.engine, plan)
    except actions.ActionError as exc:
        return _back("/transfers", peak=peak, plan=plan, err=str(exc))
    return _back("/transfers", peak=peak, plan=plan, msg=done.message)


@router.post("/actions/reservations")
async def run_reservations(request: Request, runtime: RuntimeDep, who: ViewerDep) -> Response:
    if not who.can_plan:
        return _refused("/reservations")
    try:
        done = await run_in_threadpool(actions.run_reservation_plan, runtime.engine,
                                       runtime.settings.today())
    except actions.ActionError as exc:
        return _back("/reservations", err=str(exc))
    return _back("/reservations", plan=done.run_id, msg=done.message)


@router.post("/actions/reservations/approve")
async def approve_reservations(request: Request, runtime: RuntimeDep, who: ViewerDep) -> Response:
    plan = (await _form(request)).get("plan_id", "")
    if not who.can_plan:
        return _back("/reservations", plan=plan, err="log in with a planner key")
    try:
        done = await run_in_threadpool(actions.approve_reservations, runtime.engine, plan)
    except actions.ActionError as exc:
        return _back("/reservations", plan=plan, err=str(exc))
    return _back("/reservations", plan=plan, msg=done.message)
