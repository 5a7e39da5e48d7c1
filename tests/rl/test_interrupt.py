"""Ctrl-C on `mt rl train`: the training stops at its next round of steps and stores nothing. Before,
the worker thread trained on to the end while the command said "interrupted", then stored the policy
without recording it as a trial of the series."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from mastertrade.engine.ml.stoppable import running
from tests.conftest import MT

pytest.importorskip("skrl")
pytest.importorskip("flax")


@pytest.fixture
def candles(mt: MT) -> None:
    assert mt("data", "sim", "BTC/USDT", "--bars", "320", "--seed", "5").exit_code == 0


async def test_a_cancelled_training_stops_and_stores_no_policy(
    database: Any, candles: None, tmp_path: Path
) -> None:
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.config import load_settings
    from mastertrade.engine.generator.trials import TrialRegistry
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.rl.train import train_series

    loop = asyncio.get_running_loop()
    reached = asyncio.Event()
    cancelled = threading.Event()
    calls: list[int] = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 1:  # hold the worker after its first round until the caller is cancelled
            loop.call_soon_threadsafe(reached.set)
            assert cancelled.wait(60)

    store = ArtifactStore(tmp_path / "models")
    task = asyncio.create_task(
        train_series(
            database,
            load_settings(),
            symbol="BTC/USDT",
            timeframe="1h",
            steps=64,
            store=store,
            progress=progress,
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

    assert calls == [16]  # one round of 16 environments; before: all four rounds ran
    assert store.list() == []  # before: the interrupted policy was stored
    key = await CandleStore(database).resolve("BTC/USDT", "1h")
    assert (await TrialRegistry(database).tally(key, 0, 2**62)).trials == 0


STAND_IN = textwrap.dedent(
    """
    import sys, threading
    from mastertrade.cli.app import main
    from mastertrade.engine.rl import train

    def compiling(env, ppo, progress):
        # JAX compiling the first step (20 s under load): no round ends, so no check is called
        print("compiling", file=sys.stderr, flush=True)
        threading.Event().wait(300)
        raise AssertionError("the compile ended before the command did")

    train.train_ppo = compiling
    sys.argv = ["mt", *sys.argv[1:]]
    main()
    """
)


def test_ctrl_c_while_jax_compiles_ends_the_command_at_once(mt: MT, candles: None) -> None:
    command = [sys.executable, "-c", STAND_IN, "rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as training:
        try:
            assert training.stderr is not None
            assert training.stderr.readline() == "compiling\n"
            training.send_signal(signal.SIGINT)
            out, err = training.communicate(timeout=90)  # before: it waited for the compile to end
        finally:
            training.kill()
    assert training.returncode == 130
    assert out == "" and err == "mt: error: interrupted\n"
    assert mt.json("rl", "list") == []  # nothing stored
