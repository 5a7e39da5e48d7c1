"""Pay every compile cost once per installation, at ``mt init`` (and ``mt demo``), instead of in the
user's first backtest.

numba compiles our backtest kernels and pandas-ta's indicator kernels on first use (seconds each) and
caches the machine code on disk; running each of them once on a small series fills that cache, so later
processes load it in milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# step(done, total, what): called after each step, so a caller can draw progress
Step = Callable[[int, int, str], None]


def warm_compiled_code(step: Step | None = None) -> float:
    """Compile (or load from the on-disk cache) every numba kernel; returns the seconds it took.

    ``step`` hears of each finished step (the imports, each indicator, the two backtest kernels)."""
    started = time.perf_counter()
    import mastertrade.engine.backtest  # noqa: F401  (points numba's cache at ours before numba loads)
    from mastertrade.engine.backtest.batch import run_batch
    from mastertrade.engine.backtest.runner import backtest
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.signals.builtins import BUILTINS
    from mastertrade.engine.signals.indicators import INDICATORS, IndicatorCache, precompile

    total = 1 + len(INDICATORS) + 2
    done = 1

    def report(what: str) -> None:
        nonlocal done
        if step is not None:
            step(done, total, what)
        done += 1

    report("loaded numba and pandas-ta")
    precompile(on_indicator=lambda name: report(f"indicator {name}"))
    frame = simulate("BTC/USDT", "1h", 400, 1, end=1_704_067_200_000)
    cache = IndicatorCache(frame)
    strategies = list(BUILTINS.values())
    backtest(strategies[0], frame, cache=cache)
    report("backtest kernel")
    for _ in run_batch(strategies, frame, cache=cache):
        pass
    report("batch backtest kernel")
    return time.perf_counter() - started
