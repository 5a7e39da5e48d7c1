"""Forecast models on one year of 1h bars (8,760, simulated). Needs the [ml] extra.

Training the model of the newest bar on every known label, three ways:

- **cold**: a fresh Python process with an empty JAX compilation cache (the first `mt ml train` after an
  install or upgrade): imports, compiling the network's steps, training;
- **cold process, cache filled**: a fresh process again, now finding the compiled steps that the cold run
  left in the persistent cache (every later `mt ml train`, the daemon after a restart);
- **warm**: a second training in the same process (the walk-forward's retrainings, the nightly job in a
  running daemon).

The LightGBM baseline is timed the same ways in the same run. Then one forecast per closed bar (features +
window + model; p50 and p99 of many bars), beside LightGBM's and the naive last-return forecast, and the
daemon's whole per-bar path (read candles from SQLite, forecast, store the point).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchmarks._util import report, scratch_home
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.ml.models import ModelConfig
from mastertrade.engine.ml.walkforward import ForecastSpec, TrainedModel, fit_at, predict_rows, prepare
from mastertrade.engine.ml.windows import labels
from mastertrade.extras import CACHE_ENV

BARS = 8_760
LIVE = 400
BARS_TIMED = 200
"""Closed bars forecast one by one for the per-bar percentiles."""


def _fit(model: str) -> tuple[TrainedModel, float, float]:
    """The model of the newest bar, its wall and CPU seconds."""
    frame = simulate("BTC/USDT", "1h", BARS, seed=1)
    values, valid, _ = prepare(frame, None)
    y = labels(frame["close"].to_numpy(), 1)
    spec = ForecastSpec(model, config=ModelConfig())
    start, cpu = time.perf_counter(), time.process_time()
    trained = fit_at(spec, values, valid, y, BARS - 1, 0)
    assert trained is not None
    return trained, time.perf_counter() - start, time.process_time() - cpu


def _child(model: str) -> None:
    """One training in this (fresh) process; prints its figures as JSON for the parent."""
    _, wall, cpu = _fit(model)
    print(json.dumps({"fit_s": wall, "fit_cpu_s": cpu}))


def _fresh_process(model: str, cache: str) -> tuple[float, float, float]:
    """Wall seconds of the whole process (start, imports, data, training), its CPU seconds, and the
    training's own wall seconds."""
    env = {**os.environ, CACHE_ENV: cache}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.ml", "--child", model],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    total = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return total, cpu, float(figures["fit_s"])


def _per_bar(trained: TrainedModel) -> tuple[float, float, float]:
    """p50 and p99 wall seconds of one forecast at a bar's close, over ``BARS_TIMED`` successive bars,
    and the mean CPU seconds of one (what it costs when the machine is not shared)."""
    frame = simulate("BTC/USDT", "1h", LIVE + BARS_TIMED, seed=2)

    def once(end: int) -> float:
        start = time.perf_counter()
        window = frame.iloc[end - LIVE : end]
        values, valid, _ = prepare(window, None)
        predict_rows(trained, values, valid, LIVE - 1, LIVE - 1)
        return time.perf_counter() - start

    once(LIVE)  # a process's first forecast loads the compiled prediction once
    cpu = time.process_time()
    times = np.array([once(LIVE + i) for i in range(BARS_TIMED)])
    cpu = (time.process_time() - cpu) / BARS_TIMED
    return float(np.percentile(times, 50)), float(np.percentile(times, 99)), cpu


def _last_return_per_bar() -> tuple[float, float]:
    frame = simulate("BTC/USDT", "1h", LIVE + BARS_TIMED, seed=2)
    close = frame["close"].to_numpy()
    times = []
    for i in range(BARS_TIMED):
        start = time.perf_counter()
        float(np.log(close[LIVE + i - 1] / close[LIVE + i - 2]))
        times.append(time.perf_counter() - start)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


