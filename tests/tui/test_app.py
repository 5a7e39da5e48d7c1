"""Pilot tests: every screen on the fake daemon, the keys, the actions and what they call, the order
ticket, confirmations, the reconnect path and leaving a demo."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import DataTable, Input, Select, Static
from textual.worker import Worker

from mastertrade.client import DaemonConnectionLost
from mastertrade.engine import events as ev
from mastertrade.tui.app import MasterTradeApp
from mastertrade.tui.screens.alerts import AlertsScreen
from mastertrade.tui.screens.confirm import ConfirmScreen, QuitDemoScreen
from mastertrade.tui.screens.help import HelpScreen, keys_of, what_of
from mastertrade.tui.screens.market import MarketScreen
from mastertrade.tui.screens.order_ticket import OrderTicket
from mastertrade.tui.screens.orders import OrdersScreen
from mastertrade.tui.screens.overview import OverviewScreen
from mastertrade.tui.screens.risk import RiskScreen
from mastertrade.tui.screens.strategies import StrategiesScreen
from mastertrade.tui.screens.strategy_detail import StrategyDetailScreen
from mastertrade.tui.widgets.candle_chart import CandleChart
from mastertrade.tui.widgets.feed_table import FeedTable
from mastertrade.tui.widgets.status_bar import ConnectionBanner, StatusBar
from mastertrade.tui.widgets.watchlist import Watchlist
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import LAST_BAR, FakeBackend, book_order, fake_position, tick


def plain(widget: Any) -> str:
    """What a widget shows, as plain text."""
    rendered = widget.render()
    return str(getattr(rendered, "plain", rendered))


def cells(table: DataTable[Any]) -> list[list[str]]:
    return [
        [str(getattr(cell, "plain", cell)) for cell in table.get_row_at(i)] for i in range(table.row_count)
    ]


async def test_number_keys_switch_screens_and_the_nav_bar_follows() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        expected = {
            "2": MarketScreen,
            "3": StrategiesScreen,
            "4": OrdersScreen,
            "5": RiskScreen,
            "6": AlertsScreen,
            "question_mark": HelpScreen,
            "1": OverviewScreen,
        }
        for key, screen in expected.items():
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, screen), key
            assert app.screen.query_one(StatusBar).screen_title == screen.TITLE


async def test_the_command_palette_offers_every_screen_and_the_main_actions() -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await wait_for(pilot, loaded(app))
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {
            "Show Market",
            "Show Risk",
            "Show Help",
            "New order",
            "Halt trading",
            "Start a generation run",
        } <= titles
        switch = next(c for c in app.get_system_commands(app.screen) if c.title == "Show Orders")
        switch.callback()
        await pilot.pause()
        assert isinstance(app.screen, OrdersScreen)


async def test_overview_shows_badges_pnl_risk_goals_and_alerts() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = app.screen
        bar = plain(screen.query_one(StatusBar))
        assert "SIMULATED" in bar and "PAPER" in bar and "connected" in bar and "LIVE" not in bar
        text = " ".join(plain(w) for w in screen.query("StatePanel"))
        assert "Equity 10,016.40 USDT" in text and "Total +16.40" in text
        assert "29.4% / 80%" in text and "✖ price_move" in text and "VaR 95%" in text
        assert "monthly return" in text and "34%" in text
        assert "crit Circuit breaker" in text


async def test_a_live_daemon_is_badged_live_and_never_paper() -> None:
    app = make_app(FakeBackend(mode="live", simulated=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, loaded(app))
        bar = plain(app.screen.query_one(StatusBar))
        assert "LIVE" in bar and "PAPER" not in bar and "SIMULATED" not in bar


async def test_market_watchlist_chart_timeframes_and_overlays() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MarketScreen)
        table = screen.query_one(Watchlist)
        assert [row[0] for row in list(table.row_texts())] == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
        assert all(row[-1] == "live" for row in list(table.row_texts()))
        chart = screen.query_one(CandleChart)
        assert chart.title == "BTC/USDT 1h" and len(chart.bars) == 300
        assert [name for name, _ in chart.overlays] == ["SMA20", "EMA50"]
        assert any(m.kind == "fill" and m.side == "buy" for m in chart.markers)

        backend.push(tick("BTC/USDT", 70_123.0))
        await wait_for(pilot, lambda: list(table.row_texts())[0][1] == "70,123.00")
        assert chart.bars[-1].close == 70_123.0 and chart.bars[-1].ts == LAST_BAR + 3_600_000

        await pilot.press("down")
        await wait_for(pilot, lambda: chart.title == "ETH/USDT 1h")
        await pilot.press("t")  # 4h: the fake stores only 1h, so the chart folds 1h candles
        await wait_for(pilot, lambda: chart.title == "ETH/USDT 4h" and bool(chart.bars))
        assert chart.step_ms == 4 * 3_600_000 and all(bar.ts % chart.step_ms == 0 for bar in chart.bars)
        await pilot.press("i")
        await wait_for(
            pilot, lambda: [name for name, _ in chart.overlays] == ["BB20 upper", "SMA20", "BB20 lower"]
        )


async def test_the_watchlist_never_cuts_a_symbol_or_a_price_short() -> None:
    """BTC-EDGE/USDT showed as "BTC-EDGE/U" and a price of a million as "1,234,567.8": the columns
    widen to their texts, the sparkline gives way when the side panel is full."""
    backend = FakeBackend(symbols=("BTC/USDT", "BTC-EDGE/USDT", "SOL/USDT"))
    app = make_app(backend)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("2")
        await pilot.pause()
        table = app.screen.query_one(Watchlist)
        backend.push(tick("BTC-EDGE/USDT", 1_234_567.89))
        await wait_for(pilot, lambda: table.row_texts()[1][1] == "1,234,567.89")
        lines = [table.render_line(y).text for y in range(4)]
        assert all(len(line) == table.size.width for line in lines)
        assert lines[2].startswith("BTC-EDGE/USDT 1,234,567.89 ")
        assert lines[2].rstrip().endswith("live") and lines[0].split()[:3] == ["Symbol", "Price", "24h"]
        assert lines[1].startswith("BTC/USDT      ")  # the other symbols line up with it


async def test_bursts_of_ticks_are_coalesced_into_a_few_redraws() -> None:
    backend = FakeBackend()
    app = make_app(backend, flush_s=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MarketScreen)
        redraws: list[set[str]] = []
        original = screen.redraw

        def counting(topics: set[Any]) -> None:
            redraws.append(set(topics))
            original(topics)

        screen.redraw = counting  # type: ignore[method-assign]
        for i in range(1000):
            backend.push(tick(("BTC/USDT", "ETH/USDT", "SOL/USDT")[i % 3], 60_000.0 + i))
        table = screen.query_one(Watchlist)
        await wait_for(pilot, lambda: list(table.row_texts())[0][1] == "60,999.00")
        assert app.state.tickers["SOL/USDT"].price == 60_998.0
        assert 1 <= sum("prices" in topics for topics in redraws) <= 5


async def test_strategies_activate_pause_retire_with_confirmation() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3")
        await pilot.pause()
        table = app.screen.query_one("#strategies", DataTable)
        assert cells(table)[0][:2] == ["rsi-trend-7f3a", "active"]
        assert "paper 2" in plain(app.screen.query_one("#pipeline", Static))

        await pilot.press("down", "a")  # bb-revert-21c9 (paper) -> active, after a confirmation
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and "paper account" in app.screen.message
        await pilot.press("y")
        await wait_for(pilot, lambda: ("change_strategy", ("g-21c9", "activate")) in backend.calls)
        await wait_for(pilot, lambda: cells(table)[1][1] == "active")

        await pilot.press("p")  # pausing needs no confirmation
        await wait_for(pilot, lambda: ("change_strategy", ("g-21c9", "pause")) in backend.calls)

        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # cancelled: nothing retired
        await pilot.pause()
        assert not any(call == ("change_strategy", ("g-21c9", "retire")) for call in backend.calls)


async def test_a_generation_run_starts_and_its_progress_shows() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3", "g")
        await wait_for(pilot, lambda: ("run_job", "nightly_generation") in backend.calls)
        backend.push(
            ev.JobProgress(job="nightly_generation", run_id=77, done=120, total=500, message="evaluating")
        )
        line = app.screen.query_one("#generation", Static)
        await wait_for(pilot, lambda: "120/500" in plain(line))
        assert "24%" in plain(line) and "evaluating" in plain(line)
        backend.push(ev.JobFinished(job="nightly_generation", run_id=77, outcome="ok", duration_s=12.0))
        await wait_for(pilot, lambda: "run 77 ok" in plain(line))


async def test_strategy_detail_shows_rules_metrics_and_curves() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3", "enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, StrategyDetailScreen) and app.screen.detail() is not None
        )
        screen = app.screen
        assert "RSI(14) crosses above 30" in plain(screen.query_one("#detail-rules", Static))
        assert "passed → paper" in plain(screen.query_one("#detail-rules", Static))
        metrics = plain(screen.query_one("#detail-metrics", Static))
        assert "sharpe (OOS)    1.84" in metrics and "profit factor" in metrics
        assert "buy&hold" not in metrics  # not recorded for this strategy: no line
        assert len(screen.query_one("#backtest-curve").values) == 300  # type: ignore[attr-defined]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, StrategiesScreen)


async def open_detail(pilot: Any, app: MasterTradeApp, strategy_id: str) -> StrategyDetailScreen:
    """The Strategies screen, its row ``strategy_id`` selected, then its detail."""
    await pilot.press("3")
    await pilot.pause()
    table = app.screen.query_one("#strategies", DataTable)
    await wait_for(pilot, lambda: table.row_count > 0)
    keys = [str(row.key.value) for row in table.ordered_rows]
    table.move_cursor(row=keys.index(strategy_id), animate=False)
    await pilot.press("enter")
    await wait_for(
        pilot, lambda: isinstance(app.screen, StrategyDetailScreen) and app.screen.detail() is not None
    )
    assert isinstance(app.screen, StrategyDetailScreen)
    return app.screen


async def test_strategy_detail_shows_its_paper_book_and_follows_its_fills() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await open_detail(pilot, app, "g-21c9")
        positions = screen.query_one("#book-positions", DataTable)
        orders = screen.query_one("#book-orders", DataTable)
        await wait_for(pilot, lambda: orders.row_count == 3)
        # the strategy's own book, not the account's (whose orders are 12, 11 and 10)
        assert [row[0] for row in cells(orders)] == ["43", "42", "41"]
        # its open entry is sized as a share of equity at the fill, and says so
        assert cells(orders)[0][2:7] == ["buy", "market", "30% of equity", "–", "open"]
        assert positions.row_count == 0
        panel = screen.query_one("#book-positions-panel")
        assert panel.border_title == "Positions · paper book"
        assert panel.border_subtitle == "no open positions"
        # it fills: the feed fetches the account again, and the detail its book
        book_positions, book_orders = backend.books["strategy:g-21c9"]
        book_orders[0] = book_order(43, "g-21c9", "ETH/USDT", "buy", 0.3, 3_401.0, hours_ago=0)
        book_positions.append(fake_position("ETH/USDT", 0.3, 3_401.0, 3_410.0))
        backend.push(
            ev.OrderFilled(
                order_id="43",
                client_order_id="mt-000043",
                symbol="ETH/USDT",
                side="buy",
                amount=0.3,
                price=3_401.0,
                strategy_id="g-21c9",
                book="strategy:g-21c9",
            )
        )
        await wait_for(pilot, lambda: positions.row_count == 1)
        # a market order has no price of its own: its fill's is under "Avg fill"
        assert cells(orders)[0][:9] == [
            "43",
            "ETH/USDT",
            "buy",
            "market",
            "0.3",
            "–",
            "filled",
            "0.3",
            "3,401.00",
        ]
        assert cells(positions)[0][:2] == ["ETH/USDT", "0.3"]
        assert panel.border_subtitle == ""


async def test_strategy_detail_says_when_it_has_no_paper_book() -> None:
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await open_detail(pilot, app, "g-5d11")  # passed, never traded
        panel = screen.query_one("#book-positions-panel")
        await wait_for(pilot, lambda: panel.border_subtitle != "loading its paper book…")
        assert panel.border_subtitle == "no paper book: the strategy has not traded on paper"
        assert screen.query_one("#book-orders", DataTable).row_count == 0


async def test_strategy_detail_keeps_its_book_and_says_why_when_the_daemon_goes() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await open_detail(pilot, app, "g-7f3a")
        positions = screen.query_one("#book-positions", DataTable)
        await wait_for(pilot, lambda: positions.row_count == 1)
        backend.go_down()
        screen.load_book()
        panel = screen.query_one("#book-positions-panel")
        await wait_for(pilot, lambda: (panel.border_subtitle or "").startswith("paper book not read"))
        assert positions.row_count == 1  # what it showed stays, marked as not read


async def test_strategies_say_why_when_the_daemon_cannot_list_them() -> None:
    app = make_app(FakeBackend(strategies_served=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3")
        await pilot.pause()
        assert "could not read the strategy store" in plain(app.screen.query_one("#pipeline", Static))


async def test_cancelling_an_order_asks_then_calls_the_daemon() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("4")
        await pilot.pause()
        orders = app.screen.query_one("#orders", DataTable)
        assert [row[0] for row in cells(orders)] == ["12"]  # open orders only
        await pilot.press("o")
        await pilot.pause()
        assert [row[0] for row in cells(orders)] == ["12", "11", "10"]
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and "order 12" in app.screen.message
        await pilot.press("y")
        await wait_for(pilot, lambda: ("cancel_order", 12) in backend.calls)
        await wait_for(pilot, lambda: cells(orders)[0][6] == "cancelled")


async def test_cancelling_the_stop_that_protects_a_position_asks_again_before_unprotecting() -> None:
    """The daemon refuses to cancel a protective stop unless told the trader means it: the dashboard shows
    its reason, names what is at stake, and sends ``unprotect`` only on a second yes."""
    backend = FakeBackend()
    backend.protecting.add(12)
    app = make_app(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("4")
        await pilot.pause()
        orders = app.screen.query_one("#orders", DataTable)
        for answer in ("escape", "y"):
            await pilot.press("c")
            await pilot.pause()
            await pilot.press("y")  # the first question: cancel order 12?
            await wait_for(
                pilot, lambda: isinstance(app.screen, ConfirmScreen) and "protecting" in app.screen.message
            )
            assert isinstance(app.screen, ConfirmScreen)
            assert "without a stop" in app.screen.message and "0.5 ETH/USDT position" in app.screen.message
            await pilot.press(answer)
            await pilot.pause()
            if answer == "escape":
                await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
                assert ("cancel_order", 12, "unprotect") not in backend.calls
                assert next(o for o in backend.orders_list if o.id == 12).state != "cancelled"
        await wait_for(pilot, lambda: ("cancel_order", 12, "unprotect") in backend.calls)
        await pilot.press("o")  # all orders, not only the open ones
        await wait_for(pilot, lambda: cells(orders)[0][6] == "cancelled")


async def ticket(pilot: Any, app: MasterTradeApp, amount: str) -> OrderTicket:
    await pilot.press("n")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, OrderTicket)
    screen.query_one("#amount", Input).value = amount
    await wait_for(pilot, lambda: screen.decision is not None)
    return screen


async def test_the_order_ticket_previews_the_risk_check_then_sends() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await ticket(pilot, app, "0.01")
        preview = plain(screen.query_one("#ticket-preview", Static))
        assert "✔ approve 0.01 BTC/USDT" in preview and "% of equity" in preview

        screen.query_one("#amount", Input).value = "1"  # over the position limit: a human's order is not cut
        await wait_for(pilot, lambda: screen.decision is not None and screen.decision.verdict == "reject")
        preview = plain(screen.query_one("#ticket-preview", Static))
        assert "the limits allow" in preview and "of the 1 asked: order that amount" in preview

        screen.query_one("#amount", Input).value = "0.02"
        await wait_for(pilot, lambda: screen.decision is not None and screen.decision.verdict == "approve")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, OrderTicket))
        sent = [call[1] for call in backend.calls if call[0] == "place_order"]
        assert len(sent) == 1 and sent[0].symbol == "BTC/USDT" and sent[0].amount == 0.02 and not sent[0].live
        assert not sent[0].allow_resize


async def test_a_rejected_order_stays_on_the_ticket_with_the_reason() -> None:
    backend = FakeBackend()
    backend.reject_with = "trading is halted by the kill switch: no entries"
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await ticket(pilot, app, "0.01")
        await pilot.press("ctrl+s")
        result = screen.query_one("#ticket-result", Static)
        await wait_for(pilot, lambda: "rejected" in plain(result))
        assert "kill switch" in plain(result)
        assert isinstance(app.screen, OrderTicket)


async def test_bad_input_is_named_and_nothing_is_sent() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await ticket(pilot, app, "0.01")
        screen.query_one("#type", Select).value = "limit"
        await pilot.pause()
        await pilot.press("ctrl+s")
        result = screen.query_one("#ticket-result", Static)
        await wait_for(pilot, lambda: "a limit order needs one" in plain(result))
        assert not any(call[0] == "place_order" for call in backend.calls)


async def test_a_second_send_while_the_order_is_on_its_way_sends_nothing_more() -> None:
    backend = FakeBackend()
    backend.place_gate = asyncio.Event()
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await ticket(pilot, app, "0.01")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any(call[0] == "place_order" for call in backend.calls))
        await pilot.press("ctrl+s")
        await pilot.click("#send")
        await pilot.press("escape")  # its answer would be lost: the ticket stays until it comes
        await pilot.pause()
        assert app.screen is screen and screen.query_one("#send").disabled
        backend.place_gate.set()
        await wait_for(pilot, lambda: not isinstance(app.screen, OrderTicket))
        assert [call[0] for call in backend.calls].count("place_order") == 1
        assert len(backend.by_client_id) == 1


async def test_an_order_whose_answer_was_lost_is_asked_for_again_never_placed_twice() -> None:
    backend = FakeBackend()
    backend.answers_lost = 1
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await ticket(pilot, app, "0.01")
        await pilot.press("ctrl+s")
        result = screen.query_one("#ticket-result", Static)
        await wait_for(pilot, lambda: "no answer in time" in plain(result))
        assert isinstance(app.screen, OrderTicket) and not screen.query_one("#send").disabled
        await pilot.press("ctrl+s")  # the same order again: the daemon returns the one it placed
        await wait_for(pilot, lambda: not isinstance(app.screen, OrderTicket))
        sent = [call[1] for call in backend.calls if call[0] == "place_order"]
        assert len(sent) == 2 and sent[0].client_order_id == sent[1].client_order_id
        assert len(backend.by_client_id) == 1 and [o.id for o in backend.orders_list].count(13) == 1
        assert any("placed once" in note.message for note in app._notifications)


async def test_an_answer_lost_to_a_broken_connection_is_not_called_not_sent() -> None:
    # It said "✖ not sent: the connection to the daemon broke" about an order the daemon may have placed.
    backend = FakeBackend()
    backend.answers_lost = 1
    backend.lost_answer = DaemonConnectionLost("the connection to the daemon broke: Server disconnected")
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await ticket(pilot, app, "0.01")
        await pilot.press("ctrl+s")
        result = screen.query_one("#ticket-result", Static)
        await wait_for(pilot, lambda: "may have been placed" in plain(result))
        assert "not sent" not in plain(result) and "connection broke" in plain(result)
        await pilot.press("ctrl+s")  # the same order again, by the same client order id
        await wait_for(pilot, lambda: not isinstance(app.screen, OrderTicket))
        sent = [call[1] for call in backend.calls if call[0] == "place_order"]
        assert len(sent) == 2 and sent[0].client_order_id == sent[1].client_order_id
        assert len(backend.by_client_id) == 1


async def test_a_changed_order_after_a_lost_answer_is_a_new_order() -> None:
    backend = FakeBackend()
    backend.answers_lost = 1
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await ticket(pilot, app, "0.01")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "no answer" in plain(screen.query_one("#ticket-result", Static)))
        screen.query_one("#amount", Input).value = "0.02"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, OrderTicket))
        sent = [call[1] for call in backend.calls if call[0] == "place_order"]
        assert [o.amount for o in sent] == [0.01, 0.02]
        assert sent[0].client_order_id != sent[1].client_order_id


async def test_a_ticket_sent_while_its_preview_waits_leaves_no_preview_running() -> None:
    """Typed and sent at once: the preview still waiting when the ticket closed went on to fill the
    ticket's widgets after they were gone, and the dashboard died with NoMatches."""
    backend = FakeBackend()
    app = make_app(backend)
    left_running: list[list[Worker[Any]]] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OrderTicket)

        def placed(*_names: str) -> None:  # the app's answer to the placed order: the ticket just closed
            previews = [w for w in app.workers if w.node is screen and w.group == "preview"]
            left_running.append([w for w in previews if not (w.is_cancelled or w.is_finished)])

        app.refresh_soon = placed  # type: ignore[method-assign]
        screen.query_one("#amount", Input).value = "0.01"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: bool(left_running))
        await pilot.pause(0.3)
        assert left_running == [[]] and app.is_running and app.return_code is None


