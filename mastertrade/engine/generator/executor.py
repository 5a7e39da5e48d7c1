"""The one interface through which the search scores genomes, and its local implementations.

The contract an implementation keeps (a Dask or Ray executor would keep the same one):

1. It is built with a :class:`~.evaluation.Problem` (candles, walk-forward windows, cash, fee: plain data
   that pickles) and ships it to each of its workers **once** (a Dask ``client.scatter``, a Ray
   ``ray.put``); each worker builds a :class:`~.evaluation.Scorer` from it once and keeps it, so the
   worker's indicator cache stays warm from batch to batch.
2. ``map(genomes, detail=...)`` returns one :class:`~.evaluation.Score` per genome, **in input order**.
   It may cut the batch into chunks, one per worker; a genome's score depends only on the problem and
   the genome, never on the chunk or the worker, so the search is deterministic whatever the worker
   count. Genomes (pydantic models) and scores (numpy arrays) pickle.
3. ``timings()`` sums the workers' time in indicators, signals and the kernel; ``close()`` releases them.

Local implementations:

- :class:`ThreadExecutor` (the default): one warm scorer in this process; the kernel runs every chunk
  on ``workers`` numba threads (``prange``) without the GIL. One backtest costs microseconds, less than
  shipping its signals to another process, so on one machine this beats a pool (NOTES-LIBRARIES.md).
- :class:`ProcessExecutor`: a pool of ``workers`` processes (spawned: this process runs numba threads),
  each with its own scorer, its own indicator cache and one numba thread, fed one chunk each. It spreads
  the indicator computations (pandas-ta, which holds the GIL) over cores at the price of computing each
  indicator once per process; it is the shape a cluster executor takes.

Nor does a helper process beside the threads pay. Measured on 2026-12-05 (quiet machine, a seed-1 search
with the ``--count 500`` settings, two interleaved rounds): one warm spawned process scoring the first half
of each generation while this process scored the rest on its threads took 0.69-0.74 s at five years of 1h
against 0.62-0.71 s with the threads alone, and at one year 0.32-0.36 s against 0.32-0.37 s. This process's
CPU fell by a third, but its threads had already kept both cores busy while scoring; what stays on one
core is breeding, which waits for the generation's scores either way.

The cluster implementation, :class:`~.cluster.DaskExecutor` (extra ``[cluster]``), lives in
:mod:`.cluster`; :func:`make_executor` builds any of them by name. The abstract :class:`Executor` is in
:mod:`.executor_base`, which the cluster module subclasses without importing this factory.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mastertrade.engine.generator.evaluation import Problem, Score, Scorer, Timings
from mastertrade.engine.generator.executor_base import Executor, ExecutorKind, default_workers

if TYPE_CHECKING:
    from mastertrade.engine.signals.genome import Genome


class ThreadExecutor(Executor):
    """One warm scorer in this process; the kernel on ``workers`` numba threads.

    Building one starts loading the compiled kernels on a thread (:meth:`.Scorer.load_kernels`): the
    search breeds its first generation meanwhile, and the first ``map`` waits for the loading to end. The
    thread is not a daemon: an executor left unclosed still has the interpreter wait for it at exit, as
    the preloading thread of ``pipeline.preload`` does (a daemon thread inside compiled code when
    finalisation begins can crash the process)."""

    def __init__(self, problem: Problem, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self.scorer = Scorer(problem, threads=self.workers)
        self._loading: threading.Thread | None = threading.Thread(target=self._load, name="mt-kernel-load")
        self._loading.start()

    def _load(self) -> None:
        try:
            self.scorer.load_kernels()
        except Exception:  # noqa: S110  (the first batch calls the same kernels and reports the error)
            pass

    def _loaded(self) -> None:
        if self._loading is not None:
            self._loading.join()
            self._loading = None

    def map(self, genomes: Sequence[Genome], *, detail: bool = False) -> list[Score]:
        self._loaded()
        return self.scorer.score(genomes, detail=detail)

    def close(self) -> None:
        self._loaded()

    def timings(self) -> Timings:
        return self.scorer.timings


# --- the process pool -----------------------------------------------------------------------------

# The scorer of a pool worker process, built once by the pool's initializer.
_scorer: Scorer | None = None


def _init_worker(problem: Problem) -> None:
    global _scorer
    import numba

    numba.set_num_threads(1)  # one process per core already
    _scorer = Scorer(problem, threads=1)


def _score_chunk(genomes: Sequence[Genome], detail: bool) -> tuple[list[Score], Timings]:
    assert _scorer is not None, "the pool initializer did not run"
    before = Timings()
    before.add(_scorer.timings)
    scores = _scorer.score(genomes, detail=detail)
    spent = Timings(
        _scorer.timings.indicators_s - before.indicators_s,
        _scorer.timings.signals_s - before.signals_s,
        _scorer.timings.kernel_s - before.kernel_s,
        _scorer.timings.scored - before.scored,
    )
    return scores, spent


class ProcessExecutor(Executor):
    """A pool of ``workers`` processes, each with its own warm scorer; a batch goes out in one chunk
    per worker."""

    def __init__(self, problem: Problem, workers: int | None = None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers or default_workers()
        problem.check()
        self._timings = Timings()
        # "spawn": the parent runs numba threads, and fork() with threads may deadlock.
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(problem,),
        )

    def map(self, genomes: Sequence[Genome], *, detail: bool = False) -> list[Score]:
        if not genomes:
            return []
        size = -(-len(genomes) // self.workers)
        chunks = [list(genomes[start : start + size]) for start in range(0, len(genomes), size)]
        scores: list[Score] = []
        for part, spent in self._pool.map(_score_chunk, chunks, [detail] * len(chunks)):
            scores.extend(part)
            self._timings.add(spent)
        return scores

    def timings(self) -> Timings:
        return self._timings

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def make_executor(
    kind: ExecutorKind | str, problem: Problem, workers: int | None = None, *, scheduler: str | None = None
) -> Executor:
    """The executor of ``kind`` ("threads", "processes" or "dask"; ``scheduler``: the dask scheduler's
    address, none for a LocalCluster on this machine)."""
    from mastertrade.errors import UserInputError

    if kind == "threads":
        return ThreadExecutor(problem, workers)
    if kind == "processes":
        return ProcessExecutor(problem, workers)
    if kind == "dask":
        from mastertrade.engine.generator.cluster import DaskExecutor

        return DaskExecutor(problem, workers, scheduler=scheduler)
    raise UserInputError(f"unknown executor {kind!r}: choose threads, processes or dask")


def describe(executor: Executor) -> dict[str, Any]:
    return {"executor": type(executor).__name__, "workers": executor.workers}
