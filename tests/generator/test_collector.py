"""The garbage collector during a search: off, young generations collected once per generation, back
as it was afterwards (nested and concurrent pauses included)."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator, Sequence

import pytest

from mastertrade.engine.generator.collector import CollectorPause
from mastertrade.engine.generator.evaluation import Problem, Score, Scorer, Timings
from mastertrade.engine.generator.executor_base import Executor
from mastertrade.engine.generator.search import Search, SearchConfig
from mastertrade.engine.signals.genome import Genome


class Node:
    """An object in a reference cycle, which only the cyclic collector frees."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after(collector_on: None) -> None:
    with CollectorPause():
        assert not gc.isenabled()
        with CollectorPause():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still runs
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        with CollectorPause():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_concurrent_pauses_end_with_the_last_one(collector_on: None) -> None:
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with CollectorPause():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    assert inside.wait(10)
    with CollectorPause():
        pass
    assert not gc.isenabled()  # the other thread's pause is still on
    release.set()
    thread.join(10)
    assert gc.isenabled()


def test_a_generation_frees_its_garbage_cycles(collector_on: None) -> None:
    with CollectorPause() as pause:
        node = Node()
        gone = weakref.ref(node)
        del node
        assert gone() is not None  # the automatic collector is off: the cycle is still there
        pause.generation_done()
        assert gone() is None


class CycleMakingExecutor(Executor):
    """Scores through a Scorer and leaves a garbage cycle behind each batch; records whether the
    collector was on while it scored."""

    def __init__(self, problem: Problem) -> None:
        self.workers = 1
        self.scorer = Scorer(problem)
        self.cycles: list[weakref.ref[Node]] = []
        self.collector_on: list[bool] = []

    def map(self, genomes: Sequence[Genome], *, detail: bool = False) -> list[Score]:
        self.collector_on.append(gc.isenabled())
        self.cycles.append(weakref.ref(Node()))
        return self.scorer.score(genomes, detail=detail)

    def timings(self) -> Timings:
        return self.scorer.timings

    def close(self) -> None:
        pass


def test_a_search_pauses_the_collector_and_frees_each_generations_cycles(
    problem: Problem, collector_on: None
) -> None:
    executor = CycleMakingExecutor(problem)
    result = Search(
        SearchConfig("BTC/USDT", "1h", seed=3, count=30, population=8, generations=2, min_trades=1),
        executor,
    ).run()
    assert result.generations >= 2
    assert executor.collector_on and not any(executor.collector_on)
    assert all(cycle() is None for cycle in executor.cycles)  # every generation's, the last one's too
    assert gc.isenabled()
