"""``mt strategy add``: a trader's own strategy (a genome file or a built-in) is stored with its backtest
attached for reference, as ``passed`` or, with --paper, on paper, where the daemon's strategy source
trades it; bad input is one line and exit 2, nothing stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import MT


def _setup(mt: MT) -> None:
    result = mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "600", "--seed", "3")
    assert result.exit_code == 0, result.stderr


def test_a_builtin_and_a_genome_file_are_stored_and_trade(mt: MT, db_url: str, tmp_path: Path) -> None:
    _setup(mt)
    added: dict[str, Any] = mt.json(
        "strategy", "add", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h"
    )
    assert added["state"] == "passed" and added["symbol"] == "BTC/USDT"
    report = added["report"]
    assert report["kind"] == "backtest" and report["bars"] == 600 and report["simulated"] is True
    backtest = mt.json("backtest", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert report["return_pct"] == backtest["return_pct"] and report["trades"] == backtest["trades"]

    genome = json.loads(mt("strategy", "show", "rsi_reversion", "--json").stdout)
    genome["name"] = "my_rsi"
    genome["stop_loss"] = 0.07
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(genome), encoding="utf-8")
    mine = mt.json("strategy", "add", str(path), "--symbol", "BTC/USDT", "--timeframe", "1h", "--paper")
    assert mine["state"] == "paper" and mine["name"] == "my_rsi"

    listed = {row["id"]: row for row in mt.json("strategy", "list")}
    assert listed[mine["id"]]["state"] == "paper" and listed[added["id"]]["state"] == "passed"
    shown = mt.json("strategy", "show", mine["id"])
    assert "added by the trader" in json.dumps(shown)

    # the daemon's strategy source trades the one on paper
    import asyncio

    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.generator.source import StoredStrategies

    async def traded() -> list[Any]:
        db = await Database.open(load_settings())
        try:
            return list(await StoredStrategies(db).traded())
        finally:
            await db.close()

    [item] = asyncio.run(traded())
    assert item.id == mine["id"] and item.stage == "paper" and item.strategy.stop_loss == 0.07

    # the example plugin (Python code) too: stored by name, loaded back, traded the same way
    plugin = mt.json(
        "strategy", "add", "vol_momentum", "--symbol", "BTC/USDT", "--timeframe", "1h", "--paper"
    )
    assert plugin["state"] == "paper" and plugin["report"]["kind"] == "backtest"
    by_id = {found.id: found for found in asyncio.run(traded())}
    loaded = by_id[plugin["id"]].strategy
    assert loaded.source == "plugin" and loaded.plugin is not None and loaded.symbol == "BTC/USDT"
    listed = {row["id"]: row for row in mt.json("strategy", "list")}
    assert listed[plugin["id"]]["description"].startswith("plugin vol_momentum")
    assert mt.json("strategy", "show", plugin["id"])["state"] == "paper"
    exported = mt("strategy", "export", plugin["id"])
    assert exported.exit_code == 2 and "no genome" in exported.stderr
    # it backtests by its id, on its own market, as by its name there (it was refused: "no genome")
    by_id_run = mt.json("backtest", plugin["id"])
    by_name_run = mt.json("backtest", "vol_momentum", "--symbol", "BTC/USDT", "--timeframe", "1h")
    figures = ("final_equity", "trades", "sharpe", "max_drawdown_pct", "bars")
    assert [by_id_run[key] for key in figures] == [by_name_run[key] for key in figures]
    assert by_id_run["symbol"] == "BTC/USDT" and by_id_run["timeframe"] == "1h"

    # the same logic on the same market twice: refused, one line, exit 2
    again = mt("strategy", "add", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert again.exit_code == 2 and "already stored" in again.stderr


def test_bad_input_is_refused_and_nothing_is_stored(mt: MT, db_url: str) -> None:
    _setup(mt)
    unknown = mt("strategy", "add", "no_such_thing", "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert unknown.exit_code == 2 and "no_such_thing" in unknown.stderr
    no_data = mt("strategy", "add", "sma_cross", "--symbol", "DOGE/USDT", "--timeframe", "1h")
    assert no_data.exit_code == 2 and "DOGE/USDT" in no_data.stderr
    assert mt.json("strategy", "list") == []


def test_a_symbol_typed_in_lower_case_is_stored_as_the_market_the_daemon_trades(mt: MT, db_url: str) -> None:
    """`--symbol btc/usdt` names the market BTC/USDT: stored under a second spelling, no closed bar of the
    feed (upper case, as [market] symbols) would ever match it, and the same logic could be stored twice."""
    _setup(mt)
    added = mt.json("strategy", "add", "sma_cross", "--symbol", "btc/usdt", "--timeframe", "1h", "--paper")
    assert added["symbol"] == "BTC/USDT"
    assert mt.json("strategy", "show", added["id"])["genome"]["symbol"] == "BTC/USDT"
    again = mt("strategy", "add", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert again.exit_code == 2 and "already stored" in again.stderr
    bad = mt("strategy", "add", "sma_cross", "--symbol", "BTCUSDT", "--timeframe", "1h")
    assert bad.exit_code == 2 and bad.stderr.strip().count("\n") == 0
    assert "invalid symbol 'BTCUSDT'" in bad.stderr
    assert [row["id"] for row in mt.json("strategy", "list")] == [added["id"]]


def test_export_keeps_a_file_of_yours_unless_forced(mt: MT, db_url: str, tmp_path: Path) -> None:
    _setup(mt)
    stored = mt.json("strategy", "add", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h")
    mine = tmp_path / "mine" / "mine.json"
    mine.parent.mkdir()
    mine.write_text('{"name": "my edited genome"}\n', encoding="utf-8")
    refused = mt("strategy", "export", stored["id"], "--out", str(mine))
    assert refused.exit_code == 2, refused.output
    assert refused.stderr == f"mt: error: {mine} exists with other content: pass --force to overwrite it\n"
    assert mine.read_text(encoding="utf-8") == '{"name": "my edited genome"}\n'
    assert [p.name for p in mine.parent.iterdir()] == ["mine.json"]  # nothing half-written beside it
    forced = mt("strategy", "export", stored["id"], "--out", str(mine), "--force")
    assert forced.exit_code == 0 and json.loads(mine.read_text())["name"] == "sma_cross"
    again = mt("strategy", "export", stored["id"], "--out", str(mine))  # the same content: fine
    assert again.exit_code == 0, again.output


def test_added_on_paper_without_a_daemon_says_it_trades_once_the_daemon_runs(mt: MT) -> None:
    """No daemon runs: "it trades now" would be untrue; it says what starts it."""
    _setup(mt)
    added = mt("strategy", "add", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h", "--paper")
    assert added.exit_code == 0, added.stderr
    assert "once the daemon runs (`mt daemon start`)" in added.stdout
    assert "trades its own paper book now" not in added.stdout


def test_a_strategy_the_feed_gives_no_bar_is_put_on_paper_with_a_warning(
    mt: MT, db_url: str, monkeypatch: Any
) -> None:
    """A 4h strategy put on paper on a daemon that trades 1h bars was said to "trade its own paper book
    now"; the trading core evaluates [market] timeframe bars of [market] symbols only, so it never got a
    bar (no book, no record, never promoted or retired). It is still stored and moved as asked, with a
    warning saying why it will not trade."""
    monkeypatch.setenv("MT_MARKET__TIMEFRAME", "1h")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", '["BTC/USDT"]')
    for timeframe in ("1h", "4h"):
        result = mt(
            "data", "sim", "BTC/USDT", "ETH/USDT", "--timeframe", timeframe, "--bars", "400", "--seed", "3"
        )
        assert result.exit_code == 0, result.stderr
    four = mt("strategy", "add", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "4h", "--paper")
    assert four.exit_code == 0, four.stderr
    assert (
        "mt: warning: the daemon trades 1h bars ([market] timeframe): BTC/USDT 4h gets no bar and will not"
        " trade while it does\n"
    ) in four.stderr
    assert "paper; it gets no bar to trade (see the warning)" in four.stdout
    other = mt("strategy", "add", "sma_cross", "--symbol", "ETH/USDT", "--timeframe", "1h", "--json")
    ident = json.loads(other.stdout)["id"]
    moved = mt("strategy", "paper", ident, "--json")
    assert moved.exit_code == 0 and json.loads(moved.stdout)["to"] == "paper"
    assert moved.stderr == (
        "mt: warning: the daemon streams BTC/USDT ([market] symbols): ETH/USDT 1h gets no bar and will not"
        " trade until ETH/USDT is added\n"
    )
    traded = mt("strategy", "add", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h", "--paper")
    assert "warning" not in traded.stderr and "once the daemon runs" in traded.stdout
