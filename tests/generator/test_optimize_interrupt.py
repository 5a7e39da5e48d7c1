"""Ctrl-C on `mt optimize`: the tuning stops after the trial it is scoring and records nothing. Before,
the worker thread ran every remaining trial (minutes for a few thousand) while the command waited to say
"interrupted"."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from mastertrade.engine.ml.stoppable import running
from tests.conftest import MT
from tests.generator.test_optimize import SIM


@pytest.fixture
def candles(mt: MT) -> None:
    assert mt(*SIM).exit_code == 0


async def test_a_cancelled_tuning_stops_after_its_trial_and_records_no_trial(
    database: Any, candles: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mastertrade.config import load_settings
    from mastertrade.engine.generator import optimize as tuning
    from mastertrade.engine.generator.trials import TrialRegistry
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.signals.builtins import BUILTINS
    from mastertrade.engine.signals.strategy import Strategy

    loop = asyncio.get_running_loop()
    reached = asyncio.Event()
    cancelled = threading.Event()
    calls: list[int] = []
    score = tuning.Subject.score

    def held_score(self: Any, scorer: Any, candidate: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:  # hold the first trial until the caller is cancelled
            loop.call_soon_threadsafe(reached.set)
            assert cancelled.wait(60)
        return score(self, scorer, candidate)

    monkeypatch.setattr(tuning.Subject, "score", held_score)
    task = asyncio.create_task(
        tuning.optimize(
            database,
            load_settings(),
            Strategy.from_genome(BUILTINS["rsi_reversion"]),
            symbol="BTC-EDGE/USDT",
            timeframe="1d",
            trials=300,
        )
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

    assert len(calls) == 1  # before: all 300 trials ran after the cancellation
    key = await CandleStore(database).resolve("BTC-EDGE/USDT", "1d")
    assert (await TrialRegistry(database).tally(key, 0, 2**62)).trials == 0
