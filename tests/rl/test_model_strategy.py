"""A policy artifact: versioned, hashed, refused clearly when incompatible; and a model strategy that
resolves as ``model:<id>`` or an artifact file, signals through the plugin interface, and keeps the
no-lookahead rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mastertrade.engine.market.sim import simulate
from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.engine.signals.loader import load_strategy
from mastertrade.engine.signals.model.artifact import FORMAT_VERSION, PolicyArtifact
from mastertrade.engine.signals.model.features import FEATURES
from mastertrade.engine.signals.model.policy import PolicyWeights
from mastertrade.engine.signals.model.store import save, store_dir
from mastertrade.errors import NotFound, OperationFailed, UserInputError

END = 1_735_689_600_000


def artifact(seed: int = 0) -> PolicyArtifact:
    rng = np.random.default_rng(seed)
    sizes = (len(FEATURES), 8, 3)
    layers = [
        {"kernel": rng.normal(0, 1, (a, b)), "bias": rng.normal(0, 0.1, b)}
        for a, b in zip(sizes, sizes[1:], strict=False)
    ]
    return PolicyArtifact(
        symbol="BTC/USDT",
        timeframe="1h",
        exchange="sim",
        training={"start": "2024-01-01T00:00:00Z", "end": "2024-03-01T00:00:00Z", "bars": 1000, "steps": 10},
        features=FEATURES,
        mean=tuple([0.0] * len(FEATURES)),
        std=tuple([0.01] * (len(FEATURES) - 1) + [0.1]),
        weights=PolicyWeights.from_lists(layers),
        order={"stop_loss": 0.05},
    )


def test_round_trip_keeps_the_weights_to_the_bit_and_the_hash(tmp_path: Path) -> None:
    original = artifact()
    path = original.save(tmp_path / "p.json")
    loaded = PolicyArtifact.load(path)
    assert loaded.content_hash == original.content_hash
    for (k1, b1), (k2, b2) in zip(loaded.weights.layers, original.weights.layers, strict=True):
        assert np.array_equal(k1, k2) and np.array_equal(b1, b2)
    doc = json.loads(path.read_text())
    assert doc["kind"] == "model" and doc["format_version"] == FORMAT_VERSION
    assert set(doc["libraries"]) >= {"numpy", "jax", "skrl", "mastertrade"}
    assert doc["training"]["start"] and doc["features"] == list(FEATURES)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": FORMAT_VERSION + 1}, "format version 2; this MasterTrade reads version 1"),
        ({"feature_set": "bars-v0"}, "trained on features 'bars-v0'"),
        ({"symbol": "ETH/USDT"}, "does not match its content hash"),
    ],
)
def test_an_incompatible_or_altered_artifact_fails_clearly(
    tmp_path: Path, change: dict, message: str
) -> None:
    path = artifact().save(tmp_path / "p.json")
    doc = json.loads(path.read_text())
    doc.update(change)
    path.write_text(json.dumps(doc))
    with pytest.raises(OperationFailed, match=message):
        PolicyArtifact.load(path)


def test_a_stored_model_resolves_as_a_strategy_and_backtests() -> None:
    from mastertrade.engine.backtest.runner import backtest

    stored = artifact()
    save(stored)
    assert (store_dir() / f"{stored.id}.json").is_file()
    strategy = load_strategy(f"model:{stored.id[:6]}")
    assert strategy.source == "model" and strategy.name == f"model:{stored.id}"
    assert (strategy.symbol, strategy.timeframe, strategy.stop_loss) == ("BTC/USDT", "1h", 0.05)
    assert strategy.bind("ETH/USDT").source == "model"
    frame = simulate("BTC/USDT", "1h", 600, 2, end=END)
    entries, exits = strategy.signals(IndicatorCache(frame))
    assert entries.dtype == np.bool_ and entries.shape == (600,)
    assert not (entries[:17] | exits[:17]).any()  # warm-up
    assert entries.any() and exits.any()
    result = backtest(strategy, frame)
    assert len(result.trades) > 0


def test_an_artifact_file_resolves_too(tmp_path: Path) -> None:
    path = artifact(1).save(tmp_path / "policy.json")
    assert load_strategy(str(path)).source == "model"


def test_unknown_and_bad_model_ids_are_refused() -> None:
    save(artifact())
    with pytest.raises(NotFound, match="no stored model 'abcdef'"):
        load_strategy("model:abcdef")
    with pytest.raises(UserInputError, match="invalid model id 'x!'"):
        load_strategy("model:x!")


def test_model_signals_do_not_look_ahead() -> None:
    from mastertrade.engine.signals.model.strategy import ModelStrategy

    plugin = ModelStrategy(artifact(2))
    frame = simulate("BTC/USDT", "1h", 400, 3, end=END)
    full = plugin.actions(IndicatorCache(frame))
    for cut in (50, 180, 333):
        assert np.array_equal(plugin.actions(IndicatorCache(frame.iloc[:cut])), full[:cut])
