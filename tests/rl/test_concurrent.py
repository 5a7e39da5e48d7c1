"""Two `mt rl train` of one series at once: the one scored second counts the other among its trials.
Before, each tallied the registry when its training began and reported N = 1 (the deflated Sharpe
ratio of a policy picked beside another, computed as if it were the only candidate)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MT

pytest.importorskip("skrl")
pytest.importorskip("flax")


@pytest.fixture
def candles(mt: MT) -> None:
    assert mt("data", "sim", "BTC/USDT", "--bars", "320", "--seed", "6").exit_code == 0


async def test_a_training_that_finished_meanwhile_is_counted(
    database: Any, candles: None, tmp_path: Path
) -> None:
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.config import load_settings
    from mastertrade.engine.rl.train import train_series

    settings = load_settings()
    store = ArtifactStore(tmp_path / "models")
    loop = asyncio.get_running_loop()
    first_started = asyncio.Event()
    second_done = threading.Event()

    def held(done: int, total: int) -> None:
        if done == total:  # the first training's last round: wait until the second one is recorded
            loop.call_soon_threadsafe(first_started.set)
            assert second_done.wait(120)

    def train(seed: int, progress: Any = None) -> Any:
        return train_series(
            database,
            settings,
            symbol="BTC/USDT",
            timeframe="1h",
            steps=64,
            seed=seed,
            store=store,
            progress=progress,
        )

    first = asyncio.create_task(train(1, held))
    await asyncio.wait(
        [first, asyncio.ensure_future(first_started.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    assert not first.done(), first.exception()
    second = await train(2)
    second_done.set()
    first_report = await first

    assert second["holdout"]["trials"] == 1
    assert first_report["holdout"]["trials"] == 2  # before: 1, as if the second had never been trained
