"""The dashboard's line to the daemon: initial snapshots, the event stream, polling, reconnection.

``Feed.run`` loops forever. Until the daemon answers it retries with growing delays (the state says
"offline" with the reason, or "reconnecting since ..." once it had been connected). Once the daemon
answers it loads a snapshot of everything, then reads the event stream, folding each event into the
``LiveState`` and telling the app which topics changed. The stream reconnects by itself
(``DaemonClient.events``); each recovery reloads the snapshot, since events were missed meanwhile.

Things that change without events (unrealised P&L moves with every price) are polled: the account and
risk every ``poll_s``, the rest every ``slow_poll_s``; an event that makes a snapshot old (an order
filled, a breaker tripped) marks it for a refetch on the next ``tick_s``.

The feed knows nothing of Textual: ``changed`` and ``notice`` are plain callbacks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mastertrade import errors
from mastertrade.client import DaemonTimeout
from mastertrade.engine import events as ev
from mastertrade.tui import format as fmt
from mastertrade.tui.backend import GENERATION_JOB, Backend
from mastertrade.tui.state import LiveState, Severity, Snapshot, Topic

log = logging.getLogger(__name__)

CANDLES = 300  # bars loaded per symbol: the widest chart plus its indicators' warm-up
Fetch = Callable[[], Awaitable[set[Topic]]]


class Feed:
    def __init__(
        self,
        backend: Backend,
        state: LiveState,
        *,
        changed: Callable[[set[Topic]], None],
        notice: Callable[[str, Severity], None] = lambda text, severity: None,
        retry_s: float = 1.0,
        max_retry_s: float = 5.0,
        tick_s: float = 0.5,
        poll_s: float = 2.0,
        slow_poll_s: float = 15.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.backend = backend
        self.state = state
        self.changed = changed
        self.notice = notice
        self.retry_s = retry_s
        self.max_retry_s = max_retry_s
        self.tick_s = tick_s
        self.poll_s = poll_s
        self.slow_poll_s = slow_poll_s
        self.sleep = sleep
        self.dirty: set[str] = set()
        self.fetches: dict[str, Fetch] = {
            "status": self._status,
            "candles": self._candles,
            "account": self._account,
            "equity": self._equity,
            "risk": self._risk,
            "goals": self._goals,
            "alerts": self._alerts,
            "strategies": self._strategies,
        }

    # --- the loop --------------------------------------------------------------------------------------

    async def run(self) -> None:
        delay = self.retry_s
        while True:
            try:
                await self.load_all()
            except errors.DaemonNotRunning as exc:
                self._lost(str(exc))
                await self.sleep(delay)
                delay = min(delay * 2, self.max_retry_s)
                continue
            delay = self.retry_s
            self.changed(self.state.set_connection("connected"))
            poller = asyncio.create_task(self._poll_loop())
            try:
                await self._stream()
                self._lost("the daemon ended the event stream")
            except errors.MasterTradeError as exc:
                self._lost(str(exc))
            finally:
                poller.cancel()
            await self.sleep(delay)

    def _lost(self, reason: str) -> None:
        was = self.state.connection
        self.changed(
            self.state.set_connection("reconnecting" if was.connected_at is not None else "offline", reason)
        )

    async def _stream(self) -> None:
        async for event in self.backend.events(connection_events=True):
            if isinstance(event, ev.ConnectionChanged):
                if event.state == "connected":
                    await self._recover()
                else:
                    self._lost(event.reason or "the stream broke")
                continue
            if not self.state.connected:
                # Marked lost by a poll it did not answer (``refresh``), on a stream that never broke:
                # it speaks again, so reload what may have changed meanwhile and say it is back.
                await self._recover()
            self.handle(event)
            if isinstance(event, ev.StreamGap):
                await self._reload()

    async def _recover(self) -> None:
        """The stream is back after a loss: reload what was missed, then say so."""
        try:
            await self.load_all()
        except errors.DaemonNotRunning as exc:
            self._lost(str(exc))
            return
        self.changed(self.state.set_connection("connected"))

    async def _reload(self) -> None:
        try:
            await self.load_all()
        except errors.DaemonNotRunning as exc:
            self._lost(str(exc))

    async def _poll_loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_fast = loop.time() + self.poll_s
        next_slow = loop.time() + self.slow_poll_s
        while True:
            await self.sleep(self.tick_s)
            if not self.state.connected:
                continue
            now = loop.time()
            wanted = set(self.dirty)
            self.dirty.clear()
            if now >= next_fast:
                wanted |= {"account", "risk"}
                next_fast = now + self.poll_s
            if now >= next_slow:
                wanted |= {"status", "goals", "alerts", "strategies", "equity"}
                next_slow = now + self.slow_poll_s
            try:
                await self.refresh(*sorted(wanted))
            except errors.DaemonNotRunning:
                continue  # the stream notices and reports the loss

    # --- snapshots -------------------------------------------------------------------------------------

    async def load_all(self) -> None:
        """Everything, status first (it names the symbols); raises ``DaemonNotRunning``."""
        await self.refresh("status")
        await self.refresh("candles", "account", "equity", "risk", "goals", "alerts", "strategies")

    async def refresh(self, *names: str) -> None:
        """Fetch some snapshots; an error other than a lost daemon is kept beside the stale value.

        A daemon that does not answer in time is hung (or swamped), not gone: its socket still accepts,
        and the event stream notices only after its read timeout. The connection is marked lost at once,
        so nothing on screen passes for live; the next event it sends brings it back (``_stream``)."""
        topics: set[Topic] = set()
        unanswered: str | None = None
        for name in names:
            try:
                topics |= await self.fetches[name]()
            except errors.DaemonNotRunning:
                raise
            except errors.MasterTradeError as exc:
                topics |= self._failed(name, str(exc))
                if isinstance(exc, DaemonTimeout):
                    unanswered = str(exc)
        if topics:
            self.changed(topics)
        if unanswered is not None and self.state.connected:
            self._lost(unanswered)

    def _failed(self, name: str, message: str) -> set[Topic]:
        state = self.state
        snapshots: dict[str, tuple[list[Snapshot[Any]], Topic]] = {
            "status": ([state.status], "status"),
            "account": ([state.balance, state.positions, state.orders], "account"),
            "risk": ([state.risk], "risk"),
            "goals": ([state.goals], "goals"),
            "alerts": ([state.alert_history], "alerts"),
            "strategies": ([state.strategies], "strategies"),
        }
        if name in snapshots:
            failed, topic = snapshots[name]
            for snapshot in failed:
                snapshot.fail(message)
            return state.bump(topic)
        if name == "equity":
            state.equity_note = message
            return state.bump("account")
        log.debug("fetching %s failed: %s", name, message)
        return set()

    async def _status(self) -> set[Topic]:
        return self.state.set_status(await self.backend.status())

    async def _candles(self) -> set[Topic]:
        topics: set[Topic] = set()
        for symbol in list(self.state.tickers):
            try:
                answer = await self.backend.candles(symbol, limit=CANDLES)
            except errors.NotFound:
                continue  # nothing stored yet: the stream fills it
            topics |= self.state.set_candles(symbol, answer.candles)
        return topics

    async def _account(self) -> set[Topic]:
        topics = self.state.set_balance(await self.backend.balance())
        topics |= self.state.set_positions(await self.backend.positions())
        topics |= self.state.set_orders(await self.backend.orders(limit=100))
        return topics

    async def _equity(self) -> set[Topic]:
        return self.state.set_equity(await self.backend.equity_history(limit=1000))

    async def _risk(self) -> set[Topic]:
        return self.state.set_risk(await self.backend.risk_status())

    async def _goals(self) -> set[Topic]:
        return self.state.set_goals(await self.backend.goals())

    async def _alerts(self) -> set[Topic]:
        return self.state.set_alert_history(await self.backend.alert_history(limit=100))

    async def _strategies(self) -> set[Topic]:
        return self.state.set_strategies(await self.backend.strategies())

    async def load_chart(self, symbol: str, timeframe: str) -> None:
        """The candles of a chart at a timeframe other than the stream's: the daemon's own when it
        stores them, else the base candles folded into the longer bars."""
        from mastertrade.engine.market.timeframes import timeframe_ms

        base = self.state.timeframe
        try:
            answer = await self.backend.candles(symbol, timeframe=timeframe, limit=CANDLES)
            native = True
        except errors.NotFound:
            factor = timeframe_ms(timeframe) // timeframe_ms(base)
            answer = await self.backend.candles(symbol, timeframe=base, limit=min(5000, CANDLES * factor))
            native = False
        self.changed(self.state.set_extra_series(symbol, timeframe, answer.candles, native))

    async def load_overlays(self, symbol: str, timeframe: str, label: str, until: int) -> None:
        """The daemon's indicator lines of overlay set ``label`` for a chart (none when the daemon does
        not store that timeframe: a folded chart has no overlays)."""
        from mastertrade.tui.indicators import OVERLAY_SETS
        from mastertrade.tui.state import OverlayLines

        lines = dict(OVERLAY_SETS)[label]
        try:
            answer = await self.backend.indicators(
                symbol, [spec for _, spec in lines], timeframe=timeframe, limit=CANDLES
            )
        except errors.NotFound:
            self.changed(self.state.set_overlays(symbol, timeframe, label, OverlayLines(until, [])))
            return
        found = [
            (name, dict(zip(answer.ts, line.values, strict=True)))
            for (name, _), line in zip(lines, answer.lines, strict=True)
        ]
        newest = answer.ts[-1] if answer.ts else until
        self.changed(
            self.state.set_overlays(symbol, timeframe, label, OverlayLines(max(until, newest), found))
        )

    # --- events ----------------------------------------------------------------------------------------

    def handle(self, event: ev.Event) -> None:
        """Fold one event into the state, mark what must be refetched, raise the notices it deserves."""
        topics = self.state.apply(event)
        if isinstance(event, ev.OrderFilled | ev.OrderPlaced | ev.OrderCancelled | ev.OrderRejected):
            self.dirty |= {"account", "risk"}
        elif isinstance(event, ev.RiskBreached | ev.CircuitBreakerTripped | ev.CircuitBreakerReset):
            self.dirty.add("risk")
        elif isinstance(event, ev.GoalMilestone):
            self.dirty.add("goals")
        elif isinstance(event, ev.StrategyPromoted | ev.StrategyRetired):
            self.dirty.add("strategies")
        elif isinstance(event, ev.JobFinished) and event.job == GENERATION_JOB:
            self.dirty.add("strategies")
        elif isinstance(event, ev.ServiceStateChanged):
            self.dirty.add("status")
        self._notice(event)
        if topics:
            self.changed(topics)

    def _notice(self, event: ev.Event) -> None:
        if isinstance(event, ev.OrderFilled):
            self.notice(
                f"[{ev.book_label(event.book, event.mode)}] {event.side} {fmt.amount(event.amount)} "
                f"{event.symbol} filled at {fmt.price(event.price)}",
                "info",
            )
        elif isinstance(event, ev.OrderRejected):
            self.notice(
                f"[{ev.book_label(event.book, event.mode)}] order rejected: {event.reason}", "warning"
            )
        elif isinstance(event, ev.RiskBreached):
            self.notice(event.message, "error" if event.severity == "critical" else "warning")
        elif isinstance(event, ev.CircuitBreakerTripped):
            self.notice(f"circuit breaker {event.breaker} tripped: {event.reason}", "error")
        elif isinstance(event, ev.AlertRaised) and event.severity == "critical":
            self.notice(event.title, "error")
        elif isinstance(event, ev.JobFinished) and event.job == GENERATION_JOB:
            said = (
                event.summary or event.outcome
            )  # what it did: "ok: 0 of 3 series searched (all skipped ..."
            self.notice(f"generation {said}" + (f": {event.error}" if event.error else ""), "info")
