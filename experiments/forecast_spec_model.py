"""Model-from-code entry point that MLflow runs when it loads a registered forecaster.

Logged by `experiments.champion.register_champion`; what it forecasts comes from the version's
`model_config` (see `experiments.forecast_spec`).
"""

from __future__ import annotations

import mlflow.models

from experiments.forecast_spec import ForecastSpec

mlflow.models.set_model(ForecastSpec())
