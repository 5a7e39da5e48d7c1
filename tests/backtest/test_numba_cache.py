"""The kernels compile once per installation: numba's on-disk cache lives in MasterTrade's cache folder,
and a second process loads the compiled kernel instead of compiling it again."""

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


def run_in_fresh_process(home: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["MT_HOME"] = str(home)
    out = subprocess.run([sys.executable, "-c", SCRIPT], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_kernels_are_cached_in_mastertrade_cache_folder_and_loaded_next_time(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = run_in_fresh_process(home)
    folder = home.resolve() / "cache" / "numba"
    assert first["dir"] == str(folder)
    assert first["misses"] == 1 and first["hits"] == 0  # compiled here ...
    assert any(folder.rglob("fast.simulate-*.nbi"))  # ... and written to our folder
    second = run_in_fresh_process(home)
    assert second["hits"] == 1 and second["misses"] == 0  # loaded, not compiled
