"""The policy network's forward pass in numpy: what a model strategy runs at each bar.

Training uses JAX (:mod:`.ppo`); using a trained policy needs only its weights, so backtests, the
daemon and paper trading run a model strategy without importing JAX. The network is a multilayer
perceptron with tanh hidden layers and one logit per action; the deterministic action is the argmax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

HIDDEN: tuple[int, ...] = (32, 32)
ACTIVATION = "tanh"


@dataclass(frozen=True)
class PolicyWeights:
    """``layers[i] = (kernel, bias)``, kernel of shape (inputs, outputs); the last layer gives logits."""

    layers: tuple[tuple[FloatArray, FloatArray], ...]

    @classmethod
    def from_lists(cls, layers: Sequence[Any]) -> PolicyWeights:
        out = []
        for layer in layers:
            kernel = np.asarray(layer["kernel"], dtype=np.float64)
            bias = np.asarray(layer["bias"], dtype=np.float64)
            if kernel.ndim != 2 or bias.shape != (kernel.shape[1],):
                raise ValueError(f"bad layer shapes {kernel.shape} and {bias.shape}")
            out.append((kernel, bias))
        for (first, _), (second, _) in zip(out, out[1:], strict=False):
            if first.shape[1] != second.shape[0]:
                raise ValueError(f"layers do not chain: {first.shape} then {second.shape}")
        return cls(tuple(out))

    def to_lists(self) -> list[dict[str, Any]]:
        return [{"kernel": kernel.tolist(), "bias": bias.tolist()} for kernel, bias in self.layers]

    @property
    def inputs(self) -> int:
        return int(self.layers[0][0].shape[0])

    @property
    def outputs(self) -> int:
        return int(self.layers[-1][0].shape[1])

    def logits(self, observations: FloatArray) -> FloatArray:
        x = np.asarray(observations, dtype=np.float64)
        for index, (kernel, bias) in enumerate(self.layers):
            x = x @ kernel + bias
            if index < len(self.layers) - 1:
                x = np.tanh(x)
        return x

    def actions(self, observations: FloatArray) -> np.ndarray[Any, np.dtype[np.int64]]:
        """The most probable action of each row."""
        chosen: np.ndarray[Any, np.dtype[np.int64]] = np.argmax(self.logits(observations), axis=-1).astype(
            np.int64
        )
        return chosen
