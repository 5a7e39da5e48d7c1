"""Ctrl-C while a run starts its own LocalCluster: the cluster is closed and the interrupt goes on, so
`mt` says "interrupted" and nothing more. Before, the half-started cluster was left to dask's exit hook,
which failed on a worker still starting and printed a traceback ("AssertionError: Status.init") after
"mt: error: interrupted"."""

from __future__ import annotations

import os
import signal
import threading

import pytest


def test_ctrl_c_while_our_local_cluster_starts_closes_it_and_interrupts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("distributed")
    import distributed
    from distributed.core import Status

    from mastertrade.engine.generator.cluster import Session

    started: list[object] = []
    real = distributed.LocalCluster

    class Recorded(real):  # type: ignore[misc,valid-type]  # distributed is untyped
        def __init__(self, *args: object, **kwargs: object) -> None:
            started.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(distributed, "LocalCluster", Recorded)
    # Ctrl-C a moment after the start began: spawning the worker processes takes seconds
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            Session(None, 1)
    finally:
        timer.cancel()
    assert started, "no cluster was starting when Ctrl-C came"
    assert all(cluster.status == Status.closed for cluster in started)  # type: ignore[attr-defined]
