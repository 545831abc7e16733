"""The pyfunc artifact of a registered forecaster: a named model from the registry and its
parameters, refitted on whatever history it is asked to forecast.

Imported only when MLflow is (it subclasses `mlflow.pyfunc.PythonModel`).
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd

from forecasting.registry import make_model


class ForecastSpec(mlflow.pyfunc.PythonModel):  # type: ignore[misc,name-defined]
    """`predict(history)` -> forecast `unique_id, ds, yhat, q50...` for `horizon` days."""

    def __init__(self, model_name: str, params: dict[str, Any], horizon: int,
                 country: str) -> None:
        self.model_name = model_name
        self.params = dict(params)
        self.horizon = horizon
        self.country = country

    def predict(self, context: Any, model_input: pd.DataFrame,
                params: dict[str, Any] | None = None) -> pd.DataFrame:
        model = make_model(self.model_name, country=self.country,  # type: ignore[arg-type]
                           **self.params)
        horizon = int((params or {}).get("horizon", self.horizon))
        return model.fit(model_input).predict(horizon)