async def test_a_live_order_needs_a_second_confirmation_and_is_sent_as_live() -> None:
    backend = FakeBackend(mode="live", simulated=False)
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await ticket(pilot, app, "0.01")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "LIVE" in app.screen.message and "BUY 0.01 BTC/USDT" in app.screen.message
        await pilot.press("enter")  # the focus is on Cancel: Enter does not send
        await pilot.pause()
        assert isinstance(app.screen, OrderTicket)
        assert not any(call[0] == "place_order" for call in backend.calls)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: any(call[0] == "place_order" for call in backend.calls))
        sent = next(call[1] for call in backend.calls if call[0] == "place_order")
        assert sent.live is True


async def test_risk_halt_resume_and_breaker_reset() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("5")
        await pilot.pause()
        breakers = app.screen.query_one("#breakers", DataTable)
        assert cells(breakers)[1][:2] == ["price_move", "TRIPPED"]
        assert cells(app.screen.query_one("#var", DataTable))[0] == ["VaR 95%", "61.20", "58.30"]

        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.screen.danger
        await pilot.press("y")
        await wait_for(pilot, lambda: app.state.risk.value is not None and app.state.risk.value.halted)
        assert ("risk_halt", "halted from the dashboard") in backend.calls
        assert "HALTED" in plain(app.screen.query_one(StatusBar))

        await pilot.press("down", "r")  # the cursor on price_move
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and "price_move" in app.screen.message
        await pilot.press("y")
        await wait_for(pilot, lambda: ("risk_resume", "price_move") in backend.calls)
        await wait_for(pilot, lambda: cells(breakers)[1][1] == "clear")

        await pilot.press("u", "y")
        await wait_for(pilot, lambda: ("risk_resume", None) in backend.calls)
        await wait_for(pilot, lambda: not app.state.risk.value.halted)  # type: ignore[union-attr]


