"""The ``[ml]`` extra: checking it is installed, and importing Keras on the JAX backend.

Without the extra every ML command fails with one line naming the missing module and the command that
installs it (exit 2); nothing else in the product changes.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from mastertrade.errors import UserInputError

INSTALL = "pip install 'mastertrade[ml]'"

FORECAST_MODULES = {"lstm_transformer": ("jax", "keras"), "lightgbm": ("lightgbm",)}
"""What each model imports, in dependency order (a missing jax is found before keras half-imports)."""
FINBERT_MODULES = ("onnxruntime", "tokenizers")


class MLUnavailable(UserInputError):
    """The ``[ml]`` extra (or one of its libraries) is not installed."""


def require(*modules: str) -> None:
    """Raise :class:`MLUnavailable` unless every named module imports."""
    _jax_backend()
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise MLUnavailable(
                f"machine learning needs the [ml] extra ({name} is not installed: {exc}); "
                f"install it with: {INSTALL}"
            ) from None


def _jax_backend() -> None:
    # Keras reads its backend once, at its first import: JAX on the CPU, whatever the shell says.
    os.environ["KERAS_BACKEND"] = "jax"
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def keras() -> ModuleType:
    """Keras 3 on the JAX backend (CPU). The backend must be chosen before the first ``import keras``."""
    require("jax", "keras")
    import keras as keras_module

    if keras_module.backend.backend() != "jax":
        raise MLUnavailable(
            f"keras was loaded with the {keras_module.backend.backend()} backend; MasterTrade needs jax"
        )
    module: ModuleType = keras_module
    return module
