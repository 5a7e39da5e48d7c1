"""The kernels compile once per installation: numba's on-disk cache lives in the user's cache folder keyed
by the Python, numba and MasterTrade versions (not in the workspace), and a second process, even in a new
workspace (another MT_HOME), loads the compiled kernel instead of compiling it again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, sys
import numba  # imported before MasterTrade on purpose: the cache folder must still be ours
import numpy as np
from mastertrade.engine.backtest import fast
ones = np.ones(50)
fast.simulate(ones, ones, ones, ones, ones > 0, ones < 0, 0.0, 0.0, 0.0, 1.0, 1e4, 0.001, 1e-8)
stats = fast.simulate.stats
print(json.dumps({"dir": numba.config.CACHE_DIR, "hits": sum(stats.cache_hits.values()),
                  "misses": sum(stats.cache_misses.values())}))
"""


def run_in_fresh_process(home: Path, cache: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["MT_HOME"] = str(home)
    env["XDG_CACHE_HOME"] = str(cache)
    out = subprocess.run([sys.executable, "-c", SCRIPT], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_kernels_are_cached_per_installation_and_loaded_in_a_new_workspace(tmp_path: Path) -> None:
    from importlib.metadata import version

    from mastertrade import __version__

    cache = tmp_path / "user-cache"
    first = run_in_fresh_process(tmp_path / "workspace-1", cache)
    key = f"py{sys.version_info[0]}{sys.version_info[1]}-numba{version('numba')}-mastertrade{__version__}"
    folder = cache / "mastertrade" / "numba" / key
    assert first["dir"] == str(folder)
    assert first["misses"] == 1 and first["hits"] == 0  # compiled here ...
    assert any(folder.rglob("fast.simulate-*.nbi"))  # ... and written to the installation's folder
    second = run_in_fresh_process(tmp_path / "workspace-2", cache)  # a new workspace
    assert second["dir"] == str(folder)
    assert second["hits"] == 1 and second["misses"] == 0  # loaded, not compiled
