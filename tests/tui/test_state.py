"""The dashboard's live state: events folded in, bounded buffers, staleness, candles at other timeframes."""

from __future__ import annotations

from mastertrade.engine import events as ev
from mastertrade.engine.candle import Candle
from mastertrade.tui.state import MAX_BARS, MAX_LOG, LiveState, resample
from tests.tui.fakes import HOUR_MS, LAST_BAR, NOW_S, SYMBOLS, TickSource, _order, fake_candles, tick


class Clock:
    def __init__(self, now: float = NOW_S) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def connected_state(clock: Clock | None = None) -> LiveState:
    state = LiveState(clock or Clock())
    state.set_connection("connected")
    for symbol in SYMBOLS:
        state.set_candles(symbol, fake_candles(symbol, 48))
    return state


def test_a_tick_moves_the_price_and_the_forming_bar() -> None:
    state = connected_state()
    topics = state.apply(tick("BTC/USDT", 70_000.0))
    assert topics == {"prices"}
    ticker = state.tickers["BTC/USDT"]
    assert ticker.price == 70_000.0
    assert ticker.series.forming is not None and ticker.series.forming.close == 70_000.0
    assert ticker.series.all_bars()[-1].ts == LAST_BAR + HOUR_MS


def test_a_closed_candle_is_appended_once_and_the_forming_bar_cleared() -> None:
    state = connected_state()
    closed = ev.CandleClosed(
        venue="sim",
        symbol="ETH/USDT",
        timeframe="1h",
        candle=Candle(LAST_BAR + HOUR_MS, 1.0, 2.0, 0.5, 1.5, 3.0),
    )
    state.apply(tick("ETH/USDT", 1.2))
    state.apply(closed)
    state.apply(closed)  # a replayed event changes nothing
    series = state.tickers["ETH/USDT"].series
    assert series.forming is None
    assert series.bars[-1].ts == LAST_BAR + HOUR_MS and series.bars[-1].close == 1.5
    assert sum(1 for bar in series.bars if bar.ts == LAST_BAR + HOUR_MS) == 1


def test_buffers_stay_bounded_however_long_the_stream_runs() -> None:
    state = connected_state()
    source = TickSource()
    for i in range(20_000):
        symbol = SYMBOLS[i % 3]
        state.apply(source.next(symbol))
        if i % 7 == 0:
            ts = LAST_BAR + (2 + i) * HOUR_MS
            state.apply(
                ev.CandleClosed(venue="sim", symbol=symbol, timeframe="1h", candle=Candle(ts, 1, 1, 1, 1, 1))
            )
            state.apply(
                ev.SignalRaised(
                    strategy_id="s", symbol=symbol, timeframe="1h", side="buy", price=1, bar_ts=ts
                )
            )
    assert all(len(t.series.bars) <= MAX_BARS for t in state.tickers.values())
    assert all(len(t.markers) <= t.markers.maxlen for t in state.tickers.values())  # type: ignore[operator]
    assert len(state.log) == MAX_LOG
    assert state.log_count > MAX_LOG


def test_prices_are_stale_without_ticks_or_without_the_daemon() -> None:
    clock = Clock()
    state = connected_state(clock)
    state.apply(tick("BTC/USDT", 1.0))
    ticker = state.tickers["BTC/USDT"]
    assert not state.is_stale(ticker)
    clock.now += 61
    assert state.is_stale(ticker)
    state.apply(tick("BTC/USDT", 1.0))
    assert not state.is_stale(ticker)
    state.set_connection("reconnecting", "gone")
    assert state.is_stale(ticker)


def test_connection_losses_keep_their_first_time_and_are_logged() -> None:
    clock = Clock()
    state = connected_state(clock)
    clock.now += 5
    state.set_connection("reconnecting", "the daemon is not running")
    since = state.connection.since
    clock.now += 30
    state.set_connection("reconnecting", "still not running")
    assert state.connection.since == since
    assert state.connection.reason == "still not running"
    assert [item.severity for item in state.log][-1] == "error"
    state.set_connection("connected")
    assert state.connected and state.log[-1].text == "connected to the daemon"


def test_resample_folds_bars_into_longer_buckets() -> None:
    bars = [
        (bar.ts, bar.open, bar.high, bar.low, bar.close, bar.volume) for bar in fake_candles("BTC/USDT", 8)
    ]
    from mastertrade.tui.state import Bar

    folded = resample([Bar(*row) for row in bars], 4 * HOUR_MS)
    assert all(bar.ts % (4 * HOUR_MS) == 0 for bar in folded)
    first_bucket = [Bar(*row) for row in bars if row[0] - row[0] % (4 * HOUR_MS) == folded[0].ts]
    assert folded[0].open == first_bucket[0].open
    assert folded[0].close == first_bucket[-1].close
    assert folded[0].high == max(bar.high for bar in first_bucket)
    assert folded[0].volume == sum(bar.volume for bar in first_bucket)


