"""numba's start-up asks whether a BLAS is installed; MasterTrade answers by looking scipy up instead of
importing all of scipy.linalg (about 0.1 s of every compiled command's start-up), and kernels that do call
BLAS still compile and run (see ``engine/backtest/_blas_probe.py``)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

LOAD_A_KERNEL = """
import json, sys
import numpy as np
from mastertrade.engine.backtest import fast
ones = np.ones(50)
fast.simulate(ones, ones, ones, ones, ones > 0, ones < 0, 0.0, 0.0, 0.0, 1.0, 1e4, 0.001, 1e-8)
arraymath = sys.modules["numba.np.old_arraymath"] if "numba.np.old_arraymath" in sys.modules else (
    sys.modules["numba.np.new_arraymath"])
print(json.dumps({"scipy_linalg": "scipy.linalg" in sys.modules, "blas": arraymath._HAVE_BLAS}))
"""

CALL_BLAS = """
import numpy as np
from mastertrade.engine.backtest._numba import kernel
import numba

@numba.njit(cache=False)
def product(a, b):
    return np.dot(a, b)

kernel()  # the probe is in place, as in every MasterTrade process that compiles
a = np.arange(6.0).reshape(2, 3)
b = np.arange(12.0).reshape(3, 4)
assert np.array_equal(product(a, b), a @ b), product(a, b)
print("ok")
"""


@pytest.mark.skipif(importlib.util.find_spec("scipy") is None, reason="scipy (the ML extra) is not installed")
def test_loading_a_kernel_does_not_import_scipy_linalg_and_numba_still_sees_a_blas() -> None:
    out = subprocess.run([sys.executable, "-c", LOAD_A_KERNEL], check=True, capture_output=True, text=True)
    found = json.loads(out.stdout.splitlines()[-1])
    assert found == {"scipy_linalg": False, "blas": True}


@pytest.mark.skipif(importlib.util.find_spec("scipy") is None, reason="scipy (the ML extra) is not installed")
def test_a_kernel_calling_blas_still_compiles_and_runs() -> None:
    out = subprocess.run([sys.executable, "-c", CALL_BLAS], check=True, capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "ok"


def test_without_scipy_the_probe_says_no_blas_as_numba_would(monkeypatch: pytest.MonkeyPatch) -> None:
    from mastertrade.engine.backtest import _blas_probe

    monkeypatch.setattr(_blas_probe.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="scipy"):
        _blas_probe.scipy_installed()
