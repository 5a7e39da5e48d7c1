"""A policy artifact: stored in the one model-artifact format (content hash, training range, features,
library versions), refused clearly when incompatible, a first-format file refused with a message; and a
model strategy that resolves as ``model:<id>`` or an artifact folder, signals through the plugin
interface, and keeps the no-lookahead rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mastertrade.artifacts import ArtifactStore, IncompatibleArtifact
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.engine.signals.loader import load_strategy
from mastertrade.engine.signals.model.artifact import PAYLOAD, Policy, PolicyArtifact
from mastertrade.engine.signals.model.features import FEATURES
from mastertrade.engine.signals.model.policy import PolicyWeights
from mastertrade.engine.signals.model.store import find, load, save, stored
from mastertrade.errors import NotFound, UserInputError

END = 1_735_689_600_000
START = 1_704_067_200_000


def policy(seed: int = 0) -> Policy:
    rng = np.random.default_rng(seed)
    sizes = (len(FEATURES), 8, 3)
    layers = [
        {"kernel": rng.normal(0, 1, (a, b)), "bias": rng.normal(0, 0.1, b)}
        for a, b in zip(sizes, sizes[1:], strict=False)
    ]
    return Policy(
        features=FEATURES,
        mean=tuple([0.0] * len(FEATURES)),
        std=tuple([0.01] * (len(FEATURES) - 1) + [0.1]),
        weights=PolicyWeights.from_lists(layers),
        order={"stop_loss": 0.05},
    )


def artifact(seed: int = 0, store: ArtifactStore | None = None) -> PolicyArtifact:
    return save(
        policy(seed),
        exchange="sim",
        symbol="BTC/USDT",
        timeframe="1h",
        train_start=START,
        train_end=END,
        training={"start": "2024-01-01T00:00:00Z", "end": "2025-01-01T00:00:00Z", "bars": 1000, "steps": 10},
        evaluation={"return_pct": 1.5, "passed": False},
        store=store,
    )


def test_round_trip_keeps_the_weights_to_the_bit_and_the_hash(tmp_path: Path) -> None:
    original = artifact(store=ArtifactStore(tmp_path))
    assert original.artifact.path == tmp_path / "policy" / "ppo" / "sim_BTC-USDT_1h" / original.id
    loaded = load(original.artifact.path)
    assert loaded.id == original.id and len(loaded.id) == 16
    for (k1, b1), (k2, b2) in zip(loaded.policy.weights.layers, original.policy.weights.layers, strict=True):
        assert np.array_equal(k1, k2) and np.array_equal(b1, b2)
    manifest = json.loads((loaded.artifact.path / "manifest.json").read_text())
    assert manifest["kind"] == "policy" and manifest["features"] == list(FEATURES)
    assert (manifest["train_start"], manifest["train_end"]) == (START, END)
    assert set(manifest["libraries"]) >= {"numpy", "jax", "skrl", "mastertrade", "python"}
    assert loaded.evaluation == {"return_pct": 1.5, "passed": False}
    assert loaded.training["steps"] == 10
    # the same weights give the same version; other weights another
    assert artifact(store=ArtifactStore(tmp_path)).id == original.id
    assert artifact(1, store=ArtifactStore(tmp_path)).id != original.id
    assert {a.id for a in stored(ArtifactStore(tmp_path))} == {original.id, artifact(1).id}


def _edit(path: Path, name: str, change: dict) -> None:
    doc = json.loads((path / name).read_text())
    doc.update(change)
    (path / name).write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("manifest.json", {"format": 2}, "artifact format 2, this MasterTrade reads format 1"),
        ("manifest.json", {"libraries": {"numpy": "1.26.4"}}, "made with numpy 1.26.4"),
        (PAYLOAD, {"order": {"stop_loss": 0.5}}, "do not match the manifest's content hash"),
    ],
)
def test_an_incompatible_or_altered_artifact_fails_clearly(
    tmp_path: Path, name: str, change: dict, message: str
) -> None:
    path = artifact(store=ArtifactStore(tmp_path)).artifact.path
    _edit(path, name, change)
    with pytest.raises(IncompatibleArtifact, match=message):
        load(path)


def test_a_policy_of_another_feature_definition_is_refused(tmp_path: Path) -> None:
    from dataclasses import replace

    other = save(
        replace(policy(), feature_set="bars-v0"),
        exchange="sim",
        symbol="BTC/USDT",
        timeframe="1h",
        train_start=START,
        train_end=END,
        training={},
        evaluation={},
        store=ArtifactStore(tmp_path),
    )
    with pytest.raises(IncompatibleArtifact, match="trained on features 'bars-v0'.*mt rl train"):
        load(other.artifact.path)


def test_a_policy_of_the_first_format_is_refused_with_a_message(tmp_path: Path, mt: object) -> None:
    from mastertrade.locations import locations

    old = locations().data_dir / "models" / "rl" / "0123456789ab.json"
    old.parent.mkdir(parents=True)
    old.write_text(json.dumps({"format": "mastertrade.rl-policy", "format_version": 1}))
    for spec in ("model:0123456789ab", str(old)):
        with pytest.raises(
            IncompatibleArtifact, match="first single-file format.*retrain it with `mt rl train`"
        ):
            load_strategy(spec)
    result = mt("backtest", "model:0123", "--symbol", "BTC/USDT", "--timeframe", "1h")  # type: ignore[operator]
    assert result.exit_code == 2 and "retrain it with `mt rl train`" in result.stderr


def test_a_stored_model_resolves_as_a_strategy_and_backtests() -> None:
    from mastertrade.engine.backtest.runner import backtest

    kept = artifact()
    assert find(kept.id[:6]) == kept.artifact.path
    strategy = load_strategy(f"model:{kept.id[:6]}")
    assert strategy.source == "model" and strategy.name == f"model:{kept.id}"
    assert (strategy.symbol, strategy.timeframe, strategy.stop_loss) == ("BTC/USDT", "1h", 0.05)
    assert strategy.bind("ETH/USDT").source == "model"
    frame = simulate("BTC/USDT", "1h", 600, 2, end=END)
    entries, exits = strategy.signals(IndicatorCache(frame))
    assert entries.dtype == np.bool_ and entries.shape == (600,)
    assert not (entries[:17] | exits[:17]).any()  # warm-up
    assert entries.any() and exits.any()
    result = backtest(strategy, frame)
    assert len(result.trades) > 0


def test_an_artifact_folder_resolves_too(tmp_path: Path) -> None:
    path = artifact(1, store=ArtifactStore(tmp_path)).artifact.path
    assert load_strategy(str(path)).source == "model"
    assert load_strategy(str(path / "manifest.json")).source == "model"


def test_unknown_and_bad_model_ids_are_refused() -> None:
    artifact()
    with pytest.raises(NotFound, match="no stored model 'abcdef'"):
        load_strategy("model:abcdef")
    with pytest.raises(UserInputError, match="invalid model id 'x!'"):
        load_strategy("model:x!")


def test_a_forecast_models_id_is_named_as_a_forecast_model_not_as_missing() -> None:
    """Was: `mt strategy add model:<id>` (or `mt backtest`) of an id `mt ml list` shows, a forecast model,
    said "no stored model '<id>' in .../policy/ppo": the trader's stored model reported as absent."""
    forecast = ArtifactStore.default().save(
        "forecast",
        "lightgbm",
        {"exchange": "sim", "symbol": "BTC/USDT", "timeframe": "1h", "horizon": 3},
        lambda folder: (folder / "model.txt").write_text("trees"),
        libraries={"numpy": np.__version__},
    )
    expected = (
        f"model {forecast.version} is a forecast model \\(lightgbm\\), not a trading policy .*"
        '"feature": "forecast", "model": "lightgbm", "horizon": 3'
    )
    with pytest.raises(UserInputError, match=expected):
        load_strategy(f"model:{forecast.version[:6]}")
    with pytest.raises(NotFound, match="no stored model 'abcdef'"):
        load_strategy("model:abcdef")  # no model of any kind: still "no stored model"


