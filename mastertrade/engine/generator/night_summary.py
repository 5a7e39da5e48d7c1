"""What a nightly generation did, in the words every place a trader reads its run shows.

The job's stored outcome stays "ok" (scripts test it), but a bare "ok" misled: a night whose every series
was skipped (no candles yet, too few bars) read as a night that searched. :func:`night_summary` (the
``nightly_generation`` job's ``summarize``, ``kernel.context.Job``) counts, from the run's stored result,
the series searched of the universe's, the strategies stored and passed, those put on paper, promoted
and retired, and says why each skipped series was skipped::

    ok: 2 of 3 series searched, 80 strategies stored, 3 passed, 2 put on paper, 1 retired
    (1 skipped: SOL/USDT 1h: no candles stored ...)

The skipped series come as a list (``kernel.run_words.Listed``), which a terminal line shortens to the
first and "+N more" when a universe of fifty series skipped most of them.

A series that failed stops the night (its outcome "error"); the error names it (``universe``).
"""

from __future__ import annotations

from typing import Any

from mastertrade.engine.kernel.run_words import Listed


def night_summary(result: Any) -> Listed | None:
    """A nightly run's result (``nightly.nightly``'s report) in words, each skipped series listed with
    why; ``None`` for a result without its ``series`` (an older version's)."""
    if not isinstance(result, dict) or not isinstance(result.get("series"), list):
        return None
    series = [entry for entry in result["series"] if isinstance(entry, dict)]
    skipped = [entry for entry in series if entry.get("skipped")]
    searched = [entry for entry in series if not entry.get("skipped")]
    words = [f"{len(searched)} of {len(series)} series searched"]
    passed = 0
    if searched:
        stored = sum(_count(entry, "stored") for entry in searched)
        passed = sum(_count(entry, "passed") for entry in searched)
        words.append(f"{_strategies(stored)} stored, {passed} passed")
    paper = len(_items(result, "paper")) + len(_items(result, "resumed"))
    if paper:
        words.append(f"{paper} put on paper")
    elif passed:  # passers of another timeframe, or the same bet as a better one: they stay passed
        words.append("none put on paper")
    actions = [item.get("action") for item in _items(result, "decisions")]
    for action, done in (("promote", "promoted to active"), ("retire", "retired")):
        if actions.count(action):
            words.append(f"{actions.count(action)} {done}")
    which = "all skipped" if not searched else f"{len(skipped)} skipped"
    return Listed(", ".join(words), which, tuple(_why(entry) for entry in skipped))


def _count(entry: dict[str, Any], key: str) -> int:
    counts = entry.get("counts")
    value = counts.get(key) if isinstance(counts, dict) else None
    return value if isinstance(value, int) else 0


def _items(result: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [item for item in result.get(key) or [] if isinstance(item, dict)]


def _strategies(count: int) -> str:
    return f"{count} strateg{'y' if count == 1 else 'ies'}"


def _why(entry: dict[str, Any]) -> str:
    """Why a series was skipped, led by the series unless its reason names it already ("no candles stored
    for ETH/USDT 1h on sim: ...")."""
    reason = " ".join(str(entry["skipped"]).split())
    symbol = str(entry.get("symbol"))
    return reason if symbol in reason else f"{symbol} {entry.get('timeframe')}: {reason}"
