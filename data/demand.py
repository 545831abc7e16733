"""Daily demand of the demo chain: store x channel x SKU, vectorised over SKU blocks.

Expected units are a product of factors (data.calibration names the source of each):
popularity of the SKU x size of the store x day factors of its category and channel (weekday,
year, Back-to-School, Black Week, Christmas, trend, online share) x price factor (promotions and
markdowns through a price elasticity) x life of the SKU (zero before launch and after
discontinuation). Walk-in demand is exactly zero on days stores are closed
(forecasting.calendar.is_store_open); part of it moves online that day and the next.
Units are negative-binomial draws around the expectation (intermittent for slow movers).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from data import calibration as cal
from data.catalogue import CATEGORIES
from forecasting.calendar import black_friday, is_public_holiday, is_store_open

CHANNELS = ("store", "online")
PROMO_WEEK_PROBABILITY = {"fashion": 0.035, "electronics": 0.03}
BLACK_WEEK_PROMO_PROBABILITY = 0.5
PROMO_DISCOUNTS = np.array([0.10, 0.15, 0.20, 0.25, 0.30])
MARKDOWN_SHARE = 0.5  # share of fashion SKUs marked down in each end-of-season sale
MARKDOWN_DISCOUNT = 0.30
ELECTRONICS_PRICE_DROP_PER_QUARTER = 0.03
LAUNCH_RAMP_DAYS = 21
PHASE_OUT_DAYS = 60
CELLS_PER_BLOCK = 2_000_000


@dataclass(frozen=True)
class DayFactors:
    """Per day x category: expected-demand multipliers for walk-in and online."""

    days: pd.DatetimeIndex
    store_open: np.ndarray  # [D] bool
    walk_in: np.ndarray  # [D, C] walk-in factor on an open day
    online: np.ndarray  # [D, C] online factor (catchment demand)
    shifted: np.ndarray  # [D, C] walk-in demand lost to closure that goes online


def day_factors(days: pd.DatetimeIndex) -> DayFactors:
    """Calendar and seasonal multipliers for every day and category (no randomness)."""
    plain = [ts.date() for ts in days]
    n_days, n_cat = len(days), len(CATEGORIES)
    is_open = np.array([is_store_open(d) for d in plain])
    dow = days.dayofweek.to_numpy()
    doy = days.dayofyear.to_numpy().astype(float)
    years = (days - days[0]).days.to_numpy() / 365.25

    weekday_store = np.append(np.array(cal.WEEKDAY_PROFILE_STORE), cal.TRADING_SUNDAY_FACTOR)[dow]
    weekday_online = np.array(cal.WEEKDAY_PROFILE_ONLINE)[dow]
    month = _smooth_month_profile(doy)
    trend = (1.0 + cal.CHAIN_GROWTH_PER_YEAR) ** years
    eve = np.array([_is_holiday_eve(d) for d in plain])
    pre_closure = np.where(eve, cal.PRE_CLOSURE_UPLIFT, 1.0)
    bts_bump = np.array([_back_to_school_bump(d) for d in plain])
    runup = np.array([_christmas_runup(d) for d in plain])
    bw_offset = np.array([_black_week_offset(d) for d in plain])
    bw_shape = np.array([cal.BLACK_WEEK_SHAPE.get(int(o), 0.0) for o in bw_offset])
    lull = np.where((bw_offset >= -14) & (bw_offset <= -5), cal.PRE_BLACK_WEEK_LULL, 1.0)

    walk_in = np.empty((n_days, n_cat))
    online = np.empty((n_days, n_cat))
    for c, cat in enumerate(CATEGORIES):
        season = 1.0 + cat.season_amplitude * np.cos(
            2 * np.pi * (doy - (30.4 * cat.season_peak_month - 15)) / 365.25)
        bts = 1.0 + (cat.back_to_school - 1.0) * bts_bump
        xmas = 1.0 + (runup - 1.0) * cat.christmas_extra
        common = trend * month * season * bts * xmas * lull
        share = np.clip(cal.ONLINE_SHARE_START[cat.department] + cat.online_bias
                        + cal.ONLINE_SHARE_GROWTH_PER_YEAR[cat.department] * years, 0.02, 0.9)
        bw_store = 1.0 + cal.BLACK_WEEK_MAGNITUDE[(cat.department, "store")] * bw_shape
        bw_online = 1.0 + cal.BLACK_WEEK_MAGNITUDE[(cat.department, "online")] * bw_shape
        walk_in[:, c] = common * weekday_store * pre_closure * bw_store * (1.0 - share)
        online[:, c] = common * weekday_online * bw_online * share
    # Walk-in demand on a closed day is lost to the store; some of it is placed online that
    # day and the next (the same customers, shopping from home).
    lost = walk_in * (~is_open)[:, None]
    shifted = cal.CLOSED_DAY_SHIFT_TO_ONLINE_SAME_DAY * lost
    shifted[1:] += cal.CLOSED_DAY_SHIFT_TO_ONLINE_NEXT_DAY * lost[:-1]
    return DayFactors(days, is_open, walk_in * is_open[:, None], online, shifted)


def _smooth_month_profile(doy: np.ndarray) -> np.ndarray:
    """The monthly profile interpolated periodically through mid-month anchors."""
    anchors = 30.44 * np.arange(12) + 15.2
    values = np.array(cal.MONTH_PROFILE)
    xs = np.concatenate([anchors - 365.25, anchors, anchors + 365.25])
    return np.interp(doy, xs, np.tile(values, 3))


def _is_holiday_eve(day: date) -> bool:
    """An open day before a public holiday (stores closed tomorrow, shoppers buy today)."""
    tomorrow = day + timedelta(days=1)
    return is_store_open(day) and is_public_holiday(tomorrow)


def _back_to_school_bump(day: date) -> float:
    """0 outside 10 Aug .. 15 Sep, rising to 1 on 31 Aug, back to 0 on 15 Sep."""
    start, top, end = date(day.year, 8, 10), date(day.year, 8, 31), date(day.year, 9, 15)
    if start <= day <= top:
        return (day - start).days / (top - start).days
    if top < day <= end:
        return (end - day).days / (end - top).days
    return 0.0


def _christmas_runup(day: date) -> float:
    """Measured Rossmann run-up by week before 24 Dec; after Christmas a quiet week."""
    eve = date(day.year, 12, 23)
    if date(day.year, 11, 26) <= day <= eve:
        return cal.CHRISTMAS_RUNUP_BY_WEEK[(eve - day).days // 7]
    if day == date(day.year, 12, 24):
        return 0.7  # Wigilia: shops (open through 2024) close early
    if day >= date(day.year, 12, 27):
        return 0.9
    return 1.0


def _black_week_offset(day: date) -> int:
    """Days from this year's Black Friday (Monday of Black Week = -4, Cyber Monday = +3)."""
    return (day - black_friday(day.year)).days


