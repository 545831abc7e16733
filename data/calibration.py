"""Demand-shape constants of the demo chain, each with its source and how it was measured.

The generator never reads public data at run time: the figures below were measured once by
``benchmarks/calibrate_demand.py`` on ``../shared/data`` and copied here, rounded to 3 decimals.
Where no public series shows an effect for fashion and electronics (Black Week magnitude,
online share, department elasticities) the constant is marked ASSUMPTION and says why.
"""

from __future__ import annotations

# Walk-in weekday profile Mon..Sat (Mon..Sat mean = 1).
# Source: Rossmann train (1,115 German stores, 2013-01 .. 2015-06). Method: open days with
# StateHoliday == "0" and Promo == 0; each store's Sales divided by that store's mean open-day
# Sales; mean by DayOfWeek; rescaled to mean 1 (calibrate_demand.weekday_profile_store).
WEEKDAY_PROFILE_STORE: tuple[float, ...] = (1.051, 0.969, 0.950, 0.971, 1.077, 0.982)

# A Polish trading Sunday (a rare open Sunday, mostly before Christmas) is as busy as a Saturday.
# ASSUMPTION: Rossmann stores are closed on German Sundays, so there is nothing to measure.
TRADING_SUNDAY_FACTOR = 1.077

# Online weekday profile Mon..Sun (mean = 1).
# Source: M5 level-1 chain total (Walmart, 2011-01-29 .. 2016-04-24), a 7-day-a-week channel.
# Method: daily units over a centred 365-day mean (25 Dec removed), mean by weekday, mean 1
# (calibrate_demand.weekday_profile_online). Weekend-heavy, like Polish online shopping.
WEEKDAY_PROFILE_ONLINE: tuple[float, ...] = (0.956, 0.886, 0.877, 0.881, 0.999, 1.206, 1.196)

# Base yearly profile by month Jan..Dec (mean = 1), applied to every category before the
# category's own season. Source: M5 level-1, detrended as above, mean by month
# (calibrate_demand.month_profile).
MONTH_PROFILE: tuple[float, ...] = (
    0.955, 1.012, 1.003, 0.989, 0.966, 1.036, 1.035, 1.050, 1.030, 1.002, 0.952, 0.969,
)  # fmt: skip

# Christmas run-up: demand over the 1 Oct .. 20 Nov baseline in the weeks ending 23 Dec.
# Index 0 = 17..23 Dec, 1 = 10..16 Dec, 2 = 3..9 Dec, 3 = 26 Nov .. 2 Dec.
# Source: Rossmann, open days, store-normalised sales, 2013 and 2014 averaged
# (calibrate_demand.christmas_runup).
CHRISTMAS_RUNUP_BY_WEEK: tuple[float, ...] = (1.580, 1.221, 1.202, 1.227)

# Walk-in demand on the open day before a public holiday on which stores are closed, over the
# same store's mean for that weekday. Source: Rossmann, days before StateHoliday a/b/c with
# Open == 0, no promo, median ratio (calibrate_demand.pre_closure_uplift).
PRE_CLOSURE_UPLIFT = 1.116

# Promotion uplift: units with a promo over units without, same store and weekday.
# Source: Rossmann Promo flag, Mon..Fri, store-normalised (calibrate_demand.promo_uplift) = 1.39.
PROMO_UPLIFT_MEASURED = 1.390
# ASSUMPTION: a Rossmann promo is taken as a 20 % price cut, so the price elasticity that
# reproduces it is ln(1.39) / -ln(0.80) = 1.476. Demand follows (price / list price) ** -e.
REFERENCE_PROMO_DISCOUNT = 0.20
PRICE_ELASTICITY_BASE = 1.476
# ASSUMPTION: electronics buyers compare prices more than fashion buyers.
PRICE_ELASTICITY_BY_DEPARTMENT: dict[str, float] = {"fashion": 1.476, "electronics": 1.9}

# Intermittent demand. Source: M5 all 30,490 item-store series over d_1914..d_1941
# (calibrate_demand.intermittency): 63.5 % of series sell < 1 unit a day; the slow ones are
# zero on a median 71 % of days; their negative-binomial size k = m^2 / (v - m) has median 1.23.
SLOW_SERIES_SHARE = 0.635
NEGATIVE_BINOMIAL_SIZE = 1.23

# Black Week. Measured: M5 (Walmart, grocery-led) shows no Black Friday lift at all (Wed before
# Thanksgiving 1.25, Thanksgiving 0.71, Black Friday 0.74 of the same weekday 2-4 weeks before),
# and Favorita (Ecuador) +3 % on Black Friday, +5 % on Cyber Monday
# (calibrate_demand.black_week_profile). Neither sells fashion or electronics, so the
# MAGNITUDE below is an ASSUMPTION for a Polish fashion and electronics chain; the SHAPE (a
# build-up through the week, Black Friday the top, Cyber Monday an online day) follows the
# Favorita ordering. Keys: day offset from Black Friday (-4 = Monday .. +3 = Cyber Monday).
BLACK_WEEK_SHAPE: dict[int, float] = {-4: 0.30, -3: 0.35, -2: 0.40, -1: 0.55, 0: 1.0, 1: 0.80,
                                      2: 0.60, 3: 0.70}  # fmt: skip
# Peak extra demand on Black Friday (multiplier - 1), per department and channel, on top of the
# Black Week promotions (demand.BLACK_WEEK_PROMO_PROBABILITY, through the price elasticity);
# together they put Black Friday at ~2.5x an ordinary Friday for walk-in, ~3x online.
# ASSUMPTION.
BLACK_WEEK_MAGNITUDE: dict[tuple[str, str], float] = {
    ("fashion", "store"): 0.3,
    ("fashion", "online"): 0.6,
    ("electronics", "store"): 0.5,
    ("electronics", "online"): 1.0,
}
# Shoppers wait for Black Week: the 10 days before it sell less. ASSUMPTION.
PRE_BLACK_WEEK_LULL = 0.90

# Back-to-School, 15 Aug .. 15 Sep. Measured on the M5 204 real item-store series (2015,
# mean 15 Aug..15 Sep over 15 Jun..31 Jul): FOODS 1.16, HOUSEHOLD 1.04, HOBBIES 0.91. Those are
# grocery departments, so the per-category peak multipliers in data.catalogue are ASSUMPTIONS
# of that order for ordinary goods and larger for school goods (backpacks, laptops).
BACK_TO_SCHOOL_MEASURED_FOODS = 1.156

# Share of lost walk-in demand on a closed day (holiday, non-trading Sunday) that the same
# customers place online that day and the next day. ASSUMPTION (no public series separates it).
CLOSED_DAY_SHIFT_TO_ONLINE_SAME_DAY = 0.15
CLOSED_DAY_SHIFT_TO_ONLINE_NEXT_DAY = 0.05

# Online share of a store catchment's demand at the start of the history and its growth per
# year, per department. ASSUMPTION, in line with online retail gaining share in Poland.
ONLINE_SHARE_START: dict[str, float] = {"fashion": 0.18, "electronics": 0.28}
ONLINE_SHARE_GROWTH_PER_YEAR: dict[str, float] = {"fashion": 0.025, "electronics": 0.03}

# Chain-wide like-for-like growth per year. ASSUMPTION.
CHAIN_GROWTH_PER_YEAR = 0.04
