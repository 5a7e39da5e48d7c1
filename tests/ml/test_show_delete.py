"""`mt ml show|delete ID` and `mt rl show|delete ID`: one stored model's details, and its deletion, refused
naming the strategy while a paper, active or paused strategy relies on it. Before, neither command
existed: a model could only be found by listing them all and deleted by hand in the data folder (the
daemon then silently fell back to an older model behind a strategy reading its forecasts)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from mastertrade.artifacts import Artifact, ArtifactStore
from tests.conftest import MT

KEY = {"exchange": "sim", "symbol": "BTC/USDT", "timeframe": "1h", "horizon": 1}
FORECAST = {"feature": "forecast", "model": "lightgbm", "horizon": 1}


def _save(store: ArtifactStore, kind: str, name: str, key: dict[str, Any], payload: str) -> Artifact:
    def write(folder: Path) -> None:
        (folder / "weights.txt").write_text(payload)

    return store.save(kind, name, key, write, libraries={"numpy": "2.2.6"}, features=["ret_1"])


def test_show_and_delete_a_forecast_model_refused_while_a_paper_strategy_reads_it(
    mt: MT, tmp_path: Path
) -> None:
    assert mt("data", "sim", "BTC/USDT", "--bars", "300", "--seed", "3").exit_code == 0
    store = ArtifactStore.default()
    older = _save(store, "forecast", "lightgbm", KEY, "old")
    newest = _save(store, "forecast", "lightgbm", KEY, "new")
    other = _save(store, "forecast", "lightgbm", {**KEY, "horizon": 2}, "h2")
    genome = tmp_path / "reads-forecast.json"
    genome.write_text(json.dumps({"name": "fc", "entry": {">": [FORECAST, 0]}, "exit": {"<": [FORECAST, 0]}}))
    added = mt(
        "strategy", "add", str(genome), "--symbol", "BTC/USDT", "--timeframe", "1h", "--paper", "--json"
    )
    assert added.exit_code == 0, added.output
    strategy_id = json.loads(added.stdout)["id"]

    shown = mt.json("ml", "show", newest.version[:6])
    assert shown["version"] == newest.version and shown["key"] == KEY and shown["loads"] is True
    text = mt("ml", "show", newest.version)
    assert text.exit_code == 0 and newest.version in text.stdout and "sim:BTC/USDT:1h h1" in text.stdout

    refused = mt("ml", "delete", newest.version, "--yes")
    assert refused.exit_code == 2
    assert refused.stderr == (
        f"mt: error: model {newest.version} is used by strategy {strategy_id} (paper): retire it first"
        " (`mt strategy retire ID`); nothing deleted\n"
    )
    assert newest.path.is_dir()
    # without --yes (and not at a terminal) it says what it would delete and deletes nothing
    preview = mt("ml", "delete", older.version)
    assert preview.exit_code == 0, preview.stderr
    assert "would delete" in preview.stderr and older.path.is_dir()
    # an older version feeds nothing, nor does another horizon: both go
    assert mt.json("ml", "delete", older.version, "--yes")["deleted"] is True
    assert mt("ml", "delete", other.version, "--yes").exit_code == 0
    assert not older.path.exists() and not other.path.exists()
    assert [m["version"] for m in mt.json("ml", "list")["models"]] == [newest.version]
    assert not list(newest.path.parent.glob(".saving-*"))

    assert mt("strategy", "retire", strategy_id).exit_code == 0
    assert mt("ml", "delete", newest.version, "--yes").exit_code == 0
    assert mt.json("ml", "list")["models"] == []


def test_bad_and_unknown_ids_and_policies_only_under_rl(mt: MT) -> None:
    store = ArtifactStore.default()
    forecast = _save(store, "forecast", "lightgbm", KEY, "w")
    bad = mt("ml", "show", "xyz")
    assert bad.exit_code == 2 and bad.stderr.startswith("mt: error: invalid model id 'xyz'")
    missing = mt("ml", "delete", "ffff", "--yes")
    assert (
        missing.exit_code == 2 and missing.stderr == "mt: error: no stored model 'ffff' (see `mt ml list`)\n"
    )
    # a forecast model's id under `mt rl` is named as what it is (before: "no stored policy" of an id
    # `mt ml list` shows)
    for ident in (forecast.version, forecast.version[:6]):
        for verb in ("show", "delete"):
            not_policy = mt("rl", verb, ident)
            assert not_policy.exit_code == 2
            assert not_policy.stderr == (
                f"mt: error: model {forecast.version} is a forecast model (lightgbm), not a policy:"
                f" `mt ml show {ident}` shows it (`mt ml delete {ident}` deletes it)\n"
            )
    assert forecast.path.is_dir()
    assert mt("rl", "show", "ffff").stderr == "mt: error: no stored policy 'ffff' (see `mt rl list`)\n"
    policy = _save(store, "policy", "ppo", {"exchange": "sim", "symbol": "BTC/USDT", "timeframe": "1h"}, "p")
    assert mt.json("rl", "show", policy.version[:8])["kind"] == "policy"
    assert mt("rl", "delete", policy.version, "--yes").exit_code == 0
    assert not policy.path.exists() and forecast.path.is_dir()


def test_a_policy_is_in_use_by_the_strategies_that_run_it(tmp_path: Path) -> None:
    from mastertrade.engine.ml.registry import model_users

    store = ArtifactStore(tmp_path / "models")
    policy = _save(store, "policy", "ppo", {"exchange": "sim", "symbol": "BTC/USDT", "timeframe": "1h"}, "p")

    def strategy(ident: str, state: str, plugin: str | None) -> SimpleNamespace:
        return SimpleNamespace(
            id=ident, state=state, plugin=plugin, symbol="BTC/USDT", timeframe="1h", exchange=None
        )

    strategies = [
        strategy("a1", "active", f"model:{policy.version}"),
        strategy("b2", "paused", f"model:{policy.version[:6]}"),
        strategy("c3", "retired", f"model:{policy.version}"),
        strategy("d4", "paper", "model:ffff0000"),
        strategy("e5", "paper", str(policy.path)),
    ]
    assert model_users(store, policy.path, strategies) == ["a1 (active)", "b2 (paused)", "e5 (paper)"]


def test_a_model_whose_manifest_is_unreadable_is_named_by_its_folder(mt: MT) -> None:
    """Was: `mt ml delete ID --yes` of a model whose manifest no longer parses said "deleted None None
    <id> of None:None:None" (and `mt ml show` "None None"): what was deleted, unsaid."""
    broken = _save(ArtifactStore.default(), "forecast", "lightgbm", KEY, "w")
    (broken.path / "manifest.json").write_text("garbage")
    shown = mt("ml", "show", broken.version)
    assert shown.exit_code == 0 and "None" not in shown.stdout
    assert "forecast lightgbm" in shown.stdout and "sim_BTC-USDT_1h_1" in shown.stdout
    deleted = mt("ml", "delete", broken.version, "--yes")
    assert deleted.exit_code == 0 and not broken.path.exists()
    assert deleted.stderr == f"deleted forecast lightgbm {broken.version} of sim_BTC-USDT_1h_1\n"


