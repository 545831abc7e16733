"""The replay's forecast learns sold-out history days as estimated demand, as the weekly batch
does, and never from a day after as-of."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from data.demo_chain import DemoChain, generate_chain
from experiments.simulation.forecast import _dense_demand
from experiments.simulation.season import Season, build_season


@pytest.fixture(scope="module")
def chain() -> DemoChain:
    return generate_chain(n_stores=6, n_skus=6, history_days=200, future_days=7)


@pytest.fixture(scope="module")
def season(chain: DemoChain) -> Season:
    return build_season(chain, weeks=1, seed=0)


def _flagged(chain: DemoChain, ids: np.ndarray, first_day: pd.Timestamp,
             shape: tuple[int, int]) -> np.ndarray:
    rows = chain.sales[chain.sales["stockout"] == 1]
    uid = rows["node_id"] + "|" + rows["channel"] + "|" + rows["sku"]
    mask = np.zeros(shape, dtype=bool)
    mask[pd.Index(ids).get_indexer(uid), (rows["date"] - first_day).dt.days.to_numpy()] = True
    return mask


def test_sold_out_history_days_are_replayed_as_estimated_demand(
    chain: DemoChain, season: Season
) -> None:
    restored, first_day, ids = _dense_demand(chain, season)
    recorded, _, _ = _dense_demand(
        replace(chain, sales=chain.sales.drop(columns="stockout")), season)
    flagged = _flagged(chain, ids, first_day, restored.shape)
    assert flagged.sum() > 20
    np.testing.assert_array_equal(restored[~flagged], recorded[~flagged])
    assert (restored[flagged] >= recorded[flagged]).all()
    assert restored[flagged].sum() > recorded[flagged].sum() + 10


def test_no_estimate_reads_a_day_after_as_of(chain: DemoChain, season: Season) -> None:
    restored, _, _ = _dense_demand(chain, season)
    future = chain.future_sales
    busier = replace(chain, future_sales=future.assign(units=future["units"] * 10 + 5))
    again, _, _ = _dense_demand(busier, season)
    n_history = len(pd.date_range(chain.sales["date"].min(), chain.as_of))
    np.testing.assert_array_equal(restored[:, :n_history], again[:, :n_history])
