"""The typed events that travel on the engine's bus and out through the API's event stream.

Every event is a frozen dataclass with a ``type`` string (``"order.filled"``), a creation time ``at``
(epoch seconds, UTC; ISO-8601 in JSON) and plain fields, so it serialises to one flat JSON object:
``{"type": "order.filled", "at": "2026-11-24T12:00:00.123456Z", "symbol": "BTC/USDT", ...}``.
Types are dotted ``area.what``; a subscriber (or an SSE client's ``?types=``) names a whole area
(``order``) or one type (``order.filled``).

Each class also says how a slow subscriber may be spared it (``delivery``, see ``bus.py``):

- ``RELIABLE``   never dropped: orders, fills, risk, alerts, job outcomes, service failures.
- ``LATEST``     only the newest per ``coalesce_key()`` matters: price ticks, job progress.
- ``DROPPABLE``  informative; the oldest goes first when a queue is full.

Adding an event type (another area): subclass ``Event`` here or in your own module, set ``type`` and
``delivery`` as class variables, declare fields with defaults where sensible, and publish it with
``ctx.bus.publish(MyEvent(...))``. Subclassing registers the type (``EVENT_TYPES``), so ``parse_event``
(the client) turns its JSON back into the class. Keep fields JSON-plain (str, int, float, bool, None,
lists and dicts of them). Alert rules match on these types (``engine/alerts/rules.py``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from mastertrade.engine.candle import Candle, OnCandle
from mastertrade.utc import from_s
from mastertrade.utc import iso as utc_iso
from mastertrade.utc import parse_iso as utc_parse_iso


class Delivery(StrEnum):
    """What a full subscriber queue may do with an event (see the module docstring)."""

    RELIABLE = "reliable"
    LATEST = "latest"
    DROPPABLE = "droppable"


EVENT_TYPES: dict[str, type[Event]] = {}


def iso(at: float) -> str:
    """Epoch seconds as ISO-8601 UTC with microseconds and a Z suffix."""
    return utc_iso(from_s(at), "microseconds")


def parse_iso(text: str) -> float:
    """ISO-8601 text as epoch seconds."""
    return utc_parse_iso(text).timestamp()


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every event. ``at`` is when the event was created (epoch seconds, UTC)."""

    type: ClassVar[str] = "event"
    delivery: ClassVar[Delivery] = Delivery.RELIABLE

    at: float = field(default_factory=time.time)

    def __init_subclass__(cls) -> None:
        # No super() here: dataclass(slots=True) re-creates the class, which breaks zero-argument
        # super(). It also means this runs twice per class; the re-created (final) class wins.
        name = cls.__dict__.get("type")
        if name is not None:
            EVENT_TYPES[name] = cls

    def coalesce_key(self) -> Hashable:
        """Which queued events a newer one of the same type replaces (``LATEST`` events only)."""
        return None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "at": iso(self.at)}
        for item in dataclasses.fields(self):
            if item.name != "at":
                data[item.name] = getattr(self, item.name)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], at: float) -> Event:
        """The event of this type from its JSON form (``at`` already parsed)."""
        names = {item.name for item in dataclasses.fields(cls)} - {"at"}
        return cls(at=at, **{key: value for key, value in data.items() if key in names})


def book_label(book: str, mode: str = "") -> str:
    """Which book an order or a fill belongs to, as every event line, toast and table says it: a
    strategy's own paper book (``paper book 1a2b3c4d``, its id shortened) or the ``account`` (``live
    account`` when live), so a strategy book's trade never reads as the account's."""
    if book.startswith("strategy:"):
        return f"paper book {book.removeprefix('strategy:')[:8]}"
    return "live account" if mode == "live" or book == "live" else "account"


def matches(event_type: str, patterns: frozenset[str] | None) -> bool:
    """Whether a type is selected by patterns: ``None`` or ``"*"`` select all; ``"order"`` selects
    ``"order.placed"`` and ``"order.filled"``; ``"order.filled"`` selects only itself."""
    if patterns is None or "*" in patterns or event_type in patterns:
        return True
    head = event_type
    while "." in head:
        head = head.rpartition(".")[0]
        if head in patterns:
            return True
    return False


def parse_event(data: dict[str, Any]) -> Event:
    """An event from its JSON form; an unknown type (a newer daemon) becomes an ``UnknownEvent``."""
    kind = data.get("type")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    at = parse_iso(data["at"]) if isinstance(data.get("at"), str) else time.time()
    if cls is None:
        return UnknownEvent(at=at, name=str(kind), data=data)
    return cls.from_dict(data, at)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent(Event):
    """An event type this program does not know (only ever built by ``parse_event``)."""

    name: str
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.data)


