"""What makes an MLflow run self-describing: its effective hyperparameters, its data scope and
the code that produced it, so two runs compare in the UI or `mlflow.search_runs` without
reading their parent.

Hyperparameters are read back from the model (every `__init__` argument from the attribute of
the same name, the estimator convention of `forecasting/`), so defaults are logged too, not
only what was asked for. MLflow is imported inside the functions so `omni --help` stays fast.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import subprocess
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

PACKAGE = "omni-allocation"
CHECKOUT = Path(__file__).resolve().parents[1]
MAX_KEY_CHARS = 250  # mlflow.utils.validation.MAX_ENTITY_KEY_LENGTH
MAX_VALUE_CHARS = 6000  # mlflow.utils.validation.MAX_PARAM_VAL_LENGTH (MLflow >= 2.x)
_UNSAFE_KEY = re.compile(r"[^\w.\-]")


def flat_params(values: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested mappings and dataclasses as dotted keys MLflow accepts (letters, digits, `_.-`,
    at most 250 characters), values as text cut to MLflow's 6,000-character limit."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        if isinstance(value, Mapping) and value:
            flat.update(flat_params(value, f"{name}."))
        else:
            flat[_UNSAFE_KEY.sub("_", name)[:MAX_KEY_CHARS]] = str(value)[:MAX_VALUE_CHARS]
    return flat


def hyperparameters(model: object) -> dict[str, Any]:
    """The model's effective hyperparameters (sklearn's `get_params`): each `__init__`
    argument read back from the model; ensemble members nest under their names, and a
    statistical model adds its statsforecast model's own settings."""
    params: dict[str, Any] = {}
    for name, parameter in inspect.signature(type(model).__init__).parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_POSITIONAL,
                                                parameter.VAR_KEYWORD):
            continue
        if hasattr(model, name):
            value = getattr(model, name)
            params[name] = _members(value) if _is_model_list(value) else value
    params.update(_statsforecast_settings(model))
    return params


def _is_model_list(value: object) -> bool:
    return (isinstance(value, list | tuple) and bool(value)
            and all(hasattr(v, "fit") and hasattr(v, "predict") for v in value))


def _members(models: list[Any] | tuple[Any, ...]) -> dict[str, Any]:
    """Members keyed by their name (`lgbm`, `auto_ets`), by position too when names repeat."""
    names = [str(getattr(m, "name", type(m).__name__)) for m in models]
    unique = len(set(names)) == len(names)
    return {(name if unique else f"{i}_{name}"): hyperparameters(m)
            for i, (name, m) in enumerate(zip(names, models, strict=True))}


def _statsforecast_settings(model: object) -> dict[str, Any]:
    """`statsforecast.<setting>` of a `StatisticalForecaster` (e.g. season_length); nothing
    for other models. The module is only looked up, never imported: a model of it exists only
    once it is loaded."""
    statistical = sys.modules.get("forecasting.statistical")
    if statistical is None or not isinstance(model, statistical.StatisticalForecaster):
        return {}
    inner = statistical.STAT_MODELS[model.model]()
    return {"statsforecast": {k: v for k, v in hyperparameters(inner).items()
                              if k != "prediction_intervals"}}


def history_scope(history: pd.DataFrame) -> dict[str, Any]:
    """What a long frame (`unique_id, ds, y`) covers: series, rows and the first and last day."""
    return {"series": int(history["unique_id"].nunique()), "rows": len(history),
            "history_start": _day(history["ds"].min()), "history_end": _day(history["ds"].max())}


def _day(value: Any) -> str:
    return pd.Timestamp(value).date().isoformat() if pd.notna(value) else "none"


@functools.cache
def code_version_tags() -> dict[str, str]:
    """`omni.code_version`: the git commit of the checkout (with `mlflow.source.git.commit`
    and whether the tree had uncommitted changes), else the installed package's version.
    Never fails: git may be missing, or the code may run from a wheel. Read once per process:
    the code a process runs is the code it loaded, whatever is committed later."""
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return {"omni.code_version": _package_version(), "omni.code_version_source": "package"}
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {"omni.code_version": commit, "omni.code_version_source": "git",
            "mlflow.source.git.commit": commit,
            "omni.code_dirty": "unknown" if dirty is None else str(bool(dirty)).lower()}


def _git(*args: str) -> str | None:
    """What `git <args>` prints in the checkout; None when git or the repository is missing."""
    try:
        done = subprocess.run(["git", *args], cwd=CHECKOUT, capture_output=True, text=True,
                              timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def _package_version() -> str:
    try:
        return f"{PACKAGE} {metadata.version(PACKAGE)}"
    except metadata.PackageNotFoundError:
        return "unknown"


def log_description(params: Mapping[str, Any]) -> None:
    """Log `params` (flattened) and the code version on the active run."""
    import mlflow

    mlflow.log_params(flat_params(params))
    mlflow.set_tags(code_version_tags())
