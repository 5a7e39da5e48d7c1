"""What the dashboard knows: the latest answers of the daemon and what the event stream added since.

Everything that grows with time is bounded (``deque(maxlen=...)``): candles per series, chart markers,
the alert and event feeds, job runs, the equity curve. A day of ticks leaves the memory where an hour
left it. Applying an event is O(1) and touches no widget; the app redraws from here at a bounded rate.

Times: ``at`` values are epoch seconds on the dashboard's clock (when the dashboard learned something),
so staleness never depends on the daemon's clock; bar timestamps (``ts``) are the market's epoch
milliseconds, which run fast on an accelerated simulated venue.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from mastertrade.engine import events as ev
from mastertrade.engine.api.schemas import AlertInfo, Candle, JobRunInfo, StatusReport
from mastertrade.engine.api.schemas_strategies import StrategyDetail, StrategySummary
from mastertrade.engine.api.schemas_trading import (
    BalanceInfo,
    EquityPointInfo,
    GoalsReport,
    OrderInfo,
    PositionInfo,
    RiskStatus,
)
from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.tui import format as fmt

MAX_BARS = 600  # per series: more than the widest chart shows
MAX_MARKERS = 200  # entries and exits per symbol
MAX_ALERTS = 500
MAX_LOG = 1000
MAX_EQUITY = 2000
MAX_JOBS = 20
STALE_AFTER_S = 60.0  # a price with no tick for this long is marked stale

ConnectionState = Literal["connecting", "connected", "reconnecting", "offline"]
Topic = Literal[
    "connection",
    "status",
    "prices",
    "candles",
    "account",
    "risk",
    "goals",
    "alerts",
    "log",
    "jobs",
    "strategies",
]
Severity = Literal["debug", "info", "warning", "error", "critical"]
SEVERITIES: tuple[Severity, ...] = ("debug", "info", "warning", "error", "critical")


class Bar(NamedTuple):
    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class Marker:
    """An entry (buy) or exit (sell) on a chart: a fill, or a strategy's signal without a fill yet."""

    ts: int
    side: str
    price: float
    kind: Literal["fill", "signal"]
    strategy_id: str | None = None
    order_id: str | None = None
    """A fill's order: the fill event and the orders snapshot name the same fill with different times
    (the forming bar's open; the order's ``placed_ts``), so it is known by its order."""


@dataclass(frozen=True, slots=True)
class FeedItem:
    at: float
    severity: Severity
    source: str
    text: str


@dataclass
class JobRun:
    run_id: int
    job: str
    started_at: float
    done: float = 0.0
    total: float | None = None
    message: str = ""
    outcome: str | None = None  # None while running
    error: str | None = None
    summary: str | None = None
    """The outcome as the daemon words it (``JobRunInfo.summary``): what an "ok" run did ("ok: 0 of 3
    series searched (all skipped: ...)"); ``None`` until it finished."""

    @property
    def said(self) -> str | None:
        """The finished run's outcome as a trader reads it (``None`` while running)."""
        return self.summary or self.outcome

    @property
    def fraction(self) -> float | None:
        if self.total is None or self.total <= 0:
            return None
        return min(1.0, max(0.0, self.done / self.total))