def test_list_and_show_say_the_hold_out_verdict_is_the_walk_forwards(mt: MT) -> None:
    """Was: 'trained from 2026-11-19 to 2026-12-04' beside 'hold-out: loses to ...' with no word that
    the stored model was trained on those hold-out bars too: the verdict is the walk-forward's, whose
    forecast of each bar came from a model trained before it."""
    store = ArtifactStore.default()

    def write(folder: Path) -> None:
        (folder / "weights.txt").write_text("w")

    verdict = "loses to the zero-return baseline (higher squared error)"
    metrics = {"verdict": verdict, "bars": 54, "start": "2026-12-02T16:00:00Z", "end": "2026-12-04T21:00:00Z"}
    forecast = store.save(
        "forecast", "lightgbm", KEY, write, libraries={}, train_start=0, train_end=1, metrics=metrics
    )
    shown = mt("ml", "show", forecast.version)
    assert shown.exit_code == 0, shown.output
    lines = [" ".join(line.strip("│ ").split()) for line in shown.stdout.splitlines()]
    assert f"hold-out │ {verdict}" in lines
    assert (
        "hold-out bars │ 54, 2026-12-02T16:00:00Z .. 2026-12-04T21:00:00Z, each forecast made by a model"
        " trained before its bar (this model was trained on them too)"
    ) in lines, shown.stdout

    listed = mt("ml", "list")
    assert listed.exit_code == 0 and verdict in " ".join(listed.stdout.split())
    assert listed.stderr == (
        "hold-out: the verdict on the newest bars of a forecast model's walk-forward, each forecast made by"
        " a model trained before its bar; the stored model was trained on those bars too"
        " (`mt ml show ID` dates them)\n"
    )


def test_a_model_whose_manifest_is_unreadable_is_still_kept_for_the_strategies_relying_on_it(
    tmp_path: Path,
) -> None:
    """Before: with its manifest broken (garbage, or JSON without "kind"), a policy run by an active
    strategy, or the forecast model a paper strategy reads, was relied on by nothing, and `mt rl delete`
    / `mt ml delete --yes` deleted it under the strategy."""
    from mastertrade.engine.ml.registry import model_users

    store = ArtifactStore(tmp_path / "models")
    policy = _save(store, "policy", "ppo", {"exchange": "sim", "symbol": "BTC/USDT", "timeframe": "1h"}, "p")
    forecast = _save(store, "forecast", "lightgbm", KEY, "w")
    other_horizon = _save(store, "forecast", "lightgbm", {**KEY, "horizon": 2}, "w2")

    def strategy(ident: str, state: str, **fields: Any) -> SimpleNamespace:
        base = {"plugin": None, "genome": None, "symbol": "BTC/USDT", "timeframe": "1h", "exchange": None}
        return SimpleNamespace(id=ident, state=state, **{**base, **fields})

    from mastertrade.engine.signals.genome import parse_genome

    genome = parse_genome({"name": "fc", "entry": {">": [FORECAST, 0]}, "exit": {"<": [FORECAST, 0]}})
    strategies = [
        strategy("a1", "active", plugin=f"model:{policy.version}"),
        strategy("b2", "paper", genome=genome),
        strategy("c3", "paper", genome=genome, exchange="binance"),  # reads binance's forecasts
        strategy("d4", "paper", genome=genome, timeframe="4h"),
    ]
    for broken in ("garbage", '{"format": 1}', "[]"):
        for artifact in (policy, forecast, other_horizon):
            (artifact.path / "manifest.json").write_text(broken)
        assert model_users(store, policy.path, strategies) == ["a1 (active)"]
        assert model_users(store, forecast.path, strategies) == ["b2 (paper)"]
        assert model_users(store, other_horizon.path, strategies) == []
