"""The Dask executor: generation and batch backtests on a ``distributed`` cluster (extra ``[cluster]``).

It keeps the executor contract of :mod:`.executor`:

1. **The problem crosses the wire once.** :class:`DaskExecutor` scatters the :class:`~.evaluation.Problem`
   (candles, walk-forward windows, cash, fee) to the cluster once (``client.scatter``, to one worker); a
   task names it by its key, and a worker without a copy fetches one from a peer (dask's own transfer)
   the first time it runs such a task. Not ``broadcast=True``: the scheduler's replication behind it
   keeps trying to reach a worker that died while it ran, forever, and holds a lock that every later
   broadcast and graceful worker retirement waits for: one worker lost at the wrong moment hung that run
   and every later run on the scheduler. (Dask's active memory manager drops the extra replicas of a
   broadcast a few seconds later anyway.) Each worker process builds one
   :class:`~.evaluation.Scorer` per problem the first time a task needs it and keeps it (a small LRU,
   :data:`KEEP_PROBLEMS`), so its indicator cache stays warm from batch to batch and generation to
   generation. Per batch, only genomes go out (a few hundred bytes each, pickled pydantic models) and
   scores come back (a small float64 array per genome).
2. **Input order, whatever the cluster.** ``map`` cuts a batch into chunks, submits one task per chunk and
   gathers the futures in submission order. A score depends only on the problem and the genome, so the
   search gives the same strategies for one worker or sixty-four.
3. **No result is lost.** When a worker dies, the scheduler reruns the tasks it held on another worker
   (up to ``distributed.scheduler.allowed-failures`` times), which fetches the problem from a peer.
   Should every copy be lost (the workers that held it all died), the tasks waiting on it are cancelled
   by the scheduler: :func:`ordered_results` then ships the problem again and resubmits every unfinished
   task. It waits for every future (it never skips one), and gives each task :data:`RETRIES` retries for
   an exception raised in it.

:func:`session` opens (or reuses) a client: to ``tcp://HOST:PORT`` of a running ``dask scheduler``, or,
with no address, to a ``distributed.LocalCluster`` of worker processes on 127.0.0.1 of this machine.
Sessions are shared by address within one process, so a universe run (many series at once, see
:mod:`.universe`) sends the batches of every series to one cluster as one workload.

A worker should run one thread (``dask worker --nthreads 1``; the LocalCluster does): a backtest costs
microseconds in the numba kernel, and a worker's scorer serves one task at a time (its indicator cache
is not shared across threads), so a second thread in one worker process only waits.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mastertrade.engine.generator.cluster_address import handshake, probe, require_dask
from mastertrade.engine.generator.evaluation import Problem, Score, Scorer, Timings
from mastertrade.engine.generator.executor_base import Executor
from mastertrade.errors import OperationFailed, UserInputError

if TYPE_CHECKING:
    from mastertrade.engine.signals.genome import Genome

# distributed ships without complete annotations: its client and futures are handled as Any here
Client = Any
Future = Any

log = logging.getLogger(__name__)

RETRIES = 2
"""Retries of a task that raised (a worker that died is handled by the scheduler, not by these)."""
KEEP_PROBLEMS = 8
"""Warm scorers a worker process keeps (one per problem: series and walk-forward split)."""
CHUNKS_PER_WORKER = 2
"""Tasks per worker thread and batch: enough to even out uneven chunks, few enough that the per-task
overhead (about a millisecond of scheduling and pickling) stays small against the chunk's work."""
MIN_CHUNK = 16
"""Fewest genomes a task gets when a batch is cut by worker count: below that, the scheduler's cost per
task (milliseconds) outweighs the work (a few hundred microseconds to a few milliseconds a genome)."""
CONNECT_TIMEOUT_S = 20


