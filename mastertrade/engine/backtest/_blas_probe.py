"""numba's start-up asks whether a BLAS is installed by importing ``scipy.linalg.cython_blas``. With the
scientific stack the ML extra installs, that import runs all of ``scipy.linalg`` and, through scipy's
array-API layer, ``numpy.f2py`` and ``numpy.testing``: about 0.1 s of every command that loads a compiled
kernel, to answer a question that only matters to kernels calling BLAS (``np.dot``, ``np.linalg``), which
none of MasterTrade's does.

:func:`answer_by_lookup` makes numba answer it by looking scipy up (``importlib.util.find_spec``, which
imports nothing). Nothing else changes: a kernel that does call BLAS still compiles and runs, numba's
runtime helpers import scipy's BLAS module themselves when they first fetch a routine from it, and without
scipy numba refuses such a kernel as before. Written by hand because numba has no setting for it; numba is
pinned (pyproject) and ``tests/backtest/test_blas_probe.py`` holds both halves of the behaviour."""

from __future__ import annotations

import importlib.util


def scipy_installed() -> None:
    """numba's ``ensure_blas`` contract: return when a BLAS can be had, raise ImportError otherwise."""
    if importlib.util.find_spec("scipy") is None:
        raise ImportError("scipy 0.16+ is required for linear algebra")


def answer_by_lookup() -> None:
    """Put :func:`scipy_installed` in place of numba's BLAS probe (before numba's start-up asks)."""
    import numba.np.linalg

    numba.np.linalg.ensure_blas = scipy_installed
