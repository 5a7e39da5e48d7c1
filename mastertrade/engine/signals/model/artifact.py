"""The versioned file a trained policy is stored as: one JSON document.

It holds what is needed to run the policy again and to know where it came from: the weights, the
feature definition and its scaling, the series and the bar range it was trained on, the training
settings, the library versions that trained it, the hold-out evaluation, and a content hash (SHA-256 of
the canonical JSON of everything else) that names it. Loading refuses, with a message saying what to do,
a file of another format version or feature definition and a file whose content no longer matches its
hash. Weights are JSON numbers (float64 text round-trips exactly), so a policy runs the same whatever
numpy or JAX version reads it; the versions are recorded for provenance.

Stored policies live under ``<data dir>/models/rl/<id>.json``; ``id`` is the first 12 hex digits of
the content hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from mastertrade.engine.signals.model.actions import ACTIONS
from mastertrade.engine.signals.model.features import FEATURE_SET
from mastertrade.engine.signals.model.policy import PolicyWeights
from mastertrade.errors import NotFound, OperationFailed

FORMAT = "mastertrade.rl-policy"
FORMAT_VERSION = 1
ID_LENGTH = 12
_LIBRARIES = ("mastertrade", "numpy", "jax", "flax", "optax", "skrl", "gymnasium")


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries that train and run a policy (None: not installed)."""
    found: dict[str, str | None] = {}
    for name in _LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


@dataclass(frozen=True)
class PolicyArtifact:
    """A trained policy and its provenance."""

    symbol: str
    timeframe: str
    exchange: str
    training: dict[str, Any]
    """``start``/``end`` (ISO times of the first and last training bar), ``bars``, ``steps``, ``seed``,
    ``algorithm`` and its settings."""
    features: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    weights: PolicyWeights
    order: dict[str, Any] = field(default_factory=dict)
    """Order settings of the strategy (``stop_loss``, ``take_profit``, ``trailing_stop``, ``size``)."""
    evaluation: dict[str, Any] = field(default_factory=dict)
    libraries: dict[str, str | None] = field(default_factory=library_versions)
    feature_set: str = FEATURE_SET

    def body(self) -> dict[str, Any]:
        """Everything but the hash, as stored."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kind": "model",
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "exchange": self.exchange,
            "training": self.training,
            "feature_set": self.feature_set,
            "features": list(self.features),
            "scaling": {"mean": list(self.mean), "std": list(self.std)},
            "network": {"layers": self.weights.to_lists(), "activation": "tanh", "actions": list(ACTIONS)},
            "order": self.order,
            "evaluation": self.evaluation,
            "libraries": self.libraries,
        }

    @property
    def content_hash(self) -> str:
        return _digest(self.body())

    @property
    def id(self) -> str:
        return self.content_hash[:ID_LENGTH]

    @property
    def name(self) -> str:
        return f"rl-{self.id}"

    def to_json(self) -> str:
        return json.dumps({**self.body(), "content_hash": self.content_hash}, indent=1, sort_keys=True)

    def save(self, path: Path) -> Path:
        """Write atomically (a half-written policy is never left behind)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".policy-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(self.to_json())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def from_json(cls, text: str, where: str) -> PolicyArtifact:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise OperationFailed(f"policy artifact {where} is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise OperationFailed(f"{where} is not a MasterTrade policy artifact (format {FORMAT!r})")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise OperationFailed(
                f"policy artifact {where} has format version {version}; this MasterTrade reads version "
                f"{FORMAT_VERSION}: retrain it with `mt rl train`"
            )
        if data.get("feature_set") != FEATURE_SET:
            raise OperationFailed(
                f"policy artifact {where} was trained on features {data.get('feature_set')!r}; this "
                f"MasterTrade computes {FEATURE_SET!r}: retrain it with `mt rl train`"
            )
        stored_hash = data.pop("content_hash", None)
        if _digest(data) != stored_hash:
            raise OperationFailed(f"policy artifact {where} does not match its content hash: it was altered")
        try:
            weights = PolicyWeights.from_lists(data["network"]["layers"])
            artifact = cls(
                symbol=data["symbol"],
                timeframe=data["timeframe"],
                exchange=data["exchange"],
                training=data["training"],
                features=tuple(data["features"]),
                mean=tuple(data["scaling"]["mean"]),
                std=tuple(data["scaling"]["std"]),
                weights=weights,
                order=data.get("order", {}),
                evaluation=data.get("evaluation", {}),
                libraries=data.get("libraries", {}),
                feature_set=data["feature_set"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise OperationFailed(f"policy artifact {where} is malformed: {exc}") from None
        if weights.inputs != len(artifact.features) or weights.outputs != 3:
            raise OperationFailed(
                f"policy artifact {where} has a network of {weights.inputs} inputs and {weights.outputs} "
                f"outputs for {len(artifact.features)} features and 3 actions"
            )
        return artifact

    @classmethod
    def load(cls, path: Path) -> PolicyArtifact:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise NotFound(f"cannot read policy artifact {str(path)!r}: {exc.strerror}") from None
        return cls.from_json(text, repr(str(path)))


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