async def test_alerts_and_log_filter_by_text_and_severity() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("6")
        await pilot.pause()
        feed = app.screen.query_one("#alerts-feed", FeedTable)
        assert feed.row_count == 3
        await pilot.press("v", "v")  # warning and up
        await wait_for(pilot, lambda: feed.row_count == 2)
        backend.push(
            ev.AlertRaised(
                alert_id=50,
                severity="info",
                title="quiet",
                body="",
                dedupe_key="q",
                rule="r",
                status="delivered",
            )
        )
        backend.push(
            ev.AlertRaised(
                alert_id=51,
                severity="critical",
                title="loud",
                body="",
                dedupe_key="l",
                rule="r",
                status="delivered",
            )
        )
        await wait_for(pilot, lambda: feed.row_count == 3)
        assert cells(feed)[-1][3] == "loud"
        await pilot.press("slash")
        await pilot.press(*"btc")
        await wait_for(pilot, lambda: feed.row_count == 2)
        await pilot.press("escape")
        await wait_for(pilot, lambda: feed.row_count == 3)
        await pilot.press("v", "v", "v")  # error, critical, then all levels again
        await wait_for(pilot, lambda: feed.row_count == 5)
        await pilot.press("l")
        await pilot.pause()
        log = app.screen.query_one("#log-feed", FeedTable)
        assert any("connected to the daemon" in row[3] for row in cells(log))


