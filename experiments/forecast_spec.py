"""The pyfunc artifact of a registered forecaster: a named model from the registry and its
parameters, refitted on whatever history it is asked to forecast.

It is logged as a model from code (`forecast_spec_model.py`), not pickled: the registry keeps
the model's name, parameters, horizon and country as its `model_config`, so a version stays
loadable after this class changes and loading it runs no unpickled code. Its signature says
what it takes (`unique_id, ds, y`) and gives, and that `horizon` may be passed at inference.

Imported only when MLflow is (it subclasses `mlflow.pyfunc.PythonModel`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema
from mlflow.types.schema import AnyType

from forecasting.quantiles import QUANTILE_COLUMNS
from forecasting.registry import make_model

MODEL_CODE = Path(__file__).with_name("forecast_spec_model.py")


def spec_config(model_name: str, params: dict[str, Any], horizon: int,
                country: str) -> dict[str, Any]:
    """The `model_config` a registered version carries: everything `ForecastSpec` needs."""
    return {"model": model_name, "params": dict(params), "horizon": int(horizon),
            "country": country}


def spec_signature(horizon: int) -> ModelSignature:
    """History in, forecast out; `horizon` (days) may be changed per call. `y` is any type:
    MLflow would refuse integer sales against a double column, and the model checks `y`
    itself (a non-numeric value is refused naming the row)."""
    inputs = Schema([ColSpec("string", "unique_id"), ColSpec("datetime", "ds"),
                     ColSpec(AnyType(), "y")])
    outputs = Schema([ColSpec("string", "unique_id"), ColSpec("datetime", "ds"),
                      ColSpec("double", "yhat"),
                      *(ColSpec("double", name) for name in QUANTILE_COLUMNS)])
    return ModelSignature(inputs=inputs, outputs=outputs,
                          params=ParamSchema([ParamSpec("horizon", "long", int(horizon))]))


class ForecastSpec(mlflow.pyfunc.PythonModel):  # type: ignore[misc,name-defined]
    """`predict(history)` -> forecast `unique_id, ds, yhat, q50...` for `horizon` days."""

    config: dict[str, Any]

    def load_context(self, context: Any) -> None:
        self.config = dict(context.model_config)

    def predict(self, context: Any, model_input: pd.DataFrame,
                params: dict[str, Any] | None = None) -> pd.DataFrame:
        config = self.config
        model = make_model(config["model"], country=config["country"],  # type: ignore[arg-type]
                           **config["params"])
        horizon = int((params or {}).get("horizon", config["horizon"]))
        return model.fit(model_input).predict(horizon)
