"""What every forecast model offers the walk-forward: fit on windows, predict, save, load."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

Windows = np.ndarray[Any, np.dtype[np.float32]]
"""Samples of shape (n, window, features), already scaled."""
FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters shared by the models (each reads the ones it uses). They are fixed before any
    data is seen: nothing here is tuned on the evaluation's hold-out. A trader who trains again with
    others and keeps the best verdict tunes them on it: the registry of trainings (``ml.trials``) counts
    those looks and the commands say so."""

    window: int = 48
    """Bars of features a sample spans (the LSTM's sequence length; LightGBM reads the last 4)."""
    epochs: int = 4
    units: int = 32
    heads: int = 2
    blocks: int = 1
    batch: int = 128
    learning_rate: float = 1e-3
    trees: int = 200
    leaves: int = 15
    threads: int = 1
    """LightGBM's threads. One by default: on a busy machine its OpenMP threads spin and run many times
    slower (measured here: 1.9 s with one thread, 16.6 s with two, under a load of 9 on 2 cores)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Forecaster(ABC):
    """A model of the next bars' log return from a window of features."""

    name: ClassVar[str]
    libraries: ClassVar[tuple[str, ...]]
    """Distributions whose versions an artifact of this model must match to load."""
    reads: ClassVar[frozenset[str]]
    """The :class:`ModelConfig` fields its forecasts depend on, beside the ``window`` every walk-forward
    reads: two trainings that differ only in others (LightGBM's epochs, its thread count) make the same
    forecasts, one trial in the registry of trainings (``ml.trials``)."""

    def __init__(self, features: int, config: ModelConfig, seed: int) -> None:
        self.features = features
        self.config = config
        self.seed = seed

    @abstractmethod
    def fit(self, x: Windows, y: FloatArray, *, check: Callable[[], None] | None = None) -> None:
        """Train from scratch on samples ``x`` and labels ``y``, calling ``check`` after each step (a
        mini-batch, a boosting round): it raises once the training is cancelled (Ctrl-C, a daemon
        stopping), so one fit, however many epochs it was given, never outlives its caller."""

    @abstractmethod
    def predict(self, x: Windows) -> FloatArray:
        """Predicted log returns, one per sample."""

    @abstractmethod
    def save(self, folder: Path) -> None:
        """Write the trained state into ``folder`` (deterministic bytes for the same state)."""

    @classmethod
    @abstractmethod
    def load(cls, folder: Path, features: int, config: ModelConfig, seed: int) -> Forecaster:
        """The model saved in ``folder``."""