def test_model_signals_do_not_look_ahead() -> None:
    from mastertrade.engine.signals.model.strategy import ModelStrategy

    plugin = ModelStrategy(policy(2))
    frame = simulate("BTC/USDT", "1h", 400, 3, end=END)
    full = plugin.actions(IndicatorCache(frame))
    for cut in (50, 180, 333):
        assert np.array_equal(plugin.actions(IndicatorCache(frame.iloc[:cut])), full[:cut])


def test_a_backtest_of_a_policy_says_which_bars_its_training_saw_or_that_the_market_is_new(
    mt: object,
) -> None:
    """`mt backtest model:ID` on its own market reported bars its training saw without a word (75% of a
    default run's); on another market it did not say the policy never saw it."""
    kept = save(
        policy(),
        exchange="sim",
        symbol="BTC/USDT",
        timeframe="1h",
        train_start=START,
        train_end=4_102_444_800_000,
        training={"start": "2024-01-01T00:00:00Z", "end": "2099-12-31T00:00:00Z", "bars": 1000, "steps": 10},
        evaluation={"return_pct": 1.5, "passed": False},
    )
    for symbol in ("BTC/USDT", "ETH/USDT"):
        sim = mt("data", "sim", symbol, "--timeframe", "1h", "--bars", "300", "--seed", "5")  # type: ignore[operator]
        assert sim.exit_code == 0
    own = mt("backtest", f"model:{kept.id}", "--symbol", "BTC/USDT", "--timeframe", "1h")  # type: ignore[operator]
    assert own.exit_code == 0, own.output
    assert "mt: warning: 300 of these 300 bars are ones its training saw" in own.stderr
    other = mt("backtest", f"model:{kept.id}", "--symbol", "ETH/USDT", "--timeframe", "1h")  # type: ignore[operator]
    assert other.exit_code == 0, other.output
    assert "was trained on BTC/USDT 1h (sim): ETH/USDT 1h (sim) is a market it never saw" in other.stderr
    assert "training saw" not in other.stderr
