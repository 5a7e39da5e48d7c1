"""Between two series of a universe: give back what the finished series held, so a long run over many
series (the nightly job over every symbol) stays flat per series instead of climbing.

Measured over 50 series of 150 genomes in one process (``benchmarks/memory.py``, ``nightly``), the
resident set climbed by some 45 MiB (+15%) over the first 20-25 series and then levelled off. tracemalloc
put all of the climb in the memo caches of genome building and validation: ``variation``'s validated
conditions (about 3.5 KiB each, cleared when 10,000 are kept: after some 19 series here), snapped terms
and built rules, and ``signals.genome``'s validated terms (cleared at 50,000). Each series adds some 500
conditions and 350 terms that the next series, on other data with other random genomes, hardly ever
meets again; clearing them brought the traced Python heap back to the first series' level (within
0.3 MiB), so the climb is those count-bounded caches warming up, not a leak. A search fills them again
within its first generation, which is where they pay.

The rest of the swing from one series to the next is glibc's heap: the scoring threads free their arrays
into arenas that keep the pages. ``malloc_trim(0)`` hands the free pages of every arena back to the
operating system (some 17 MiB a series here).
"""

from __future__ import annotations

import ctypes
import gc
from functools import cache


def release_series_memory() -> None:
    """Forget what the memo caches learnt from the finished series, collect the garbage and return the
    free heap pages to the operating system. Only between series that do not run at the same time: a
    search still running would merely refill the caches, but its own speed-up would be lost."""
    from mastertrade.engine.generator import variation
    from mastertrade.engine.signals import canonical, genome

    for owner in (variation, genome, canonical):
        owner.forget()
    gc.collect()
    trim_heap()


def trim_heap() -> bool:
    """``malloc_trim(0)`` where the C library is glibc (returns whether it released anything); a no-op
    elsewhere. Written by hand: neither the standard library nor a kept package exposes it."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False


@cache
def _malloc_trim() -> ctypes._NamedFuncPointer | None:
    try:
        function = ctypes.CDLL(None).malloc_trim  # the symbols the process already has: its C library's
    except (OSError, TypeError, AttributeError):  # not glibc (musl, macOS, Windows): nothing to trim
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return function
