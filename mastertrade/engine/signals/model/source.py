"""``STRATEGY`` specs that name a trained policy: ``model:<id>`` (a stored policy) or the folder of a
policy artifact (or its ``manifest.json``). :func:`model_strategy` answers ``None`` for anything else,
so the strategy loader can try it beside built-ins, genome files, stored ids and plugins. A policy file
of the first format is refused with a message saying to retrain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mastertrade.engine.signals.strategy import Strategy


def policy_folder(spec: str) -> Path | None:
    """The artifact folder ``spec`` names when it is a policy artifact's folder or manifest, else None."""
    from mastertrade.artifacts import MANIFEST
    from mastertrade.engine.signals.model.artifact import KIND

    path = Path(spec)
    folder = path.parent if path.name == MANIFEST else path
    manifest = folder / MANIFEST
    try:
        if not manifest.is_file():
            return None
    except OSError:  # a name no file system holds (over 255 bytes: ENAMETOOLONG) names no folder
        return None
    try:
        head = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return folder if isinstance(head, dict) and head.get("kind") == KIND else None


def model_strategy(spec: str) -> Strategy | None:
    """The model strategy ``spec`` names, or ``None`` when it names none."""
    from mastertrade.artifacts import IncompatibleArtifact
    from mastertrade.engine.signals.model.artifact import is_legacy_file, legacy_message
    from mastertrade.engine.signals.model.store import PREFIX, find, load

    if spec.startswith(PREFIX):
        folder: Path | None = find(spec[len(PREFIX) :])
    else:
        folder = policy_folder(spec)
        if folder is None:
            if is_legacy_file(Path(spec)):
                raise IncompatibleArtifact(legacy_message(Path(spec)))
            return None
    assert folder is not None
    from mastertrade.engine.signals.model.strategy import ModelStrategy
    from mastertrade.engine.signals.strategy import Strategy

    stored = load(folder)
    return Strategy.from_model(stored.model, ModelStrategy(stored), stored.symbol, stored.timeframe)