# --- market ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceTick(OnCandle, Event):
    """The latest state of a symbol's forming bar (its close is the latest price)."""

    type: ClassVar[str] = "price.tick"
    delivery: ClassVar[Delivery] = Delivery.LATEST

    venue: str
    symbol: str
    timeframe: str
    candle: Candle
    simulated: bool = False
    at_ms: int | None = None
    """Market time of the tick (epoch ms) when the venue knows it (simulated and replayed bars form
    tick by tick inside the bar); None: now."""

    @property
    def bar_ts(self) -> int:
        return self.candle.ts

    @property
    def price(self) -> float:
        return self.candle.close

    def to_dict(self) -> dict[str, Any]:
        return _flat_candle(Event.to_dict(self), "bar_ts")

    @classmethod
    def from_dict(cls, data: dict[str, Any], at: float) -> Event:
        return _with_candle(cls, data, at, "bar_ts")

    def coalesce_key(self) -> Hashable:
        return (self.venue, self.symbol, self.timeframe)


@dataclass(frozen=True, slots=True, kw_only=True)
class CandleClosed(OnCandle, Event):
    """A bar became final and is stored (subscribers may read it back from the candle store)."""

    type: ClassVar[str] = "candle.closed"

    venue: str
    symbol: str
    timeframe: str
    candle: Candle
    simulated: bool = False

    @property
    def ts(self) -> int:
        return self.candle.ts

    def to_dict(self) -> dict[str, Any]:
        return _flat_candle(Event.to_dict(self), "ts")

    @classmethod
    def from_dict(cls, data: dict[str, Any], at: float) -> Event:
        return _with_candle(cls, data, at, "ts")


def _flat_candle(data: dict[str, Any], ts_key: str) -> dict[str, Any]:
    """An event's JSON with its candle's fields at the top (the stream's format: ``ts_key``, open ...)."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Candle):
            flat[ts_key] = value.ts
            flat.update((name, getattr(value, name)) for name in _OHLCV)
        else:
            flat[key] = value
    return flat


def _with_candle(cls: Any, data: dict[str, Any], at: float, ts_key: str) -> Event:
    candle = Candle(data[ts_key], *(data[name] for name in _OHLCV))
    names = {item.name for item in dataclasses.fields(cls)} - {"at", "candle"}
    event: Event = cls(at=at, candle=candle, **{key: value for key, value in data.items() if key in names})
    return event


_OHLCV = ("open", "high", "low", "close", "volume")


# --- strategies and orders ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalRaised(Event):
    """A strategy's rules fired on a closed bar: ``side`` is "buy" (entry) or "sell" (exit)."""

    type: ClassVar[str] = "signal.raised"

    strategy_id: str
    symbol: str
    timeframe: str
    side: str
    price: float
    bar_ts: int
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPlaced(Event):
    """An order was accepted by the broker (paper or live)."""

    type: ClassVar[str] = "order.placed"

    order_id: str
    client_order_id: str
    symbol: str
    side: str
    order_type: str
    amount: float
    price: float | None = None
    strategy_id: str | None = None
    mode: str = "paper"
    book: str = ""
    """The book: the account ("paper"/"live") or a strategy's paper book ("strategy:<id>")."""
    equity_fraction: float | None = None
    """A strategy's entry sized as this share of equity at its fill (``amount`` is 0 until then)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled(Event):
    """An order (or part of it: ``remaining`` > 0) was filled."""

    type: ClassVar[str] = "order.filled"

    order_id: str
    client_order_id: str
    symbol: str
    side: str
    amount: float
    price: float
    fee: float = 0.0
    fee_asset: str = ""
    """The asset ``fee`` is in (the quote asset, the base asset, or a third one such as BNB); empty when
    the publisher did not say."""
    more_fees: dict[str, float] = field(default_factory=dict)
    """Fees of the same fill in further assets, by asset (a venue that charges one trade in several)."""
    remaining: float = 0.0
    strategy_id: str | None = None
    mode: str = "paper"
    book: str = ""
    """The book that traded: "paper" or "live" (the account) or "strategy:<id>" (a strategy's own paper
    book); empty when the publisher did not say."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled(Event):
    type: ClassVar[str] = "order.cancelled"

    order_id: str
    client_order_id: str
    symbol: str
    reason: str = ""
    mode: str = "paper"
    book: str = ""
    """The book: the account ("paper"/"live") or a strategy's paper book ("strategy:<id>")."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(Event):
    """The risk manager or the venue refused an order before it existed."""

    type: ClassVar[str] = "order.rejected"

    client_order_id: str
    symbol: str
    side: str
    amount: float
    reason: str
    mode: str = "paper"
    book: str = ""
    """The book: the account ("paper"/"live") or a strategy's paper book ("strategy:<id>")."""
    equity_fraction: float | None = None
    """A strategy's entry sized as this share of equity at its fill (``amount`` is 0)."""


