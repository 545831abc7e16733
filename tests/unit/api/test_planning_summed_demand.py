"""The rebalancing plan's demand per node x SKU: summed means and the ratio of the sum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from api.services.planning import _summed_demand


def _days(store: str, means: list[float], ratios: list[float] | None) -> pd.DataFrame:
    frame = pd.DataFrame({"store": store, "sku": "K1", "mean": means})
    return frame if ratios is None else frame.assign(dispersion=ratios)


def test_the_ratio_of_a_sum_is_the_mean_weighted_ratio_of_its_days() -> None:
    walkin = _days("S1", [2.0, 6.0], [1.5, 3.5])
    online = _days("S1", [2.0], [np.nan])  # a day without a ratio adds demand, not spread

    summed = _summed_demand([walkin, online]).set_index("node_id").loc["S1"]

    # variances 2 * 1.5 + 6 * 3.5 = 24 over the 8 units that carry a ratio
    assert summed["demand_mean"] == pytest.approx(10.0)
    assert summed["dispersion"] == pytest.approx(3.0)


def test_demand_from_rates_without_ratios_leaves_the_planners_default() -> None:
    summed = _summed_demand([_days("S2", [1.0, 1.0], None)])

    assert summed["demand_mean"].tolist() == [2.0] and summed["dispersion"].isna().all()
    assert _summed_demand([]).empty