async def _daemon_path(model: str, trained: TrainedModel) -> tuple[float, float]:
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.market.store import CandleStore, SeriesKey, rows_from_frame
    from mastertrade.engine.ml.trainer import TrainRequest, latest_model, predict_latest, save_model

    db = await Database.open(load_settings())
    try:
        key = SeriesKey("sim", "BTC/USDT", "1h")
        frame = simulate("BTC/USDT", "1h", BARS, seed=1)
        await CandleStore(db).upsert(key, rows_from_frame(frame))
        request = TrainRequest(model, "BTC/USDT", "1h")
        names = prepare(frame, None)[2]
        save_model(ArtifactStore.default(), trained, request, key, frame, names, {})
        loaded = await latest_model(model, key, 1)
        await predict_latest(db, loaded, key, publish=False)  # warm
        times = []
        for _ in range(50):
            start = time.perf_counter()
            await predict_latest(db, loaded, key, publish=False)
            times.append(time.perf_counter() - start)
        return float(np.percentile(times, 50)), float(np.percentile(times, 99))
    finally:
        await db.close()


def main() -> None:
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores here, shared)", flush=True)
    cache = tempfile.mkdtemp(prefix="mt-jax-cache-")
    try:
        _run(cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _run(cache: str) -> None:
    gbm_cold, gbm_cpu, gbm_fit = _fresh_process("lightgbm", cache)
    report("lightgbm: cold process, train (baseline)", gbm_cold, "s")
    report("  CPU seconds (both cores)", gbm_cpu, "s")
    report("  training (wall)", gbm_fit, "s")
    for title in ("cold, empty compile cache", "cold process, cache filled"):
        total, cpu, fit = _fresh_process("lstm_transformer", cache)
        report(f"lstm_transformer: {title}", total, "s", target="< 60 s", baseline=gbm_cold)
        report("  CPU seconds (both cores)", cpu, "s", baseline=gbm_cpu)
        report("  training (wall)", fit, "s")
    os.environ[CACHE_ENV] = cache
    gbm, gbm_warm, _ = _fit("lightgbm")
    _fit("lstm_transformer")
    lstm, lstm_warm, lstm_cpu = _fit("lstm_transformer")
    report("lightgbm: train again in the process (baseline)", gbm_warm, "s")
    report("lstm_transformer: train again in the process", lstm_warm, "s", target="< 60 s", baseline=gbm_warm)
    report("  CPU seconds (both cores)", lstm_cpu, "s")
    naive = _last_return_per_bar()
    report("last-return forecast per bar p50 (naive baseline)", naive[0] * 1000, "ms")
    gbm_bar = _per_bar(gbm)
    report("lightgbm: forecast per closed bar p50", gbm_bar[0] * 1000, "ms", target="< 20 ms")
    report("lightgbm: forecast per closed bar p99", gbm_bar[1] * 1000, "ms", target="< 20 ms")
    report("lightgbm: CPU per closed bar (mean)", gbm_bar[2] * 1000, "ms", target="< 20 ms")
    lstm_bar = _per_bar(lstm)
    report(
        "lstm_transformer: forecast per closed bar p50",
        lstm_bar[0] * 1000,
        "ms",
        target="< 20 ms",
        baseline=gbm_bar[0],
    )
    report(
        "lstm_transformer: forecast per closed bar p99",
        lstm_bar[1] * 1000,
        "ms",
        target="< 20 ms",
        baseline=gbm_bar[1],
    )
    report(
        "lstm_transformer: CPU per closed bar (mean)",
        lstm_bar[2] * 1000,
        "ms",
        target="< 20 ms",
        baseline=gbm_bar[2],
    )
    with scratch_home():
        daemon = asyncio.run(_daemon_path("lstm_transformer", lstm))
    report("daemon path per bar p50 (SQLite read + forecast)", daemon[0] * 1000, "ms", target="< 50 ms")
    report("daemon path per bar p99", daemon[1] * 1000, "ms", target="< 50 ms")
    print(f"load average at end: {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(sys.argv[2])
    else:
        main()
