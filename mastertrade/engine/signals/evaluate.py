"""From a genome and an indicator cache to boolean entry and exit arrays.

``entries[t]`` is true when the entry rule holds at the close of bar t, using data up to and including
bar t only; the engines fill it at the open of bar t + 1 (DESIGN.md, "Backtest semantics"). The same
holds for ``exits``. Both arrays are raw: what an exit means while flat, or an entry while in a
position, is the engine's business.

Evaluation is a handful of vectorised numpy operations on arrays the cache already holds, so it costs
microseconds per genome (``benchmarks/signals.py`` measures it). Term arrays, lags included, are kept
in the cache's ``memo`` and shared by every genome evaluated on it.

Crossing: ``a crosses_above b`` at t iff ``a[t] > b[t]`` and ``a[t-1] <= b[t-1]``; ``crosses_below``
mirrors it. Every comparison with NaN is false, so warm-up bars never signal, and bar 0 never crosses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mastertrade.engine.signals.genome import (
    AllOf,
    AnyOf,
    Condition,
    ConstTerm,
    CrossesAbove,
    CrossesBelow,
    FeatureTerm,
    Genome,
    Greater,
    IndicatorTerm,
    Less,
    PriceTerm,
    Rule,
    Term,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from mastertrade.engine.signals.indicators import IndicatorCache


def signals(genome: Genome, cache: IndicatorCache) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """``(entries, exits)``: fresh, writable boolean arrays of the cache's length.

    A genome without an exit rule (it relies on its stops) has no exit signals.
    """
    entries = rule_values(genome.entry, cache)
    exits: NDArray[np.bool_]
    if genome.exit is None:
        exits = np.zeros(len(cache), dtype=np.bool_)
    else:
        exits = rule_values(genome.exit, cache)
    return entries, exits


def rule_values(rule: Rule, cache: IndicatorCache) -> NDArray[np.bool_]:
    """Where a rule holds, as a fresh boolean array."""
    if isinstance(rule, AllOf | AnyOf):
        children = rule.children
        result = rule_values(children[0], cache)
        combine = np.logical_and if isinstance(rule, AllOf) else np.logical_or
        for child in children[1:]:
            combine(result, rule_values(child, cache), out=result)
        return result
    return condition_values(rule, cache)


def condition_values(condition: Condition, cache: IndicatorCache) -> NDArray[np.bool_]:
    """Where one condition holds, as a fresh boolean array."""
    left = term_values(condition.operands[0], cache)
    right = term_values(condition.operands[1], cache)
    if isinstance(condition, Greater):
        return np.greater(left, right)
    if isinstance(condition, Less):
        return np.less(left, right)
    if isinstance(condition, CrossesAbove):
        now, before = np.greater(left, right), np.less_equal(left, right)
    else:
        assert isinstance(condition, CrossesBelow)
        now, before = np.less(left, right), np.greater_equal(left, right)
    # now[t] and before[t-1]; bar 0 has no previous bar
    np.logical_and(now[1:], before[:-1], out=now[1:])
    now[:1] = False
    return now


def term_values(term: Term, cache: IndicatorCache) -> NDArray[np.float64] | float:
    """A term's values (a read-only array shared through the cache), or a constant's float."""
    if isinstance(term, ConstTerm):
        return term.const
    key = term.key
    values: NDArray[np.float64] | None = cache.memo.get(key)
    if values is None:
        if isinstance(term, PriceTerm):
            base = cache.price(term.price)
        elif isinstance(term, IndicatorTerm):
            base = cache.indicator_output(term.ind, term.params, term.output)
        else:
            assert isinstance(term, FeatureTerm)
            base = cache.feature_output(term.feature, term.params, term.output)
        values = cache.lagged(base, term.lag)
        cache.memo[key] = values
    return values
