"""The same forecast on a local Dask cluster (through Fugue for statsforecast) and in Ray
tasks over chunks of series as locally, and the chunking itself."""

from __future__ import annotations

import pandas as pd
import pytest
from forecasting_samples import FAST_LGBM, make_history

from forecasting.distributed import series_chunks
from forecasting.registry import make_model


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["dask", "ray"])
@pytest.mark.parametrize("name", ["seasonal_naive", "lgbm"])
def test_a_distributed_engine_matches_the_local_forecast(name: str, engine: str) -> None:
    history = make_history(days=90, skus=3)
    params = dict(FAST_LGBM) if name == "lgbm" else {}
    local = make_model(name, country="PL", calibration_days=0, **params)
    distributed = make_model(name, country="PL", calibration_days=0, engine=engine,  # type: ignore[arg-type]
                             **params)

    expected = local.fit(history).predict(7)
    got = distributed.fit(history).predict(7)

    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))


def test_series_chunks_keep_every_series_whole_and_in_order() -> None:
    history = make_history(days=10, skus=3)  # 2 stores x 2 channels x 3 SKUs = 12 series
    chunks = series_chunks(history, 5)

    assert len(chunks) == 5
    chunk_of = {uid: k for k, chunk in enumerate(chunks) for uid in chunk["unique_id"]}
    assert all(len(chunk) == 10 * chunk["unique_id"].nunique() for chunk in chunks)
    assert len(chunk_of) == 12
    pd.testing.assert_frame_equal(pd.concat(chunks).sort_index(), history)
    assert len(series_chunks(history, 50)) == 12
    assert series_chunks(history, 1)[0] is history
