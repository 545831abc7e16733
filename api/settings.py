"""One typed settings class for the service, read from `OMNI_*` environment variables.

Nothing is created at import time: call `get_settings()` where settings are needed (the CLI
entry points, the app's lifespan), so tests can set the environment first.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from forecasting.vocabulary import WARSAW

Scope = Literal["oms", "planner", "admin"]
Environment = Literal["development", "production"]

SCOPES: frozenset[str] = frozenset({"oms", "planner", "admin"})
DEVELOPMENT_API_KEYS = "dev-oms-key:oms,dev-planner-key:planner,dev-admin-key:admin"
MIN_PRODUCTION_KEY_LENGTH = 16


def project_root() -> Path:
    """The source checkout when running from one (pyproject.toml beside the packages),
    otherwise the working directory: where `./mlruns` and `./omni.db` belong."""
    checkout = Path(__file__).resolve().parents[1]
    return checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()


def parse_api_keys(raw: str) -> dict[str, Scope]:
    """Parse `key:scope,key2:scope2` into {key: scope}; a malformed pair is an error, not a skip."""
    keys: dict[str, Scope] = {}
    for pair in (p.strip() for p in raw.split(",")):
        if not pair:
            continue
        key, sep, scope = pair.rpartition(":")
        key, scope = key.strip(), scope.strip()
        if not sep or not key:
            raise ValueError(f"API key entry {pair!r} is not of the form key:scope")
        if scope not in SCOPES:
            raise ValueError(f"API key scope {scope!r} is not one of {sorted(SCOPES)}")
        keys[key] = scope  # type: ignore[assignment]
    return keys


class Settings(BaseSettings):
    """Everything configurable, with the embedded defaults `make demo` runs on."""

    model_config = SettingsConfigDict(env_prefix="OMNI_", extra="ignore")

    environment: Environment = "development"
    database_url: str = "sqlite:///./omni.db"
    api_keys: Annotated[dict[str, Scope], NoDecode] = Field(
        default_factory=lambda: parse_api_keys(DEVELOPMENT_API_KEYS)
    )
    mlflow_tracking_uri: str = Field(
        # The model registry needs a database-backed store: an embedded SQLite file, no server.
        default_factory=lambda: f"sqlite:///{project_root() / 'mlruns' / 'mlflow.db'}",
        validation_alias=AliasChoices("OMNI_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"),
    )

    # Planner reports (PNG plots, CSV): rebalancing plans and realised-accuracy plots, one
    # folder per run. A server whose working tree is read-only points it at a volume.
    reports_dir: Path = Field(default_factory=lambda: project_root() / "reports")

    # The business day the planners' tools (omni plan, the console's plans) plan from: unset,
    # today in Warsaw. Set it to replay a past day, e.g. the demo chain's 2026-11-08.
    business_date: date | None = None

    # Allocation (issue 4).
    allocation_deadline_ms: int = Field(default=50, gt=0)
    click_and_collect_hold_hours: float = Field(default=72.0, gt=0)
    max_parcels_default: int = Field(default=3, ge=1)
    demand_rate_window_days: int = Field(default=28, ge=1)

    # Database connections.
    # Connections (and allocation threads) per server process. Few on purpose: on a small
    # machine more concurrent order writes than cores only lengthen the lock queues on hot
    # stock rows; orders wait in the process instead. benchmarks/api_load.py on 2 cores, 2
    # workers: 10 -> 4 took 150/s p99 from 16-28 ms to 11 ms and saturation from 250 to 400/s.
    db_pool_size: int = Field(default=4, ge=1)
    db_max_overflow: int = Field(default=20, ge=0)
    db_pool_timeout_s: float = Field(default=10.0, gt=0)
    db_connect_timeout_s: int = Field(default=5, ge=1)
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    db_lock_timeout_ms: int = Field(default=5_000, ge=0)

    def today(self) -> date:
        """The business day: `business_date`, else today's date in Warsaw (the chain's day;
        the server's clock may run in UTC, an hour or two behind after midnight)."""
        return self.business_date or datetime.now(WARSAW).date()

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: object) -> object:
        return parse_api_keys(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _refuse_default_keys_outside_development(self) -> Settings:
        if self.environment == "development":
            return self
        if not self.api_keys:
            raise ValueError("OMNI_API_KEYS must be set outside development")
        defaults = set(parse_api_keys(DEVELOPMENT_API_KEYS))
        for key in self.api_keys:
            if key in defaults or len(key) < MIN_PRODUCTION_KEY_LENGTH:
                raise ValueError(
                    "OMNI_API_KEYS holds a development or short key "
                    f"(< {MIN_PRODUCTION_KEY_LENGTH} characters); refused in production"
                )
        return self


def get_settings() -> Settings:
    """Read the settings from the environment now (not cached: tests change the environment)."""
    return Settings()
