"""A trained policy as a model artifact: the one versioned format of :mod:`mastertrade.artifacts`.

A policy is stored like a forecast model, as kind ``policy``, name ``ppo``, keyed by the series it was
trained on (exchange, symbol, timeframe)::

    models/policy/ppo/<exchange>_<symbol>_<timeframe>/<version>/
        manifest.json    content hash (the version), training range, features, hold-out metrics,
                         library versions, training settings (meta)
        policy.json      weights, feature scaling, order settings: what is needed to run it

The version (16 hex digits of the SHA-256 over the payload and the identity fields) is the model's id:
``model:<id>`` names it wherever a strategy is named. Loading goes through
:meth:`~mastertrade.artifacts.ArtifactStore.open`, which refuses an artifact of another format, one
whose files no longer match their hash, and one made with another major version of numpy (the forward
pass); here a policy trained on another feature definition is refused too, each with an
:class:`~mastertrade.artifacts.IncompatibleArtifact` saying to retrain. Weights are JSON numbers
(float64 text round-trips exactly), so a policy runs the same whatever numpy or JAX version reads it.

Policies of the first, single-file format (``models/rl/<id>.json``, session 20) are not read: asked
for, they are refused with a message naming the file and saying to retrain (:func:`legacy_message`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mastertrade.artifacts import Artifact, IncompatibleArtifact
from mastertrade.engine.signals.model.actions import ACTIONS
from mastertrade.engine.signals.model.features import FEATURE_SET
from mastertrade.engine.signals.model.policy import ACTIVATION, PolicyWeights

KIND = "policy"
NAME = "ppo"
PAYLOAD = "policy.json"
LIBRARIES = ("mastertrade", "numpy", "jax", "flax", "optax", "skrl", "gymnasium")
"""Recorded in the manifest: the libraries that trained the policy and run it."""
REQUIRE = ("numpy",)
"""Checked on loading: the forward pass is numpy's."""
LEGACY_FORMAT = "mastertrade.rl-policy"


@dataclass(frozen=True)
class Policy:
    """What runs: the network, the feature scaling it was trained with and the strategy's order settings."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    weights: PolicyWeights
    order: dict[str, Any] = field(default_factory=dict)
    """``stop_loss``, ``take_profit``, ``trailing_stop``, ``size`` (absent: the defaults)."""
    feature_set: str = FEATURE_SET

    def payload(self) -> dict[str, Any]:
        return {
            "feature_set": self.feature_set,
            "features": list(self.features),
            "scaling": {"mean": list(self.mean), "std": list(self.std)},
            "network": {
                "layers": self.weights.to_lists(),
                "activation": ACTIVATION,
                "actions": list(ACTIONS),
            },
            "order": self.order,
        }

    def write(self, folder: Path) -> None:
        text = json.dumps(self.payload(), sort_keys=True, separators=(",", ":"), allow_nan=False)
        (folder / PAYLOAD).write_text(text, encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> Policy:
        where = str(folder)
        try:
            data = json.loads((folder / PAYLOAD).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IncompatibleArtifact(f"{where}: unreadable {PAYLOAD} ({exc})") from None
        if data.get("feature_set") != FEATURE_SET:
            raise IncompatibleArtifact(
                f"{where}: policy trained on features {data.get('feature_set')!r}; this MasterTrade computes "
                f"{FEATURE_SET!r}: retrain it with `mt rl train`"
            )
        try:
            weights = PolicyWeights.from_lists(data["network"]["layers"])
            policy = cls(
                features=tuple(data["features"]),
                mean=tuple(float(x) for x in data["scaling"]["mean"]),
                std=tuple(float(x) for x in data["scaling"]["std"]),
                weights=weights,
                order=dict(data.get("order", {})),
                feature_set=data["feature_set"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IncompatibleArtifact(f"{where}: malformed {PAYLOAD} ({exc})") from None
        if weights.inputs != len(policy.features) or weights.outputs != len(ACTIONS):
            raise IncompatibleArtifact(
                f"{where}: a network of {weights.inputs} inputs and {weights.outputs} outputs for "
                f"{len(policy.features)} features and {len(ACTIONS)} actions"
            )
        return policy


@dataclass(frozen=True)
class PolicyArtifact:
    """A stored policy: its manifest (provenance, hold-out evaluation) and the policy itself."""

    artifact: Artifact
    policy: Policy

    @property
    def id(self) -> str:
        return self.artifact.version

    @property
    def model(self) -> str:
        """The strategy spec that names it."""
        return f"model:{self.id}"

    @property
    def symbol(self) -> str:
        return str(self.artifact.key["symbol"])

    @property
    def timeframe(self) -> str:
        return str(self.artifact.key["timeframe"])

    @property
    def exchange(self) -> str:
        return str(self.artifact.key["exchange"])

    @property
    def training(self) -> dict[str, Any]:
        """``start``/``end`` (ISO), ``bars``, ``algorithm`` and its settings."""
        return dict(self.artifact.meta.get("training", {}))

    @property
    def evaluation(self) -> dict[str, Any]:
        """The hold-out evaluation (metrics, baselines, deflated Sharpe ratio, filter verdict)."""
        return self.artifact.metrics


def series_key(exchange: str, symbol: str, timeframe: str) -> dict[str, str]:
    return {"exchange": exchange, "symbol": symbol, "timeframe": timeframe}


def legacy_message(path: Path) -> str:
    return (
        f"{path} is a policy of the first single-file format, which this MasterTrade no longer reads "
        "(policies are now model artifacts with a manifest): retrain it with `mt rl train`"
    )


def is_legacy_file(path: Path) -> bool:
    """Whether ``path`` is a policy file of the first format (a JSON document naming it)."""
    try:
        if path.suffix.lower() != ".json" or not path.is_file():
            return False
        text = path.read_text(encoding="utf-8")
        # only a file that names the old format is parsed; anything else is left to its own loader
        if LEGACY_FORMAT not in text:
            return False
        head = json.loads(text)
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(head, dict) and head.get("format") == LEGACY_FORMAT
