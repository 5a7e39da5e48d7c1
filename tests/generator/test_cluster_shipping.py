"""A worker that dies while a run ships its problem to the cluster: the run finishes and the scheduler
keeps serving. On its own small LocalCluster (two worker processes on 127.0.0.1), because the failure
it guards against left the scheduler unable to serve any later run."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from mastertrade.engine.generator.evaluation import Problem, Scorer
from tests.generator.test_cluster import genomes, same

pytest.importorskip("distributed")

from distributed import WorkerPlugin  # noqa: E402

from mastertrade.engine.generator.cluster import DaskExecutor  # noqa: E402

RUN_LIMIT_S = 60.0
"""A run of a few dozen genomes takes seconds on two workers; past this it hangs."""


class DieOnTheSecondCopy(WorkerPlugin):  # type: ignore[misc]  # distributed is untyped
    """Kills the worker process that is the second to hold a run's problem (once, across the cluster):
    a worker lost while the problem spreads from the first holder to the others."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        if finish != "memory" or not str(key).startswith("Problem-"):
            return
        for marker in ("first-copy", "killed"):
            try:
                os.close(os.open(os.path.join(self.folder, marker), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                continue
            if marker == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            return


def run_within_limit(problem: Problem, scheduler: str, batch: list[Any]) -> list[Any]:
    """``batch`` scored on the cluster, failing the test when the run does not end in time."""
    found: dict[str, Any] = {}

    def work() -> None:
        with DaskExecutor(problem, scheduler=scheduler, chunk=2) as executor:
            found["scores"] = executor.map(batch)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(RUN_LIMIT_S)
    assert not thread.is_alive(), f"the run still waits after {RUN_LIMIT_S:g} s"
    assert "scores" in found, "the run failed"
    return list(found["scores"])


def test_a_worker_dying_while_the_problem_spreads_neither_hangs_the_run_nor_the_scheduler(
    tmp_path: Path, problem: Problem
) -> None:
    from distributed import Client, LocalCluster

    batch = genomes(40, seed=5)
    expected = Scorer(problem).score(batch)
    local = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,  # the killed worker's nanny reports it: expected here
    )
    try:
        with Client(local, set_as_default=False) as client:
            client.register_plugin(DieOnTheSecondCopy(str(tmp_path)))
        assert same(run_within_limit(problem, local.scheduler_address, batch), expected)
        assert (tmp_path / "killed").exists(), "no worker died receiving the problem"
        # the next run on the same scheduler (a universe's next series, tomorrow's nightly job)
        assert same(run_within_limit(problem, local.scheduler_address, batch[:8]), expected[:8])
    finally:
        with contextlib.suppress(TimeoutError):  # a scheduler left stuck cannot close: the test failed
            local.close(timeout=20)
