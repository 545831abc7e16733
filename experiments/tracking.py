"""Where MLflow keeps runs: an embedded SQLite store inside the project by default.

The model registry needs a database-backed store, so the default is
`sqlite:///<project>/mlruns/mlflow.db` with artifacts in `<project>/mlruns/artifacts`; no
server, no network. `MLFLOW_TRACKING_URI` (or `OMNI_MLFLOW_TRACKING_URI`) points it anywhere
else. MLflow is imported inside the functions so that `omni --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from api.settings import get_settings

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient


def tracking_uri(explicit: str | None = None) -> str:
    """`explicit`, else the settings' (MLFLOW_TRACKING_URI, OMNI_MLFLOW_TRACKING_URI, or the
    project's embedded SQLite store): one store for every run, batch or experiment."""
    if explicit:
        return explicit
    return get_settings().mlflow_tracking_uri


def artifact_root(uri: str) -> str | None:
    """Artifacts beside a local SQLite store (`<dir of the db>/artifacts`); None elsewhere,
    where the store's own default applies."""
    if not uri.startswith("sqlite:///"):
        return None
    return (Path(uri.removeprefix("sqlite:///")).parent / "artifacts").resolve().as_uri()


def configure(uri: str | None = None) -> str:
    """Point MLflow at the store (creating the local folder) and return its URI."""
    import mlflow

    resolved = tracking_uri(uri)
    if resolved.startswith("sqlite:///"):
        Path(resolved.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(resolved)
    mlflow.set_registry_uri(resolved)
    return resolved


def experiment_id(name: str, uri: str | None = None) -> str:
    """The experiment of that name, created (with the local artifact root) when missing."""
    import mlflow

    resolved = configure(uri)
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    return str(mlflow.create_experiment(name, artifact_location=artifact_root(resolved)))


def client(uri: str | None = None) -> MlflowClient:
    from mlflow.tracking import MlflowClient

    resolved = configure(uri)
    return MlflowClient(tracking_uri=resolved, registry_uri=resolved)
