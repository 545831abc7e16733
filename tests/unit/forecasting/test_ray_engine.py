"""The same forecast in Ray tasks over chunks of series as locally, and the chunking itself."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from forecasting_samples import FAST_LGBM, make_history

from forecasting.distributed import ray_runtime, series_chunks
from forecasting.registry import make_model


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


@pytest.fixture(scope="module")
def ray_started() -> Iterator[None]:
    """One local Ray runtime for the module's forecasts (the models use it, not start one)."""
    with ray_runtime(num_cpus=2):
        yield


@pytest.mark.slow
@pytest.mark.usefixtures("ray_started")
@pytest.mark.parametrize("name", ["seasonal_naive", "lgbm"])
def test_ray_engine_matches_the_local_forecast(name: str) -> None:
    history = make_history(days=90, skus=3)
    params = dict(FAST_LGBM) if name == "lgbm" else {}
    local = make_model(name, country="PL", calibration_days=0, **params)
    on_ray = make_model(name, country="PL", calibration_days=0, engine="ray", **params)

    expected = local.fit(history).predict(7)
    got = on_ray.fit(history).predict(7)

    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))