async def test_help_lists_every_binding_of_every_screen() -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("question_mark")
        await pilot.pause()
        listed = {(row[1], row[2]) for row in cells(app.screen.query_one("#keys", DataTable))}
        screens = [
            *(s for s in MasterTradeApp.MODES.values() if isinstance(s, type)),
            StrategyDetailScreen,
            OrderTicket,
            ConfirmScreen,
            QuitDemoScreen,
        ]
        declared = [
            binding
            for node in [MasterTradeApp, *screens]
            for cls in node.__mro__
            if cls.__module__.startswith("mastertrade.")
            for binding in cls.__dict__.get("BINDINGS", [])
        ]
        assert len(declared) > 25
        for binding in declared:
            assert (keys_of(app, binding), what_of(binding)) in listed, binding
        assert ("? / f1", "Help") in listed and ("^p", "Command palette") in listed
        assert all("_" not in what and what != "help quit" for _, what in listed), listed  # words only


async def test_the_daemon_absent_at_start_then_recovering() -> None:
    backend = FakeBackend(up=False)
    app = make_app(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.state.connection.state == "offline")
        banner = app.screen.query_one(ConnectionBanner)
        assert banner.has_class("-shown") and "not answering" in plain(banner)
        assert "offline" in plain(app.screen.query_one(StatusBar))
        assert "?" in plain(app.screen.query_one(StatusBar))  # the account kind is not guessed
        backend.come_back()
        await wait_for(pilot, loaded(app))
        assert not banner.has_class("-shown")
        assert "PAPER" in plain(app.screen.query_one(StatusBar))


