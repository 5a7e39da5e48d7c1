"""``mt generate`` and ``mt strategy list|show|paper|activate|pause|retire|export`` end to end on simulated
candles, including bad ids, bad transitions, and an exported genome reproduced by ``mt backtest``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mastertrade.engine.backtest.metrics import METRIC_KEYS
from tests.conftest import MT
from tests.generator.helpers import SIM_3000

GENERATE = ("generate", "--count", "20", "--population", "16", "--generations", "2", "--seed", "3")


@pytest.fixture
def generated(mt: MT, lenient: None) -> dict[str, Any]:
    sim = mt(*SIM_3000)
    assert sim.exit_code == 0, sim.stderr
    document: dict[str, Any] = mt.json(*GENERATE)
    return document


def test_generate_json_stores_count_strategies(generated: dict[str, Any]) -> None:
    doc = generated
    assert doc["counts"]["stored"] == 20 == len(doc["strategies"])
    assert doc["seed"] == 3 and doc["symbol"] == "BTC/USDT" and doc["simulated"] is True
    assert doc["data"]["bars"] == 3000 and len(doc["data"]["search_window"]["windows"]) == 4
    assert doc["data"]["search_window"]["bars"] == 2250 and doc["data"]["holdout"]["bars"] == 750
    assert doc["selection"]["deflated_trials"]["trials"] == doc["counts"]["distinct"]
    assert {"indicators_s", "evaluation_s", "validation_s", "storage_s", "evaluations_per_s"} <= set(
        doc["timings"]
    )
    assert doc["timings"]["startup_s"] > 0  # imports, settings and the database, before total_s
    row = doc["strategies"][0]
    assert {
        "id",
        "state",
        "holdout_sharpe",
        "search_sharpe",
        "deflated_sharpe",
        "deflated_trials",
        "reference_agrees",
        "description",
    } <= set(row)
    assert {r["state"] for r in doc["strategies"]} == {"passed", "failed"}


def test_generate_compares_with_buy_and_hold_over_the_holdout(
    mt: MT, generated: dict[str, Any], tmp_path: Path
) -> None:
    """The naive baseline is what `mt backtest` gives a genome that is always in the market over the
    hold-out bars, and the summary says how many strategies do worse than it there."""
    always = {
        "name": "always-in",
        "symbol": "BTC/USDT",
        "timeframe": "1h",
        "entry": {">": [{"price": "close"}, 0]},
        "exit": {"<": [{"price": "close"}, 0]},
    }
    path = tmp_path / "always.json"
    path.write_text(json.dumps(always))
    start = generated["data"]["holdout"]["start"]
    held = mt.json("backtest", str(path), "--symbol", "BTC/USDT", "--timeframe", "1h", "--start", start)
    metrics = held.get("metrics", held)
    baseline = generated["data"]["holdout_buy_and_hold"]
    assert baseline == {key: metrics[key] for key in ("sharpe", "return_pct", "max_drawdown_pct")}
    assert baseline["sharpe"] is not None and metrics["bars"] == generated["data"]["holdout"]["bars"]


def test_generate_prints_a_table_and_a_summary(mt: MT, lenient: None) -> None:
    mt(*SIM_3000)
    result = mt(*GENERATE)
    assert result.exit_code == 0, result.stderr
    assert "Generation run 1 on sim:BTC/USDT:1h (SIMULATED), seed 3" in result.stdout
    doc = mt.json("strategy", "list")
    assert "buy-and-hold over the hold-out: Sharpe" in result.stderr
    passed = [row for row in doc if row["state"] == "passed"]
    assert f"of the {len(passed) or len(doc)} {'passing' if passed else 'stored'} strategies" in result.stderr
    assert "stored 20 strategies" in result.stderr


def test_generate_says_when_it_stores_fewer_than_count_asks(
    mt: MT, lenient: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mastertrade.engine.generator import search

    monkeypatch.setattr(search, "MAX_EXTRA_GENERATIONS", 2)  # the search stops at generation 1 + 2
    mt(*SIM_3000)
    args = ("generate", "--count", "500", "--population", "8", "--generations", "1", "--seed", "3")
    result = mt(*args)
    assert result.exit_code == 0, result.stderr
    stored = int(result.stderr.split("stored ")[1].split(" of the 500")[0])
    assert 0 < stored < 500
    assert (
        f"BTC/USDT 1h: stored {stored} of the 500 strategies asked for (--count): 3 generations found"
        in " ".join(result.stderr.split())
    )
    assert "the search stops at generation 3, its limit past --generations" in " ".join(result.stderr.split())
    doc = mt.json(*args[:-1], "4")
    counts = doc["counts"]
    assert counts["asked"] == 500 and counts["generation_limit"] == 3 == counts["generations"]
    assert counts["stored"] < 500
    # a run that stores what it was asked for says nothing of the kind
    enough = mt("generate", "--count", "5", "--population", "8", "--generations", "1", "--seed", "5")
    assert enough.exit_code == 0 and "asked for" not in enough.stderr


def test_generate_bad_input_exits_2(mt: MT) -> None:
    result = mt("generate", "--count", "20", "--json")
    assert result.exit_code == 2 and result.stdout == ""
    assert (
        result.stderr.startswith("mt: error: ")
        and "BTC/USDT" in result.stderr
        and result.stderr.count("\n") == 1
    )
    mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "3000", "--seed", "11")
    result = mt("generate", "--count", "0")
    assert result.exit_code == 2 and result.stderr == "mt: error: invalid count 0: must be >= 1\n"
    result = mt("generate", "--timeframe", "7x")
    assert result.exit_code == 2


def test_strategy_list_refuses_a_filter_that_cannot_name_a_market(mt: MT) -> None:
    """`--timeframe 7x` or `--symbol BTCUSDT` listed nothing with exit 0, as if no strategy matched; a
    symbol in another case names its market."""
    assert mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "600", "--seed", "3").exit_code == 0
    added = mt.json("strategy", "add", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h")
    for args, message in (
        (("--timeframe", "7x"), "mt: error: invalid timeframe '7x'"),
        (("--symbol", "BTCUSDT"), "mt: error: invalid symbol 'BTCUSDT'"),
    ):
        bad = mt("strategy", "list", *args, "--json")
        assert bad.exit_code == 2 and bad.stderr.startswith(message) and bad.stdout == ""
        assert bad.stderr.count("\n") == 1
    assert [row["id"] for row in mt.json("strategy", "list", "--symbol", "btc/usdt")] == [added["id"]]


def test_strategy_list_and_show(mt: MT, generated: dict[str, Any]) -> None:
    listed = mt.json("strategy", "list")
    assert {row["id"] for row in listed} == {row["id"] for row in generated["strategies"]}
    failed = mt.json("strategy", "list", "--state", "failed", "--symbol", "BTC/USDT")
    assert failed and all(row["state"] == "failed" for row in failed)
    assert len(mt.json("strategy", "list", "--limit", "3")) == 3
    bad = mt("strategy", "list", "--state", "papr")
    assert bad.exit_code == 2 and "unknown strategy state 'papr'" in bad.stderr

    target = generated["strategies"][0]
    shown = mt.json("strategy", "show", target["id"][:8])
    assert shown["id"] == target["id"] and shown["state"] == target["state"]
    assert [item["to"] for item in shown["history"]] == ["generated", "backtested", target["state"]]
    assert (
        set(METRIC_KEYS) <= set(shown["metrics"])
        and shown["out_of_sample"]["sharpe"] == target["holdout_sharpe"]
    )
    used = shown["selection"]["deflated_trials"]
    assert used["trials_used"] == generated["counts"]["distinct"]
    assert used["variance_source"] == "observed" and used["variance_used"] == used["sharpe_variance"]
    table = mt("strategy", "show", target["id"])
    assert table.exit_code == 0 and "hold-out" in table.stdout and "History" in table.stdout
    said = " ".join(table.stdout.split())
    assert f"N = {used['trials_used']} trials" in said
    assert f"V = {used['variance_used']:,.5f} per day (observed)" in said
    baseline = generated["data"]["holdout_buy_and_hold"]
    assert shown["selection"]["holdout_buy_and_hold"] == baseline  # recorded with the strategy
    assert "buy-and-hold, hold-out" in table.stdout and f"{baseline['sharpe']:,.2f}" in table.stdout
    behind = target["holdout_sharpe"] is None or target["holdout_sharpe"] < baseline["sharpe"]
    assert ("it does worse than buy-and-hold over the hold-out" in said) is behind

    missing = "0" * 16 if not target["id"].startswith("0000") else "f" * 16
    result = mt("strategy", "show", missing)
    assert result.exit_code == 2 and result.stdout == ""
    assert f"unknown strategy '{missing}'" in result.stderr and "a stored strategy id" in result.stderr
    assert mt("strategy", "show", target["id"], "--symbol", "ETH/USDT").exit_code == 2


def test_transitions_and_their_errors(mt: MT, generated: dict[str, Any]) -> None:
    passed = next(row["id"] for row in generated["strategies"] if row["state"] == "passed")
    failed = next(row["id"] for row in generated["strategies"] if row["state"] == "failed")

    result = mt("strategy", "activate", passed)
    assert result.exit_code == 2
    assert result.stderr == (
        f"mt: error: strategy {passed} cannot go from passed to active:"
        " from passed it can go to paper, retired\n"
    )
    assert mt.json("strategy", "paper", passed) == {
        "id": passed,
        "from": "passed",
        "to": "paper",
        "reason": "moved to paper trading by hand",
    }
    moved = mt("strategy", "activate", passed[:6])
    assert moved.exit_code == 0 and moved.stdout.endswith(": paper -> active\n")
    assert mt("strategy", "pause", passed, "--reason", "too volatile").exit_code == 0
    assert mt("strategy", "retire", passed).exit_code == 0
    again = mt("strategy", "retire", passed)
    assert again.exit_code == 2 and again.stderr.endswith(
        "cannot go from retired to retired: retired is final\n"
    )
    assert mt("strategy", "paper", failed).exit_code == 2

    history = mt.json("strategy", "show", passed)["history"]
    assert [(h["from"], h["to"]) for h in history[-4:]] == [
        ("passed", "paper"),
        ("paper", "active"),
        ("active", "paused"),
        ("paused", "retired"),
    ]
    assert history[-2]["reason"] == "too volatile"

    for command in ("activate", "pause", "retire", "export"):
        unknown = mt("strategy", command, "beefbeefbeefbeef")
        assert unknown.exit_code == 2 and "no stored strategy 'beefbeefbeefbeef'" in unknown.stderr
    assert "ids are 4 to 16 hex digits" in mt("strategy", "pause", "nope").stderr


def test_export_reproduces_the_stored_metrics_in_mt_backtest(
    mt: MT, generated: dict[str, Any], tmp_path: Path
) -> None:
    for row in generated["strategies"][:3]:
        stored = mt.json("strategy", "show", row["id"])
        out = tmp_path / f"{row['id']}.json"
        exported = mt("strategy", "export", row["id"], "--out", str(out))
        assert exported.exit_code == 0 and exported.stdout == ""
        assert json.loads(out.read_text()) == stored["genome"]
        hint = exported.stderr.splitlines()[-1]
        assert hint.startswith(f"its stored backtest: mt backtest {out} --start ")
        backtest = mt.json(*hint.split("mt ", 1)[1].split())
        assert {key: backtest[key] for key in METRIC_KEYS} == {
            key: stored["metrics"][key] for key in METRIC_KEYS
        }
        # the hold-out figures are a plain `mt backtest` from the hold-out's first bar
        held = mt.json("backtest", str(out), "--start", stored["out_of_sample"]["start"])
        assert {key: held[key] for key in METRIC_KEYS} == {
            key: stored["out_of_sample"][key] for key in METRIC_KEYS
        }
        by_id = mt.json("backtest", row["id"][:10], "--start", stored["out_of_sample"]["start"])
        assert by_id["strategy"] == stored["name"]
        assert {key: by_id[key] for key in METRIC_KEYS} == {
            key: stored["out_of_sample"][key] for key in METRIC_KEYS
        }
    printed = mt("strategy", "export", generated["strategies"][0]["id"])
    assert json.loads(printed.stdout)["name"] == generated["strategies"][0]["name"]


def test_the_summary_says_plainly_when_no_strategy_beats_buy_and_hold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from mastertrade.cli.generate import baseline_line

    def row(state: str, sharpe: float | None) -> dict[str, Any]:
        return {"state": state, "holdout_sharpe": sharpe}

    doc: dict[str, Any] = {
        "symbol": "BTC/USDT",
        "data": {"holdout_buy_and_hold": {"sharpe": 2.0, "return_pct": 30.0, "max_drawdown_pct": 12.5}},
        "strategies": [row("passed", 1.5), row("passed", None), row("failed", 3.0)],
    }
    baseline_line(doc)
    err = capsys.readouterr().err
    assert "Sharpe 2.00, return 30.0%, drawdown 12.5%; 2 of the 2 passing strategies" in err
    assert "none of the passing strategies beats holding BTC/USDT" in err
    doc["strategies"][0]["holdout_sharpe"] = 2.5  # one passer ahead: counted, no "none"
    baseline_line(doc)
    err = capsys.readouterr().err
    assert "1 of the 2 passing strategies" in err and "none of" not in err
    doc["strategies"] = [row("failed", 3.0), row("failed", 1.0)]  # nothing passed: the stored ones
    baseline_line(doc)
    assert "1 of the 2 stored strategies" in capsys.readouterr().err
