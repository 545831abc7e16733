"""The console's read model: what each page shows, read from the tables in a few queries.

Plain frozen dataclasses out, no HTML: the templates only lay them out. Everything is read per
request (the console is for a handful of planners, not for the OMS's traffic).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, select

from api.console.geo import Projection
from api.db.history import sales_days
from api.db.runs import is_abandoned
from api.db.tables import (
    BatchRun,
    DemandRate,
    Forecast,
    Node,
    Order,
    SafetyStockPlan,
    Sale,
    Sku,
    Stock,
    Transfer,
)
from forecasting.calendar import PEAK_NAMES, PeakWindow, next_peak, open_days_between, peak_window

HIGH_RISK = 0.30
MEDIUM_RISK = 0.10


def as_of_day(conn: Connection) -> date:
    """The planning day: the last day of sales history (the demo's as-of), else today."""
    recorded_days = sales_days(conn)
    return recorded_days[1] if recorded_days is not None else date.today()


def latest_forecast_run(conn: Connection) -> str | None:
    """The newest forecast run that wrote rows (by batch_runs start time, else by name)."""
    written = select(Forecast.run_id).distinct().scalar_subquery()
    run = conn.execute(
        select(BatchRun.run_id)
        .where(BatchRun.run_id.in_(written))
        .order_by(BatchRun.started_at.desc())
        .limit(1)
    ).scalar()
    return run if run is not None else conn.execute(select(func.max(Forecast.run_id))).scalar()


@dataclass(frozen=True)
class RunView:
    run_id: str
    status: str
    model: str | None
    started_at: Any
    finished_at: Any
    params: dict[str, Any]
    kind: str = ""

    @property
    def source(self) -> str:
        """Where the run was started: the console's button or the CLI's weekly batch."""
        return {"forecast": "console", "forecast_weekly": "omni batch weekly"}.get(
            self.kind, self.kind)


def forecast_runs(conn: Connection, limit: int = 5, succeeded_only: bool = False
                  ) -> list[RunView]:
    """The latest forecast runs of either kind (`omni batch weekly`, the console's button),
    newest first; a running one included unless `succeeded_only` (the runs a page can score).
    A running run whose heartbeat went quiet is shown as failed: its process is gone (the next
    batch started from the console records that in the table)."""
    from api.services.forecast_runs import FORECAST_RUN_KINDS

    query = (select(BatchRun.run_id, BatchRun.status, BatchRun.model, BatchRun.started_at,
                    BatchRun.finished_at, BatchRun.params, BatchRun.heartbeat_at, BatchRun.kind)
             .where(BatchRun.kind.in_(FORECAST_RUN_KINDS)))
    if succeeded_only:
        query = query.where(BatchRun.status == "succeeded")
    rows = conn.execute(query.order_by(BatchRun.started_at.desc()).limit(limit)).all()
    views = []
    for run_id, status, model, started_at, finished_at, params, beat_at, kind in rows:
        shown = dict(params) if isinstance(params, dict) else {}
        if is_abandoned(status, started_at, beat_at):
            status = "failed"
            last = beat_at or started_at
            shown["error"] = f"abandoned: no heartbeat since {last:%Y-%m-%d %H:%M} UTC"
        views.append(RunView(run_id, status, model, started_at, finished_at, shown, kind))
    return views


# --- The chain on a map ----------------------------------------------------------------------


@dataclass(frozen=True)
class MapNode:
    node_id: str
    name: str
    city: str
    kind: str
    x: float
    y: float
    demand: float
    stock: int
    short_units: float

    @property
    def risk(self) -> float:
        """Share of the peak's expected demand the store's own stock cannot cover."""
        return self.short_units / self.demand if self.demand > 0 else 0.0

    @property
    def level(self) -> str:
        if self.kind == "dc":
            return "dc"
        if self.risk >= HIGH_RISK:
            return "high"
        return "medium" if self.risk >= MEDIUM_RISK else "low"


@dataclass(frozen=True)
class ChainMap:
    as_of: date
    peak: PeakWindow
    source: str
    nodes: tuple[MapNode, ...]
    width: float
    height: float
    outline: str

    def count(self, level: str) -> int:
        return sum(1 for n in self.nodes if n.level == level)

    @property
    def stores_at_risk(self) -> tuple[MapNode, ...]:
        stores = [n for n in self.nodes if n.kind == "store"]
        return tuple(sorted(stores, key=lambda n: -n.risk)[:10])


def chain_map(conn: Connection, as_of: date, projection: Projection | None = None) -> ChainMap:
    """Nodes placed on Poland, stores coloured by the share of the demand of the next peak
    after the business day `as_of` left uncovered."""
    projection = projection or Projection()
    peak = next_peak(as_of)
    demand, source = peak_demand(conn, peak)
    stock = {
        (r.node_id, r.sku): int(r.on_hand)
        for r in conn.execute(select(Stock.node_id, Stock.sku, Stock.on_hand))
    }
    short: dict[str, float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)
    for (node_id, sku), units in demand.items():
        total[node_id] += units
        short[node_id] += max(0.0, units - stock.get((node_id, sku), 0))
    on_hand: dict[str, int] = defaultdict(int)
    for (node_id, _), units_on_hand in stock.items():
        on_hand[node_id] += units_on_hand
    nodes = []
    for row in conn.execute(select(Node).order_by(Node.kind, Node.node_id)):
        x, y = projection.point(row.lat, row.lon)
        nodes.append(
            MapNode(
                node_id=row.node_id,
                name=row.name,
                city=row.city,
                kind=row.kind,
                x=x,
                y=y,
                demand=round(total[row.node_id], 1),
                stock=on_hand[row.node_id],
                short_units=round(short[row.node_id], 1),
            )
        )
    return ChainMap(
        as_of, peak, source, tuple(nodes), projection.width, projection.height,
        projection.outline(),
    )


def peak_demand(conn: Connection, peak: PeakWindow) -> tuple[dict[tuple[str, str], float], str]:
    """Expected units per store x SKU over the peak (both channels) and where they came from:
    the latest forecast run when it reaches into the peak, else walk-in rates x open days."""
    run = latest_forecast_run(conn)
    if run is not None:
        rows = conn.execute(
            select(Forecast.node_id, Forecast.sku, func.sum(Forecast.yhat), func.count())
            .where(Forecast.run_id == run, Forecast.ds.between(peak.start, peak.end))
            .group_by(Forecast.node_id, Forecast.sku)
        ).all()
        if rows:
            return {(r[0], r[1]): float(r[2] or 0.0) for r in rows}, f"forecast run {run}"
    open_days = len(open_days_between(peak.start, peak.end))
    rates = conn.execute(
        select(DemandRate.node_id, DemandRate.sku, DemandRate.walkin_units_per_day)
    )
    return (
        {(r.node_id, r.sku): float(r.walkin_units_per_day) * open_days for r in rates},
        f"walk-in demand rates x {open_days} open days (no forecast reaches the peak yet)",
    )


# --- One series: history and forecast --------------------------------------------------------


@dataclass(frozen=True)
class ForecastPoint:
    ds: date
    yhat: float
    q50: float | None
    q80: float | None
    q90: float | None
    q95: float | None
    q99: float | None


@dataclass(frozen=True)
class SeriesData:
    node_id: str
    channel: str
    sku: str
    history: tuple[tuple[date, int], ...]
    forecast: tuple[ForecastPoint, ...]
    run_id: str | None
    start: date
    end: date
    sold_out: tuple[date, ...] = ()  # history days recorded as sold out (fitted as estimates)

    @property
    def peaks(self) -> tuple[PeakWindow, ...]:
        windows = [peak_window(n, y) for y in range(self.start.year, self.end.year + 1)
                   for n in PEAK_NAMES]
        return tuple(w for w in windows if w.start <= self.end and w.end >= self.start)


def store_and_sku_choices(conn: Connection) -> tuple[list[str], list[tuple[str, str]]]:
    stores = list(conn.execute(
        select(Node.node_id).where(Node.kind == "store").order_by(Node.node_id)
    ).scalars())
    skus = [(r.sku, r.name) for r in conn.execute(select(Sku.sku, Sku.name).order_by(Sku.sku))]
    return stores, skus


def busiest_series(conn: Connection, channel: str, days: int = 28) -> tuple[str, str] | None:
    """The store x SKU selling most on `channel` over the last `days`: the page's default."""
    as_of = as_of_day(conn)
    units = func.sum(Sale.units)
    row = conn.execute(
        select(Sale.node_id, Sale.sku)
        .where(Sale.channel == channel, Sale.date > as_of - timedelta(days=days))
        .group_by(Sale.node_id, Sale.sku)
        .order_by(units.desc(), Sale.node_id, Sale.sku)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def series(
    conn: Connection, node_id: str, channel: str, sku: str, history_days: int = 91
) -> SeriesData:
    """Daily units over the last `history_days`, the days among them that sold out, and the
    latest forecast with its quantiles."""
    as_of = as_of_day(conn)
    start = as_of - timedelta(days=history_days - 1)
    recorded = conn.execute(
        select(Sale.date, Sale.units, Sale.stockout).where(
            Sale.node_id == node_id, Sale.channel == channel, Sale.sku == sku,
            Sale.date.between(start, as_of),
        )
    ).all()
    sold = {r.date: r.units for r in recorded}
    sold_out = tuple(sorted(r.date for r in recorded if r.stockout == 1))
    history = tuple(
        (d, int(sold.get(d, 0))) for d in (start + timedelta(days=k) for k in range(history_days))
    )
    run = latest_forecast_run(conn)
    points: tuple[ForecastPoint, ...] = ()
    if run is not None:
        points = tuple(
            ForecastPoint(r.ds, r.yhat, r.q50, r.q80, r.q90, r.q95, r.q99)
            for r in conn.execute(
                select(Forecast).where(
                    Forecast.run_id == run, Forecast.node_id == node_id,
                    Forecast.channel == channel, Forecast.sku == sku,
                ).order_by(Forecast.ds)
            )
        )
    end = points[-1].ds if points else as_of + timedelta(days=28)
    return SeriesData(node_id, channel, sku, history, points, run, start, end, sold_out)


# --- Reservations: kept for walk-in vs promisable online -------------------------------------


@dataclass(frozen=True)
class StoreReservation:
    node_id: str
    name: str
    on_hand: int
    reserved: int
    kept_for_walk_in: int
    promisable_online: int
    proposed_safety_stock: int | None

    @property
    def kept_share(self) -> float:
        return self.kept_for_walk_in / self.on_hand if self.on_hand else 0.0


@dataclass(frozen=True)
class PlanSummary:
    plan_id: str
    status: str
    rows: int
    units: int
    created_at: Any


def reservation_plans(conn: Connection) -> list[PlanSummary]:
    """Safety-stock plans, newest first."""
    rows = conn.execute(
        select(
            SafetyStockPlan.plan_id,
            func.min(SafetyStockPlan.status),
            func.count(),
            func.sum(SafetyStockPlan.safety_stock),
            func.max(SafetyStockPlan.created_at),
        )
        .group_by(SafetyStockPlan.plan_id)
        .order_by(func.max(SafetyStockPlan.created_at).desc(), SafetyStockPlan.plan_id.desc())
        .limit(20)
    ).all()
    return [PlanSummary(r[0], r[1], int(r[2]), int(r[3] or 0), r[4]) for r in rows]


def reservations(conn: Connection, proposed_plan: str | None = None) -> list[StoreReservation]:
    """Per store: units held for orders, kept back for walk-in customers, promisable online;
    with `proposed_plan`, the safety stock that plan would set."""
    proposed: dict[str, int] = {}
    if proposed_plan is not None:
        proposed = dict(conn.execute(
            select(SafetyStockPlan.node_id, func.sum(SafetyStockPlan.safety_stock))
            .where(SafetyStockPlan.plan_id == proposed_plan)
            .group_by(SafetyStockPlan.node_id)
        ).all())
    free = Stock.on_hand - Stock.reserved
    atp = case((free - Stock.safety_stock > 0, free - Stock.safety_stock), else_=0)
    kept = case((Stock.safety_stock < free, Stock.safety_stock), else_=free)
    rows = conn.execute(
        select(
            Node.node_id, Node.name, func.sum(Stock.on_hand), func.sum(Stock.reserved),
            func.sum(kept), func.sum(atp),
        )
        .join(Stock, Stock.node_id == Node.node_id)
        .where(Node.kind == "store")
        .group_by(Node.node_id, Node.name)
        .order_by(Node.node_id)
    ).all()
    return [
        StoreReservation(
            r[0], r[1], int(r[2] or 0), int(r[3] or 0), int(r[4] or 0), int(r[5] or 0),
            int(proposed[r[0]]) if r[0] in proposed else None,
        )
        for r in rows
    ]


# --- Transfers for a peak --------------------------------------------------------------------


@dataclass(frozen=True)
class TransferPlanSummary:
    plan_id: str
    peak: str
    status: str
    transfers: int
    units: int
    cost_pln: float
    expected_gain_pln: float | None
    created_at: Any


@dataclass(frozen=True)
class TransferRow:
    from_node: str
    to_node: str
    sku: str
    qty: int
    arrive_by: Any
    cost_pln: float
    line: tuple[float, float, float, float]


def transfer_plans(conn: Connection, peak: str) -> list[TransferPlanSummary]:
    """Plans for `peak` (its name, optionally with a year after it), newest first, with the
    expected gain their run recorded in batch_runs.params."""
    rows = conn.execute(
        select(
            Transfer.plan_id, func.min(Transfer.peak), func.min(Transfer.status), func.count(),
            func.sum(Transfer.qty), func.sum(Transfer.cost_pln), func.max(Transfer.created_at),
        )
        .where(Transfer.peak.like(f"{peak}%"))
        .group_by(Transfer.plan_id)
        .order_by(func.max(Transfer.created_at).desc(), Transfer.plan_id.desc())
        .limit(20)
    ).all()
    params: dict[str, Any] = dict(conn.execute(
        select(BatchRun.run_id, BatchRun.params).where(BatchRun.run_id.in_([r[0] for r in rows]))
    ).all())
    return [
        TransferPlanSummary(
            r[0], r[1], r[2], int(r[3]), int(r[4] or 0), float(r[5] or 0.0),
            _gain(params.get(r[0])), r[6],
        )
        for r in rows
    ]


def _gain(params: Any) -> float | None:
    value = params.get("expected_gain_pln") if isinstance(params, dict) else None
    return float(value) if isinstance(value, int | float) else None


def transfers_of(
    conn: Connection, plan_id: str, projection: Projection | None = None, limit: int = 300
) -> list[TransferRow]:
    """A plan's transfers, biggest first, each with its line on the map."""
    projection = projection or Projection()
    where = {r.node_id: projection.point(r.lat, r.lon)
             for r in conn.execute(select(Node.node_id, Node.lat, Node.lon))}
    rows = conn.execute(
        select(Transfer).where(Transfer.plan_id == plan_id)
        .order_by(Transfer.qty.desc(), Transfer.transfer_id).limit(limit)
    )
    return [
        TransferRow(t.from_node, t.to_node, t.sku, t.qty, t.arrive_by, float(t.cost_pln),
                    (*where[t.from_node], *where[t.to_node]))
        for t in rows
    ]


# --- Recent decisions ------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionView:
    order_id: str
    status: str
    fulfilment: str
    created_at: Any
    decision: dict[str, Any]

    @property
    def explanation(self) -> dict[str, Any]:
        value = self.decision.get("explanation")
        return value if isinstance(value, dict) else {}

    @property
    def lines(self) -> list[dict[str, Any]]:
        value = self.decision.get("lines")
        return value if isinstance(value, list) else []

    @property
    def costs(self) -> dict[str, Any]:
        value = self.decision.get("costs")
        return value if isinstance(value, dict) else {}


def recent_decisions(conn: Connection, limit: int = 25) -> list[DecisionView]:
    rows = conn.execute(
        select(Order.order_id, Order.status, Order.fulfilment, Order.created_at, Order.decision)
        .order_by(Order.created_at.desc(), Order.order_id.desc())
        .limit(limit)
    ).all()
    return [DecisionView(r[0], r[1], r[2], r[3], r[4] if isinstance(r[4], dict) else {})
            for r in rows]