# --- risk, goals, strategy lifecycle -----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskBreached(Event):
    """A risk limit was hit (``value`` against ``threshold``); ``severity`` is "warning" or "critical"."""

    type: ClassVar[str] = "risk.breached"

    limit: str
    value: float
    threshold: float
    message: str
    severity: str = "warning"
    symbol: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CircuitBreakerTripped(Event):
    """Trading was halted by a circuit breaker (or the kill switch) until ``until`` (ISO) or a resume."""

    type: ClassVar[str] = "risk.circuit_breaker"

    breaker: str
    reason: str
    until: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CircuitBreakerReset(Event):
    """A circuit breaker (or the kill switch) was reset, by its rule (a cool-down over, fresh prices) or
    by hand."""

    type: ClassVar[str] = "risk.breaker_reset"

    breaker: str
    reason: str
    by: str = "rule"


@dataclass(frozen=True, slots=True, kw_only=True)
class GoalMilestone(Event):
    """A goal crossed a milestone (``progress_pct`` of its target)."""

    type: ClassVar[str] = "goal.milestone"

    goal_id: str
    name: str
    milestone: str
    progress_pct: float
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyPromoted(Event):
    """A strategy moved up the pipeline (candidate -> paper -> active)."""

    type: ClassVar[str] = "strategy.promoted"

    strategy_id: str
    name: str
    stage_from: str
    stage_to: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyRetired(Event):
    type: ClassVar[str] = "strategy.retired"

    strategy_id: str
    name: str
    reason: str = ""


# --- the daemon itself -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRaised(Event):
    """An alert was stored (and delivered, held for quiet hours, or queued for delivery)."""

    type: ClassVar[str] = "alert.raised"

    alert_id: int
    severity: str
    title: str
    body: str
    dedupe_key: str
    rule: str
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class JobStarted(Event):
    type: ClassVar[str] = "job.started"

    job: str
    run_id: int
    trigger: str


@dataclass(frozen=True, slots=True, kw_only=True)
class JobProgress(Event):
    """How far a running job is: ``done`` of ``total`` (None when unknown)."""

    type: ClassVar[str] = "job.progress"
    delivery: ClassVar[Delivery] = Delivery.LATEST

    job: str
    run_id: int
    done: float
    total: float | None = None
    message: str = ""

    def coalesce_key(self) -> Hashable:
        return self.run_id


@dataclass(frozen=True, slots=True, kw_only=True)
class JobFinished(Event):
    """A job run ended: ``outcome`` is "ok", "error", "cancelled" or "skipped"; ``summary`` is the outcome
    as a trader reads it (``JobRunInfo.summary``: what an "ok" run did)."""

    type: ClassVar[str] = "job.finished"

    job: str
    run_id: int
    outcome: str
    duration_s: float
    error: str | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceStateChanged(Event):
    """A supervised service changed state: starting, running, crashed (then backoff), stopped.

    The service named "daemon" reports the daemon itself ("started", "stopping", and "recovered"
    when the previous run ended without a clean stop); the scheduler reports "interrupted" when that
    end cut job runs short (``error`` names them).
    """

    type: ClassVar[str] = "service.state"

    service: str
    state: str
    restarts: int = 0
    error: str | None = None
    backoff_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamGap(Event):
    """Sent on an event stream when the client missed events (its queue overflowed, or it resumed
    from an id older than the daemon's history): reload state through the API."""

    type: ClassVar[str] = "stream.gap"

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat(Event):
    """Sent on an idle event stream every ``[api] heartbeat_s`` seconds; never published on the bus."""

    type: ClassVar[str] = "heartbeat"
    delivery: ClassVar[Delivery] = Delivery.LATEST

    seq: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionChanged(Event):
    """Made by the client (``DaemonClient.events(connection_events=True)``), never by the daemon: the
    event stream was lost ("disconnected", with the reason) or is back ("connected")."""

    type: ClassVar[str] = "client.connection"

    state: str
    reason: str | None = None
