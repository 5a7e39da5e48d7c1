"""Pay every compile cost once per installation, at ``mt init`` (and ``mt demo``), instead of in the
user's first backtest.

numba compiles our backtest kernels and pandas-ta's indicator kernels on first use (seconds each) and
caches the machine code on disk; running each of them once on a small series fills that cache, so later
processes load it in milliseconds.
"""

from __future__ import annotations

import time


def warm_compiled_code() -> float:
    """Compile (or load from the on-disk cache) every numba kernel; returns the seconds it took."""
    started = time.perf_counter()
    import mastertrade.engine.backtest  # noqa: F401  (points numba's cache at ours before numba loads)
    from mastertrade.engine.backtest.batch import run_batch
    from mastertrade.engine.backtest.runner import backtest
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.signals.builtins import BUILTINS
    from mastertrade.engine.signals.indicators import IndicatorCache, precompile

    precompile()
    frame = simulate("BTC/USDT", "1h", 400, 1, end=1_704_067_200_000)
    cache = IndicatorCache(frame)
    strategies = list(BUILTINS.values())
    backtest(strategies[0], frame, cache=cache)
    for _ in run_batch(strategies, frame, cache=cache):
        pass
    return time.perf_counter() - started
