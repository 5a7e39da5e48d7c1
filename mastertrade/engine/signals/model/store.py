"""Stored policies in the model artifact store (:mod:`.artifact`), found by id (or a unique id prefix).

An artifact is named by its content hash and never changed, so two trainings never overwrite each other
and a strategy that names ``model:<id>`` always runs the same weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mastertrade.artifacts import MANIFEST, ArtifactStore, IncompatibleArtifact, library_versions
from mastertrade.engine.signals.model.artifact import (
    KIND,
    LIBRARIES,
    NAME,
    REQUIRE,
    Policy,
    PolicyArtifact,
    legacy_message,
    series_key,
)
from mastertrade.errors import NotFound, UserInputError

PREFIX = "model:"


def save(
    policy: Policy,
    *,
    exchange: str,
    symbol: str,
    timeframe: str,
    train_start: int,
    train_end: int,
    training: Mapping[str, Any],
    evaluation: Mapping[str, Any],
    store: ArtifactStore | None = None,
) -> PolicyArtifact:
    """Store ``policy`` trained on bars ``[train_start, train_end]`` (open times, ms) of the series."""
    store = store or ArtifactStore.default()
    artifact = store.save(
        KIND,
        NAME,
        series_key(exchange, symbol, timeframe),
        policy.write,
        libraries=library_versions(LIBRARIES),
        train_start=train_start,
        train_end=train_end,
        features=policy.features,
        metrics=evaluation,
        meta={"training": dict(training), "feature_set": policy.feature_set},
    )
    return PolicyArtifact(artifact, policy)


def load(path: Path, store: ArtifactStore | None = None) -> PolicyArtifact:
    """The policy artifact in folder ``path``, checked (see :mod:`.artifact`)."""
    store = store or ArtifactStore(path.parent.parent.parent.parent)
    artifact = store.open(path, require=REQUIRE)
    if artifact.kind != KIND:
        raise UserInputError(f"{path} is a {artifact.kind} model, not a trading policy")
    return PolicyArtifact(artifact, Policy.read(path))


def find(ident: str, store: ArtifactStore | None = None) -> Path:
    """The folder of ``ident`` (a full id or a unique prefix of at least 4 hex digits)."""
    store = store or ArtifactStore.default()
    if len(ident) < 4 or not all(c in "0123456789abcdef" for c in ident):
        raise UserInputError(f"invalid model id {ident!r}: give 4 or more hex digits of a stored policy's id")
    base = store.root / KIND / NAME
    matches = sorted(p.parent for p in base.glob(f"*/{ident}*/{MANIFEST}")) if base.is_dir() else []
    if not matches:
        legacy = sorted((store.root / "rl").glob(f"{ident}*.json"))
        if legacy:
            raise IncompatibleArtifact(legacy_message(legacy[0]))
        _refuse_another_kind(ident, store)
        raise NotFound(f"no stored model {ident!r} in {base} (train one with `mt rl train`)")
    if len(matches) > 1:
        names = ", ".join(path.name for path in matches)
        raise UserInputError(f"model id {ident!r} is ambiguous: {names}")
    return matches[0]


def _refuse_another_kind(ident: str, store: ArtifactStore) -> None:
    """A model of another kind with that id (a forecast model, which `mt ml list` shows beside the
    policies) is named as what it is: "no stored model" of an id the trader can see listed misleads."""
    for manifest in sorted(store.root.glob(f"*/*/*/{ident}*/{MANIFEST}")):
        folder = manifest.parent
        kind, name = folder.parent.parent.parent.name, folder.parent.parent.name
        if kind == KIND:
            continue
        use = ""
        if kind == "forecast":
            horizon = _horizon(manifest)
            term = f'"feature": "forecast", "model": "{name}"' + (
                f', "horizon": {horizon}' if horizon else ""
            )
            use = f"; its forecasts are read in a genome: {{{term}}}"
        raise UserInputError(
            f"model {folder.name} is a {kind} model ({name}), not a trading policy (`mt rl train` makes"
            f" one){use}"
        )


def _horizon(manifest: Path) -> int | None:
    """The forecast horizon a manifest names (None when it cannot be read)."""
    import json

    try:
        horizon = json.loads(manifest.read_text(encoding="utf-8"))["key"]["horizon"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return horizon if isinstance(horizon, int) else None


def stored(store: ArtifactStore | None = None) -> list[PolicyArtifact]:
    """Every readable stored policy, newest first (unreadable ones in ``store.unreadable``)."""
    store = store or ArtifactStore.default()
    found = sorted(store.list(KIND), key=lambda a: a.created_at, reverse=True)
    out = []
    for artifact in found:
        try:
            out.append(PolicyArtifact(artifact, Policy.read(artifact.path)))
        except IncompatibleArtifact as exc:
            store.unreadable.append((artifact.path, str(exc)))
    return out
