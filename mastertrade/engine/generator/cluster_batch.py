"""``mt backtest --batch`` on a Dask cluster (extra ``[cluster]``): the same results, in input order.

The candle series (and the feature frames the genomes read) are scattered to the cluster once
(:class:`.cluster.Shipped`); each worker keeps one ``IndicatorCache`` per series (a small LRU), so a
second batch on the same series finds its indicators computed. The genomes are cut into consecutive
chunks, one task each; a task runs :func:`.batch.run_batch` on its chunk on the worker (one numba thread:
a worker is one thread) and returns its ``BatchResult`` rows with their input positions. The results are
yielded chunk by chunk in input order while later chunks still compute. A worker that dies takes its tasks
with it and the scheduler reruns them elsewhere; nothing here skips a failed future. The session
(LocalCluster or a scheduler address) is the generator's (:mod:`mastertrade.engine.generator.cluster`).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mastertrade.engine.backtest.batch import BatchResult, run_batch
from mastertrade.engine.backtest.runner import Engine
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

    from mastertrade.engine.signals.indicators import IndicatorCache

KEEP_SERIES = 4
"""Indicator caches a worker keeps (one per scattered series)."""

_caches: OrderedDict[str, tuple[IndicatorCache, threading.Lock]] = OrderedDict()
_caches_lock = threading.Lock()


def _cache(key: str, frame: pd.DataFrame, features: Any) -> tuple[IndicatorCache, threading.Lock]:
    from mastertrade.engine.signals.indicators import IndicatorCache

    with _caches_lock:
        found = _caches.get(key)
        if found is None:
            found = (IndicatorCache(frame, features=features), threading.Lock())
            _caches[key] = found
            while len(_caches) > KEEP_SERIES:
                _caches.popitem(last=False)
        _caches.move_to_end(key)
        return found


def backtest_chunk(
    data: tuple[pd.DataFrame, Any], key: str, first: int, strategies: Sequence[Any], cash: float, fee: float,
    engine: Engine, window: slice | None,
) -> list[BatchResult]:  # fmt: skip
    """A task: backtest ``strategies`` (input positions from ``first`` on) with this worker's warm cache."""
    import mastertrade.engine.backtest  # noqa: F401  (numba's cache folder first)

    frame, features = data
    cache, lock = _cache(key, frame, features)
    with lock:
        results = run_batch(
            strategies, frame, cash=cash, fee=fee, engine=engine, window=window, threads=1,
            pool_min=len(strategies) + 1, cache=cache,
        )  # fmt: skip
        return [replace(item, index=first + item.index) for item in results]


def run_batch_on_cluster(
    strategies: Sequence[Any],
    frame: pd.DataFrame,
    *,
    cash: float,
    fee: float,
    engine: Engine = "fast",
    window: slice | None = None,
    features: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    chunk: int | None = None,
) -> Iterator[BatchResult]:
    """Like :func:`.batch.run_batch`, on the cluster at ``scheduler`` (none: a LocalCluster of ``workers``
    processes on this machine); results in input order."""
    from mastertrade.engine.generator.cluster import (
        RETRIES,
        Shipped,
        chunks,
        ordered_results,
        session,
        task_count,
    )
    from mastertrade.engine.generator.cluster_address import require_dask

    require_dask()
    if chunk is not None and chunk < 1:
        raise UserInputError(f"invalid chunk size {chunk}: must be >= 1")
    if len(frame) == 0:
        raise UserInputError("no candles to backtest")
    with session(scheduler, workers) as current:
        client = current.client
        tag = uuid.uuid4().hex[:12]
        data = Shipped(client, (frame, features), f"series-{tag}")
        parts = chunks(
            strategies,
            -(-len(strategies) // chunk) if chunk else task_count(len(strategies), current.threads()),
        )
        firsts = [sum(len(part) for part in parts[:index]) for index in range(len(parts))]

        def submit(shipped: Any, index: int) -> Any:
            return client.submit(
                backtest_chunk, shipped, data.name, firsts[index], parts[index], cash, fee, engine, window,
                key=f"mt-batch-{tag}-{index}-{uuid.uuid4().hex[:6]}", retries=RETRIES,
            )  # fmt: skip

        try:
            for results in ordered_results(data, submit, len(parts)):
                yield from results
        finally:
            data.release()
