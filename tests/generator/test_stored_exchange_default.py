"""A stored strategy's own exchange: with its market stored for several exchanges (an imported CSV beside a
download), `mt backtest ID`, `mt validate ID` and the command `mt strategy export` prints read the bars
its figures came from, instead of stopping at "stored for several exchanges"."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import MT


def write_daily_csv(path: Path, *, seed: int, bars: int = 300) -> None:
    """A plausible BTC daily file (random walk from 30,000), ISO-8601 timestamps with a Z suffix."""
    rng = np.random.default_rng(seed)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0.0005, 0.03, bars)))
    open_ = np.r_[30_000, close[:-1]]
    high = np.maximum(open_, close) * 1.01
    low = np.minimum(open_, close) * 0.99
    days = np.datetime64("2022-01-01") + np.arange(bars)
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [
        f"{day}T00:00:00Z,{o:.2f},{h:.2f},{lo:.2f},{c:.2f},100"
        for day, o, h, lo, c in zip(days, open_, high, low, close, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_stored_strategy_reads_its_own_exchange_when_several_have_the_market(
    mt: MT, tmp_path: Path
) -> None:
    for exchange, seed in (("csv", 1), ("other", 2)):
        write_daily_csv(tmp_path / f"{exchange}.csv", seed=seed)
        args = ("--symbol", "BTC/USDT", "--timeframe", "1d", "--exchange", exchange)
        result = mt("data", "import", str(tmp_path / f"{exchange}.csv"), *args)
        assert result.exit_code == 0, result.stderr
    added = mt.json(
        "strategy", "add", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1d", "--exchange", "other"
    )
    sid = added["id"]
    own = mt.json("backtest", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1d", "--exchange", "other")

    by_id = mt.json("backtest", sid)
    assert by_id["exchange"] == "other" and by_id["final_equity"] == own["final_equity"]
    validated = mt.json("validate", sid)
    assert validated["exchange"] == "other"
    assert validated["full"]["final_equity"] == own["final_equity"]
    # --exchange still chooses, and another market has no default
    assert mt.json("backtest", sid, "--exchange", "csv")["exchange"] == "csv"
    result = mt("backtest", sid, "--symbol", "ETH/USDT")
    assert result.exit_code == 2 and "ETH/USDT" in result.stderr


def test_the_export_hint_names_the_exchange_and_reproduces_the_stored_figures(mt: MT, tmp_path: Path) -> None:
    for exchange, seed in (("csv", 1), ("other", 2)):
        write_daily_csv(tmp_path / f"{exchange}.csv", seed=seed)
        args = ("--symbol", "BTC/USDT", "--timeframe", "1d", "--exchange", exchange)
        assert mt("data", "import", str(tmp_path / f"{exchange}.csv"), *args).exit_code == 0
    window = ("--start", "2022-01-01", "--end", "2022-09-01")
    figures = mt.json(
        "backtest", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1d", "--exchange", "other", *window
    )

    async def store() -> str:
        from mastertrade.cli.runtime import open_db
        from mastertrade.engine.generator.store import NewStrategy, StrategyStore
        from mastertrade.engine.signals.builtins import BUILTINS

        db = await open_db()
        try:
            genome = BUILTINS["sma_cross"].bind("BTC/USDT", "1d")
            stored = await StrategyStore(db).add(NewStrategy(genome, exchange="other", metrics=figures))
            return stored.id
        finally:
            await db.close()

    from mastertrade.cli.runtime import run

    sid = run(store)
    out = tmp_path / "mine.json"
    exported = mt("strategy", "export", sid, "--out", str(out))
    assert exported.exit_code == 0, exported.stderr
    hint = exported.stderr.split("its stored backtest: mt backtest ", 1)[1].split()
    assert hint[0] == str(out) and hint[hint.index("--exchange") + 1] == "other"
    again = mt.json("backtest", *hint)
    assert again["final_equity"] == figures["final_equity"] and again["bars"] == figures["bars"]


def test_a_strategy_added_without_exchange_keeps_the_one_its_report_read(mt: MT, tmp_path: Path) -> None:
    write_daily_csv(tmp_path / "a.csv", seed=1)
    args = ("--symbol", "BTC/USDT", "--timeframe", "1d")
    assert mt("data", "import", str(tmp_path / "a.csv"), *args, "--exchange", "csv").exit_code == 0
    sid = mt.json("strategy", "add", "sma_cross", *args)["id"]
    write_daily_csv(tmp_path / "b.csv", seed=2)
    assert mt("data", "import", str(tmp_path / "b.csv"), *args, "--exchange", "other").exit_code == 0
    assert mt.json("backtest", sid)["exchange"] == "csv"


def test_a_stored_strategy_whose_series_is_gone_uses_the_one_left(mt: MT, tmp_path: Path) -> None:
    write_daily_csv(tmp_path / "a.csv", seed=1)
    args = ("--symbol", "BTC/USDT", "--timeframe", "1d")
    assert mt("data", "import", str(tmp_path / "a.csv"), *args, "--exchange", "csv").exit_code == 0
    sid = mt.json("strategy", "add", "sma_cross", *args, "--exchange", "csv")["id"]
    assert mt("data", "delete", "BTC/USDT", "--timeframe", "1d", "--exchange", "csv", "--yes").exit_code == 0
    assert mt("data", "import", str(tmp_path / "a.csv"), *args, "--exchange", "binance").exit_code == 0
    assert mt.json("backtest", sid)["exchange"] == "binance"