def test_a_longer_timeframe_follows_the_stream() -> None:
    state = connected_state()
    state.set_extra_series("BTC/USDT", "4h", fake_candles("BTC/USDT", 40), native=False)
    extra = state.extra_series
    assert extra is not None and extra.step_ms == 4 * HOUR_MS
    state.apply(tick("BTC/USDT", 99_999.0))
    assert extra.forming is not None and extra.forming.close == 99_999.0
    assert extra.forming.high >= 99_999.0
    assert extra.forming.ts == (LAST_BAR + HOUR_MS) - (LAST_BAR + HOUR_MS) % (4 * HOUR_MS)


def test_fills_and_signals_become_chart_markers() -> None:
    state = connected_state()
    state.apply(tick("SOL/USDT", 170.0))
    state.apply(
        ev.OrderFilled(
            order_id="1",
            client_order_id="c",
            symbol="SOL/USDT",
            side="buy",
            amount=1,
            price=170.0,
            strategy_id="g-1",
        )
    )
    state.apply(
        ev.SignalRaised(
            strategy_id="g-1", symbol="SOL/USDT", timeframe="1h", side="sell", price=171.0, bar_ts=LAST_BAR
        )
    )
    kinds = [(m.kind, m.side) for m in state.tickers["SOL/USDT"].markers]
    assert kinds == [("fill", "buy"), ("signal", "sell")]


def test_a_fill_seen_as_an_event_and_in_the_orders_is_one_marker() -> None:
    # The event marks the forming bar's open; the order's placed_ts is a millisecond past it (the
    # daemon's next-bar open): one fill, which the Market screen listed twice.
    state = connected_state()
    state.apply(tick("SOL/USDT", 170.0))
    state.apply(
        ev.OrderFilled(
            order_id="7", client_order_id="c", symbol="SOL/USDT", side="buy", amount=1, price=170.0
        )
    )
    order = _order(7, "SOL/USDT", "buy", "market", 1.0, "filled", filled=1.0, average=170.0)
    order = order.model_copy(update={"placed_ts": LAST_BAR + HOUR_MS + 1})
    state.set_orders([order])
    state.set_orders([order])  # and again, as every refresh of the account does
    assert [(m.kind, m.side) for m in state.tickers["SOL/USDT"].markers] == [("fill", "buy")]
    other = _order(8, "SOL/USDT", "sell", "market", 1.0, "filled", filled=1.0, average=171.0)
    state.set_orders([other, order])  # an order filled while the dashboard was away: added once
    state.set_orders([other, order])
    assert [m.side for m in state.tickers["SOL/USDT"].markers] == ["buy", "sell"]


def test_alerts_are_not_doubled_by_history_and_events() -> None:
    state = connected_state()
    event = ev.AlertRaised(
        alert_id=9, severity="warning", title="t", body="b", dedupe_key="k", rule="r", status="delivered"
    )
    state.apply(event)
    state.apply(event)
    assert len(state.alerts) == 1 and state.alerts[0].severity == "warning"


def test_day_change_and_volume_come_from_the_last_day_of_bars() -> None:
    state = connected_state()
    ticker = state.tickers["BTC/USDT"]
    bars = list(ticker.series.bars)
    state.apply(tick("BTC/USDT", bars[-1].close))
    assert ticker.change() == (bars[-1].close - bars[-24].close) / bars[-24].close
    assert abs(ticker.volume() - (sum(bar.volume for bar in bars[-23:]) + 1.0)) < 1e-6  # type: ignore[operator]


def test_order_events_read_with_the_dashboards_prices_and_amounts() -> None:
    """A fill at 1,234,567.89 once read "filled at 1.23457e+06" and one at 114,832.47 lost its cents; a
    strategy's entry sized at its fill (amount 0 until then) read "buy 0"."""
    state = connected_state()
    common = {"symbol": "BTC/USDT", "book": "strategy:g-7f3a"}
    state.apply(
        ev.OrderPlaced(
            order_id="1", client_order_id="a", side="buy", order_type="market", amount=0.0, **common
        )
    )
    state.apply(
        ev.OrderFilled(
            order_id="1", client_order_id="a", side="buy", amount=0.0125, price=114_832.47, **common
        )
    )
    state.apply(
        ev.OrderFilled(
            order_id="2", client_order_id="b", side="sell", amount=1_250.5, price=1_234_567.89, **common
        )
    )
    state.apply(ev.OrderRejected(client_order_id="c", side="buy", amount=0.0, reason="halted", **common))
    state.apply(
        ev.OrderPlaced(
            order_id="3", client_order_id="d", side="buy", order_type="market", amount=0.0,
            equity_fraction=0.5, **common,
        )
    )  # fmt: skip
    state.apply(
        ev.OrderRejected(
            client_order_id="e", side="buy", amount=0.0, reason="halted", equity_fraction=0.25, **common
        )
    )
    texts = [item.text for item in state.log][1:]  # after "connected to the daemon"
    assert texts == [
        "[paper book g-7f3a] buy (sized at fill) BTC/USDT market placed",
        "[paper book g-7f3a] buy 0.0125 BTC/USDT filled at 114,832.47",
        "[paper book g-7f3a] sell 1,250.50 BTC/USDT filled at 1,234,567.89",
        "[paper book g-7f3a] buy (sized at fill) BTC/USDT rejected: halted",
        "[paper book g-7f3a] buy 50% of equity BTC/USDT market placed",  # the share the event carries
        "[paper book g-7f3a] buy 25% of equity BTC/USDT rejected: halted",
    ]
