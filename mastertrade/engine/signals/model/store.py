"""Stored policies: ``<data dir>/models/rl/<id>.json``, found by id (or a unique id prefix).

A policy file is written once, named by its content hash, and never changed, so two trainings never
overwrite each other and a strategy that names ``model:<id>`` always runs the same weights.
"""

from __future__ import annotations

from pathlib import Path

from mastertrade.engine.signals.model.artifact import PolicyArtifact
from mastertrade.errors import NotFound, UserInputError

PREFIX = "model:"


def store_dir() -> Path:
    from mastertrade.locations import locations

    return locations().data_dir / "models" / "rl"


def save(artifact: PolicyArtifact, folder: Path | None = None) -> Path:
    return artifact.save((folder or store_dir()) / f"{artifact.id}.json")


def find(ident: str, folder: Path | None = None) -> Path:
    """The stored file of ``ident`` (a full id or a unique prefix of at least 4 hex digits)."""
    folder = folder or store_dir()
    if len(ident) < 4 or not all(c in "0123456789abcdef" for c in ident):
        raise UserInputError(f"invalid model id {ident!r}: give 4 or more hex digits of a stored policy's id")
    matches = sorted(folder.glob(f"{ident}*.json")) if folder.is_dir() else []
    if not matches:
        raise NotFound(f"no stored model {ident!r} in {folder} (train one with `mt rl train`)")
    if len(matches) > 1:
        names = ", ".join(path.stem for path in matches)
        raise UserInputError(f"model id {ident!r} is ambiguous: {names}")
    return matches[0]


def stored(folder: Path | None = None) -> list[PolicyArtifact]:
    """Every readable stored policy (newest file first)."""
    folder = folder or store_dir()
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.json"), key=lambda path: path.stat().st_mtime, reverse=True)
    return [PolicyArtifact.load(path) for path in paths]
