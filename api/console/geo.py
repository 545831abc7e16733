"""A map of Poland without tiles: lat/lon projected onto an SVG canvas, and the country's outline
approximated from a few dozen border points (enough to recognise it; not for measuring)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from forecasting.vocabulary import WARSAW

# (lon, lat) along the border, clockwise from Świnoujście; coast, Russia, Lithuania, Belarus,
# Ukraine, Slovakia, Czechia, Germany.
POLAND_BORDER: tuple[tuple[float, float], ...] = (
    (14.22, 53.93), (15.00, 54.05), (15.60, 54.20), (16.30, 54.40), (16.85, 54.60),
    (17.55, 54.78), (18.33, 54.84), (18.80, 54.62), (18.55, 54.45), (18.70, 54.38),
    (19.40, 54.38), (19.65, 54.45), (20.40, 54.40), (21.30, 54.33), (22.30, 54.35),
    (22.78, 54.36), (23.35, 54.20), (23.50, 53.95), (23.90, 53.60), (23.90, 53.20),
    (23.60, 52.80), (23.90, 52.65), (23.20, 52.30), (23.65, 52.08), (23.60, 51.60),
    (24.10, 51.00), (23.95, 50.60), (23.50, 50.40), (22.90, 49.95), (22.65, 49.55),
    (22.56, 49.08), (21.95, 49.35), (21.10, 49.40), (20.60, 49.40), (20.10, 49.20),
    (19.80, 49.22), (19.40, 49.60), (18.85, 49.52), (18.60, 49.85), (18.20, 50.00),
    (17.70, 50.15), (17.60, 50.30), (16.90, 50.45), (16.60, 50.15), (16.20, 50.45),
    (16.30, 50.65), (15.50, 50.80), (15.00, 51.00), (14.83, 50.87), (15.00, 51.25),
    (14.70, 51.55), (14.75, 52.07), (14.55, 52.40), (14.60, 52.60), (14.15, 52.95),
    (14.45, 53.25), (14.22, 53.93),
)

WEST, EAST, SOUTH, NORTH = 13.9, 24.4, 48.9, 55.0
MAP_WIDTH = 640.0
_X_SCALE = math.cos(math.radians(52.0))  # equirectangular, true to scale at 52° N


@dataclass(frozen=True)
class Projection:
    """Equirectangular projection of the Polish bounding box onto a canvas `width` wide."""

    width: float = MAP_WIDTH

    @property
    def _k(self) -> float:
        return self.width / ((EAST - WEST) * _X_SCALE)

    @property
    def height(self) -> float:
        return round((NORTH - SOUTH) * self._k, 1)

    def point(self, lat: float, lon: float) -> tuple[float, float]:
        return (
            round((lon - WEST) * _X_SCALE * self._k, 1),
            round((NORTH - lat) * self._k, 1),
        )

    def outline(self) -> str:
        """The border as SVG polygon points."""
        return " ".join(f"{x},{y}" for x, y in (self.point(lat, lon) for lon, lat in POLAND_BORDER))


def warsaw_time(value: object) -> str:
    """A stored instant (datetime or ISO text, UTC) as the planners read it: Warsaw local time."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if not isinstance(value, datetime):
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(WARSAW).strftime("%Y-%m-%d %H:%M")
