"""A cancelled training (Ctrl-C on `mt ml train`, a daemon stopping its job) stops at its next
retraining and stores nothing, instead of training on to the end in its worker thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mastertrade.engine.ml.stoppable import running
from tests.conftest import MT

pytest.importorskip("lightgbm")


@pytest.fixture
def candles(mt: MT) -> None:
    assert mt("data", "sim", "BTC/USDT", "--bars", "300", "--seed", "3").exit_code == 0


async def test_a_cancelled_walk_forward_stops_at_its_next_retraining(
    database: Any, candles: None, tmp_path: Path
) -> None:
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.ml.models import ModelConfig
    from mastertrade.engine.ml.trainer import TrainRequest, train
    from mastertrade.engine.ml.trainer import stored_predictions as stored

    request = TrainRequest(
        "lightgbm", "BTC/USDT", "1h", train_bars=40, retrain_every=5, config=ModelConfig(window=4)
    )
    loop = asyncio.get_running_loop()
    reached = asyncio.Event()
    cancelled = threading.Event()
    calls: list[int] = []

    def progress(done: int, total: int, message: str) -> None:
        calls.append(done)
        if len(calls) == 1:  # hold the worker at its first retraining until the caller is cancelled
            loop.call_soon_threadsafe(reached.set)
            assert cancelled.wait(30)

    store = ArtifactStore(tmp_path / "models")
    strategies = StrategyStore(database)
    task = asyncio.create_task(
        train(database, request, strategies=strategies, store=store, progress=progress)
    )
    await asyncio.wait([task, asyncio.ensure_future(reached.wait())], return_when=asyncio.FIRST_COMPLETED)
    assert not task.done(), task.exception()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    cancelled.set()
    for thread in running():  # the worker thread has ended
        await asyncio.to_thread(thread.join, 60)
    assert not running()

    assert calls == [0]  # before: every one of the ~50 retrainings ran after the cancellation
    assert store.list() == []
    key = await CandleStore(database).resolve("BTC/USDT", "1h")
    frame = await CandleStore(database).read(key)
    assert np.isnan(await stored(database, "lightgbm", key, 1, frame)).all()  # no forecast published