async def test_a_lost_daemon_marks_everything_stale_until_it_returns() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("2")
        await pilot.pause()
        backend.go_down()
        await wait_for(pilot, lambda: app.state.connection.state == "reconnecting")
        screen = app.screen
        assert "reconnecting since 12:00:00" in plain(screen.query_one(StatusBar))
        assert "NOT live" in plain(screen.query_one(ConnectionBanner))
        assert screen.has_class("-offline")
        table = screen.query_one(Watchlist)
        await wait_for(pilot, lambda: all(row[-1].startswith("stale") for row in list(table.row_texts())))
        assert screen.query_one(CandleChart).stale
        backend.come_back()
        await wait_for(pilot, lambda: app.state.connected)
        await wait_for(pilot, lambda: all(row[-1] == "live" for row in list(table.row_texts())))
        assert not screen.has_class("-offline")


async def test_quitting_a_demo_offers_to_stop_its_daemon() -> None:
    backend = FakeBackend()
    app = make_app(backend, demo=True)
    async with app.run_test() as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, QuitDemoScreen)
        await pilot.press("escape")  # stay
        await pilot.pause()
        assert app.is_running and not isinstance(app.screen, QuitDemoScreen)
        await pilot.press("q")
        await pilot.pause()
        await pilot.click("#stop")
        await wait_for(pilot, lambda: ("stop_daemon", None) in backend.calls)
    assert app.return_code == 0


