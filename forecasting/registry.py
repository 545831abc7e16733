"""Models by name: `make_model("lgbm", country="PL")`. The CLI and the batch use this.

The model modules (statsforecast, mlforecast, LightGBM) are imported on first use, so asking
for the names, or running an unrelated command, stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from forecasting.vocabulary import Country

if TYPE_CHECKING:
    from forecasting.estimator import Forecaster

Engine = Literal["local", "dask", "ray"]
PRODUCTION_MODEL = "lgbm"  # what the weekly batch runs unless told otherwise
WEEKLY_HORIZON_DAYS = 56  # ... and how far ahead: 8 weeks
STATISTICAL_MODELS: tuple[str, ...] = (
    "seasonal_naive", "auto_ets", "theta", "croston", "tsb", "adida", "imapa")
MODEL_NAMES: tuple[str, ...] = (
    *STATISTICAL_MODELS, "lgbm", "ensemble", "lgbm_exog", "lgbm_direct", "blend", "combo")
COMBO_MEMBERS: tuple[str, ...] = ("lgbm", "direct")  # parameter prefixes of `combo`'s members


class UnknownModelError(ValueError):
    """No model of that name is registered."""


def make_model(
    name: str = PRODUCTION_MODEL, country: Country = "none", engine: Engine = "local",
    **params: Any,
) -> Forecaster:
    """A fresh, unfitted forecaster. `params` go to the model (e.g. n_estimators for lgbm).

    `ensemble` is LightGBM averaged with AutoETS; `lgbm_direct` the direct multi-horizon global
    LightGBM over scaled series; `blend` the mean of `lgbm_direct` and Theta; `combo` the mean
    of `lgbm`, `lgbm_direct` and Theta, whose members take their parameters with a prefix
    (`lgbm__n_estimators=50`, `direct__seeds=(0,)`). benchmarks/forecast_m5.py chooses among
    them on validation folds before the test window and prints the evidence.
    """
    if name in STATISTICAL_MODELS:
        from forecasting.statistical import StatisticalForecaster

        return StatisticalForecaster(name, country=country, engine=engine, **params)
    if name == "lgbm":
        from forecasting.gradient_boosting import LGBMForecaster

        return LGBMForecaster(country=country, engine=engine, **params)
    if name == "ensemble":
        from forecasting.ensemble import EnsembleForecaster
        from forecasting.gradient_boosting import LGBMForecaster
        from forecasting.statistical import StatisticalForecaster

        calibration_days = params.pop("calibration_days", 28)
        members = [LGBMForecaster(country=country, engine=engine, **params),
                   StatisticalForecaster("auto_ets", country=country, engine=engine)]
        return EnsembleForecaster(members, country=country, calibration_days=calibration_days)
    if name == "lgbm_exog":  # direct LightGBM on known-future exogenous (forecasting/direct.py)
        from forecasting.direct import KnownFutureLGBMForecaster

        return KnownFutureLGBMForecaster(country=country, **params)
    if name in ("lgbm_direct", "blend", "combo") and engine != "local":
        from forecasting.validation import ForecastInputError

        raise ForecastInputError(f"{name} runs on the local engine only (its features are one "
                                 "vectorised pass over all series); use --engine local",
                                 source="engine")
    if name == "lgbm_direct":
        from forecasting.direct_lgbm import DirectLGBMForecaster

        return DirectLGBMForecaster(country=country, **params)
    if name == "blend":
        from forecasting.direct_lgbm import DirectLGBMForecaster
        from forecasting.ensemble import EnsembleForecaster
        from forecasting.statistical import StatisticalForecaster

        calibration_days = params.pop("calibration_days", 28)
        blend = [DirectLGBMForecaster(country=country, **params),
                 StatisticalForecaster("theta", country=country, engine=engine)]
        return EnsembleForecaster(blend, country=country, calibration_days=calibration_days)
    if name == "combo":
        return _combo(country, engine, params)
    raise UnknownModelError(f"unknown model {name!r}: expected one of {', '.join(MODEL_NAMES)}")


def _combo(country: Country, engine: Engine, params: dict[str, Any]) -> Forecaster:
    """The mean of the recursive and the direct global LightGBM and Theta: three models whose
    errors differ (fed-back lags, per-horizon boosters, per-series smoothing). On the three M5
    validation folds (exploration with single fits) its mean WRMSSE of the three levels was
    lower than that of each member and of each pair of them."""
    from forecasting.direct_lgbm import DirectLGBMForecaster
    from forecasting.ensemble import EnsembleForecaster
    from forecasting.gradient_boosting import LGBMForecaster
    from forecasting.statistical import StatisticalForecaster

    calibration_days = params.pop("calibration_days", 28)
    by_member: dict[str, dict[str, Any]] = {prefix: {} for prefix in COMBO_MEMBERS}
    for key, value in params.items():
        prefix, _, param = key.partition("__")
        if prefix not in by_member or not param:
            raise TypeError(f"combo: parameter {key!r} names no member; prefix it with one of "
                            f"{', '.join(p + '__' for p in COMBO_MEMBERS)}")
        by_member[prefix][param] = value
    members = [LGBMForecaster(country=country, **by_member["lgbm"]),
               DirectLGBMForecaster(country=country, **by_member["direct"]),
               StatisticalForecaster("theta", country=country, engine=engine)]
    return EnsembleForecaster(members, country=country, calibration_days=calibration_days)
