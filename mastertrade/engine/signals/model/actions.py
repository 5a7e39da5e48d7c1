"""The three actions a policy takes at a bar's close, and their equivalence with signal arrays.

``KEEP`` is no signal, ``ENTER`` an entry signal, ``EXIT`` an exit signal. Because the engines let an
exit win over an entry, any pair of signal arrays maps to one action per bar and back, which is how a
genome drives the environment and how a policy becomes a strategy. (A module of its own so a model
strategy runs without gymnasium.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

KEEP, ENTER, EXIT = 0, 1, 2
ACTIONS = ("keep", "enter", "exit")


def actions_from_signals(entries: Any, exits: Any) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The action sequence equivalent to a pair of signal arrays (an exit wins over an entry)."""
    entries = np.asarray(entries, dtype=np.bool_)
    exits = np.asarray(exits, dtype=np.bool_)
    return np.where(exits, EXIT, np.where(entries, ENTER, KEEP)).astype(np.int64)


def signals_from_actions(actions: Any) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """``(entries, exits)`` of an action sequence: the inverse of :func:`actions_from_signals`."""
    actions = np.asarray(actions)
    return actions == ENTER, actions == EXIT