async def test_quitting_outside_a_demo_leaves_the_daemon_alone() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test() as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("q")
        await pilot.pause()
    assert ("stop_daemon", None) not in backend.calls
    assert ("aclose", None) in backend.calls


async def test_the_header_shows_halted_while_any_breaker_is_tripped() -> None:
    """Not only the kill switch: a tripped breaker stops entries too, so the header says HALTED, and stops
    saying it as soon as the daemon reports the breaker reset (its cool-down over)."""
    backend = FakeBackend()  # price_move tripped, kill switch off
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        assert app.state.risk.value is not None and not app.state.risk.value.halted
        assert "HALTED" in plain(app.screen.query_one(StatusBar))
        backend.tripped.clear()
        backend.push(ev.CircuitBreakerReset(breaker="price_move", reason="cool-down over"))
        await wait_for(pilot, lambda: "HALTED" not in plain(app.screen.query_one(StatusBar)))
        backend.tripped.add("stale_data")
        backend.push(ev.CircuitBreakerTripped(breaker="stale_data", reason="no price for 300s"))
        await wait_for(pilot, lambda: "HALTED" in plain(app.screen.query_one(StatusBar)))


async def test_a_burst_of_fills_at_80x24_is_one_small_toast_at_a_time_that_goes_away() -> None:
    """An accelerated market fills dozens of orders a second: at 80x24 the toasts stay few and small,
    name each fill's book, and are gone soon after the burst (the batcher's 2 s window and 4 s timeout,
    scaled down fourfold so the test waits little)."""
    from textual.widgets._toast import Toast

    from mastertrade.tui.toasts import ToastBatcher

    backend = FakeBackend()
    app = make_app(backend)
    app.toasts = ToastBatcher(window_s=0.5, timeout_s=1.0)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_for(pilot, loaded(app))
        screen_area = 80 * 24
        most, most_area, texts = 0, 0, set()
        for n in range(60):
            book = "strategy:63f7a43f600772c1" if n % 2 else "paper"
            backend.push(
                ev.OrderFilled(
                    order_id=str(n),
                    client_order_id=f"mt-{n:06d}",
                    symbol="SOL/USDT",
                    side="buy",
                    amount=60.28,
                    price=150.0,
                    book=book,
                )
            )
            await pilot.pause(0.01)
            toasts = list(app.screen.query(Toast))
            most = max(most, len(toasts))
            most_area = max(most_area, sum(toast.region.area for toast in toasts))
            texts |= {str(toast.render()) for toast in toasts}
        assert 1 <= most <= 3, most  # one toast per window, each shown for two windows
        assert most_area <= screen_area * 0.15, (most_area, screen_area)  # 85% of the dashboard shows
        assert any("[account] buy 60.28 SOL/USDT" in text for text in texts), texts
        assert any("more: event log" in text for text in texts), texts
        # every fill is in the event log, with its book
        lines = [item.text for item in app.state.log if item.source == "fill"]
        assert len(lines) == 60
        assert sum("[paper book 63f7a43f]" in line for line in lines) == 30
        await wait_for(pilot, lambda: not app.screen.query(Toast), timeout=5.0)


async def test_strategy_detail_says_when_it_does_worse_than_buy_and_hold() -> None:
    from mastertrade.engine.api.schemas_strategies import StrategyDetail

    backend = FakeBackend()
    served = backend.strategy

    async def with_baseline(strategy_id: str) -> StrategyDetail:
        detail = await served(strategy_id)
        return detail.model_copy(update={"holdout_buy_and_hold": {"sharpe": 2.5, "return_pct": 40.0}})

    backend.strategy = with_baseline  # type: ignore[method-assign]
    app = make_app(backend)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3", "enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, StrategyDetailScreen) and app.screen.detail() is not None
        )
        metrics = plain(app.screen.query_one("#detail-metrics", Static))
        assert "buy&hold sharpe 2.50" in metrics  # the strategy's 1.84 is below it, said plainly
        assert "does worse than buy-and-hold over its hold-out" in metrics
