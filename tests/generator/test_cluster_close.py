"""Closing the LocalCluster a run started for itself says nothing when a worker process has to be killed
on the way out: the run lost nothing, and a warning at the end of every run on a busy machine is noise."""

from __future__ import annotations

import logging

import pytest


def test_closing_our_local_cluster_keeps_the_nannys_kill_warning_quiet(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pytest.importorskip("distributed")
    from mastertrade.engine.generator.cluster import Session

    class Client:
        def close(self) -> None:
            pass

    class SlowCluster:  # a worker that did not exit in time: the nanny warns, then kills it
        def close(self) -> None:
            logging.getLogger("distributed.nanny").warning(
                "Worker process still alive after 4.0 seconds, killing"
            )
            logging.getLogger("distributed.nanny").error("a real failure")

    session = Session.__new__(Session)
    session.client, session.cluster = Client(), SlowCluster()
    with caplog.at_level(logging.WARNING):
        session.close()
    assert [record.getMessage() for record in caplog.records] == ["a real failure"]
    assert logging.getLogger("distributed.nanny").level != logging.ERROR  # restored
