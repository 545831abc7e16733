"""Walk-in stock-out spells of the demo chain: runs of days a store's shelf of a SKU stood empty.

Real chains run out, and a sold-out day's units are a lower bound on its demand: the weekly
batch needs such days flagged to fit them as estimated demand (forecasting.censoring). Each
store x SKU gets a Poisson number of spells over the history, each starting on a uniformly
drawn day and lasting `SPELL_DAYS` calendar days (the wait for the next delivery), so about
`SPELLS_PER_YEAR` x 8 / 365 (~2%) of its days are sold out. Only walk-in sales are censored:
online orders are served from the DCs. Spells draw from their own random stream, so every day
outside them sells exactly what it would without them.
"""

from __future__ import annotations

import numpy as np

STREAM_STOCKOUTS = 5  # data.demo_chain uses streams 0-3, data.sales 4 (demand)
SPELLS_PER_YEAR = 0.9  # per store x SKU; with spells of 8 days on average: ~2% of days
SPELL_DAYS = (2, 14)  # shortest and longest spell, both inclusive


def spell_days(rng: np.random.Generator, n_history: int, n_days: int, n_stores: int,
               n_skus: int) -> np.ndarray:
    """[n_days, n_stores, n_skus] bool: the calendar days inside a spell. Spells lie in the
    first `n_history` days (the history) only; those overlapping merge into one."""
    cells = n_stores * n_skus
    counts = rng.poisson(SPELLS_PER_YEAR * n_history / 365.25, cells)
    cell = np.repeat(np.arange(cells), counts)
    start = rng.integers(0, n_history, len(cell))
    length = rng.integers(SPELL_DAYS[0], SPELL_DAYS[1] + 1, len(cell))
    end = np.minimum(start + length, n_history)
    edges = np.zeros((n_days + 1, cells), dtype=np.int16)
    np.add.at(edges, (start, cell), 1)
    np.add.at(edges, (end, cell), -1)
    inside = np.cumsum(edges[:n_days], axis=0, dtype=np.int16) > 0
    return inside.reshape(n_days, n_stores, n_skus)


def sold_units(rng: np.random.Generator, demand: np.ndarray, spells: np.ndarray) -> np.ndarray:
    """Units [D, S, K] sold out of `demand` [D, S, K] when `spells` [D, S, K] empty the shelf.

    The first day of a spell the shelf empties at a uniformly random moment of trading:
    customers arrive spread over the day, so each of its demanded units is sold with the
    probability that it came before that moment (a binomial thinning with a uniform share).
    Later days sell nothing: the shelf stays empty until the delivery that ends the spell, and
    a strict 0 keeps the flag's meaning plain (a returned unit back on the shelf is too rare at
    store x SKU level to be worth simulating).
    """
    started = spells.copy()
    started[1:] &= ~spells[:-1]
    sold = np.where(spells, 0, demand).astype(demand.dtype)
    d, s, k = np.nonzero(started)
    sold[d, s, k] = rng.binomial(demand[d, s, k], rng.random(len(d)))
    return sold
