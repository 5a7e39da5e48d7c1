"""Market (key 2): the watchlist, and a candlestick chart of the selected symbol with overlays and the
strategies' entries and exits.

Keys: up/down pick the symbol, ``t`` cycles the timeframe (the stream's, then longer ones the chart
folds from it unless the daemon stores them), ``i`` cycles the overlays, ``d`` packs the candles
densely, ``b``/``s`` open the order ticket for the selected symbol.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical

from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.tui.indicators import OVERLAY_SETS
from mastertrade.tui.messages import ChartRequested, OverlaysRequested, TicketRequested
from mastertrade.tui.screens.base import DashboardScreen
from mastertrade.tui.state import Topic
from mastertrade.tui.widgets.candle_chart import CandleChart
from mastertrade.tui.widgets.symbol_panel import SymbolPanel
from mastertrade.tui.widgets.watchlist import Watchlist

LONGER = ("5m", "15m", "1h", "4h", "1d", "1w")


def timeframes_for(base: str) -> list[str]:
    """The stream's timeframe and the next two longer ones that are whole multiples of it."""
    step = timeframe_ms(base)
    longer = [tf for tf in LONGER if timeframe_ms(tf) > step and timeframe_ms(tf) % step == 0]
    return [base, *longer[:2]]


class MarketScreen(DashboardScreen):
    MODE = "market"
    TITLE = "Market"
    BINDINGS = [
        Binding("t", "timeframe", "Timeframe"),
        Binding("i", "overlays", "Indicators"),
        Binding("d", "dense", "Dense"),
        Binding("b", "ticket('buy')", "Buy"),
        Binding("s", "ticket('sell')", "Sell"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.timeframe: str | None = None  # None: the stream's
        self.overlay_set = 0
        self._overlays_asked: tuple[str, str, str, int] | None = None
        self._drawn: tuple[object, ...] = ()

    def compose_body(self) -> ComposeResult:
        with Container(id="market-body"):
            with Vertical(id="market-side"):
                yield Watchlist(id="watchlist")
                yield SymbolPanel(id="symbol-panel")
            yield CandleChart(id="chart")

    def on_mount(self) -> None:
        # Ages and staleness move with the clock even when no tick arrives.
        self.set_interval(1.0, self._tick_clock)

    def _tick_clock(self) -> None:
        if self.is_current:
            self.query_one(Watchlist).sync(self.state)

    @property
    def symbol(self) -> str | None:
        return self.query_one(Watchlist).selected

    def redraw(self, topics: set[Topic]) -> None:
        if topics & {"prices", "candles", "connection", "status"}:
            self.query_one(Watchlist).sync(self.state)
            self.draw_chart(force="candles" in topics or "connection" in topics)
        if topics & {"candles", "account", "strategies"}:
            self._draw_side()

    def _draw_side(self) -> None:
        panel = self.query_one(SymbolPanel)
        panel.symbol = self.symbol
        panel.refresh()

    def draw_chart(self, *, force: bool = False) -> None:
        state = self.state
        chart = self.query_one(CandleChart)
        symbol = self.symbol
        if symbol is None or symbol not in state.tickers:
            # Only the daemon's status names its symbols: until it answers, that it watches none is unknown.
            known = state.status.value is not None
            note = "the daemon watches no symbols" if known else "waiting for the daemon"
            chart.show("no symbols", [], step_ms=3_600_000, note=note)
            return
        ticker = state.tickers[symbol]
        base = state.timeframe
        timeframe = self.timeframe or base
        series = ticker.series
        note = ""
        if timeframe != base:
            extra = state.extra_series
            if extra is not None and extra.symbol == symbol and extra.timeframe == timeframe:
                series = extra
            else:
                note = f"loading {timeframe} candles…"
        stale = state.is_stale(ticker)
        name, lines = OVERLAY_SETS[self.overlay_set]
        overlay = state.overlays.get((symbol, timeframe, name)) if lines and not note else None
        newest = series.bars[-1].ts if series.bars else None
        if lines and not note and newest is not None and (overlay is None or overlay.until < newest):
            asked = (symbol, timeframe, name, newest)
            if asked != self._overlays_asked:
                self._overlays_asked = asked
                self.post_message(OverlaysRequested(symbol, timeframe, name, newest))
        key = (
            symbol,
            timeframe,
            series.version,
            self.overlay_set,
            id(overlay),
            stale,
            len(ticker.markers),
            chart.size,
        )
        if key == self._drawn and not force:
            return
        self._drawn = key
        bars = series.all_bars() if not note else []
        overlays = overlay.aligned(bars) if overlay is not None and bars else []
        chart.show(
            f"{symbol} {timeframe}",
            bars,
            step_ms=series.step_ms if not note else timeframe_ms(timeframe),
            markers=list(ticker.markers),
            overlays=overlays,
            note=note,
            stale=stale,
        )

    @on(Watchlist.Highlighted)
    def _picked(self) -> None:
        self._draw_side()
        self._load_timeframe()
        self.draw_chart(force=True)

    def _load_timeframe(self) -> None:
        symbol = self.symbol
        timeframe = self.timeframe
        if symbol is None or timeframe is None or timeframe == self.state.timeframe:
            return
        extra = self.state.extra_series
        if extra is None or extra.symbol != symbol or extra.timeframe != timeframe:
            self.post_message(ChartRequested(symbol, timeframe))

    def action_timeframe(self) -> None:
        choices = timeframes_for(self.state.timeframe)
        current = self.timeframe or choices[0]
        following = choices[(choices.index(current) + 1) % len(choices)] if current in choices else choices[0]
        self.timeframe = None if following == choices[0] else following
        self._load_timeframe()
        self.draw_chart(force=True)

    def action_overlays(self) -> None:
        self.overlay_set = (self.overlay_set + 1) % len(OVERLAY_SETS)
        self.notify(f"indicators: {OVERLAY_SETS[self.overlay_set][0]}", timeout=2)
        self.draw_chart(force=True)

    def action_dense(self) -> None:
        self.query_one(CandleChart).toggle_dense()

    def action_ticket(self, side: str) -> None:
        self.post_message(TicketRequested(self.symbol, side))
