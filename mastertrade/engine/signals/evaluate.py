"""From a genome and an indicator cache to boolean entry and exit arrays.

``entries[t]`` is true when the entry rule holds at the close of bar t, using data up to and including
bar t only; the engines fill it at the open of bar t + 1 (DESIGN.md, "Backtest semantics"). The same
holds for ``exits``. Both arrays are raw: what an exit means while flat, or an entry while in a
position, is the engine's business.

Every genome is evaluated by :mod:`.program`: its rules become a short program the compiled kernel runs
over the cache's arrays (a whole generation of the search in one call, on several threads, without the
GIL); :func:`signals` is that for one genome. ``benchmarks/signals.py`` measures it.

Crossing: ``a crosses_above b`` at t iff ``a[t] > b[t]`` and ``a[t-1] <= b[t-1]``; ``crosses_below``
mirrors it. Every comparison with NaN is false, so warm-up bars never signal, and bar 0 never crosses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mastertrade.engine.signals.genome import ConstTerm, Term

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from mastertrade.engine.signals.genome import Genome
    from mastertrade.engine.signals.indicators import IndicatorCache


def signals(genome: Genome, cache: IndicatorCache) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """``(entries, exits)``: fresh, writable boolean arrays of the cache's length.

    A genome without an exit rule (it relies on its stops) has no exit signals.
    """
    from mastertrade.engine.signals.program import Batch

    batch = Batch(cache)
    batch.add(genome)
    entries, exits = batch.run()
    return entries[0], exits[0]


def term_values(term: Term, cache: IndicatorCache) -> NDArray[np.float64] | float:
    """A term's values, lag applied (a read-only array shared through the cache's ``memo``), or a
    constant's float: what a condition compares, for scripts and checks."""
    if isinstance(term, ConstTerm):
        return term.const
    key = term.key
    values: NDArray[np.float64] | None = cache.memo.get(key)
    if values is None:
        from mastertrade.engine.signals.program import term_array

        values = cache.lagged(term_array(term, cache), term.lag)
        cache.memo[key] = values
    return values
