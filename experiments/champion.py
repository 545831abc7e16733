"""The registered champion forecaster: which model (and parameters) planners run.

A champion is a version of the registered model `omni-forecaster` carrying the alias
`champion`. Its artifact is a pyfunc model from code (`ForecastSpec`) that refits the named
model on the history it is given and forecasts, for instance
`mlflow.pyfunc.load_model("models:/omni-forecaster@champion").predict(history,
params={"horizon": 14})`. The version's tags `forecast_model` and `forecast_params` (JSON) say
which model it is, so the forecast CLI and the weekly batch resolve it without loading the
artifact: `resolve_champion() -> (model_name, params, version)`; its `scope.*` tags say what it
was chosen on (dataset, series, `small`, folds, the deciding metric and its value).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import Any

import pandas as pd

from experiments.run_description import flat_params
from experiments.tracking import client, configure

REGISTERED_MODEL = "omni-forecaster"
CHAMPION_ALIAS = "champion"


class NoChampionError(LookupError):
    """No version of the registered forecaster carries the champion alias."""


def register_champion(run_id: str, model_name: str, params: dict[str, Any],
                      horizon: int, country: str, metrics: dict[str, float] | None = None,
                      registered_model: str = REGISTERED_MODEL,
                      uri: str | None = None, scope: Mapping[str, Any] | None = None) -> str:
    """Log the spec of `model_name` under `run_id`, register it and move the champion alias
    to the new version; returns the version number. `scope` (series, small, folds, the
    deciding metric's value...) becomes `scope.*` tags: what the champion was chosen on."""
    import mlflow

    from experiments.forecast_spec import MODEL_CODE, spec_config, spec_signature

    configure(uri)
    with mlflow.start_run(run_id=run_id), warnings.catch_warnings():
        # An input example would make MLflow fit the model at logging time; the signature
        # already says what the model takes.
        warnings.filterwarnings("ignore", message=".*input example was not provided")
        info = mlflow.pyfunc.log_model(
            name="forecaster", python_model=str(MODEL_CODE),
            model_config=spec_config(model_name, params, horizon, country),
            signature=spec_signature(horizon), pip_requirements=["omni-allocation"],
            params={"model": model_name, "horizon": horizon},
        )
    tags = {"forecast_model": model_name, "forecast_params": json.dumps(params, sort_keys=True),
            "horizon": str(horizon), "country": country}
    tags.update({f"metric.{k}": f"{v:.6g}" for k, v in (metrics or {}).items()})
    tags.update(flat_params(scope or {}, "scope."))
    version = mlflow.register_model(info.model_uri, registered_model, tags=tags)
    mlflow_client = client(uri)
    mlflow_client.set_registered_model_alias(registered_model, CHAMPION_ALIAS, version.version)
    return str(version.version)


def resolve_champion(registered_model: str = REGISTERED_MODEL,
                     uri: str | None = None) -> tuple[str, dict[str, Any], str]:
    """(model_name, params, version) of the current champion; raises `NoChampionError`."""
    from mlflow.exceptions import MlflowException

    mlflow_client = client(uri)
    try:
        version = mlflow_client.get_model_version_by_alias(registered_model, CHAMPION_ALIAS)
    except MlflowException as exc:
        raise NoChampionError(
            f"no '{CHAMPION_ALIAS}' version of {registered_model!r} in the model registry: "
            "run `omni experiment forecast` first"
        ) from exc
    params = json.loads(version.tags.get("forecast_params", "{}"))
    return version.tags["forecast_model"], params, str(version.version)


def champion_frame(uri: str | None = None) -> pd.DataFrame:
    """Every registered version with its model and alias (for notebooks and reports)."""
    mlflow_client = client(uri)
    rows = []
    for v in mlflow_client.search_model_versions(f"name='{REGISTERED_MODEL}'"):
        rows.append({"version": int(v.version), "model": v.tags.get("forecast_model"),
                     "aliases": ",".join(v.aliases), "run_id": v.run_id})
    return pd.DataFrame(rows).sort_values("version") if rows else pd.DataFrame(rows)


def resolve_model(model: str, uri: str | None = None) -> tuple[str, dict[str, Any], str | None]:
    """What `--model` names: `champion` resolves through the registry to (model, params,
    version); any other name passes through with no params and no version."""
    if model != CHAMPION_ALIAS:
        return model, {}, None
    return resolve_champion(uri=uri)
