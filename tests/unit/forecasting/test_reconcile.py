from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.reconcile import aggregate_levels, reconcile


def _bottom() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    ids = [f"S{s}|{c}|K{k}" for s in (1, 2) for c in ("store", "online") for k in (1, 2, 3)]
    days = pd.date_range("2025-06-02", periods=3)
    return pd.DataFrame([(u, d, rng.uniform(0, 9)) for u in ids for d in days],
                        columns=["unique_id", "ds", "yhat"])


def _bottom_sum(frame: pd.DataFrame, pattern: str) -> pd.Series:
    rows = frame[(frame["level"] == "store_channel_sku")
                 & frame["unique_id"].str.match(pattern)]
    return rows.groupby("ds")["yhat"].sum()


@pytest.mark.parametrize("method", ["bottom_up", "ols", "wls_struct"])
def test_reconciled_totals_equal_the_sum_of_their_bottom_series(method: str) -> None:
    base = _bottom()
    upper = pd.DataFrame({"unique_id": "total", "ds": base["ds"].unique(), "yhat": 200.0})
    result = reconcile(pd.concat([base, upper]), method=method)  # type: ignore[arg-type]

    chain = result[result["unique_id"] == "total"].set_index("ds")["yhat"]
    store = result[result["unique_id"] == "S1|*|*"].set_index("ds")["yhat"]
    sku = result[result["unique_id"] == "*|*|K2"].set_index("ds")["yhat"]
    np.testing.assert_allclose(chain, _bottom_sum(result, r".*"), rtol=1e-6)
    np.testing.assert_allclose(store, _bottom_sum(result, r"S1\|"), rtol=1e-6)
    np.testing.assert_allclose(sku, _bottom_sum(result, r".*\|K2$"), rtol=1e-6)


def test_bottom_up_keeps_the_bottom_forecasts() -> None:
    base = _bottom()
    result = reconcile(base)
    bottom = result[result["level"] == "store_channel_sku"].drop(columns="level")

    merged = base.merge(bottom, on=["unique_id", "ds"], suffixes=("", "_rec"))
    assert len(merged) == len(base)
    np.testing.assert_allclose(merged["yhat"], merged["yhat_rec"])


def test_history_aggregates_to_every_level() -> None:
    levels = aggregate_levels(_bottom().rename(columns={"yhat": "y"}))

    assert set(levels["level"]) == {"chain", "store", "store_channel", "sku",
                                    "store_channel_sku"}
    assert set(levels.loc[levels["level"] == "store", "unique_id"]) == {"S1|*|*", "S2|*|*"}
