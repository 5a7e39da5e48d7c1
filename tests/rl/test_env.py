"""The trading environment steps exactly as the fast engine backtests: a genome's own signals fed as
actions give the same trades and the same equity at every close; and it is deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("gymnasium")

from mastertrade.engine.backtest.fast import run_fast  # noqa: E402
from mastertrade.engine.backtest.params import OrderParams  # noqa: E402
from mastertrade.engine.market.sim import simulate  # noqa: E402
from mastertrade.engine.rl.env import TradingEnv  # noqa: E402
from mastertrade.engine.signals.evaluate import signals  # noqa: E402
from mastertrade.engine.signals.indicators import IndicatorCache  # noqa: E402
from mastertrade.engine.signals.model.actions import actions_from_signals  # noqa: E402
from mastertrade.engine.signals.random_genome import random_genome  # noqa: E402

END = 1_735_689_600_000


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return simulate("BTC/USDT", "1h", 1500, 3, end=END)


def drive(env: TradingEnv, actions: np.ndarray) -> TradingEnv:
    env.reset(seed=0)
    done = False
    while not done:
        _, _, done, _, _ = env.step(actions[env.bar])
    return env


def make_env(frame: pd.DataFrame, params: OrderParams, fee: float = 0.001) -> TradingEnv:
    prices = [frame[c].to_numpy() for c in ("open", "high", "low", "close")]
    return TradingEnv(*prices, np.zeros((len(frame), 1)), params, fee=fee)


@pytest.mark.parametrize("seed", range(12))
def test_genome_signals_as_actions_reproduce_the_fast_engine(frame: pd.DataFrame, seed: int) -> None:
    genome = random_genome(seed, stops=seed % 2 == 0)
    cache = IndicatorCache(frame)
    entries, exits = signals(genome, cache)
    params = OrderParams(genome.stop_loss, genome.take_profit, genome.trailing_stop, genome.size)
    expected = run_fast(frame, entries, exits, params)
    env = drive(make_env(frame, params), actions_from_signals(entries, exits))

    np.testing.assert_allclose(env.equity, expected.equity, rtol=1e-9, atol=0)
    got, want = env.trade_log(), expected.trades
    assert len(got) == len(want)
    np.testing.assert_array_equal(got.entry_bar, want.entry_bar)
    np.testing.assert_array_equal(got.exit_bar, want.exit_bar)
    np.testing.assert_array_equal(got.reason, want.reason)
    np.testing.assert_allclose(got.entry_price, want.entry_price, rtol=1e-12)
    np.testing.assert_allclose(got.exit_price, want.exit_price, rtol=1e-12)
    np.testing.assert_allclose(got.size, want.size, rtol=1e-12)
    np.testing.assert_allclose(got.pnl, want.pnl, rtol=1e-9, atol=1e-9)


def test_every_stop_kind_and_partial_size_is_covered(frame: pd.DataFrame) -> None:
    """Alternate entries and exits with all three stops and a partial size: every exit reason occurs
    and the environment still matches the engine."""
    rng = np.random.default_rng(7)
    entries = rng.random(len(frame)) < 0.2
    exits = rng.random(len(frame)) < 0.05
    for params in (
        OrderParams(stop_loss=0.01, take_profit=0.015, size=0.5),
        OrderParams(trailing_stop=0.01, take_profit=0.03),
    ):
        expected = run_fast(frame, entries, exits, params, fee=0.002)
        env = drive(make_env(frame, params, fee=0.002), actions_from_signals(entries, exits))
        np.testing.assert_allclose(env.equity, expected.equity, rtol=1e-9, atol=0)
        np.testing.assert_array_equal(env.trade_log().reason, expected.trades.reason)
        np.testing.assert_array_equal(env.trade_log().exit_bar, expected.trades.exit_bar)
        assert len(set(expected.trades.reason.tolist())) >= 3


def test_rewards_are_the_log_changes_of_marked_equity(frame: pd.DataFrame) -> None:
    env = make_env(frame, OrderParams())
    env.reset(seed=0)
    rng = np.random.default_rng(1)
    total = 0.0
    done = False
    while not done:
        _, reward, done, _, _ = env.step(int(rng.integers(0, 3)))
        total += reward
    assert total == pytest.approx(np.log(env.equity[-1] / env.equity[0]), rel=1e-9)


def test_episodes_are_deterministic_given_a_seed(frame: pd.DataFrame) -> None:
    def run(seed: int) -> tuple[list[int], list[float]]:
        prices = [frame[c].to_numpy() for c in ("open", "high", "low", "close")]
        env = TradingEnv(*prices, np.arange(len(frame))[:, None], episode_bars=200)
        starts, rewards = [], []
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        for _ in range(3):
            obs, _ = env.reset()
            starts.append(int(obs[0]))
            done = False
            while not done:
                _, reward, done, _, _ = env.step(int(rng.integers(0, 3)))
                rewards.append(reward)
        return starts, rewards

    assert run(5) == run(5)
    assert run(5)[0] != run(6)[0]


def test_a_bad_range_is_refused(frame: pd.DataFrame) -> None:
    from mastertrade.errors import UserInputError

    prices = [frame[c].to_numpy() for c in ("open", "high", "low", "close")]
    with pytest.raises(UserInputError, match="episode_bars"):
        TradingEnv(*prices, np.zeros((len(frame), 1)), episode_bars=5000)