@dataclass(frozen=True)
class SkuBlock:
    """Demand inputs of a block of SKUs."""

    first: int  # index of the first SKU of the block in the catalogue
    category: np.ndarray  # [K] category code
    department: np.ndarray  # [K] str
    popularity: np.ndarray  # [K] rate multiplier
    list_price: np.ndarray  # [K] PLN at launch
    launch: np.ndarray  # [K] day index of launch
    stop: np.ndarray  # [K] day index of discontinuation (large when active)


def sku_blocks(skus: pd.DataFrame, days: pd.DatetimeIndex, size: int) -> Iterator[SkuBlock]:
    start = days[0]
    launch = ((skus["launch_date"] - start).dt.days).to_numpy()
    stop = ((skus["discontinue_date"] - start).dt.days).fillna(10**6).to_numpy().astype(int)
    rates = np.array([CATEGORIES[c].units_per_store_day for c in skus["category_code"]])
    for first in range(0, len(skus), size):
        part = slice(first, first + size)
        yield SkuBlock(
            first,
            skus["category_code"].to_numpy()[part],
            skus["department"].to_numpy()[part],
            (skus["popularity"].to_numpy() * rates)[part],
            skus["price_pln"].to_numpy()[part],
            launch[part],
            stop[part],
        )


def prices(rng: np.random.Generator, block: SkuBlock,
           days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Selling price [D, K], promo flag [D, K] and the demand factor of price [D, K].

    Electronics list prices step down each quarter of a product's life; fashion has
    end-of-season markdowns (27 Dec .. 31 Jan, 25 Jun .. 31 Jul) on half the range; promotions
    run a whole week, chain-wide, and most SKUs are on promotion during Black Week.
    """
    n_days, n_skus = len(days), len(block.list_price)
    index = np.arange(n_days)[:, None]
    age = np.maximum(index - block.launch[None, :], 0)
    electronics = block.department == "electronics"
    steps = np.where(electronics[None, :], age // 91, 0)
    list_price = _price_point(block.list_price[None, :]
                              * (1 - ELECTRONICS_PRICE_DROP_PER_QUARTER) ** steps)

    month, dom = days.month.to_numpy(), days.day.to_numpy()
    winter_sale = ((month == 12) & (dom >= 27)) | (month == 1)
    summer_sale = ((month == 6) & (dom >= 25)) | (month == 7)
    season_id = np.where(winter_sale | summer_sale, days.year.to_numpy() * 2 + summer_sale, -1)
    seasons = np.unique(season_id[season_id >= 0])
    marked = np.zeros((n_days, n_skus), dtype=bool)
    for season in seasons:
        chosen = (rng.random(n_skus) < MARKDOWN_SHARE) & ~electronics
        marked |= (season_id == season)[:, None] & chosen[None, :]

    week = (days - days[0]).days.to_numpy() // 7
    n_weeks = int(week[-1]) + 1
    chance = np.array([PROMO_WEEK_PROBABILITY[d] for d in block.department])
    promo_weeks = rng.random((n_weeks, n_skus)) < chance[None, :]
    discount_weeks = rng.choice(PROMO_DISCOUNTS, size=(n_weeks, n_skus))
    promo = promo_weeks[week]
    discount = np.where(promo, discount_weeks[week], 0.0)
    offsets = np.array([_black_week_offset(ts.date()) for ts in days])
    in_black_week = (offsets >= -4) & (offsets <= 3)
    for year in np.unique(days.year.to_numpy()[in_black_week]):
        days_of_year = in_black_week & (days.year.to_numpy() == year)
        chosen = rng.random(n_skus) < BLACK_WEEK_PROMO_PROBABILITY
        deal = rng.choice(PROMO_DISCOUNTS, size=n_skus)
        take = days_of_year[:, None] & chosen[None, :]
        discount = np.where(take, np.maximum(discount, deal[None, :]), discount)
        promo = promo | take

    factor_markdown = np.where(marked, 1.0 - MARKDOWN_DISCOUNT, 1.0)
    price = np.round(list_price * factor_markdown * (1.0 - discount), 2)
    elasticity = np.array([cal.PRICE_ELASTICITY_BY_DEPARTMENT[d] for d in block.department])
    demand = (price / list_price) ** (-elasticity[None, :])
    return price, promo, demand


def _price_point(value: np.ndarray) -> np.ndarray:
    """Retail price points: x.99 below 100 PLN, then whole tens minus a grosz."""
    return np.where(value < 100, np.floor(value) + 0.99, np.ceil(value / 10.0) * 10.0 - 0.01)


def life(block: SkuBlock, n_days: int) -> np.ndarray:
    """[D, K] share of full demand: 0 outside the SKU's life, a ramp after launch and a fade
    before discontinuation."""
    index = np.arange(n_days)[:, None]
    age = index - block.launch[None, :]
    ramp = np.clip((age + 1) / LAUNCH_RAMP_DAYS, 0.0, 1.0)
    left = block.stop[None, :] - index
    fade = np.clip(0.4 + 0.6 * left / PHASE_OUT_DAYS, 0.0, 1.0)
    alive = (age >= 0) & (left > 0)
    return np.where(alive, ramp * fade, 0.0)


def negative_binomial(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    """Counts around `mean`: NB with size k = 1.23 (M5 slow movers) growing as sqrt(mean) for
    faster movers, so fast series are relatively less noisy. Cells with zero mean (closed
    days, SKUs out of life) stay zero without a draw."""
    units = np.zeros(mean.shape, dtype=np.int32)
    live = mean > 0
    m = mean[live]
    size = cal.NEGATIVE_BINOMIAL_SIZE * np.sqrt(np.maximum(m, 1.0))
    units[live] = rng.negative_binomial(size, size / (size + m))
    return units