def task_count(items: int, threads: int) -> int:
    """How many tasks a batch of ``items`` becomes on a cluster of ``threads`` worker threads."""
    return max(1, min(threads * CHUNKS_PER_WORKER, -(-items // MIN_CHUNK)))


# --- sessions: one client per scheduler address and process ------------------------------------------


class Session:
    """A dask client, and the LocalCluster it owns when no scheduler address was given."""

    def __init__(self, scheduler: str | None, workers: int | None) -> None:
        require_dask()
        import distributed

        dask: Any = distributed  # untyped library: handled as Any

        # the scheduler's and workers' chatter (workers joining, leaving, closing) is not the user's news
        for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker"):
            logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger(name).level))

        self.cluster: Any = None
        if scheduler is None:
            with _ctrl_c_deferred() as interrupted:
                self.cluster = dask.LocalCluster(
                    n_workers=workers or max(1, os.cpu_count() or 1),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=":0",  # a free port: never collides with another cluster on 8787
                    silence_logs=logging.WARNING,
                )
            if interrupted:
                self.cluster.close()
                raise KeyboardInterrupt
            address: Any = self.cluster
        else:
            probe(scheduler)  # a refused or unknown address fails now, not after the client's timeout
            handshake(scheduler)  # another service on that port fails now, not by hanging or a traceback
            address = scheduler
        try:
            self.client: Any = dask.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            if self.cluster is not None:
                self.cluster.close()
            raise OperationFailed(f"cannot reach the dask scheduler at {scheduler}: {exc}") from None
        self.address = str(self.client.scheduler.address)

    def threads(self) -> int:
        """Worker threads the cluster has now (at least 1, to cut batches before workers join)."""
        counts: dict[str, int] = self.client.nthreads()
        return max(1, sum(counts.values()))

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            # Our own LocalCluster, its work done: a worker process slow to exit on a busy machine is
            # killed, and the nanny's warning about it ("still alive after 4.0 seconds, killing") is
            # not the user's news at the end of a run that lost nothing.
            nanny = logging.getLogger("distributed.nanny")
            level = nanny.level
            nanny.setLevel(logging.ERROR)
            try:
                self.cluster.close()
            finally:
                nanny.setLevel(level)


@contextmanager
def _ctrl_c_deferred() -> Iterator[list[bool]]:
    """Hold a Ctrl-C back until the block ends (the list it yields then holds True): a LocalCluster
    interrupted while it starts is left half-built to dask's exit hook, which fails on a worker still
    starting and prints a traceback after ``mt: error: interrupted``. Only the main thread receives
    signals; elsewhere the block runs as it is."""
    import signal

    interrupted: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


_sessions: dict[str | None, tuple[Session, int]] = {}
_sessions_lock = threading.Lock()


@contextmanager
def session(scheduler: str | None = None, workers: int | None = None) -> Iterator[Session]:
    """A client to ``scheduler`` (or to a LocalCluster of ``workers`` processes), shared with every other
    ``session`` open in this process for the same address, closed when the last one ends."""
    with _sessions_lock:
        found = _sessions.get(scheduler)
        if found is None:
            found = (Session(scheduler, workers), 0)
        current = found[0]
        _sessions[scheduler] = (current, found[1] + 1)
    try:
        yield current
    finally:
        with _sessions_lock:
            users = _sessions[scheduler][1] - 1
            if users:
                _sessions[scheduler] = (current, users)
            else:
                del _sessions[scheduler]
                current.close()


# --- shipping data once, and getting every result back -------------------------------------------------

MAX_RESHIPS = 5
"""Times a run ships its data again after the cluster lost every copy (all workers holding it died)."""


class Shipped:
    """A value scattered to the cluster (to one worker; the others fetch it from a peer when a task needs
    it: see the module docstring on why not ``broadcast``). ``name`` stays the same when it is shipped
    again, so the workers' caches keyed by it stay valid."""

    def __init__(self, client: Client, value: Any, name: str) -> None:
        self.client, self.value, self.name = client, value, name
        self.future: Future | None = None
        self.ship()

    def ship(self) -> None:
        if self.future is not None:
            self.future.release()
        # in a list: scatter() would otherwise ship a tuple's (or a list's) items one by one
        self.future = self.client.scatter([self.value], hash=False)[0]

    def release(self) -> None:
        if self.future is not None:
            self.future.release()
            self.future = None


def ordered_results(shipped: Shipped, submit: Callable[[Future, int], Future], count: int) -> Iterator[Any]:
    """The results of ``count`` tasks (``submit(data, index)`` makes task ``index`` on the shipped data),
    in index order, each as soon as it and those before it are done.

    A task whose worker died is rerun by the scheduler. When the cluster lost every copy of the shipped
    data, the tasks waiting on it are cancelled: the data is shipped again and every unfinished task is
    submitted again (at most :data:`MAX_RESHIPS` times). An error raised inside a task (after its
    retries) is raised here; losing the scheduler is ``OperationFailed`` naming it (the client's own
    error named only a closed TCP stream)."""
    from distributed.comm.core import CommClosedError

    assert shipped.future is not None
    futures = [submit(shipped.future, index) for index in range(count)]
    reships = 0
    index = 0
    try:
        while index < count:
            try:
                result = futures[index].result()
            except CommClosedError as exc:  # the scheduler went away (stopped, crashed, the network)
                where = getattr(getattr(shipped.client, "scheduler", None), "address", "?")
                raise OperationFailed(f"lost the dask scheduler at {where} during the run ({exc})") from None
            except CancelledError as exc:
                reships += 1
                if reships > MAX_RESHIPS:
                    raise OperationFailed(f"the dask cluster kept losing the work's data: {exc}") from None
                log.warning("the dask cluster lost the data of a run (%s): shipping it again", exc)
                shipped.client.cancel(futures[index:])
                shipped.ship()
                assert shipped.future is not None
                futures[index:] = [submit(shipped.future, rest) for rest in range(index, count)]
                continue
            yield result
            index += 1
    finally:
        shipped.client.cancel(futures[index:])


# --- the worker side ----------------------------------------------------------------------------------

_scorers: OrderedDict[str, tuple[Scorer, threading.Lock]] = OrderedDict()
_scorers_lock = threading.Lock()


def _scorer(key: str, problem: Problem) -> tuple[Scorer, threading.Lock]:
    with _scorers_lock:
        found = _scorers.get(key)
        if found is None:
            found = (Scorer(problem, threads=1), threading.Lock())
            _scorers[key] = found
            while len(_scorers) > KEEP_PROBLEMS:
                _scorers.popitem(last=False)
        _scorers.move_to_end(key)
        return found


def score_chunk(
    problem: Problem, key: str, genomes: Sequence[Genome], detail: bool
) -> tuple[list[Score], Timings]:
    """A task: score ``genomes`` with this worker's warm scorer of the problem ``key``."""
    scorer, lock = _scorer(key, problem)
    with lock:
        before = Timings()
        before.add(scorer.timings)
        scores = scorer.score(genomes, detail=detail)
        now = scorer.timings
        spent = Timings(
            now.indicators_s - before.indicators_s,
            now.signals_s - before.signals_s,
            now.kernel_s - before.kernel_s,
            now.scored - before.scored,
        )
    return scores, spent


def chunks(items: Sequence[Any], parts: int) -> list[list[Any]]:
    """``items`` cut into at most ``parts`` consecutive chunks of nearly equal size, in order."""
    if not items:
        return []
    size = -(-len(items) // max(1, parts))
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


# --- the executor ---------------------------------------------------------------------------------------


class DaskExecutor(Executor):
    """Scores batches on a dask cluster (see the module docstring). ``workers`` caps the LocalCluster's
    processes when no ``scheduler`` is given; on a remote cluster the batch is cut for the worker threads
    the scheduler reports at each call. ``chunk`` fixes the genomes per task instead."""

    def __init__(
        self,
        problem: Problem,
        workers: int | None = None,
        *,
        scheduler: str | None = None,
        chunk: int | None = None,
    ) -> None:
        require_dask()
        if chunk is not None and chunk < 1:
            raise UserInputError(f"invalid chunk size {chunk}: must be >= 1")
        problem.check()
        self._context = session(scheduler, workers)
        self.session = self._context.__enter__()
        self.client = self.session.client
        self.workers = workers or self.session.threads()
        self.chunk = chunk
        self._timings = Timings()
        self._ids = itertools.count()
        self._tag = uuid.uuid4().hex[:12]
        try:
            self._problem: Shipped | None = Shipped(self.client, problem, f"problem-{self._tag}")
        except BaseException:
            self._context.__exit__(None, None, None)
            raise

    def map(self, genomes: Sequence[Genome], *, detail: bool = False) -> list[Score]:
        if not genomes:
            return []
        assert self._problem is not None, "the executor is closed"
        parts = chunks(
            genomes,
            -(-len(genomes) // self.chunk)
            if self.chunk is not None
            else task_count(len(genomes), self.session.threads()),
        )
        name = self._problem.name

        def submit(problem: Future, index: int) -> Future:
            return self.client.submit(
                score_chunk,
                problem,
                name,
                parts[index],
                detail,
                key=f"mt-score-{self._tag}-{next(self._ids)}",
                retries=RETRIES,
            )

        scores: list[Score] = []
        for part, spent in ordered_results(self._problem, submit, len(parts)):
            scores.extend(part)
            self._timings.add(spent)
        return scores

    def timings(self) -> Timings:
        return self._timings

    def close(self) -> None:
        if self._problem is None:
            return
        try:
            self._problem.release()
        finally:
            self._problem = None
            self._context.__exit__(None, None, None)
