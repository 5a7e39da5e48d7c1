"""Execution parity: the daemon, on the simulated venue at the demo's highest speed, trades several
strategies (genomes of different kinds and the example plugin) on paper, and `mt strategy parity` (the
daemon's parity endpoint, the code the CLI calls) finds every paper book identical to its backtest over
the same bars. The research series the strategies were chosen on never changes while the simulation runs,
so a backtest run before and after gives the same answer."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from mastertrade.engine.daemon import Daemon
from mastertrade.engine.demo import DEFAULT_SPEED
from mastertrade.engine.execution.strategies import StaticStrategies, StrategySource, TradedStrategy
from mastertrade.engine.kernel.context import EngineContext
from mastertrade.engine.signals.loader import load_strategy
from tests.conftest import MT
from tests.trading.conftest import trading_settings

SYMBOLS = ["BTC/USDT", "ETH/USDT"]
SPEED = DEFAULT_SPEED  # the demo's speed (`mt demo`'s default, higher than the issue's 36000): on 1h
# bars here, twelve bars a second, 24 times the demo's own pace on its 1d bars
BARS = 120  # bars every strategy must have been evaluated on (more while they hold too few trades)
MAX_BARS = 4 * BARS


def _strategies() -> StaticStrategies:
    names = ["sma_cross", "rsi_reversion", "bollinger_reversion", "vol_momentum"]
    return StaticStrategies(
        [
            TradedStrategy(f"{name}-{symbol[:3]}", "paper", load_strategy(name, symbol, "1h"))
            for name in names
            for symbol in SYMBOLS
        ]
    )


async def test_daemon_paper_books_equal_their_backtests_at_top_speed(db_url: str, mt: MT) -> None:
    setup = await asyncio.to_thread(mt, "data", "sim", *SYMBOLS, "--timeframe", "1h", "--bars", "1500")
    assert setup.exit_code == 0, setup.stderr
    backtest = ("backtest", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h", "--json")
    before = await asyncio.to_thread(mt, *backtest)
    assert before.exit_code == 0, before.stderr

    settings = trading_settings(
        market={"venue": "sim", "symbols": SYMBOLS, "timeframe": "1h", "speed": SPEED, "ticks_per_bar": 12}
    )
    strategies = _strategies()

    def services(ctx: EngineContext) -> Any:
        from mastertrade.engine.services import build_services

        ctx.provide(strategies, as_type=StrategySource)
        return build_services(ctx)

    daemon = Daemon(settings, services=services, serve_api=False)
    ctx = await daemon.start()
    closed = ctx.bus.subscribe({"candle.closed"}, name="test")
    try:
        from mastertrade.engine.execution.trader import Trader

        async def evaluated(bars: int) -> bool:
            trader = ctx.find(Trader)
            if trader is None:
                return False
            cursors = [await trader.bar_clock.cursor(item.id) for item in strategies.strategies]
            return all(c is not None and c.cursor - c.start >= bars * 3_600_000 for c in cursors)

        from mastertrade.client import DaemonClient
        from mastertrade.engine.api.app import create_app

        # Which bars the books trade on depends on when the feed reached them (a loaded machine starts
        # them later in the simulated market), and so does how many trades those bars hold: keep going,
        # BARS at a time, until the books hold enough trades to prove something.
        bars, traded = 0, 0
        async with DaemonClient(transport=httpx.ASGITransport(app=create_app(ctx))) as client:
            while traded < 10 and bars < MAX_BARS:
                bars += BARS
                async with asyncio.timeout(120):  # checked at each bar the feed closes, never by sleeping
                    while not await evaluated(bars):
                        await closed.get()
                traded = 0
                for item in strategies.strategies:
                    report = await client.strategy_parity(item.id)
                    assert report.identical, (item.id, report.model_dump())
                    traded += report.same
        closed.close()
        assert traded >= 10, f"too few trades to prove anything: {traded} in {bars} bars"
        trader = ctx.get(Trader)
        assert trader.bar_clock.evaluated >= BARS * len(strategies.strategies)
        # the parity monitor, running by itself, found the same
        statuses = trader.parity.statuses
        assert set(statuses) == {item.id for item in strategies.strategies}
        assert all(status.identical and not status.diverged for status in statuses.values()), statuses
    finally:
        await daemon.stop()

    # The simulation ran on its own series; the research series, and so the backtest, are unchanged.
    after = await asyncio.to_thread(mt, *backtest)
    assert after.exit_code == 0, after.stderr
    first, second = json.loads(before.stdout), json.loads(after.stdout)
    first.pop("wall_time_s", None), second.pop("wall_time_s", None)
    assert second == first
    listed = json.loads((await asyncio.to_thread(mt, "data", "list", "--json")).stdout)
    rows = {(s["exchange"], s["symbol"]): s["rows"] for s in listed}
    assert rows[("sim", "BTC/USDT")] == 1500
    assert rows[("sim-live", "BTC/USDT")] >= 1500 + BARS
