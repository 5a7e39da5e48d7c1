"""The forecast network's compiled steps persist: a fresh process loads them instead of compiling again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TRAIN_TINY = """
import numpy as np
from mastertrade.engine.ml.models import ModelConfig
from mastertrade.engine.ml.models.lstm_transformer import LstmTransformer
import jax

config = ModelConfig(window=8, epochs=1, units=8, heads=2, batch=32)
model = LstmTransformer(3, config, 0)
rng = np.random.default_rng(0)
model.fit(rng.normal(size=(64, 8, 3)).astype(np.float32), rng.normal(size=64))
print(jax.config.jax_compilation_cache_dir)
print(repr(model.predict(rng.normal(size=(2, 8, 3)).astype(np.float32)).tolist()))
"""


def _run(cache: Path) -> list[str]:
    env = {**os.environ, "MT_JAX_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", TRAIN_TINY], check=True, capture_output=True, text=True, env=env, timeout=300
    )
    return done.stdout.strip().splitlines()


def test_a_fresh_process_reuses_what_an_earlier_one_compiled(tmp_path: Path) -> None:
    cache = tmp_path / "jax"
    first = _run(cache)
    assert first[0] == str(cache)
    entries = sorted(path.name for path in cache.glob("*-cache"))
    assert entries, "nothing was written to the compilation cache"
    used = {path.name: path.stat().st_mtime_ns for path in cache.glob("*-atime")}
    second = _run(cache)
    # the same numbers, no new compilation, and every entry read again (a read stamps its access time)
    assert second == first
    assert sorted(path.name for path in cache.glob("*-cache")) == entries
    again = {path.name: path.stat().st_mtime_ns for path in cache.glob("*-atime")}
    assert all(again[name] > stamp for name, stamp in used.items())
