"""Pay every compile cost once per installation, at ``mt init`` (and ``mt demo``), instead of in the
user's first backtest.

numba compiles our backtest kernels and pandas-ta's indicator kernels on first use (seconds each) and
caches the machine code on disk; running each of them once on a small series fills that cache, so later
processes load it in milliseconds.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# step(done, total, what): called after each step, so a caller can draw progress
Step = Callable[[int, int, str], None]

STAMP = "warmed"
"""The file in numba's cache folder that a finished warm-up leaves, holding ``_fingerprint()``."""
_KERNEL_MARKS = (b"@kernel(", b"njit(")


def _fingerprint() -> str:
    """What decides whether the warm-up would load every kernel from the cache rather than compile one:
    pandas-ta's version (its kernels' source), and the path, size and modification time of each of our
    engine modules that defines a kernel (numba compiles again a kernel whose source file changed; the cache
    folder itself is keyed by the Python, numba and MasterTrade versions)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        parts = [f"pandas-ta {version('pandas-ta')}"]
    except PackageNotFoundError:
        parts = ["pandas-ta none"]
    engine = Path(__file__).resolve().parent
    for path in sorted(engine.rglob("*.py")):
        try:
            if not any(mark in path.read_bytes() for mark in _KERNEL_MARKS):
                continue
            stat = path.stat()
        except OSError:
            continue
        parts.append(f"{path} {stat.st_size} {stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def kernels_warm() -> bool:
    """Whether a warm-up already ran to its end with this installation's cache and these kernel sources,
    so that ``warm_compiled_code`` would load every kernel (seconds at most) instead of compiling
    (``mt init`` says it compiles only when it will)."""
    from mastertrade.engine.backtest._numba import CACHE_DIR

    try:
        return (Path(CACHE_DIR) / STAMP).read_text(encoding="ascii") == _fingerprint()
    except (OSError, UnicodeDecodeError):
        return False


def _mark_warm() -> None:
    """Leave the stamp ``kernels_warm`` looks for (a cache folder that cannot hold it: none, and the next
    ``mt init`` says it compiles, which is then true)."""
    from mastertrade.engine.backtest._numba import CACHE_DIR

    stamp = Path(CACHE_DIR) / STAMP
    draft = stamp.with_name(f".{STAMP}.{os.getpid()}")
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        draft.write_text(_fingerprint(), encoding="ascii")
        os.replace(draft, stamp)
    except OSError:
        draft.unlink(missing_ok=True)


def warm_compiled_code(
    step: Step | None = None, also: Sequence[tuple[str, Callable[[], None]]] = ()
) -> float:
    """Compile (or load from the on-disk cache) every numba kernel; returns the seconds it took.

    ``step`` hears of each finished step (the imports, each indicator, the two backtest kernels, then each
    of ``also``: loaders of kernels in layers above this module, the generation's, which the caller
    passes)."""
    started = time.perf_counter()
    import mastertrade.engine.backtest  # noqa: F401  (points numba's cache at ours before numba loads)
    from mastertrade.engine.backtest.batch import run_batch
    from mastertrade.engine.backtest.runner import backtest
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.signals.builtins import BUILTINS
    from mastertrade.engine.signals.indicators import INDICATORS, IndicatorCache, precompile

    total = 1 + len(INDICATORS) + 2 + len(also)
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
    for what, load in also:
        load()
        report(what)
    _mark_warm()
    return time.perf_counter() - started
