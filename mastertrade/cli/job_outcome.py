"""How a job run's outcome reads in ``mt status``'s jobs table and ``mt report``'s jobs lines.

The stored outcome stays what the scheduler recorded (``ok``, ``error``, ``cancelled``, ...), and
``--json`` gives it unchanged: code and scripts rely on it. Only the words a trader reads say more where
the bare ``ok`` misleads: a nightly generation that ran but searched nothing, every series of its
universe skipped (no candles yet, too few bars), read "ok", and the trader took it that strategies had been
searched.
"""

from __future__ import annotations

from typing import Any

NIGHTLY = "nightly_generation"


def outcome_words(job: str, outcome: str, result: Any) -> str:
    """``outcome`` as a trader reads it: a nightly generation's ``ok`` says how many of its series it
    searched when it skipped any ("ok: 0 of 3 series searched (all skipped: BTC/USDT 1h: ...)"), with
    each skipped series' reason; any other outcome or job, as stored."""
    if job != NIGHTLY or outcome != "ok" or not isinstance(result, dict):
        return outcome
    series = [entry for entry in result.get("series") or [] if isinstance(entry, dict)]
    skipped = [entry for entry in series if entry.get("skipped")]
    if not skipped:
        return outcome
    reasons = "; ".join(_why(entry) for entry in skipped)
    searched = len(series) - len(skipped)
    which = "all skipped" if not searched else f"{len(skipped)} skipped"
    return f"ok: {searched} of {len(series)} series searched ({which}: {reasons})"


def _why(entry: dict[str, Any]) -> str:
    """Why a series was skipped, led by the series unless its reason names it already ("no candles stored
    for ETH/USDT 1h on sim: ...")."""
    reason = " ".join(str(entry["skipped"]).split())
    symbol = str(entry.get("symbol"))
    return reason if symbol in reason else f"{symbol} {entry.get('timeframe')}: {reason}"
