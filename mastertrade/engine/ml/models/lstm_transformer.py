"""The seed's forecast model: an LSTM encoder over a window of bar features, self-attention blocks on
its sequence, and a linear head predicting the next bars' log return. Keras 3 on JAX (CPU).

The label is divided by its training standard deviation so the loss has unit scale whatever the
volatility; predictions are scaled back. Weights are saved as plain ``.npy`` files (byte-identical for
identical weights, so an artifact's content hash depends only on what was learnt).

Compiling the network's training and prediction steps (JAX tracing plus XLA) costs far more than
training it on a year of hourly bars, and the walk-forward trains a new model every few hundred bars.
So each thread keeps one compiled Keras network per shape (features, hyper-parameters); a model is its
weights, loaded into that network before it trains or predicts. Every fit starts from the same initial
weights and a fresh optimizer state, seeded by the model's seed (which orders the mini-batches), so
sharing the network changes no number.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mastertrade.engine.ml.models.base import FloatArray, Forecaster, ModelConfig, Windows
from mastertrade.extras import keras as load_keras

_local = threading.local()
_tokens = itertools.count(1)
INIT_SEED = 0
"""Seed of the shared network's initial weights (the same in every thread and process)."""


class _Network:
    """A compiled network, its initial weights and optimizer state, and which model's weights it holds."""

    def __init__(self, features: int, config: ModelConfig) -> None:
        keras = load_keras()
        keras.utils.set_random_seed(INIT_SEED)
        inputs = keras.Input(shape=(config.window, features))
        x = keras.layers.LSTM(config.units, return_sequences=True)(inputs)
        for _ in range(config.blocks):
            attention = keras.layers.MultiHeadAttention(
                num_heads=config.heads, key_dim=max(config.units // config.heads, 1)
            )
            x = keras.layers.LayerNormalization()(x + attention(x, x))
            hidden = keras.layers.Dense(config.units * 2, activation="relu")(x)
            x = keras.layers.LayerNormalization()(x + keras.layers.Dense(config.units)(hidden))
        outputs = keras.layers.Dense(1)(x[:, -1, :])
        self.model = keras.Model(inputs, outputs)
        self.model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="mse")
        self.model.optimizer.build(self.model.trainable_variables)
        self.initial = _weights(self.model)
        self.initial_optimizer = [np.asarray(v.value) for v in self.model.optimizer.variables]
        # Keras sets some training state up lazily in the first fit (measured: the first fit of a new
        # network ends with other weights than every later fit from the same start). One throw-away
        # step here makes every real fit a "later" one, so results never depend on what ran before.
        shape = (config.batch, config.window, features)
        self.model.fit(np.zeros(shape, np.float32), np.zeros((config.batch, 1), np.float32), verbose=0)
        self.reset()

    def reset(self) -> None:
        # The weights are no longer any model's: a fit stopped half-way leaves them so too.
        self.holder = 0
        self.model.set_weights(self.initial)
        for variable, value in zip(self.model.optimizer.variables, self.initial_optimizer, strict=True):
            variable.assign(value)


def _checking(keras: Any, check: Callable[[], None]) -> Any:
    """A Keras callback calling ``check`` after every mini-batch (its exception ends the fit)."""

    class Checked(keras.callbacks.Callback):  # type: ignore[misc]
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            check()

    return Checked()


def _weights(model: Any) -> list[np.ndarray[Any, Any]]:
    # (Keras's get_weights goes through a numpy-1 style __array__ that numpy 2 warns about.)
    return [np.asarray(variable.value) for variable in model.weights]


def _network(features: int, config: ModelConfig) -> _Network:
    cache: dict[tuple[int, ModelConfig], _Network] | None = getattr(_local, "networks", None)
    if cache is None:
        cache = _local.networks = {}
    key = (features, config)
    if key not in cache:
        cache[key] = _Network(features, config)
    return cache[key]


class LstmTransformer(Forecaster):
    name: ClassVar[str] = "lstm_transformer"
    libraries: ClassVar[tuple[str, ...]] = ("keras", "jax")
    reads: ClassVar[frozenset[str]] = frozenset(
        {"epochs", "units", "heads", "blocks", "batch", "learning_rate"}
    )

    def __init__(self, features: int, config: ModelConfig, seed: int) -> None:
        super().__init__(features, config, seed)
        self.y_scale = 1.0
        self.weights: list[np.ndarray[Any, Any]] | None = None
        self._token = next(_tokens)

    def _loaded(self) -> Any:
        if self.weights is None:
            raise RuntimeError("the model is not trained")
        network = _network(self.features, self.config)
        if network.holder != self._token:
            network.model.set_weights(self.weights)
            network.holder = self._token
        return network.model

    def fit(self, x: Windows, y: FloatArray, *, check: Callable[[], None] | None = None) -> None:
        keras = load_keras()
        scale = float(np.std(y))
        self.y_scale = scale if scale > 1e-12 else 1.0
        network = _network(self.features, self.config)
        network.reset()
        # The walk-forward seeds its k-th retraining with seed + k, which can pass the generators' 2**32.
        keras.utils.set_random_seed(self.seed % 2**32)
        # Whole batches only (the oldest samples give way): every step then has one shape, and JAX
        # compiles the training step once.
        batch = min(self.config.batch, x.shape[0])
        keep = x.shape[0] - x.shape[0] % batch
        network.model.fit(
            x[-keep:],
            (np.asarray(y[-keep:], dtype=np.float32) / self.y_scale).reshape(-1, 1),
            epochs=self.config.epochs,
            batch_size=batch,
            shuffle=True,
            verbose=0,
            callbacks=[] if check is None else [_checking(keras, check)],
        )
        self.weights = _weights(network.model)
        network.holder = self._token

    def predict(self, x: Windows) -> FloatArray:
        model = self._loaded()
        if x.shape[0] == 0:
            return np.zeros(0)
        # One window per call, whatever the request: XLA's result for a row can differ in the last bits
        # with the batch shape, and a forecast must not depend on how many others were asked with it
        # (the walk-forward, a truncated rerun and the daemon's bar-by-bar call give identical numbers).
        batch = np.asarray(x, dtype=np.float32)
        out = [model.predict_on_batch(batch[i : i + 1]) for i in range(batch.shape[0])]
        return np.asarray(np.concatenate(out), dtype=np.float64).reshape(-1) * self.y_scale

    def save(self, folder: Path) -> None:
        if self.weights is None:
            raise RuntimeError("the model is not trained")
        (folder / "lstm_transformer.json").write_text(json.dumps({"y_scale": self.y_scale}), encoding="utf-8")
        weights = folder / "weights"
        weights.mkdir()
        for index, array in enumerate(self.weights):
            np.save(weights / f"{index:03d}.npy", np.asarray(array), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, features: int, config: ModelConfig, seed: int) -> LstmTransformer:
        model = cls(features, config, seed)
        state = json.loads((folder / "lstm_transformer.json").read_text(encoding="utf-8"))
        model.y_scale = float(state["y_scale"])
        model.weights = [
            np.load(path, allow_pickle=False) for path in sorted((folder / "weights").glob("*.npy"))
        ]
        return model
