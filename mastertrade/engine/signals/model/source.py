"""``STRATEGY`` specs that name a trained policy: ``model:<id>`` (a stored policy) or the path of a
policy artifact file. :func:`model_strategy` answers ``None`` for anything else, so the strategy loader
can try it beside built-ins, genome files, stored ids and plugins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mastertrade.engine.signals.strategy import Strategy


def is_policy_file(spec: str) -> bool:
    """Whether ``spec`` is a readable JSON file that says it is a policy artifact."""
    from mastertrade.engine.signals.model.artifact import FORMAT

    path = Path(spec)
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        text = path.read_text(encoding="utf-8")
        # Only a file that names the policy format is parsed here; anything else (a genome, however
        # absurd) is left to the genome loader and its size and nesting limits.
        if FORMAT not in text:
            return False
        head = json.loads(text)
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(head, dict) and head.get("format") == FORMAT


def model_strategy(spec: str) -> Strategy | None:
    """The model strategy ``spec`` names, or ``None`` when it names none."""
    from mastertrade.engine.signals.model.store import PREFIX

    if spec.startswith(PREFIX):
        from mastertrade.engine.signals.model.store import find

        path = find(spec[len(PREFIX) :])
    elif is_policy_file(spec):
        path = Path(spec)
    else:
        return None
    from mastertrade.engine.signals.model.artifact import PolicyArtifact
    from mastertrade.engine.signals.model.strategy import ModelStrategy
    from mastertrade.engine.signals.strategy import Strategy

    artifact = PolicyArtifact.load(path)
    plugin = ModelStrategy(artifact)
    return Strategy.from_model(PREFIX + artifact.id, plugin, artifact.symbol, artifact.timeframe)
