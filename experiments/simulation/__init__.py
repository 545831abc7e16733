"""The allocation policy simulator: a season of the demo chain replayed through the real
sourcing code (pure: no MLflow here; `experiments.policies` logs the runs)."""

from experiments.simulation.engine import PolicyResult, SimulationConfig, simulate
from experiments.simulation.forecast import SeasonForecast, forecast_season
from experiments.simulation.policies import POLICY_NAMES
from experiments.simulation.season import Season, build_season

__all__ = ["POLICY_NAMES", "PolicyResult", "Season", "SeasonForecast", "SimulationConfig",
           "build_season", "forecast_season", "simulate"]
