"""Fixtures of the forecasting tests (data from forecasting_samples; a tiny demo chain for
the batch commands)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from forecasting_samples import DAYS, START, make_history
from typer.testing import CliRunner

from api.cli import app


@pytest.fixture
def tiny_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, CliRunner]:
    """A 2-store, 2-SKU demo chain in a fresh SQLite file, MLflow beside it; (database file,
    the runner for `omni` commands against it)."""
    database = tmp_path / "omni.db"
    monkeypatch.setenv("OMNI_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}")
    runner = CliRunner()
    loaded = runner.invoke(app, ["db", "init", "--demo", "--stores", "2", "--skus", "2"])
    assert loaded.exit_code == 0, loaded.output
    return database, runner


@pytest.fixture
def history() -> pd.DataFrame:
    return make_history()


@pytest.fixture
def promo_history() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    ds = pd.date_range(START, periods=DAYS, freq="D")
    frames = []
    for uid in ("A", "B"):
        promo = rng.integers(0, 2, DAYS)
        frames.append(pd.DataFrame({"unique_id": uid, "ds": ds,
                                    "y": rng.poisson(3 + 4 * promo), "promo": promo}))
    return pd.concat(frames, ignore_index=True)
