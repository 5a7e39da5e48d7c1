"""Why a backtest made no trade, in words, instead of a silent all-zero report.

A backtest acts on the signals of bars 1 to n-2 (bar 0 only opens the account; the last bar's signals
have no next open to fill at), and a genome cannot signal before its longest indicator has warmed up
(``warmup_bars``). So a series no longer than the warm-up plus two bars cannot trade at all, whatever the
market did; that is the case worth telling apart from a rule that simply never fired.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def warmup_reason(name: str, warmup: int, bars: int) -> str | None:
    """Why ``name`` cannot trade at all on ``bars`` bars when its ``warmup`` (leading bars on which it
    cannot signal yet) leaves no bar whose signal could fill; ``None`` when some bar can."""
    first = max(1, warmup)
    if first <= bars - 2:
        return None
    return (
        f"no trades: {name} needs {warmup:,} bars of indicator warm-up before its first signal, and a"
        f" signal fills at the next bar's open, so it needs at least {first + 2:,} bars; this series has"
        f" {bars:,} (give more bars, e.g. an earlier --start)"
    )


def no_trade_reason(name: str, warmup: int, entries: Any, exits: Any) -> str:
    """Why ``name`` made no trade, given its ``warmup`` and its entry and exit signals over the bars
    backtested."""
    entries = np.asarray(entries, dtype=np.bool_)
    exits = np.asarray(exits, dtype=np.bool_)
    bars = entries.shape[0]
    eaten = warmup_reason(name, warmup, bars)
    if eaten is not None:
        return eaten
    acted = np.zeros(bars, dtype=np.bool_)
    acted[max(1, warmup) : bars - 1] = True
    if not (entries & acted).any():
        count = int(acted.sum())
        if warmup:
            after = f" after its {warmup:,}-bar warm-up"
        else:
            after = " whose signals could fill" if count != 1 else " whose signal could fill"
        bars_text = "the 1 bar" if count == 1 else f"the {count:,} bars"
        return f"no trades: {name}'s entry rule never fired in {bars_text}{after}"
    if not (entries & ~exits & acted).any():
        return (
            f"no trades: {name}'s entry rule fired only on bars where its exit rule fired too (the exit wins)"
        )
    return (
        f"no trades: {name}'s entry signals bought nothing (its position size affords no unit of the asset)"
    )
