"""The boosted baseline: LightGBM on the last few rows of the same feature windows, flattened."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mastertrade.engine.ml.models.base import FloatArray, Forecaster, ModelConfig, Windows
from mastertrade.extras import require

ROWS = 4
"""How many of the window's newest rows LightGBM sees (trees need no long sequence)."""


class LightGbm(Forecaster):
    name: ClassVar[str] = "lightgbm"
    libraries: ClassVar[tuple[str, ...]] = ("lightgbm",)
    reads: ClassVar[frozenset[str]] = frozenset({"trees", "leaves"})  # threads: speed only

    def __init__(self, features: int, config: ModelConfig, seed: int) -> None:
        super().__init__(features, config, seed)
        self._booster: Any = None

    @staticmethod
    def _flat(x: Windows) -> np.ndarray[Any, np.dtype[np.float32]]:
        rows = x[:, -ROWS:, :]
        return np.asarray(rows.reshape(rows.shape[0], -1), dtype=np.float32)

    def fit(self, x: Windows, y: FloatArray, *, check: Callable[[], None] | None = None) -> None:
        require("lightgbm")
        import lightgbm

        params = {
            "objective": "regression",
            "learning_rate": 0.05,
            "num_leaves": self.config.leaves,
            "min_data_in_leaf": 40,
            "feature_fraction": 0.9,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.config.threads,
            "verbose": -1,
        }
        data = lightgbm.Dataset(self._flat(x), label=np.asarray(y, dtype=np.float64))
        callbacks = [] if check is None else [lambda _env: check()]
        self._booster = lightgbm.train(params, data, num_boost_round=self.config.trees, callbacks=callbacks)

    def predict(self, x: Windows) -> FloatArray:
        if self._booster is None:
            raise RuntimeError("the model is not trained")
        if x.shape[0] == 0:
            return np.zeros(0)
        return np.asarray(self._booster.predict(self._flat(x), num_threads=1), dtype=np.float64)

    def save(self, folder: Path) -> None:
        (folder / "lightgbm.txt").write_text(self._booster.model_to_string(), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, features: int, config: ModelConfig, seed: int) -> LightGbm:
        require("lightgbm")
        import lightgbm

        model = cls(features, config, seed)
        model._booster = lightgbm.Booster(model_str=(folder / "lightgbm.txt").read_text(encoding="utf-8"))
        return model
