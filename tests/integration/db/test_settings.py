from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.settings import Settings, parse_api_keys


def test_api_keys_are_read_as_key_scope_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNI_API_KEYS", "k-oms-0123456789abcdef:oms, k-plan-0123456789abcd:planner")
    assert Settings().api_keys == {
        "k-oms-0123456789abcdef": "oms",
        "k-plan-0123456789abcd": "planner",
    }


def test_an_unknown_scope_is_refused() -> None:
    with pytest.raises(ValueError, match="scope"):
        parse_api_keys("key:superuser")


def test_production_refuses_missing_or_development_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMNI_API_KEYS", raising=False)
    monkeypatch.setenv("OMNI_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="development or short key"):
        Settings()
    monkeypatch.setenv("OMNI_API_KEYS", "")
    with pytest.raises(ValidationError, match="must be set"):
        Settings()
    monkeypatch.setenv("OMNI_API_KEYS", "a-long-enough-production-key:admin")
    assert Settings().api_keys == {"a-long-enough-production-key": "admin"}


def test_defaults_run_the_embedded_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMNI_DATABASE_URL", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:///./omni.db"
    assert settings.allocation_deadline_ms == 50
    assert settings.click_and_collect_hold_hours == 72
    assert settings.mlflow_tracking_uri.startswith("sqlite:///")
    assert settings.mlflow_tracking_uri.endswith("/mlruns/mlflow.db")


def test_mlflow_tracking_uri_follows_mlflows_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    assert Settings().mlflow_tracking_uri == "http://mlflow.internal:5000"
