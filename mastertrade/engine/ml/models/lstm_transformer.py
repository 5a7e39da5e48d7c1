"""The seed's forecast model: an LSTM encoder over a window of bar features, self-attention blocks on
its sequence, and a linear head predicting the next bars' log return. Keras 3 on JAX (CPU).

The label is divided by its training standard deviation so the loss has unit scale whatever the
volatility; predictions are scaled back. Weights are saved as plain ``.npy`` files (byte-identical for
identical weights, so an artifact's content hash depends only on what was learnt).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mastertrade.engine.ml.deps import keras as load_keras
from mastertrade.engine.ml.models.base import FloatArray, Forecaster, ModelConfig, Windows


class LstmTransformer(Forecaster):
    name: ClassVar[str] = "lstm_transformer"
    libraries: ClassVar[tuple[str, ...]] = ("keras", "jax")

    def __init__(self, features: int, config: ModelConfig, seed: int) -> None:
        super().__init__(features, config, seed)
        self.y_scale = 1.0
        self._model: Any = None

    def _build(self) -> Any:
        keras = load_keras()
        keras.utils.set_random_seed(self.seed)
        cfg = self.config
        inputs = keras.Input(shape=(cfg.window, self.features))
        x = keras.layers.LSTM(cfg.units, return_sequences=True)(inputs)
        for _ in range(cfg.blocks):
            attended = keras.layers.MultiHeadAttention(
                num_heads=cfg.heads, key_dim=max(cfg.units // cfg.heads, 1)
            )(x, x)
            x = keras.layers.LayerNormalization()(x + attended)
            hidden = keras.layers.Dense(cfg.units * 2, activation="relu")(x)
            x = keras.layers.LayerNormalization()(x + keras.layers.Dense(cfg.units)(hidden))
        last = x[:, -1, :]
        outputs = keras.layers.Dense(1)(last)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss="mse")
        return model

    def fit(self, x: Windows, y: FloatArray) -> None:
        scale = float(np.std(y))
        self.y_scale = scale if scale > 1e-12 else 1.0
        self._model = self._build()
        # Whole batches only (the oldest samples give way): every step then has one shape, and JAX
        # compiles the training step once instead of twice.
        batch = min(self.config.batch, x.shape[0])
        keep = x.shape[0] - x.shape[0] % batch
        self._model.fit(
            x[-keep:],
            (np.asarray(y[-keep:], dtype=np.float32) / self.y_scale).reshape(-1, 1),
            epochs=self.config.epochs,
            batch_size=batch,
            shuffle=True,
            verbose=0,
        )

    def predict(self, x: Windows) -> FloatArray:
        if self._model is None:
            raise RuntimeError("the model is not trained")
        if x.shape[0] == 0:
            return np.zeros(0)
        # Batches padded to a power of two: a handful of compiled shapes serve every request size.
        rows = x.shape[0]
        size = 1 << (rows - 1).bit_length()
        padded = np.zeros((size, *x.shape[1:]), dtype=np.float32)
        padded[:rows] = x
        out = self._model.predict_on_batch(padded)
        return np.asarray(out, dtype=np.float64).reshape(-1)[:rows] * self.y_scale

    def save(self, folder: Path) -> None:
        (folder / "lstm_transformer.json").write_text(json.dumps({"y_scale": self.y_scale}), encoding="utf-8")
        weights = folder / "weights"
        weights.mkdir()
        for index, array in enumerate(self._model.get_weights()):
            np.save(weights / f"{index:03d}.npy", np.asarray(array), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, features: int, config: ModelConfig, seed: int) -> LstmTransformer:
        model = cls(features, config, seed)
        model.y_scale = float(
            json.loads((folder / "lstm_transformer.json").read_text(encoding="utf-8"))["y_scale"]
        )
        model._model = model._build()
        arrays = [np.load(path, allow_pickle=False) for path in sorted((folder / "weights").glob("*.npy"))]
        model._model.set_weights(arrays)
        return model
