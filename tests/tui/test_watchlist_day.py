"""The watchlist's 24h change and volume at the moment a bar closes. Between a bar's close and the next
tick the ticker has no forming bar: its price is the closed bar's close, and the change was measured
from that same bar one day too late. On a daily venue (the demo's) every symbol read "+0.00%" at each
close, and its 24h volume fell to the few units of the forming bar; on an hourly one the change
covered 23 hours and the volume 23 bars."""

from __future__ import annotations

from mastertrade.engine import events as ev
from mastertrade.engine.candle import Candle
from mastertrade.tui import format as fmt
from mastertrade.tui.screens.market import MarketScreen
from mastertrade.tui.widgets.watchlist import Watchlist
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import HOUR_MS, LAST_BAR, FakeBackend, tick

CLOSE = 70_000.0


async def test_a_closed_bar_is_measured_against_the_close_one_day_before_it() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, MarketScreen)
        table = app.screen.query_one(Watchlist)
        ticker = app.state.tickers["BTC/USDT"]
        before = list(ticker.series.bars)  # closed bars, the newest opened at LAST_BAR

        # the forming bar: measured from the close that opened it, a day of bars back
        backend.push(tick("BTC/USDT", 69_000.0))
        await wait_for(pilot, lambda: list(table.row_texts())[0][1] == "69,000.00")
        day_ago = before[-24].close
        assert list(table.row_texts())[0][2] == fmt.signed_pct((69_000.0 - day_ago) / day_ago)

        # it closes: now the newest closed bar, measured from the close one day before its own
        bar = Candle(LAST_BAR + HOUR_MS, 69_500.0, 70_500.0, 68_500.0, CLOSE, 40.0)
        backend.push(ev.CandleClosed(venue="sim", symbol="BTC/USDT", timeframe="1h", candle=bar))
        await wait_for(pilot, lambda: ticker.series.forming is None and ticker.series.bars[-1].close == CLOSE)
        await wait_for(pilot, lambda: list(table.row_texts())[0][1] == "70,000.00")
        assert list(table.row_texts())[0][2] == fmt.signed_pct((CLOSE - day_ago) / day_ago)
        volume = sum(b.volume for b in before[-23:]) + 40.0
        assert list(table.row_texts())[0][3] == fmt.compact(volume)