class Series:
    """The candles of one symbol at one timeframe: closed bars plus the forming one.

    A series at a longer timeframe than the venue's streams is fed the base bars and folds them into
    its own buckets (``closed_volume`` carries the volume of the bucket's base bars already closed).
    """

    def __init__(self, symbol: str, timeframe: str, step_ms: int, base_step_ms: int) -> None:
        self.symbol = symbol
        self.timeframe = timeframe
        self.step_ms = step_ms
        self.base_step_ms = base_step_ms
        self.bars: deque[Bar] = deque(maxlen=MAX_BARS)
        self.forming: Bar | None = None
        self.closed_volume = 0.0
        self.version = 0

    def load(self, bars: Iterable[Bar]) -> None:
        """Replace the closed bars (a fresh answer from the daemon), resampled to this timeframe."""
        self.bars.clear()
        self.forming = None
        self.closed_volume = 0.0
        for bar in resample(bars, self.step_ms) if self.step_ms != self.base_step_ms else bars:
            self.bars.append(bar)
        self.version += 1

    def all_bars(self) -> list[Bar]:
        return [*self.bars, self.forming] if self.forming is not None else list(self.bars)

    def tick(self, bar: Bar) -> None:
        """The base timeframe's forming bar changed."""
        bucket = bar.ts - bar.ts % self.step_ms
        if self.step_ms == self.base_step_ms:
            self.forming = bar
        else:
            last = self.forming
            if last is None or last.ts != bucket:
                if last is not None:
                    self._close(last)
                self.closed_volume = 0.0
                last = Bar(bucket, bar.open, bar.high, bar.low, bar.close, 0.0)
            self.forming = Bar(
                bucket,
                last.open,
                max(last.high, bar.high),
                min(last.low, bar.low),
                bar.close,
                self.closed_volume + bar.volume,
            )
        self.version += 1

    def close(self, bar: Bar) -> None:
        """A base bar became final."""
        if self.step_ms == self.base_step_ms:
            self._close(bar)
            self.forming = None
        else:
            self.tick(bar)
            self.closed_volume += bar.volume
            if bar.ts + self.base_step_ms >= (bar.ts - bar.ts % self.step_ms) + self.step_ms:
                assert self.forming is not None
                self._close(self.forming)
                self.forming = None
                self.closed_volume = 0.0
        self.version += 1

    def _close(self, bar: Bar) -> None:
        if self.bars and self.bars[-1].ts >= bar.ts:
            if self.bars[-1].ts == bar.ts:
                self.bars[-1] = bar
            return
        self.bars.append(bar)


def resample(bars: Iterable[Bar], step_ms: int) -> list[Bar]:
    """Bars folded into ``step_ms`` buckets (UTC-aligned), in order."""
    out: list[Bar] = []
    for bar in bars:
        bucket = bar.ts - bar.ts % step_ms
        if out and out[-1].ts == bucket:
            last = out[-1]
            out[-1] = Bar(
                bucket,
                last.open,
                max(last.high, bar.high),
                min(last.low, bar.low),
                bar.close,
                last.volume + bar.volume,
            )
        else:
            out.append(Bar(bucket, bar.open, bar.high, bar.low, bar.close, bar.volume))
    return out


def bar_of(candle: Candle) -> Bar:
    return Bar(candle.ts, candle.open, candle.high, candle.low, candle.close, candle.volume)


@dataclass
class OverlayLines:
    """The daemon's indicator lines of one chart (``GET /v1/indicators``): values by bar open time,
    for the closed bars up to ``until``."""

    until: int
    lines: list[tuple[str, dict[int, float | None]]]

    def aligned(self, bars: Sequence[Bar]) -> list[tuple[str, list[float | None]]]:
        """Each line's value at each of ``bars`` (None where the daemon sent none: the forming bar)."""
        return [(name, [values.get(bar.ts) for bar in bars]) for name, values in self.lines]


