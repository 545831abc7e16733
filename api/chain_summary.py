"""What is in the database: the figures `omni demo` prints after loading the chain.

Read back from the database rather than from the generated frames, so the summary also proves
the load round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func, select

from api.db.tables import Node, Sale, Sku, Stock
from forecasting.calendar import next_peak


@dataclass(frozen=True)
class ChainSummary:
    dcs: int
    stores_by_format: dict[str, int]
    cities: int
    skus_by_department: dict[str, int]
    units_on_hand_dc: int
    units_on_hand_store: int
    sales_rows: int
    history_first: date | None
    history_last: date | None
    units_by_channel: dict[str, int]

    def lines(self) -> list[str]:
        stores = sum(self.stores_by_format.values())
        formats = ", ".join(f"{k} {v}" for k, v in sorted(self.stores_by_format.items()))
        departments = ", ".join(f"{k} {v}" for k, v in sorted(self.skus_by_department.items()))
        channels = ", ".join(f"{k} {v:,}" for k, v in sorted(self.units_by_channel.items()))
        lines = [
            f"nodes: {self.dcs} DCs, {stores} stores ({formats}) in {self.cities} cities",
            f"catalogue: {sum(self.skus_by_department.values())} SKUs ({departments})",
            f"stock on hand: {self.units_on_hand_dc:,} units in DCs, "
            f"{self.units_on_hand_store:,} in stores",
            f"sales history: {self.sales_rows:,} rows, {self.history_first} .. "
            f"{self.history_last}; units by channel: {channels}",
        ]
        if self.history_last is not None:
            peak = next_peak(self.history_last)
            lines.append(f"next peak: {peak.name} {peak.start} .. {peak.end}")
        return lines


def summarise_chain(engine: Engine) -> ChainSummary:
    """Count what the chain in the database holds."""
    with engine.connect() as conn:
        kinds = conn.execute(
            select(Node.kind, Node.format, func.count()).group_by(Node.kind, Node.format)
        ).all()
        cities = conn.execute(select(func.count(func.distinct(Node.city)))).scalar_one()
        departments = conn.execute(
            select(Sku.department, func.count()).group_by(Sku.department)
        ).all()
        on_hand = conn.execute(
            select(Node.kind, func.coalesce(func.sum(Stock.on_hand), 0))
            .join(Node, Node.node_id == Stock.node_id)
            .group_by(Node.kind)
        ).all()
        sales = conn.execute(
            select(func.count(), func.min(Sale.date), func.max(Sale.date))
        ).one()
        channels = conn.execute(
            select(Sale.channel, func.coalesce(func.sum(Sale.units), 0)).group_by(Sale.channel)
        ).all()
    stock_by_kind = {kind: int(units) for kind, units in on_hand}
    return ChainSummary(
        dcs=sum(int(n) for kind, _, n in kinds if kind == "dc"),
        stores_by_format={str(fmt): int(n) for kind, fmt, n in kinds if kind == "store"},
        cities=int(cities),
        skus_by_department={str(d): int(n) for d, n in departments},
        units_on_hand_dc=stock_by_kind.get("dc", 0),
        units_on_hand_store=stock_by_kind.get("store", 0),
        sales_rows=int(sales[0]),
        history_first=_as_date(sales[1]),
        history_last=_as_date(sales[2]),
        units_by_channel={str(c): int(u) for c, u in channels},
    )


def _as_date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
