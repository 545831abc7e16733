"""The e-shop's "available in a store near you": the nearest stores with ATP for a SKU."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from api.db import stock as db_stock
from api.services.catalog import Catalog, haversine_km
from api.services.errors import InvalidCommand, NotFound
from forecasting.calendar import is_store_open
from forecasting.vocabulary import WARSAW

_COORDINATES = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
_POSTCODE = re.compile(r"^\d{2}(-?\d{3})?$")
SEARCH_STORES = 50  # nearest stores considered before filtering by stock


@dataclass(frozen=True)
class StoreStock:
    node_id: str
    name: str
    city: str
    distance_km: float
    atp: int
    open_now: bool


def locate(catalog: Catalog, near: str) -> tuple[float, float]:
    """`lat,lon` or a Polish postcode (`00-950`, or just its area `00`) to coordinates."""
    match = _COORDINATES.match(near)
    if match:
        lat, lon = float(match.group(1)), float(match.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidCommand("near", f"coordinates out of range: {near!r}")
        return lat, lon
    if _POSTCODE.match(near.strip()):
        centroid = catalog.locate_postcode(near)
        if centroid is None:
            raise NotFound("postcode area", near.strip()[:2], "near")
        return centroid
    raise InvalidCommand("near", "give a postcode (00-950) or coordinates (52.23,21.01)")


def availability_near(
    engine: Engine,
    catalog: Catalog,
    sku: str,
    near: str,
    limit: int = 5,
    now: datetime | None = None,
) -> tuple[tuple[float, float], list[StoreStock]]:
    """Stores with ATP > 0 for `sku`, nearest first, at most `limit` of them."""
    if sku not in catalog.skus:
        raise NotFound("sku", sku, "sku")
    lat, lon = locate(catalog, near)
    at = (now or datetime.now(UTC)).astimezone(WARSAW)
    stores = sorted(
        ((haversine_km(lat, lon, s.lat, s.lon), s) for s in catalog.stores),
        key=lambda pair: pair[0],
    )[:SEARCH_STORES]
    with engine.begin() as conn:
        db_stock.expire_holds(conn, at)  # expire on read: lapsed holds are stock again
        rows = db_stock.read_availability(conn, [sku], [s.place_id for _, s in stores])
    atp = {row.node_id: row.atp for row in rows if row.atp > 0}
    open_today = is_store_open(at.date())
    found = [
        StoreStock(
            node_id=store.place_id,
            name=store.name,
            city=store.city,
            distance_km=round(distance, 2),
            atp=atp[store.place_id],
            open_now=open_today and store.opens_at_hour <= at.hour < store.closes_at_hour,
        )
        for distance, store in stores
        if store.place_id in atp
    ]
    return (lat, lon), found[:limit]
