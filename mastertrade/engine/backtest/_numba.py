"""Point numba's on-disk cache at MasterTrade's cache folder, so compile costs are paid once per
installation.

numba reads ``NUMBA_CACHE_DIR`` when it is first imported, and a ``@njit(cache=True)`` function picks its
cache folder when it is decorated (module import time). pandas-ta decorates its own kernels with
``cache=True`` when it is imported. So this module must be imported before numba, pandas-ta or any of our
kernels: every module of this package that compiles imports it first, and so should any other module
that imports pandas-ta. An explicit ``NUMBA_CACHE_DIR`` from the environment (the test suite sets one)
wins. If numba was imported earlier anyway, its configuration is reloaded so that kernels decorated from
now on still cache in the right place.

Importing this module costs a dictionary look-up and platformdirs; it never imports numba itself.
``kernel()`` is the decorator our compiled functions use (numba's ``njit``, typed for mypy).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, cast

from mastertrade.locations import locations


def configure() -> str:
    """Set ``NUMBA_CACHE_DIR`` (unless already set) and return the folder numba will cache in."""
    folder = os.environ.get("NUMBA_CACHE_DIR") or str(locations().numba_cache_dir)
    os.environ["NUMBA_CACHE_DIR"] = folder
    config = sys.modules.get("numba.core.config")
    if config is not None and getattr(config, "CACHE_DIR", None) != folder:
        config.reload_config()
    return folder


CACHE_DIR = configure()

# numba's OpenMP workers spin for a while after each parallel region before they sleep (GNU OpenMP's
# default), which counts as a busy core while nothing is done: in `mt generate --count 500` on a year of
# 1h bars that was 0.1-0.2 CPU seconds a command and 0.12-0.15 of the 1.22-1.25 "cores busy" the search
# reported, with the same search time when they sleep at once (three interleaved pairs, 2026-12-05, quiet
# machine), and CPU taken from other work on a busy one. LightGBM's training (its own OpenMP) took the
# same time either way (18.0-18.8 s, two pairs). Set before any OpenMP runtime loads; a user's wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def kernel[F: Callable[..., Any]](*, parallel: bool = False) -> Callable[[F], F]:
    """``numba.njit`` compiling lazily on first call, cached on disk, releasing the GIL while it runs
    (so a kernel can run in a thread beside Python code); ``parallel`` enables ``prange``."""
    import numba

    from mastertrade.engine.backtest._blas_probe import answer_by_lookup

    answer_by_lookup()
    return cast(Callable[[F], F], numba.njit(cache=True, nogil=True, parallel=parallel))
