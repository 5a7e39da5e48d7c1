"""The ``[ml]`` extra: checking it is installed, and importing Keras on the JAX backend.

Without the extra every ML command fails with one line naming the missing module and the command that
installs it (exit 2); nothing else in the product changes.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

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
    _compilation_cache()
    module: ModuleType = keras_module
    return module


CACHE_BYTES = 512 * 2**20
"""Bound of the compilation cache (the forecast network's steps take well under a megabyte a shape)."""
CACHE_ENV = "MT_JAX_CACHE_DIR"
"""Overrides the folder of JAX's persistent compilation cache (the benchmark's cold run points it at an
empty folder)."""


def _compilation_cache() -> None:
    """Keep what XLA compiles on disk: a fresh process (``mt ml train``, the daemon after a restart)
    then loads the forecast network's compiled steps instead of compiling them again, which costs more
    than the training itself. Every compilation is kept, however quick (JAX's default keeps only those
    over a second, and the network's many small ones add up). The folder is per installation and keyed by
    the versions of Python, JAX, Keras and MasterTrade (``locations().jax_cache_dir``)."""
    import jax

    if jax.config.jax_compilation_cache_dir:
        return  # set already (by this function, or by the user through JAX_COMPILATION_CACHE_DIR)
    from mastertrade.locations import locations

    folder = os.environ.get(CACHE_ENV) or str(locations().jax_cache_dir)
    update: Any = jax.config.update  # (untyped in jax's stubs)
    update("jax_compilation_cache_dir", folder)
    update("jax_persistent_cache_min_compile_time_secs", 0.0)
    update("jax_persistent_cache_min_entry_size_bytes", 0)
    # A bounded cache evicts the least recently used entries, and takes a file lock around each read and
    # write: several processes (the daemon, `mt ml train`, test workers) share the folder safely.
    update("jax_compilation_cache_max_size", CACHE_BYTES)
