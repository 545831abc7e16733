"""The service's own index of master data: what exists and where it is.

Validation (is this SKU, store or locker known?) and geography (where is this postcode, which
stores are near) are the edge's job, answered here without asking the optimizer's network.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from allocation.geo import great_circle_km


@dataclass(frozen=True)
class Place:
    """A node (DC or store) or a locker: an id, a kind and coordinates."""

    place_id: str
    kind: str
    name: str
    city: str
    lat: float
    lon: float
    opens_at_hour: int = 0
    closes_at_hour: int = 24


@dataclass(frozen=True)
class Catalog:
    nodes: dict[str, Place]
    lockers: dict[str, Place]
    skus: frozenset[str]
    postcode_areas: dict[str, tuple[float, float]]

    @property
    def stores(self) -> list[Place]:
        return [p for p in self.nodes.values() if p.kind == "store"]

    def locate_postcode(self, postcode: str) -> tuple[float, float] | None:
        """The centroid of the postcode's two-digit area (`00-950` → area `00`)."""
        return self.postcode_areas.get(postcode.strip()[:2])

    def nearest_locker(self, lat: float, lon: float) -> Place | None:
        """The parcel locker closest to a point (None without lockers): where a locker order
        sent with only an address is delivered, so the customer can be told which."""
        if not self.lockers:
            return None
        return min(self.lockers.values(),
                   key=lambda place: haversine_km(lat, lon, place.lat, place.lon))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points (the core's formula, as a plain float)."""
    return float(great_circle_km(lat1, lon1, lat2, lon2))


def catalog_from_frames(frames: dict[str, pd.DataFrame]) -> Catalog:
    nodes = {
        str(r["node_id"]): Place(str(r["node_id"]), str(r["kind"]), str(r["name"]),
                                 str(r["city"]), float(r["lat"]), float(r["lon"]),
                                 int(r["opens_at_hour"]), int(r["closes_at_hour"]))
        for r in frames["nodes"].to_dict("records")
    }
    lockers = {
        str(r["locker_id"]): Place(str(r["locker_id"]), "locker", str(r["locker_id"]),
                                   str(r["city"]), float(r["lat"]), float(r["lon"]))
        for r in frames["lockers"].to_dict("records")
    }
    areas = {
        str(r["postcode_prefix"]).zfill(2): (float(r["lat"]), float(r["lon"]))
        for r in frames["postcode_areas"].to_dict("records")
    }
    return Catalog(nodes, lockers, frozenset(frames["skus"]["sku"].astype(str)), areas)
