"""The same forecast on a local Dask cluster (through Fugue for statsforecast) as locally."""

from __future__ import annotations

import pandas as pd
import pytest
from forecasting_samples import FAST_LGBM, make_history

from forecasting.registry import make_model


@pytest.mark.slow
@pytest.mark.parametrize("name", ["seasonal_naive", "lgbm"])
def test_dask_engine_matches_the_local_forecast(name: str) -> None:
    history = make_history(days=90, skus=1)
    params = dict(FAST_LGBM) if name == "lgbm" else {}
    local = make_model(name, country="PL", calibration_days=0, **params)
    on_dask = make_model(name, country="PL", calibration_days=0, engine="dask", **params)

    expected = local.fit(history).predict(7)
    got = on_dask.fit(history).predict(7)

    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))