@dataclass
class Ticker:
    """One watched symbol: its latest price and when it arrived, and the base series behind it."""

    symbol: str
    series: Series
    price: float | None = None
    at: float | None = None  # dashboard clock
    markers: deque[Marker] = field(default_factory=lambda: deque(maxlen=MAX_MARKERS))

    def bars_per_day(self) -> int:
        return max(1, 86_400_000 // self.series.step_ms)

    def change(self) -> float | None:
        """The change over the last day of bars (or since the oldest bar held): from the close a day of
        bars before the newest bar, the forming one or, just after a close and before the next tick,
        the bar that closed (measured from itself it read +0.00%)."""
        bars = self.series.bars
        if self.price is None or not bars:
            return None
        back = self.bars_per_day() + (self.series.forming is None)
        ref = bars[-back].close if len(bars) >= back else bars[0].open
        return (self.price - ref) / ref if ref else None

    def volume(self) -> float | None:
        """Base-asset volume over the last day of bars: the forming one and the bars closed before it
        (just after a close, the day of closed bars up to it)."""
        bars = self.series.bars
        forming = self.series.forming
        if not bars and forming is None:
            return None
        closed = self.bars_per_day() - (forming is not None)
        recent = list(bars)[-closed:] if closed > 0 else []
        return math.fsum(bar.volume for bar in recent) + (forming.volume if forming is not None else 0.0)

    def closes(self, count: int) -> list[float]:
        values = [bar.close for bar in list(self.series.bars)[-count:]]
        if self.price is not None:
            values.append(self.price)
        return values[-count:]


@dataclass
class Connection:
    state: ConnectionState = "connecting"
    since: float = 0.0
    reason: str | None = None
    connected_at: float | None = None
    last_event_at: float | None = None


@dataclass
class Snapshot[T]:
    """The latest answer to one question, when it came, and the error that replaced it (if any)."""

    value: T | None = None
    at: float | None = None
    error: str | None = None

    def set(self, value: T, at: float) -> None:
        self.value, self.at, self.error = value, at, None

    def fail(self, message: str) -> None:
        self.error = message


class LiveState:
    """Everything the screens draw from. ``apply`` folds in one event and says which topics changed."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.connection = Connection(since=clock())
        self.status: Snapshot[StatusReport] = Snapshot()
        self.balance: Snapshot[BalanceInfo] = Snapshot()
        self.positions: Snapshot[list[PositionInfo]] = Snapshot()
        self.orders: Snapshot[list[OrderInfo]] = Snapshot()
        self.risk: Snapshot[RiskStatus] = Snapshot()
        self.goals: Snapshot[GoalsReport] = Snapshot()
        self.strategies: Snapshot[list[StrategySummary]] = Snapshot()
        self.strategy_detail: Snapshot[StrategyDetail] = Snapshot()
        self.equity: deque[EquityPointInfo] = deque(maxlen=MAX_EQUITY)
        self.equity_source: Literal["daemon", "session", "none"] = "none"
        self.equity_note: str | None = None
        self.tickers: dict[str, Ticker] = {}
        self.extra_series: Series | None = None  # the chart's longer timeframe, if one is shown
        self.overlays: dict[tuple[str, str, str], OverlayLines] = {}
        """The chart's indicator lines by (symbol, timeframe, overlay set)."""
        self.alerts: deque[FeedItem] = deque(maxlen=MAX_ALERTS)
        self.alert_history: Snapshot[int] = Snapshot()
        """The last read of the daemon's alert history (how many it returned): until one succeeds, an
        empty ``alerts`` means "not read", not "none"."""
        self.log: deque[FeedItem] = deque(maxlen=MAX_LOG)
        self.alert_count = 0  # items ever appended to each feed, so a view can tell the new ones
        self.log_count = 0
        self.jobs: dict[int, JobRun] = {}
        self.versions: dict[str, int] = {}
        self._seen_alerts: deque[int] = deque(maxlen=MAX_ALERTS)

    # --- derived ---------------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.connection.state == "connected"

    @property
    def timeframe(self) -> str:
        return self.status.value.timeframe if self.status.value else "1h"

    @property
    def mode(self) -> str | None:
        return self.status.value.mode if self.status.value else None

    @property
    def simulated(self) -> bool | None:
        return self.status.value.venue.simulated if self.status.value else None

    def data_at(self) -> float | None:
        """When the dashboard last heard anything from the daemon (an event or an answer)."""
        times = [self.connection.last_event_at, self.status.at, self.balance.at, self.risk.at, self.orders.at]
        known = [at for at in times if at is not None]
        return max(known) if known else None

    def is_stale(self, ticker: Ticker) -> bool:
        """A price is stale when the stream is down or no tick came for ``STALE_AFTER_S``."""
        if not self.connected or ticker.at is None:
            return True
        return self.clock() - ticker.at > STALE_AFTER_S

    def bump(self, *topics: Topic) -> set[Topic]:
        for topic in topics:
            self.versions[topic] = self.versions.get(topic, 0) + 1
        return set(topics)

    # --- snapshots -----------------------------------------------------------------------------------

    def set_status(self, report: StatusReport) -> set[Topic]:
        self.status.set(report, self.clock())
        step = timeframe_ms(report.timeframe)
        for info in report.symbols:
            ticker = self.ticker(info.symbol, step)
            if info.price is not None and ticker.price is None:
                ticker.price = info.price
                ticker.at = self.clock()
        for job in report.jobs:
            if job.last_run is not None:
                self._learn_run(job.last_run)
        self._trim_jobs()
        return self.bump("status", "prices", "jobs")

    def _learn_run(self, info: JobRunInfo) -> None:
        """A job's last run as the daemon reports it (``mt status``): a dashboard opened after the
        nightly run showed "none run" until another began. It never undoes what events told since:
        a run they saw finish stays finished when an older answer still says "running"."""
        finished = info.outcome != "running"
        run = self.jobs.get(info.id)
        if run is None:
            run = self.jobs[info.id] = JobRun(info.id, info.job, self.clock())
            if not finished:
                run.message = "running"
        if finished and run.outcome is None:
            run.outcome, run.error, run.summary = info.outcome, info.error, info.summary

    def ticker(self, symbol: str, step_ms: int | None = None) -> Ticker:
        found = self.tickers.get(symbol)
        if found is None:
            step = step_ms or timeframe_ms(self.timeframe)
            found = Ticker(symbol, Series(symbol, self.timeframe, step, step))
            self.tickers[symbol] = found
        return found

    def set_candles(self, symbol: str, candles: Iterable[Candle]) -> set[Topic]:
        ticker = self.ticker(symbol)
        ticker.series.load(bar_of(candle) for candle in candles)
        bars = ticker.series.bars
        if bars and ticker.price is None:
            ticker.price = bars[-1].close
        return self.bump("candles", "prices")

    def set_overlays(self, symbol: str, timeframe: str, label: str, overlay: OverlayLines) -> set[Topic]:
        self.overlays[(symbol, timeframe, label)] = overlay
        return self.bump("candles")

    def set_extra_series(
        self, symbol: str, timeframe: str, candles: Iterable[Candle], native: bool
    ) -> set[Topic]:
        """The chart's series at a longer timeframe: ``native`` candles of it, or base candles to fold."""
        base = timeframe_ms(self.timeframe)
        step = timeframe_ms(timeframe)
        series = Series(symbol, timeframe, step, step if native else base)
        series.load(bar_of(candle) for candle in candles)
        series.base_step_ms = base
        self.extra_series = series
        return self.bump("candles")

    def set_balance(self, balance: BalanceInfo) -> set[Topic]:
        now = self.clock()
        self.balance.set(balance, now)
        if self.equity_source != "daemon":
            # Without the daemon's equity history the curve is what this session saw.
            self.equity_source = "session"
            ts = int(now * 1000)
            if (
                not self.equity
                or self.equity[-1].equity != balance.equity
                or ts - self.equity[-1].ts >= 60_000
            ):
                self.equity.append(EquityPointInfo(ts=ts, equity=balance.equity))
        return self.bump("account")

    def set_equity(self, points: list[EquityPointInfo]) -> set[Topic]:
        self.equity.clear()
        self.equity.extend(points[-MAX_EQUITY:])
        self.equity_source = "daemon"
        self.equity_note = None
        return self.bump("account")

    def set_positions(self, positions: list[PositionInfo]) -> set[Topic]:
        self.positions.set(positions, self.clock())
        return self.bump("account")

    def set_orders(self, orders: list[OrderInfo]) -> set[Topic]:
        self.orders.set(orders, self.clock())
        for order in reversed(orders):
            if order.filled > 0 and order.average_price and order.symbol in self.tickers:
                markers = self.tickers[order.symbol].markers
                if any(marker.order_id == str(order.id) for marker in markers):
                    continue  # shown already, from its fill event or an earlier snapshot
                markers.append(
                    Marker(
                        order.placed_ts,
                        order.side,
                        order.average_price,
                        "fill",
                        order.strategy_id,
                        order_id=str(order.id),
                    )
                )
        return self.bump("account", "candles")

    def set_risk(self, risk: RiskStatus) -> set[Topic]:
        self.risk.set(risk, self.clock())
        return self.bump("risk")

    def set_goals(self, goals: GoalsReport) -> set[Topic]:
        self.goals.set(goals, self.clock())
        return self.bump("goals")

    def set_strategies(self, rows: list[StrategySummary]) -> set[Topic]:
        self.strategies.set(rows, self.clock())
        return self.bump("strategies")

    def set_strategy_detail(self, detail: StrategyDetail) -> set[Topic]:
        self.strategy_detail.set(detail, self.clock())
        return self.bump("strategies")

    def set_alert_history(self, alerts: list[AlertInfo]) -> set[Topic]:
        for alert in sorted(alerts, key=lambda item: item.created_at):
            self._add_alert(
                alert.id,
                alert.created_at.timestamp(),
                alert.severity,
                alert.rule,
                f"{alert.title}: {alert.body}" if alert.body else alert.title,
            )
        self.alert_history.set(len(alerts), self.clock())
        return self.bump("alerts")

    def _add_alert(self, alert_id: int, at: float, severity: str, rule: str, text: str) -> bool:
        if alert_id in self._seen_alerts:
            return False
        self._seen_alerts.append(alert_id)
        self.alerts.append(FeedItem(at, _severity(severity), rule, text))
        self.alert_count += 1
        return True

    # --- connection ----------------------------------------------------------------------------------

    def set_connection(self, state: ConnectionState, reason: str | None = None) -> set[Topic]:
        now = self.clock()
        previous = self.connection.state
        if state == "connected":
            self.connection = Connection("connected", now, None, now, self.connection.last_event_at)
            if previous != "connected":
                self.note("info", "dashboard", "connected to the daemon")
        else:
            since = self.connection.since if previous == state else now
            self.connection = Connection(
                state, since, reason, self.connection.connected_at, self.connection.last_event_at
            )
            if previous == "connected":
                self.note("error", "dashboard", f"lost the daemon: {reason or 'connection closed'}")
        return self.bump("connection", "prices", "log")

    def note(self, severity: Severity, source: str, text: str) -> None:
        self.log.append(FeedItem(self.clock(), severity, source, text))
        self.log_count += 1

    # --- events --------------------------------------------------------------------------------------

    def apply(self, event: ev.Event) -> set[Topic]:
        """Fold one event in; the topics whose screens need a redraw."""
        now = self.clock()
        self.connection.last_event_at = now
        handler = _HANDLERS.get(type(event))
        if handler is None:
            if isinstance(event, ev.UnknownEvent):
                self.note("info", event.name, _summary(event.data))
                return self.bump("log")
            return set()
        return handler(self, event)

    def _on_tick(self, event: ev.PriceTick) -> set[Topic]:
        ticker = self.ticker(event.symbol)
        ticker.price = event.candle.close
        ticker.at = self.clock()
        bar = Bar(*event.candle.row())
        ticker.series.tick(bar)
        extra = self.extra_series
        if extra is not None and extra.symbol == event.symbol:
            extra.tick(bar)
        return self.bump("prices")

    def _on_candle(self, event: ev.CandleClosed) -> set[Topic]:
        ticker = self.ticker(event.symbol)
        bar = Bar(*event.candle.row())
        ticker.series.close(bar)
        ticker.price = event.candle.close
        ticker.at = self.clock()
        extra = self.extra_series
        if extra is not None and extra.symbol == event.symbol:
            extra.close(bar)
        return self.bump("prices", "candles")

    def _forming_ts(self, symbol: str) -> int | None:
        ticker = self.tickers.get(symbol)
        if ticker is None:
            return None
        if ticker.series.forming is not None:
            return ticker.series.forming.ts
        return ticker.series.bars[-1].ts if ticker.series.bars else None

    def _on_signal(self, event: ev.SignalRaised) -> set[Topic]:
        ticker = self.ticker(event.symbol)
        ticker.markers.append(Marker(event.bar_ts, event.side, event.price, "signal", event.strategy_id))
        verb = "entry" if event.side == "buy" else "exit"
        self.note(
            "info",
            "signal",
            f"{event.strategy_id} {verb} {event.symbol} at {fmt.price(event.price)}"
            + (f" ({event.reason})" if event.reason else ""),
        )
        return self.bump("candles", "log")

    def _on_order(self, event: ev.Event) -> set[Topic]:
        # Every line names its book: a strategy's paper book or the account (``ev.book_label``).
        if isinstance(event, ev.OrderPlaced):
            price = f" at {fmt.price(event.price)}" if event.price else ""
            ordered = fmt.order_amount(event.amount, event.equity_fraction)
            what = f"{event.side} {ordered} {event.symbol} {event.order_type}{price}"
            self.note("info", "order", f"[{ev.book_label(event.book, event.mode)}] {what} placed")
        elif isinstance(event, ev.OrderFilled):
            part = " (partial)" if event.remaining > 0 else ""
            self.note(
                "info",
                "fill",
                f"[{ev.book_label(event.book, event.mode)}] {event.side} {fmt.amount(event.amount)} "
                f"{event.symbol} filled at {fmt.price(event.price)}{part}",
            )
            ts = self._forming_ts(event.symbol)
            if ts is not None:
                self.ticker(event.symbol).markers.append(
                    Marker(ts, event.side, event.price, "fill", event.strategy_id, order_id=event.order_id)
                )
        elif isinstance(event, ev.OrderCancelled):
            self.note(
                "info",
                "order",
                f"[{ev.book_label(event.book, event.mode)}] order {event.order_id} {event.symbol} cancelled"
                + (f": {event.reason}" if event.reason else ""),
            )
        elif isinstance(event, ev.OrderRejected):
            self.note(
                "warning",
                "order",
                f"[{ev.book_label(event.book, event.mode)}] {event.side}"
                f" {fmt.order_amount(event.amount, event.equity_fraction)} {event.symbol}"
                f" rejected: {event.reason}",
            )
        return self.bump("account", "candles", "log")

    def _on_risk(self, event: ev.Event) -> set[Topic]:
        if isinstance(event, ev.RiskBreached):
            self.note(_severity(event.severity), "risk", event.message)
        elif isinstance(event, ev.CircuitBreakerTripped):
            until = f" until {event.until}" if event.until else ""
            self.note("critical", "risk", f"circuit breaker {event.breaker} tripped: {event.reason}{until}")
        return self.bump("risk", "log")

    def _on_goal(self, event: ev.GoalMilestone) -> set[Topic]:
        self.note("info", "goal", event.message or f"{event.name}: {event.milestone}")
        return self.bump("goals", "log")

    def _on_strategy(self, event: ev.Event) -> set[Topic]:
        if isinstance(event, ev.StrategyPromoted):
            self.note(
                "info",
                "strategy",
                f"{event.name} {event.stage_from} -> {event.stage_to}"
                + (f": {event.reason}" if event.reason else ""),
            )
        elif isinstance(event, ev.StrategyRetired):
            self.note(
                "info", "strategy", f"{event.name} retired" + (f": {event.reason}" if event.reason else "")
            )
        return self.bump("strategies", "log")

    def _on_alert(self, event: ev.AlertRaised) -> set[Topic]:
        text = f"{event.title}: {event.body}" if event.body else event.title
        self._add_alert(event.alert_id, self.clock(), event.severity, event.rule, text)
        return self.bump("alerts")

    def _on_job(self, event: ev.Event) -> set[Topic]:
        now = self.clock()
        if isinstance(event, ev.JobStarted):
            self.jobs[event.run_id] = JobRun(event.run_id, event.job, now)
            self.note("info", "job", f"{event.job} started ({event.trigger})")
        elif isinstance(event, ev.JobProgress):
            run = self.jobs.setdefault(event.run_id, JobRun(event.run_id, event.job, now))
            run.done, run.total, run.message = event.done, event.total, event.message
        elif isinstance(event, ev.JobFinished):
            run = self.jobs.setdefault(event.run_id, JobRun(event.run_id, event.job, now))
            run.outcome, run.error, run.summary = event.outcome, event.error, event.summary
            severity: Severity = "error" if event.outcome == "error" else "info"
            self.note(
                severity,
                "job",
                f"{event.job} {run.said} in {event.duration_s:.1f}s"
                + (f": {event.error}" if event.error else ""),
            )
        self._trim_jobs()
        return self.bump("jobs", "log")

    def _trim_jobs(self) -> None:
        """Keep ``MAX_JOBS`` runs, the newest of each job always among them: the demo's daily jobs run
        every few seconds, and dropping the oldest run first forgot the last generation run."""
        while len(self.jobs) > MAX_JOBS:
            newest = {run.job: run.run_id for run in sorted(self.jobs.values(), key=lambda run: run.run_id)}
            older = [run_id for run_id in self.jobs if run_id not in newest.values()]
            del self.jobs[min(older) if older else min(self.jobs)]

    def _on_service(self, event: ev.ServiceStateChanged) -> set[Topic]:
        severity: Severity = "error" if event.state in ("crashed", "failed") else "info"
        error = f": {event.error}" if event.error else ""
        self.note(severity, event.service, f"{event.service} {event.state}{error}")
        return self.bump("status", "log")

    def _on_gap(self, event: ev.StreamGap) -> set[Topic]:
        self.note("warning", "stream", f"missed events ({event.reason}); reloading")
        return self.bump("log")

    def job_for(self, name: str) -> JobRun | None:
        """The newest run of a job."""
        runs = [run for run in self.jobs.values() if run.job == name]
        return max(runs, key=lambda run: run.run_id) if runs else None

    def record_job_started(self, run: JobRunInfo) -> set[Topic]:
        self.jobs.setdefault(run.id, JobRun(run.id, run.job, self.clock()))
        return self.bump("jobs")


def _severity(text: str) -> Severity:
    lowered = text.lower()
    for severity in SEVERITIES:
        if severity == lowered:
            return severity
    return "info"


def _summary(data: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in data.items() if key not in ("type", "at"))[:200]


_HANDLERS: dict[type[ev.Event], Callable[[LiveState, Any], set[Topic]]] = {
    ev.PriceTick: LiveState._on_tick,
    ev.CandleClosed: LiveState._on_candle,
    ev.SignalRaised: LiveState._on_signal,
    ev.OrderPlaced: LiveState._on_order,
    ev.OrderFilled: LiveState._on_order,
    ev.OrderCancelled: LiveState._on_order,
    ev.OrderRejected: LiveState._on_order,
    ev.RiskBreached: LiveState._on_risk,
    ev.CircuitBreakerTripped: LiveState._on_risk,
    ev.GoalMilestone: LiveState._on_goal,
    ev.StrategyPromoted: LiveState._on_strategy,
    ev.StrategyRetired: LiveState._on_strategy,
    ev.AlertRaised: LiveState._on_alert,
    ev.JobStarted: LiveState._on_job,
    ev.JobProgress: LiveState._on_job,
    ev.JobFinished: LiveState._on_job,
    ev.ServiceStateChanged: LiveState._on_service,
    ev.StreamGap: LiveState._on_gap,
    ev.Heartbeat: lambda state, event: set(),
}


def live_state(app: object) -> LiveState:
    """The ``LiveState`` of the running dashboard app (widgets reach it through ``self.app``)."""
    state = getattr(app, "state", None)
    if not isinstance(state, LiveState):
        raise TypeError(f"{type(app).__name__} carries no LiveState")
    return state
