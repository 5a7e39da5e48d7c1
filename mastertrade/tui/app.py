"""``MasterTradeApp``: the dashboard. Its screens map (one mode per screen, keys 1-6 and ``?``), the
actions several screens share (order ticket, cancel, halt and resume, strategy changes, generation
runs), and the bridge from the daemon to the screens.

The bridge: one worker runs ``Feed.run`` (snapshots, the event stream, polling, reconnection), which
folds everything into ``self.state`` and calls ``_changed`` with the topics that moved. Topics collect
for ``flush_s`` and then go out as one message each to the screens of the current mode, so the
screens redraw at most ``1 / flush_s`` times a second however fast events arrive (``flush_s=0``
posts every change at once: the benchmark's naive baseline). Calls that change something run as
workers in the "actions" group; ``on_worker_state_changed`` turns any failure into a notification.

The app owns its backend and closes it when it exits.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Coroutine, Iterable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.console import RenderableType
from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from mastertrade.engine.api.schemas_strategies import StrategySummary
from mastertrade.engine.api.schemas_trading import PlaceResult
from mastertrade.errors import MasterTradeError, StopProtectsPosition
from mastertrade.tui import format as fmt
from mastertrade.tui.backend import GENERATION_JOB, Backend
from mastertrade.tui.feed import Feed
from mastertrade.tui.messages import (
    MESSAGES,
    BreakerResetConfirmed,
    CancelConfirmed,
    ChartRequested,
    GenerationRequested,
    HaltRequested,
    OverlaysRequested,
    ResumeRequested,
    StrategyAction,
    StrategyChangeRequested,
    TicketRequested,
)
from mastertrade.tui.screens.alerts import AlertsScreen
from mastertrade.tui.screens.base import DashboardScreen
from mastertrade.tui.screens.confirm import ConfirmScreen, QuitChoice, QuitDemoScreen
from mastertrade.tui.screens.help import HelpScreen
from mastertrade.tui.screens.market import MarketScreen
from mastertrade.tui.screens.order_ticket import OrderTicket
from mastertrade.tui.screens.orders import OrdersScreen
from mastertrade.tui.screens.overview import OverviewScreen
from mastertrade.tui.screens.risk import RiskScreen
from mastertrade.tui.screens.strategies import StrategiesScreen, confirm_text
from mastertrade.tui.state import LiveState, Severity, Topic
from mastertrade.tui.toasts import ToastBatcher
from mastertrade.tui.widgets.nav_bar import SCREENS

TOAST_SEVERITY: dict[Severity, SeverityLevel] = {
    "debug": "information",
    "info": "information",
    "warning": "warning",
    "error": "error",
    "critical": "error",
}


class MasterTradeApp(App[None]):
    TITLE = "MasterTrade"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere keep it
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "overview": OverviewScreen,
        "market": MarketScreen,
        "strategies": StrategiesScreen,
        "orders": OrdersScreen,
        "risk": RiskScreen,
        "alerts": AlertsScreen,
        "help": HelpScreen,
    }
    DEFAULT_MODE = "overview"
    BINDINGS = [
        *(
            Binding(key if key != "?" else "question_mark,f1", f"switch_mode('{mode}')", title, show=False)
            for mode, key, title in SCREENS
        ),
        Binding("n", "new_order", "New order"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        backend: Backend,
        *,
        demo: bool = False,
        clock: Callable[[], float] = time.time,
        flush_s: float = 0.1,
        feed_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.demo = demo
        self.flush_s = flush_s
        self.state = LiveState(clock)
        self.feed = Feed(
            backend, self.state, changed=self._changed, notice=self._notice, **(feed_options or {})
        )
        self._pending: set[Topic] = set()
        self._flush_scheduled = False
        self.toasts = ToastBatcher()
        self.leaving = False
        """The app is closing: keys typed after the quit (a terminal delivers "q1n" at once) are
        dropped, instead of opening screens whose widgets are already going (a NoMatches traceback)."""

    # --- the bridge from the daemon ----------------------------------------------------------------------

    def on_mount(self) -> None:
        self.start_feed()

    def start_feed(self) -> None:
        self.run_worker(self.feed.run(), name="feed", group="feed", exclusive=True, exit_on_error=False)

    def exit(self, result: None = None, return_code: int = 0, message: RenderableType | None = None) -> None:
        self.leaving = True
        super().exit(result, return_code, message)

    async def on_event(self, event: events.Event) -> None:
        if self.leaving and isinstance(event, events.InputEvent):
            return
        await super().on_event(event)

    async def on_unmount(self) -> None:
        await self.backend.aclose()

    def _changed(self, topics: set[Topic]) -> None:
        if self.flush_s <= 0:
            self._post(topics)
            return
        self._pending |= topics
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.set_timer(self.flush_s, self._flush_changes)

    def _flush_changes(self) -> None:
        self._flush_scheduled = False
        topics, self._pending = self._pending, set()
        self._post(topics)

    def _post(self, topics: Iterable[Topic]) -> None:
        if not self.is_running:
            return
        screens = [screen for screen in self.screen_stack if isinstance(screen, DashboardScreen)]
        for topic in topics:
            for screen in screens:
                screen.post_message(MESSAGES[topic]())

    def _notice(self, text: str, severity: Severity) -> None:
        """The feed's notices as toasts, coalesced (``toasts.ToastBatcher``)."""
        shown = self.toasts.offer(text, severity)
        if shown is not None:
            self._toast(*shown)
            self.set_timer(self.toasts.window_s, self._flush_toasts)

    def _flush_toasts(self) -> None:
        shown = self.toasts.flush()
        if shown is not None:
            self._toast(*shown)
            self.set_timer(self.toasts.window_s, self._flush_toasts)

    def _toast(self, text: str, severity: Severity) -> None:
        # Plain text: a notice's "[account]" or a reason in brackets is not markup.
        self.notify(text, severity=TOAST_SEVERITY[severity], timeout=self.toasts.timeout_s, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker's failure ends here: a notification, and the feed restarts."""
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        self.notify(f"{worker.name or 'background work'} failed: {worker.error}", severity="error", timeout=8)
        if worker.group == "feed":
            self.set_timer(2.0, self.start_feed)

    def act(self, work: Coroutine[Any, Any, object], name: str) -> Worker[object]:
        """Run a call that changes something; its failure is reported by ``on_worker_state_changed``."""
        return self.run_worker(work, name=name, group="actions", exit_on_error=False)

    # --- shared actions ----------------------------------------------------------------------------------

    def action_new_order(self) -> None:
        symbol = None
        if isinstance(self.screen, MarketScreen):
            symbol = self.screen.symbol
        self.open_ticket(symbol=symbol, side="buy")

    def open_ticket(self, *, symbol: str | None, side: str) -> None:
        if not self.state.tickers:
            self.notify("no symbols known yet: the daemon has not answered", severity="warning")
            return

        def placed(result: PlaceResult | None) -> None:
            if result is None:
                return
            order, risk = result.order, result.risk
            if risk.reason.startswith("already placed"):
                note = " (the daemon already had it: placed once)"  # sent again after a lost answer
            elif risk.verdict == "resize":
                note = f" (resized from {fmt.amount(risk.requested)})"
            else:
                note = ""
            what = f"{order.side} {fmt.amount(order.amount)} {order.symbol}{note}"
            self.notify(f"order {order.id} {order.state}: {what}", timeout=6)
            self.refresh_soon("account", "risk")

        self.push_screen(OrderTicket(symbol=symbol, side=side), placed)

    def refresh_soon(self, *names: str) -> None:
        self.act(self.feed.refresh(*names), "refresh")

    def cancel_order(self, order_id: int, *, unprotect: bool = False) -> None:
        """Cancel an order (asked already). The daemon refuses to cancel the stop protecting an open
        position unless told the trader means it: that refusal, naming the position, becomes a second
        question, and only a yes sends the cancel again with ``unprotect``."""

        async def cancel() -> None:
            try:
                order = await self.backend.cancel_order(order_id, unprotect=unprotect)
            except StopProtectsPosition as refused:
                self.confirm_unprotect(order_id, str(refused))
                return
            self.notify(f"order {order.id} {order.state}", timeout=4)
            await self.feed.refresh("account", "risk")

        self.act(cancel(), f"cancel order {order_id}")

    def confirm_unprotect(self, order_id: int, reason: str) -> None:
        live = " on the LIVE account" if self.state.mode == "live" else ""
        message = f"{reason}.\n\nCancel it anyway and leave the position without a stop{live}?"

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.cancel_order(order_id, unprotect=True)
            else:
                self.notify(f"order {order_id} kept: it still protects the position", timeout=4)

        self.push_screen(
            ConfirmScreen(
                "Stop protects a position",
                message,
                confirm="Leave unprotected",
                keep="Keep the stop",
                danger=True,
            ),
            answered,
        )

    def confirm_halt(self) -> None:
        live = self.state.mode == "live"
        message = (
            "Halt trading? The kill switch stops every new entry (exits still go through) "
            "until trading is resumed." + ("\nThis is the LIVE account." if live else "")
        )

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.act(self._halt(), "halt")

        self.push_screen(ConfirmScreen("Halt trading", message, confirm="Halt", danger=True), answered)

    async def _halt(self) -> None:
        self.state.set_risk(await self.backend.risk_halt("halted from the dashboard"))
        self.notify("trading halted: no new entries", severity="warning", timeout=6)
        self._changed({"risk"})

    def confirm_resume(self) -> None:
        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.resume(None)

        message = "Resume trading? This resets the kill switch and every circuit breaker."
        self.push_screen(ConfirmScreen("Resume trading", message, confirm="Resume"), answered)

    def resume(self, breaker: str | None) -> None:
        async def resume() -> None:
            self.state.set_risk(await self.backend.risk_resume(breaker))
            self.notify(f"{breaker} reset" if breaker else "trading resumed", timeout=4)
            self._changed({"risk"})

        self.act(resume(), f"reset {breaker}" if breaker else "resume")

    def confirm_strategy_change(self, item: StrategySummary, action: StrategyAction) -> None:
        question = confirm_text(item, action, live=self.state.mode == "live")
        if question is None:
            self.act(self._change_strategy(item.id, action), f"{action} {item.id}")
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.act(self._change_strategy(item.id, action), f"{action} {item.id}")

        danger = action == "retire" or self.state.mode == "live"
        self.push_screen(
            ConfirmScreen(f"{action.title()} strategy", question, confirm=action.title(), danger=danger),
            answered,
        )

    async def _change_strategy(self, strategy_id: str, action: StrategyAction) -> None:
        changed = await self.backend.change_strategy(strategy_id, action)
        self.notify(f"{changed.name} is now {changed.state}", timeout=4)
        await self.feed.refresh("strategies")

    def start_generation(self) -> None:
        async def start() -> None:
            run = await self.backend.run_job(GENERATION_JOB)
            self._changed(self.state.record_job_started(run))
            self.notify(f"generation run {run.id} started", timeout=4)

        self.act(start(), "start a generation run")

    def load_chart(self, symbol: str, timeframe: str) -> None:
        self.run_worker(
            self.feed.load_chart(symbol, timeframe),
            name=f"load {symbol} {timeframe}",
            group="chart",
            exclusive=True,
            exit_on_error=False,
        )

    # --- what the screens ask for (they post messages; they never import the app) ---------------------

    @on(ChartRequested)
    def _chart_requested(self, message: ChartRequested) -> None:
        self.load_chart(message.symbol, message.timeframe)

    @on(OverlaysRequested)
    def _overlays_requested(self, message: OverlaysRequested) -> None:
        self.run_worker(
            self.feed.load_overlays(message.symbol, message.timeframe, message.label, message.until),
            name=f"indicators of {message.symbol} {message.timeframe}",
            group="overlays",
            exclusive=True,
            exit_on_error=False,
        )

    @on(TicketRequested)
    def _ticket_requested(self, message: TicketRequested) -> None:
        self.open_ticket(symbol=message.symbol, side=message.side)

    @on(CancelConfirmed)
    def _cancel_confirmed(self, message: CancelConfirmed) -> None:
        self.cancel_order(message.order_id)

    @on(HaltRequested)
    def _halt_requested(self) -> None:
        self.confirm_halt()

    @on(ResumeRequested)
    def _resume_requested(self) -> None:
        self.confirm_resume()

    @on(BreakerResetConfirmed)
    def _breaker_reset_confirmed(self, message: BreakerResetConfirmed) -> None:
        self.resume(message.breaker)

    @on(StrategyChangeRequested)
    def _strategy_change_requested(self, message: StrategyChangeRequested) -> None:
        self.confirm_strategy_change(message.strategy, message.action)

    @on(GenerationRequested)
    def _generation_requested(self) -> None:
        self.start_generation()

    # --- leaving -----------------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        if not (self.demo and self.state.connected):
            self.exit()
            return

        def chosen(choice: QuitChoice | None) -> None:
            if choice == "stop":
                self.act(self._stop_and_exit(), "stop the demo daemon")
            elif choice == "leave":
                self.exit(message=self._left_running())

        self.push_screen(QuitDemoScreen(), chosen)

    def _left_running(self) -> str:
        """What to say when the demo's daemon is left running: it goes on trading (and using a core) in
        the background, so say which one, and how to stop it (it runs in this ``MT_HOME``)."""
        status = self.state.status.value
        which = f" (pid {status.pid})" if status is not None else ""
        home = os.environ.get("MT_HOME")
        stop = f"MT_HOME={home} mt daemon stop" if home else "mt daemon stop"
        return (
            f"the demo daemon{which} keeps running in the background: `mt demo` opens the dashboard "
            f"again; `{stop}` stops it"
        )

    async def _stop_and_exit(self) -> None:
        try:
            stopped = await self.backend.stop_daemon()
        except MasterTradeError as exc:
            self.exit(return_code=1, message=f"mt: error: could not stop the demo daemon: {exc}")
            return
        self.exit(message=f"the demo daemon (pid {stopped.pid}) is stopping")

    # --- the command palette -----------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, key, title in SCREENS:
            yield SystemCommand(
                f"Show {title}", f"Switch to the {title} screen (key {key})", partial(self.switch_mode, mode)
            )
        yield SystemCommand("New order", "Open the order ticket (key n)", self.action_new_order)
        yield SystemCommand("Halt trading", "The kill switch: stop all new entries", self.confirm_halt)
        yield SystemCommand("Resume trading", "Reset the kill switch and the breakers", self.confirm_resume)
        yield SystemCommand(
            "Start a generation run", "Generate, test and promote strategies", self.start_generation
        )
