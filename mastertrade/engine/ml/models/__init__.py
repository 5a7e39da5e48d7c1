"""The forecast models by name. Importing this package is cheap: each model imports its library
(keras/jax, lightgbm) only when it is built or trained."""

from __future__ import annotations

from mastertrade.engine.ml.models.base import Forecaster, ModelConfig
from mastertrade.errors import UserInputError
from mastertrade.extras import FORECAST_MODULES, require

MODEL_NAMES = tuple(FORECAST_MODULES)


def model_class(name: str) -> type[Forecaster]:
    """The model called ``name``, once its libraries are known to be installed."""
    if name not in FORECAST_MODULES:
        raise UserInputError(f"unknown model {name!r} (choose {', '.join(MODEL_NAMES)})")
    require(*FORECAST_MODULES[name])
    if name == "lstm_transformer":
        from mastertrade.engine.ml.models.lstm_transformer import LstmTransformer

        return LstmTransformer
    from mastertrade.engine.ml.models.gbm import LightGbm

    return LightGbm


__all__ = ["MODEL_NAMES", "Forecaster", "ModelConfig", "model_class"]
