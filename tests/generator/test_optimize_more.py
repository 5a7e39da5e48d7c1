"""``mt optimize`` beyond a genome's numbers: a plugin's declared parameters tuned with Optuna, and a
genome's structure evolved from it as the seed (``--evolve``), under the same hold-out and trial registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mastertrade.engine.generator.evaluation import Problem
from mastertrade.engine.generator.executor import ThreadExecutor
from mastertrade.engine.generator.search import Search, SearchConfig
from mastertrade.engine.generator.variation import genome_key, named
from mastertrade.engine.signals.builtins import BUILTINS
from mastertrade.engine.signals.genome import IndicatorTerm, terms
from mastertrade.engine.signals.plugins import Parameter, StrategyPlugin, check_settings
from mastertrade.errors import OperationFailed
from tests.conftest import MT
from tests.generator.test_optimize import SIM

ARGS = ("--symbol", "BTC-EDGE/USDT", "--timeframe", "1d")


def indicators(genome: Any) -> set[str]:
    return {term.ind for term in terms(genome) if isinstance(term, IndicatorTerm)}


def test_a_seeded_search_starts_from_the_seed_and_mutations_of_it(problem: Problem) -> None:
    seed = BUILTINS["rsi_reversion"].bind("BTC/USDT", "1h")
    config = SearchConfig(
        symbol="BTC/USDT", timeframe="1h", seed=3, count=10, population=16, generations=1, min_trades=3
    )
    with ThreadExecutor(problem, workers=1) as executor:
        first = Search(config, executor, seeds=[seed]).run()
        again = Search(config, executor, seeds=[seed]).run()
        unseeded = Search(config, executor).run()
    start = [c for c in first.archive if c.generation == 0]
    assert start[0].origin == "seed" and start[0].key == genome_key(named(seed))
    assert all(c.origin == "seed mutation" and c.key != start[0].key for c in start[1:])
    assert len(start) >= 8  # behavioural duplicates aside, the first generation is the seed's family
    # the family keeps the seed's indicator far more often than random genomes happen to use it
    family = np.mean(["rsi" in indicators(c.genome) for c in start])
    random_ = np.mean(["rsi" in indicators(c.genome) for c in unseeded.archive if c.generation == 0])
    assert family >= 0.75 and family > random_, (family, random_)
    assert [c.key for c in again.archive] == [c.key for c in first.archive]  # deterministic
    # what is already stored is not scored again, the seed included
    stored = {c.key for c in first.archive}
    later = Search(config, ThreadExecutor(problem, workers=1), seen=stored, seeds=[seed]).run()
    assert not {c.key for c in later.archive} & stored


def test_evolve_stores_and_reports_like_generate_and_counts_its_trials(mt: MT) -> None:
    assert mt(*SIM).exit_code == 0
    small = ("--count", "6", "--population", "8", "--generations", "1", "--seed", "2")
    doc = mt.json("optimize", "rsi_reversion", *ARGS, "--evolve", *small)
    assert doc["counts"]["stored"] == 6 and doc["data"]["holdout"]["bars"] == 300
    assert doc["selection"]["deflated_trials"]["trials"] == doc["counts"]["distinct"]
    paths = [mt.json("strategy", "show", row["id"])["history"] for row in doc["strategies"]]
    assert any("seed" in step["reason"] for history in paths for step in history)
    for row in doc["strategies"]:
        assert row["holdout_sharpe"] is None or row["state"] in ("passed", "failed")
    # a later Optuna tuning on the same bars is charged for the evolved candidates too
    tuned = mt.json("optimize", "rsi_reversion", *ARGS, "--trials", "4")
    counted = tuned["deflated_trials"]
    assert counted["trials"] == doc["counts"]["distinct"] + tuned["distinct_trials"]
    assert counted["batches"] == 2


def test_evolve_bad_input(mt: MT, tmp_path: Path) -> None:
    assert mt(*SIM).exit_code == 0
    cases = {
        ("vol_momentum", "--evolve"): "mt: error: strategy 'vol_momentum' is a plugin, not a genome:",
        ("rsi_reversion", "--evolve", "--trials", "5"): "mt: error: --trials tunes parameters",
        ("rsi_reversion", "--population", "8"): "mt: error: --population 8 applies to --evolve only",
        ("rsi_reversion", "--evolve", "--out", str(tmp_path / "x.json")): "mt: error: --out",
    }
    for args, message in cases.items():
        result = mt("optimize", *args, *ARGS)
        assert result.exit_code == 2 and result.stderr.startswith(message), (args, result.stderr)
    assert not (tmp_path / "x.json").exists()


def test_the_example_plugin_declares_its_parameters() -> None:
    from mastertrade.engine.signals.plugins import load_plugin

    plugin = load_plugin("vol_momentum")
    declared = {param.name: param for param in plugin.parameters}
    assert {"momentum_length", "volatility_length", "median_window", "spike", "stop_loss"} <= set(declared)
    for param in plugin.parameters:
        assert param.problem() is None and getattr(plugin, param.name) == param.default
    tuned = plugin.tuned({"momentum_length": 10, "spike": 2.0})
    assert (tuned.momentum_length, tuned.spike) == (10, 2.0)  # type: ignore[attr-defined]
    assert plugin.momentum_length == 24  # type: ignore[attr-defined]  (the original is untouched)
    with pytest.raises(ValueError, match="outside"):
        plugin.tuned({"momentum_length": 500})
    with pytest.raises(ValueError, match="not declared"):
        plugin.tuned({"size": 0.5})


class _Declared(StrategyPlugin):
    length = 10
    mode = "fast"

    def signals(self, cache: Any) -> tuple[Any, Any]:  # never traded here: only its declarations are read
        never = np.zeros(0, dtype=bool)
        return never, never


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        ((Parameter("length", "int", 10, 20, 5),), "needs a range low <= high"),
        ((Parameter("length", "int", 10, 1, 5),), "outside"),
        ((Parameter("length", "int", 11, 1, 50),), "not the attribute's value"),
        ((Parameter("length", "int", 10, 1.5, 50),), "non-integer bound"),
        ((Parameter("mode", "choice", "slow", choices=("fast",)),), "not one of its choices"),
        ((Parameter("length", "int", 10, 1, 50), Parameter("length", "int", 10, 1, 50)), "twice"),
    ],
)
def test_a_bad_declaration_is_refused_when_the_plugin_loads(parameters: Any, problem: str) -> None:
    plugin = type("Bad", (_Declared,), {"parameters": parameters})()
    with pytest.raises(OperationFailed, match=problem):
        check_settings("bad", plugin)


def test_optimize_tunes_a_plugins_declared_parameters(mt: MT, tmp_path: Path) -> None:
    assert mt(*SIM).exit_code == 0
    out = tmp_path / "best.json"
    args = ("optimize", "vol_momentum", *ARGS, "--trials", "6", "--seed", "1")
    doc = mt.json(*args, "--param", "momentum_length", "--param", "spike", "--out", str(out))
    assert doc["kind"] == "plugin" and doc["tuned"] == ["momentum_length", "spike"]
    assert doc["original"]["parameters"]["momentum_length"] == 24
    best = doc["best"]["parameters"]
    assert 5 <= best["momentum_length"] <= 60 and 1.1 <= best["spike"] <= 3.0
    assert best["median_window"] == 100  # not tuned: left at its default
    assert doc["search_window"]["end"] < doc["holdout"]["start"]
    assert doc["best"]["holdout"]["window"] == "holdout"
    # every trial set different values: six distinct strategies, each scored and counted
    assert doc["deflated_trials"]["trials"] == doc["distinct_trials"] == 6
    assert doc["deflated_trials"]["variance_source"] == "observed"
    # the same tuning again tries the same six: they were counted already
    again = mt.json(*args, "--param", "momentum_length", "--param", "spike")["deflated_trials"]
    assert again["trials"] == 6 and again["this_run"] == 0 and again["counted_before"] == 6
    assert {p["name"] for p in doc["declared"]} >= {"momentum_length", "spike"}
    assert json.loads(out.read_text()) == {"plugin": "vol_momentum", "parameters": best}
    # the hold-out figures are a plain backtest of the plugin with those values on the hold-out bars
    from mastertrade.engine.backtest.runner import backtest
    from mastertrade.engine.generator.holdout import holdout_start
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.signals.plugins import load_plugin
    from mastertrade.engine.signals.strategy import Strategy

    frame = simulate("BTC-EDGE/USDT", "1d", 1200, 11, end=1_735_689_600_000)
    holdout = frame.iloc[holdout_start(len(frame), 0.25) :]
    strategy = Strategy.from_plugin("vol_momentum", load_plugin("vol_momentum").tuned(best))
    plain = backtest(strategy, holdout, cash=10_000.0, fee=0.001).metrics()
    assert plain["trades"] == doc["best"]["holdout"]["trades"]
    assert plain["sharpe"] == pytest.approx(doc["best"]["holdout"]["sharpe"], rel=1e-12, nan_ok=True)


def test_optimize_refuses_undeclared_or_non_numeric_parameters(mt: MT, monkeypatch: Any) -> None:
    assert mt(*SIM).exit_code == 0
    result = mt("optimize", "vol_momentum", *ARGS, "--param", "size")
    assert result.exit_code == 2
    assert result.stderr.startswith("mt: error: invalid --param 'size': 'vol_momentum' declares no such")
    result = mt("optimize", "rsi_reversion", *ARGS, "--param", "length")
    assert result.exit_code == 2 and "invalid --param 'length'" in result.stderr
    for bad, why in (("", "empty name"), (" ", "empty name"), ("momentum_length,,", "one name per --param")):
        result = mt("optimize", "vol_momentum", *ARGS, "--param", bad)
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr.startswith(f"mt: error: invalid --param {bad!r}: {why}"), result.stderr
        assert len(result.stderr.splitlines()) == 1
    # a declared bool is documented but not tuned
    from mastertrade_example_strategy import VolatilityMomentum

    flag = Parameter("calm_filter", "bool", True)
    monkeypatch.setattr(VolatilityMomentum, "calm_filter", True, raising=False)
    monkeypatch.setattr(VolatilityMomentum, "parameters", (*VolatilityMomentum.parameters, flag))
    result = mt("optimize", "vol_momentum", *ARGS, "--param", "calm_filter")
    assert result.exit_code == 2
    assert result.stderr == (
        "mt: error: invalid --param 'calm_filter': parameter of 'vol_momentum' is bool;"
        " only int and float parameters are tuned\n"
    )
    monkeypatch.setattr(VolatilityMomentum, "parameters", (flag,))
    result = mt("optimize", "vol_momentum", *ARGS)
    assert result.exit_code == 2 and "declares no int or float parameter" in result.stderr
