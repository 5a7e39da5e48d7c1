"""The operator bandit: its Beta update and Thompson choice, its persistence per series, and a search
that uses it (deterministic given the seed and the starting state, and learning across runs)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from mastertrade.engine.generator.evaluation import Problem
from mastertrade.engine.generator.executor import ThreadExecutor
from mastertrade.engine.generator.operator_bandit import (
    CROSSOVER_RATES,
    HORIZON,
    Arm,
    OperatorBandit,
    state_path,
)
from mastertrade.engine.generator.search import Search, SearchConfig
from mastertrade.engine.generator.variation import MUTATIONS


def test_an_arm_counts_successes_and_failures_and_forgets_beyond_the_horizon() -> None:
    arm = Arm()
    assert arm.mean == 0.5
    arm.update(True)
    arm.update(True)
    arm.update(False)
    assert (arm.successes, arm.failures) == (2.0, 1.0)
    assert arm.mean == pytest.approx(3 / 5)
    for _ in range(int(HORIZON) * 2):
        arm.update(False)
    assert arm.successes + arm.failures == pytest.approx(HORIZON)
    assert arm.mean < 0.01


def test_rewards_go_to_the_arms_that_made_the_child() -> None:
    bandit = OperatorBandit()
    ticket = bandit.ticket(parent_fitness=0.5, rate=2)
    operator = bandit.chooser(ticket)(random.Random(1))
    assert operator in [op for _, op, _ in MUTATIONS]
    bandit.track(7, ticket)
    bandit.observe(7, 0.9)  # beats its parent
    chosen = ticket.mutation
    assert chosen is not None
    assert bandit.mutations[chosen].successes == 1.0
    assert bandit.rates[2].successes == 1.0
    other = bandit.ticket(parent_fitness=0.5, rate=0)
    bandit.track(8, other)
    bandit.observe(8, 0.1)  # worse than its parent; no mutation was applied
    assert bandit.rates[0].failures == 1.0
    assert sum(arm.failures for arm in bandit.mutations.values()) == 0.0
    bandit.observe(99, 5.0)  # an unknown child is ignored
    assert sum(arm.successes for arm in bandit.mutations.values()) == 1.0


def test_thompson_sampling_prefers_the_arm_that_pays() -> None:
    bandit = OperatorBandit()
    for _ in range(40):
        bandit.mutations["swap"].update(True)
        bandit.mutations["param"].update(False)
    rng = random.Random(3)
    picks = []
    for _ in range(200):
        ticket = bandit.ticket(0.0, None)
        bandit.chooser(ticket)(rng)
        picks.append(ticket.mutation)
    assert picks.count("swap") > 150
    bandit.rates[1] = Arm(30, 0)
    bandit.rates[0] = bandit.rates[2] = Arm(0, 30)
    assert all(bandit.crossover_rate(rng) == (CROSSOVER_RATES[1], 1) for _ in range(20))


def test_a_swap_learns_which_indicator_to_bring_in() -> None:
    from mastertrade.engine.signals.builtins import BUILTINS

    bandit = OperatorBandit()
    for _ in range(60):
        bandit.swaps.setdefault("ema", Arm()).update(True)
    for name in ("sma", "bbands", "donchian", "vwma", "vwap", "close", "open", "high", "low"):
        bandit.swaps[name] = Arm(0, 60)
    bandit.mutations = {name: Arm(0, 60) for name in bandit.mutations} | {"swap": Arm(60, 0)}
    genome = BUILTINS["sma_cross"]
    brought = []
    for seed in range(20):
        ticket = bandit.ticket(0.0, None)
        rng = random.Random(seed)
        edited = bandit.chooser(ticket)(rng)(rng, genome.to_dict())
        assert ticket.mutation == "swap"
        if edited is not None:
            brought.append(ticket.swap)
            bandit.track(seed, ticket)
            bandit.observe(seed, 1.0)
    assert brought.count("ema") >= 15, brought
    assert bandit.swaps["ema"].successes > 60


def test_state_persists_per_series_and_bad_state_starts_fresh(tmp_path: Path) -> None:
    path = state_path(tmp_path, "BTC/USDT", "1h")
    assert path == tmp_path / "generator" / "operators" / "BTC_USDT_1h.json"
    assert state_path(tmp_path, "ETH/USDT", "1h") != path
    bandit = OperatorBandit.load(path)
    bandit.mutations["lag"].update(True)
    bandit.rates[0].update(False)
    bandit.swaps["rsi"] = Arm(2, 3)
    bandit.save()
    again = OperatorBandit.load(path)
    assert again.runs == 1
    assert (again.mutations["lag"].successes, again.rates[0].failures) == (1.0, 1.0)
    assert again.swaps == {"rsi": Arm(2, 3)}
    assert json.loads(path.read_text())["version"] == 1
    path.write_text("{not json")
    assert OperatorBandit.load(path).runs == 0


def test_a_bandit_search_is_reproducible_and_learns_across_runs(frame, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    problem = Problem(frame.iloc[:1200], folds=2)
    base = {"symbol": "BTC/USDT", "timeframe": "1h", "count": 30, "population": 16, "generations": 2}
    base |= {"min_trades": 3, "operator_policy": "bandit"}

    def run(state: Path) -> list[str]:
        config = SearchConfig(seed=4, operator_state=state, **base)  # type: ignore[arg-type]
        with ThreadExecutor(problem, workers=1) as executor:
            return [candidate.key for candidate in Search(config, executor).run().archive]

    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert run(first) == run(second)  # same seed, same (empty) starting state
    learned = OperatorBandit.load(first)
    assert learned.runs == 1
    evidence = sum(arm.successes + arm.failures for arm in learned.mutations.values())
    assert evidence > 0
    run(first)  # the next run starts from what the first learned
    assert OperatorBandit.load(first).runs == 2
    again = OperatorBandit.load(first)
    assert sum(arm.successes + arm.failures for arm in again.mutations.values()) > evidence
